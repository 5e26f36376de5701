// Package geoip tells the country of a network address from a local GeoIP
// database, for the analytics country counts and, later, the fraud signal
// that compares a billing country with the network's country. Both only run
// when the operator has configured a database (--geoip-db FILE): without
// one there is no country, and nothing else changes.
//
// # Which database
//
// Any MaxMind DB (.mmdb) file whose records carry a country code works:
//
//   - MaxMind GeoLite2-Country or GeoLite2-City (free, but downloading needs a
//     MaxMind account and acceptance of the GeoLite2 End User License
//     Agreement; MaxMind's geoipupdate tool keeps it current), or the paid
//     GeoIP2 Country and City databases;
//   - DB-IP's "IP to Country Lite" (or City Lite) in MMDB format, free under
//     CC BY 4.0: the licence requires attribution, so a site using it must
//     show a link to DB-IP (for example "IP geolocation by DB-IP" in the
//     privacy policy or footer);
//   - IPinfo's free country or "Lite" mmdb (needs an IPinfo account; check
//     IPinfo's current licence terms for attribution).
//
// Storekeep never downloads a database itself: the operator fetches the file
// under the provider's terms and points Storekeep at it. The country database
// is enough (a few MB); a city database works too but costs more memory, and
// only its country is used.
//
// # Loading and updating
//
// Open reads the whole file into memory once and checks it completely
// (maxminddb's Verify), so a damaged file is refused at start-up with its name
// rather than failing lookups later, and replacing or truncating the file
// while Storekeep runs cannot disturb the running process, as it could with a
// memory-mapped file. The file is not watched: after updating the database,
// restart Storekeep to use the new one.
//
// # What is looked up
//
// Country decodes only the ISO 3166-1 alpha-2 code: country.iso_code (where
// the provider places the address), falling back to registered_country.iso_code
// (where the network is registered), then to the flat fields of IPinfo's
// databases. The address itself is neither stored nor logged here.
package geoip

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is an opened GeoIP database. Its methods are safe for concurrent use.
type DB struct {
	r      *maxminddb.Reader
	info   Info
	ipv4   bool // the database holds IPv4 networks only
	closed atomic.Bool
}

// Info describes the loaded database, for the operator: the start-up log
// and the staff console show which database is in use and how old it is.
type Info struct {
	Path        string    // the file as given to Open
	Type        string    // the database_type in its metadata, e.g. "GeoLite2-Country", "DBIP-Country-Lite"
	Description string    // the English description from its metadata, if any
	Built       time.Time // when the provider built it (build_epoch), in UTC
	IPVersion   int       // 6 for IPv4 and IPv6 networks, 4 for IPv4 only
	Size        int64     // the file's size in bytes, held in memory
}

// String is one line for a log: type, build date and file.
func (i Info) String() string {
	return fmt.Sprintf("%s built %s (%s)", i.Type, i.Built.Format(time.DateOnly), i.Path)
}

// The marker that starts the metadata section at the end of every MaxMind DB
// file (MaxMind DB format 2.0).
var metadataMarker = []byte("\xab\xcd\xefMaxMind.com")

// Open reads the MaxMind DB file at path and checks that it is whole and
// carries country codes. Its errors name the file and say what is wrong with
// it: missing, not an .mmdb file, damaged, or a database without country data
// (an ASN database, say).
func Open(path string) (*DB, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return open(path, data)
}

// open is Open after the file is read; path only names it in errors.
func open(path string, data []byte) (*DB, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("geoip: %s is empty, not a MaxMind DB (.mmdb) file", path)
	}
	if !bytes.Contains(data, metadataMarker) {
		return nil, notMMDB(path, data)
	}
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("geoip: %s is a damaged MaxMind DB file (%w); download it again", path, err)
	}
	if err := r.Verify(); err != nil {
		return nil, fmt.Errorf("geoip: %s is a damaged MaxMind DB file (%w); download it again", path, err)
	}
	m := r.Metadata
	ipVersion := 6 // Verify accepts 4 or 6 only
	if m.IPVersion == 4 {
		ipVersion = 4
	}
	d := &DB{
		r:    r,
		ipv4: ipVersion == 4,
		info: Info{
			Path:        path,
			Type:        m.DatabaseType,
			Description: m.Description["en"],
			Built:       m.BuildTime().UTC(),
			IPVersion:   ipVersion,
			Size:        int64(len(data)),
		},
	}
	if !d.hasCountries() {
		return nil, fmt.Errorf("geoip: %s (%s) has no country data: none of its networks has a country code "+
			"(country.iso_code, registered_country.iso_code or country_code); use a country or city database",
			path, typeName(m.DatabaseType))
	}
	return d, nil
}

// readFile reads the file the operator named with --geoip-db. The name is
// passed through filepath.Clean, which leaves the file it names unchanged,
// because gosec (G304) accepts a cleaned name: the operator choosing any file
// on their own server is the point here, not a traversal.
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Clean(path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("geoip: database file %s does not exist: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("geoip: reading database file: %w", err)
	}
	return data, nil
}

// notMMDB explains a file without MaxMind DB metadata, recognising the
// downloads that people point at by mistake.
func notMMDB(path string, data []byte) error {
	hint := ""
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		hint = ": it is gzip-compressed; unpack the .mmdb file from the download (tar -xzf, or gunzip) and name that file"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		hint = ": it is a zip archive; unpack the .mmdb file from it and name that file"
	case bytes.HasPrefix(data, []byte("network,")):
		hint = ": it is a CSV edition; download the MMDB (binary) edition instead"
	}
	return fmt.Errorf("geoip: %s is not a MaxMind DB (.mmdb) file, it has no MaxMind DB metadata%s", path, hint)
}

func typeName(t string) string {
	if t == "" {
		return "no database type"
	}
	return t
}

// hasCountries reports whether any network of the database has a country
// code. A country or city database answers at its first network; only a
// database of another kind is read to the end.
func (d *DB) hasCountries() bool {
	for res := range d.r.Networks() {
		var rec record
		if res.Decode(&rec) == nil && rec.code() != "" {
			return true
		}
	}
	return false
}

// Country returns the ISO 3166-1 alpha-2 code, upper case ("DE"), of the
// country the database gives for ip, or "" when it gives none: an address
// not in the database, a private, loopback, link-local, multicast or
// unspecified address, an invalid netip.Addr, a closed or nil DB. An
// IPv4-mapped IPv6 address (::ffff:192.0.2.1) is looked up as IPv4.
//
// Country is safe for concurrent use and never panics. It does not allocate
// once the reader's string cache holds the database's codes, which takes two
// lookups of each.
func (d *DB) Country(ip netip.Addr) string {
	if d == nil || d.closed.Load() {
		return ""
	}
	ip = ip.Unmap()
	if !routable(ip) || (d.ipv4 && !ip.Is4()) {
		return ""
	}
	res := d.r.Lookup(ip)
	if !res.Found() {
		return ""
	}
	// A record passed to Decode escapes to the heap; the pool keeps that
	// from costing an allocation per lookup.
	rec := records.Get().(*record)
	*rec = record{}
	c := ""
	if res.Decode(rec) == nil {
		c = rec.code()
	}
	records.Put(rec)
	return c
}

var records = sync.Pool{New: func() any { return new(record) }}

// Info describes the database, as read when it was opened.
func (d *DB) Info() Info {
	return d.info
}

// Close ends the use of the database: Country returns "" from then on. It is
// safe to call while other goroutines call Country (unlike the reader's own
// Close, which is therefore not called); the memory is released when the DB
// is no longer referenced.
func (d *DB) Close() error {
	d.closed.Store(true)
	return nil
}

// sharedAddressSpace is 100.64.0.0/10 (RFC 6598), the carrier-grade NAT
// range: private in effect, though netip.Addr.IsPrivate leaves it out.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// routable reports whether ip can have a country: the private, local and
// special-purpose ranges have none, whatever a database might hold for them.
func routable(ip netip.Addr) bool {
	return ip.IsValid() &&
		!ip.IsUnspecified() &&
		!ip.IsLoopback() &&
		!ip.IsPrivate() &&
		!ip.IsLinkLocalUnicast() &&
		!ip.IsMulticast() &&
		!sharedAddressSpace.Contains(ip)
}
