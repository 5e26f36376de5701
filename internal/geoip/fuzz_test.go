package geoip

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// FuzzCountry looks up arbitrary addresses, given as 4 or 16 raw bytes or as
// text, in the GeoLite2-Country-shaped test database: Country never panics,
// answers "" or one of the database's codes, never a code for a private or
// local address, and answers an IPv4 address and its IPv4-mapped form alike.
//
//	go test ./internal/geoip -run '^$' -fuzz FuzzCountry -fuzztime 30s
func FuzzCountry(f *testing.F) {
	d := openDB(f, buildDB(f, "GeoLite2-Country", 6, countryNetworks))
	codes := map[string]bool{"": true, "GB": true, "SE": true, "AU": true, "DE": true, "JP": true}

	for _, s := range []string{
		"81.2.69.142", "1.0.0.1", "2a02:2e0::1", "::ffff:81.2.69.142", "10.0.0.1", "::1",
		"fe80::1%eth0", "8.8.8.8", "", "not an address", "1.2.3", "::ffff:1.2.3.4%0",
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte{81, 2, 69, 142})
	f.Add(netip.MustParseAddr("2a02:2e0::1").AsSlice())
	f.Add(netip.MustParseAddr("::ffff:81.2.69.142").AsSlice())

	f.Fuzz(func(t *testing.T, b []byte) {
		ip, ok := netip.AddrFromSlice(b)
		if !ok {
			ip, _ = netip.ParseAddr(string(b)) // the zero Addr when it is not an address
		}
		got := d.Country(ip)
		if !codes[got] {
			t.Fatalf("Country(%s) = %q, not a code of the database", ip, got)
		}
		if got != "" && !routable(ip.Unmap()) {
			t.Fatalf("Country(%s) = %q for an address that has no country", ip, got)
		}
		if ip.Is4() {
			if mapped := d.Country(netip.AddrFrom16(ip.As16())); mapped != got {
				t.Fatalf("Country(%s) = %q but Country of its IPv4-mapped form = %q", ip, got, mapped)
			}
		}
	})
}

// TestOpenDamaged opens thousands of damaged variants of a real database
// (bytes changed, inserted, deleted; the same ones every run): Open returns
// a DB or an error and never panics or hangs, and a DB it returns answers
// lookups with "" or an alpha-2 code.
func TestOpenDamaged(t *testing.T) {
	valid := buildDB(t, "GeoLite2-Country", 6, countryNetworks)
	ips := []netip.Addr{
		netip.MustParseAddr("81.2.69.142"),
		netip.MustParseAddr("2a02:2e0::1"),
		netip.MustParseAddr("1.0.0.1"),
		netip.MustParseAddr("8.8.8.8"),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	opened := 0
	for range n {
		data := bytes.Clone(valid)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(data) - 16)
			switch rng.IntN(3) {
			case 0:
				data[i] = byte(rng.IntN(256))
			case 1:
				data = slices.Insert(data, i, make([]byte, 1+rng.IntN(8))...)
			default:
				data = slices.Delete(data, i, i+1+rng.IntN(8))
			}
		}
		d, err := open("damaged.mmdb", data)
		if err != nil {
			continue
		}
		opened++
		for _, ip := range ips {
			if c := d.Country(ip); c != "" && alpha2(c) != c {
				t.Fatalf("Country(%s) = %q, not an alpha-2 code", ip, c)
			}
		}
	}
	t.Logf("%d of %d damaged variants still opened", opened, n)
}
