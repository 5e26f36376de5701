package geoip

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/maxminddb-golang/v2"
)

// countryNetworks is a GeoLite2-Country-shaped database, with data for some
// private and local networks too: a database may have them, Country must
// not answer for them.
var countryNetworks = []network{
	{"81.2.69.0/24", geoLite2Country("GB", "GB")},
	{"2.125.160.0/19", geoLite2Country("GB", "GB")},
	{"89.160.20.112/28", geoLite2Country("SE", "SE")},
	{"1.0.0.0/24", geoLite2Country("", "AU")},   // registered country only
	{"5.1.0.0/16", geoLite2Country("DE", "NL")}, // located in DE, registered in NL
	{"198.51.100.0/24", geoLite2Country("ZZ", "")},
	{"203.0.113.0/24", mmdbtype.Map{"traits": mmdbtype.Map{"is_anycast": mmdbtype.Bool(true)}}},
	{"192.0.2.0/24", geoLite2Country("gb", "")},
	{"2a02:2e0::/32", geoLite2Country("DE", "DE")},
	{"2001:218::/32", geoLite2Country("JP", "JP")},
	{"10.0.0.0/8", geoLite2Country("DE", "DE")},
	{"100.64.0.0/10", geoLite2Country("DE", "DE")},
	{"127.0.0.0/8", geoLite2Country("DE", "DE")},
	{"169.254.0.0/16", geoLite2Country("DE", "DE")},
	{"172.16.0.0/12", geoLite2Country("DE", "DE")},
	{"192.168.0.0/16", geoLite2Country("DE", "DE")},
	{"224.0.0.0/4", geoLite2Country("DE", "DE")},
	{"::1/128", geoLite2Country("DE", "DE")},
	{"fc00::/7", geoLite2Country("DE", "DE")},
	{"fe80::/10", geoLite2Country("DE", "DE")},
	{"ff00::/8", geoLite2Country("DE", "DE")},
}

func TestCountry(t *testing.T) {
	d := openDB(t, buildDB(t, "GeoLite2-Country", 6, countryNetworks))
	for _, tc := range []struct {
		ip, want string
	}{
		{"81.2.69.142", "GB"},
		{"2.125.160.216", "GB"},
		{"89.160.20.120", "SE"},
		{"89.160.20.128", ""}, // just past the /28
		{"5.1.2.3", "DE"},     // country, not registered_country
		{"1.0.0.1", "AU"},     // registered_country when there is no country
		{"2a02:2e0:3fe:1001::1", "DE"},
		{"2001:218:1:2::3", "JP"},
		{"::ffff:81.2.69.142", "GB"}, // IPv4-mapped IPv6
		{"::ffff:10.1.2.3", ""},      // IPv4-mapped private
		{"2a02:2e0::1%eth0", "DE"},   // a zone does not matter

		// Not in the database.
		{"8.8.8.8", ""},
		{"2606:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},

		// Records without a usable code.
		{"198.51.100.7", ""}, // "ZZ", unknown
		{"203.0.113.9", ""},  // no country fields at all
		{"192.0.2.1", "GB"},  // lower case in the database

		// Private, local and special addresses, though the database has data for them.
		{"10.1.2.3", ""},
		{"100.64.0.1", ""},
		{"127.0.0.1", ""},
		{"169.254.1.1", ""},
		{"172.16.5.4", ""},
		{"192.168.1.1", ""},
		{"224.0.0.251", ""},
		{"0.0.0.0", ""},
		{"::", ""},
		{"::1", ""},
		{"fd12:3456::1", ""},
		{"fe80::1", ""},
		{"ff02::1", ""},
	} {
		if got := d.Country(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Country(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
	if got := d.Country(netip.Addr{}); got != "" {
		t.Errorf("Country(zero Addr) = %q, want \"\"", got)
	}
}

// The other providers' record shapes, each in a database of its own.
func TestCountryRecordShapes(t *testing.T) {
	for _, tc := range []struct {
		name, dbType string
		record       mmdbtype.DataType
	}{
		{"GeoLite2-City", "GeoLite2-City", geoLite2City("GB")},
		{"DB-IP country lite", "DBIP-Country-Lite", geoLite2Country("GB", "")},
		{"IPinfo country", "ipinfo country.mmdb", mmdbtype.Map{
			"country":        mmdbtype.String("GB"),
			"country_name":   mmdbtype.String("United Kingdom"),
			"continent":      mmdbtype.String("EU"),
			"continent_name": mmdbtype.String("Europe"),
		}},
		{"IPinfo Lite", "ipinfo lite.mmdb", mmdbtype.Map{
			"asn":            mmdbtype.String("AS20712"),
			"as_name":        mmdbtype.String("Andrews & Arnold Ltd"),
			"country":        mmdbtype.String("United Kingdom"),
			"country_code":   mmdbtype.String("GB"),
			"continent":      mmdbtype.String("Europe"),
			"continent_code": mmdbtype.String("EU"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := openDB(t, buildDB(t, tc.dbType, 6, []network{
				{"81.2.69.0/24", tc.record},
				{"2a02:8010::/32", tc.record},
			}))
			for _, ip := range []string{"81.2.69.142", "::ffff:81.2.69.142", "2a02:8010::1"} {
				if got := d.Country(netip.MustParseAddr(ip)); got != "GB" {
					t.Errorf("Country(%s) = %q, want GB", ip, got)
				}
			}
			if got := d.Country(netip.MustParseAddr("8.8.8.8")); got != "" {
				t.Errorf("Country(8.8.8.8) = %q, want \"\"", got)
			}
		})
	}
}

// An IPv4-only database answers IPv4 and IPv4-mapped addresses, and ""
// for IPv6 rather than an error per lookup.
func TestCountryIPv4OnlyDatabase(t *testing.T) {
	d := openDB(t, buildDB(t, "GeoLite2-Country", 4, []network{{"81.2.69.0/24", geoLite2Country("GB", "GB")}}))
	for ip, want := range map[string]string{
		"81.2.69.142":        "GB",
		"::ffff:81.2.69.142": "GB",
		"2a02:2e0::1":        "",
		"8.8.8.8":            "",
	} {
		if got := d.Country(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Country(%s) = %q, want %q", ip, got, want)
		}
	}
	if v := d.Info().IPVersion; v != 4 {
		t.Errorf("Info().IPVersion = %d, want 4", v)
	}
}

func TestInfo(t *testing.T) {
	data := buildDB(t, "GeoLite2-Country", 6, countryNetworks)
	path := writeFile(t, "GeoLite2-Country.mmdb", data)
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := Info{
		Path:        path,
		Type:        "GeoLite2-Country",
		Description: "GeoLite2-Country test database",
		Built:       time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		IPVersion:   6,
		Size:        int64(len(data)),
	}
	if got := d.Info(); got != want {
		t.Errorf("Info() = %+v\nwant %+v", got, want)
	}
	if got, want := d.Info().String(), "GeoLite2-Country built 2026-11-20 ("+path+")"; got != want {
		t.Errorf("Info().String() = %q, want %q", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	valid := buildDB(t, "GeoLite2-Country", 6, countryNetworks)
	nodes := nodeCount(t, valid)
	treeEnd := nodes * 28 / 4 // 28-bit records, two per node

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(valid)
	_ = zw.Close()

	asn := buildDB(t, "GeoLite2-ASN", 6, []network{{"81.2.69.0/24", mmdbtype.Map{
		"autonomous_system_number":       mmdbtype.Uint32(20712),
		"autonomous_system_organization": mmdbtype.String("Andrews & Arnold Ltd"),
	}}})
	anonymous := buildDB(t, "GeoIP2-Anonymous-IP", 6, []network{{"81.2.69.0/24", mmdbtype.Map{
		"is_anonymous": mmdbtype.Bool(true),
		"country":      mmdbtype.Uint32(826), // a number, not a code
	}}})

	for _, tc := range []struct {
		name string
		data []byte // nil: the file does not exist
		want []string
	}{
		{"missing", nil, []string{"does not exist"}},
		{"empty", []byte{}, []string{"is empty, not a MaxMind DB (.mmdb) file"}},
		{"text", []byte("hello, world\n"), []string{"is not a MaxMind DB (.mmdb) file"}},
		{"gzip", gz.Bytes(), []string{"is not a MaxMind DB (.mmdb) file", "gzip-compressed; unpack the .mmdb"}},
		{"zip", []byte("PK\x03\x04rest of a zip"), []string{"is not a MaxMind DB (.mmdb) file", "zip archive"}},
		{"csv", []byte("network,geoname_id,registered_country_geoname_id\n1.0.0.0/24,2077456,2077456\n"),
			[]string{"is not a MaxMind DB (.mmdb) file", "CSV edition"}},
		{"metadata only", valid[bytes.LastIndex(valid, metadataMarker):], []string{"is a damaged MaxMind DB file"}},
		{"truncated", valid[len(valid)/2:], []string{"is a damaged MaxMind DB file", "download it again"}},
		{"search tree", overwrite(valid, treeEnd/3, bytes.Repeat([]byte{0xff}, 64)), []string{"is a damaged MaxMind DB file"}},
		{"separator", overwrite(valid, treeEnd, bytes.Repeat([]byte{0xab}, 16)), []string{"is a damaged MaxMind DB file"}},
		{"data section", overwrite(valid, treeEnd+16, bytes.Repeat([]byte{0xff}, 48)), []string{"is a damaged MaxMind DB file"}},
		{"ASN database", asn, []string{"(GeoLite2-ASN) has no country data", "use a country or city database"}},
		{"no country codes", anonymous, []string{"(GeoIP2-Anonymous-IP) has no country data"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "GeoLite2-Country.mmdb")
			if tc.data != nil {
				path = writeFile(t, "GeoLite2-Country.mmdb", tc.data)
			}
			d, err := Open(path)
			if err == nil {
				_ = d.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error does not name the file %s: %s", path, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not say %q: %s", w, msg)
				}
			}
		})
	}

	_, err := Open(filepath.Join(t.TempDir(), "absent.mmdb"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: errors.Is(err, fs.ErrNotExist) is false for %v", err)
	}
}

func nodeCount(t *testing.T, data []byte) int {
	t.Helper()
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	return int(r.Metadata.NodeCount) // #nosec G115 -- a small test database
}

// overwrite returns a copy of data with patch written at offset.
func overwrite(data []byte, offset int, patch []byte) []byte {
	out := bytes.Clone(data)
	copy(out[offset:], patch)
	return out
}

func TestClose(t *testing.T) {
	d := openDB(t, buildDB(t, "GeoLite2-Country", 6, countryNetworks))
	ip := netip.MustParseAddr("81.2.69.142")

	// Close while others look up: no race (go test -race), no panic.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if c := d.Country(ip); c != "GB" && c != "" {
					t.Errorf("Country = %q during Close", c)
					return
				}
			}
		})
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()

	if c := d.Country(ip); c != "" {
		t.Errorf("Country after Close = %q, want \"\"", c)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if d.Info().Type != "GeoLite2-Country" {
		t.Errorf("Info after Close = %+v", d.Info())
	}

	var none *DB
	if c := none.Country(ip); c != "" {
		t.Errorf("nil DB: Country = %q", c)
	}
}

func TestCountryConcurrent(t *testing.T) {
	d := openDB(t, buildDB(t, "GeoLite2-Country", 6, countryNetworks))
	want := map[string]string{
		"81.2.69.142":          "GB",
		"2a02:2e0:3fe:1001::1": "DE",
		"::ffff:89.160.20.120": "SE",
		"8.8.8.8":              "",
		"10.0.0.1":             "",
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				for ip, w := range want {
					if got := d.Country(netip.MustParseAddr(ip)); got != w {
						t.Errorf("Country(%s) = %q, want %q", ip, got, w)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// Country does not allocate, so it costs nothing on every analytics beacon
// beyond its lookup.
func TestCountryDoesNotAllocate(t *testing.T) {
	d := openDB(t, buildDB(t, "GeoLite2-City", 6, []network{
		{"81.2.69.0/24", geoLite2City("GB")},
		{"2a02:2e0::/32", geoLite2Country("DE", "DE")},
		{"1.0.0.0/24", geoLite2Country("", "AU")},
	}))
	for _, s := range []string{"81.2.69.142", "2a02:2e0::1", "1.0.0.1", "::ffff:81.2.69.1", "8.8.8.8", "10.0.0.1"} {
		ip := netip.MustParseAddr(s)
		d.Country(ip) // the reader's string cache admits a string on its second read
		d.Country(ip)
		if n := testing.AllocsPerRun(100, func() { d.Country(ip) }); n != 0 {
			t.Errorf("Country(%s): %v allocations, want 0", s, n)
		}
	}
}

func TestAlpha2(t *testing.T) {
	for in, want := range map[string]string{
		"DE": "DE", "de": "DE", "De": "DE", "XK": "XK",
		"ZZ": "", "zz": "", "": "", "D": "", "DEU": "", "D1": "", "Ä": "", "United Kingdom": "",
	} {
		if got := alpha2(in); got != want {
			t.Errorf("alpha2(%q) = %q, want %q", in, got, want)
		}
	}
}

// reflected is record without its UnmarshalMaxMindDBCursor: the reflection
// decoder reads it by its struct tags.
type reflected record

// TestDecodersAgree holds record's hand-written decoder to what the
// reflection decoder reads by the struct tags, on every network of the test
// databases.
func TestDecodersAgree(t *testing.T) {
	dbs := [][]byte{
		buildDB(t, "GeoLite2-Country", 6, countryNetworks),
		buildDB(t, "GeoLite2-City", 6, []network{{"81.2.69.0/24", geoLite2City("GB")}}),
		buildDB(t, "ipinfo lite.mmdb", 6, []network{{"81.2.69.0/24", mmdbtype.Map{
			"country": mmdbtype.String("United Kingdom"), "country_code": mmdbtype.String("GB"),
		}}}),
	}
	n := 0
	for _, data := range dbs {
		r, err := maxminddb.OpenBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		for res := range r.Networks() {
			var fast record
			var slow reflected
			if err := res.Decode(&fast); err != nil {
				t.Fatalf("%s: %v", res.Prefix(), err)
			}
			if err := res.Decode(&slow); err != nil {
				t.Fatalf("%s: reflection: %v", res.Prefix(), err)
			}
			if fast != record(slow) {
				t.Errorf("%s: hand-written decoder read %+v, reflection %+v", res.Prefix(), fast, slow)
			}
			n++
		}
	}
	if n < len(countryNetworks) {
		t.Errorf("compared %d networks only", n)
	}
}
