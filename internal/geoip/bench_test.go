package geoip

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// benchDB is a database of the size and shape of a real country database:
// about 250 countries over 100,000 IPv4 /24s and 50,000 IPv6 /48s (GeoLite2-
// Country has some 500,000 networks; lookup cost grows with tree depth, not
// with the number of networks), with City-style records so skipping the
// fields Country does not read is measured too.
var benchDB = sync.OnceValues(func() (benchData, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	records := make([]mmdbtype.Map, 250)
	for i := range records {
		records[i] = geoLite2City(fmt.Sprintf("%c%c", 'A'+i/26, 'A'+i%26))
	}
	var networks []network
	var addrs benchAddrs
	seen := map[string]bool{}
	for len(networks) < 100_000 {
		a := [4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0}
		ip := netip.AddrFrom4(a)
		p := netip.PrefixFrom(ip, 24)
		if !routable(ip) || seen[p.String()] {
			continue
		}
		seen[p.String()] = true
		networks = append(networks, network{p.String(), records[rng.IntN(len(records))]})
		a[3] = byte(rng.IntN(256))
		addrs.v4 = append(addrs.v4, netip.AddrFrom4(a))
	}
	for range 50_000 {
		var a [16]byte
		a[0], a[1] = 0x2a, byte(rng.IntN(16))
		for i := 2; i < 6; i++ {
			a[i] = byte(rng.IntN(256))
		}
		p := netip.PrefixFrom(netip.AddrFrom16(a), 48)
		if seen[p.String()] {
			continue
		}
		seen[p.String()] = true
		networks = append(networks, network{p.String(), records[rng.IntN(len(records))]})
		for i := 6; i < 16; i++ {
			a[i] = byte(rng.IntN(256))
		}
		addrs.v6 = append(addrs.v6, netip.AddrFrom16(a))
	}
	for range 1000 {
		addrs.missing = append(addrs.missing, netip.AddrFrom4([4]byte{223, byte(rng.IntN(256)), byte(rng.IntN(256)), 1}))
	}
	data, err := build("GeoLite2-City", 6, networks)
	return benchData{data, addrs}, err
})

type benchData struct {
	mmdb  []byte
	addrs benchAddrs
}

type benchAddrs struct{ v4, v6, missing []netip.Addr }

// go test ./internal/geoip -run '^$' -bench . -benchmem
func BenchmarkCountry(b *testing.B) {
	bd, err := benchDB()
	if err != nil {
		b.Fatal(err)
	}
	d, addrs := openDB(b, bd.mmdb), bd.addrs
	for _, bc := range []struct {
		name  string
		addrs []netip.Addr
	}{
		{"ipv4", addrs.v4},
		{"ipv6", addrs.v6},
		{"not-found", addrs.missing},
		{"private", []netip.Addr{netip.MustParseAddr("192.168.1.10"), netip.MustParseAddr("fd00::1")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for _, ip := range bc.addrs { // warm the string cache
				d.Country(ip)
				d.Country(ip)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d.Country(bc.addrs[i%len(bc.addrs)])
				i++
			}
		})
	}
	b.Run("ipv4-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				d.Country(addrs.v4[i%len(addrs.v4)])
				i++
			}
		})
	})
}

func BenchmarkOpen(b *testing.B) {
	bd, err := benchDB()
	if err != nil {
		b.Fatal(err)
	}
	data := bd.mmdb
	path := writeFile(b, "bench.mmdb", data)
	b.ReportMetric(float64(len(data))/1e6, "MB")
	for b.Loop() {
		d, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		_ = d.Close()
	}
}
