package geoip

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// The test databases are written with MaxMind's own writer, so they are
// real .mmdb files, in the record shapes of the providers the package names.

const testBuildEpoch = 1795132800 // 2026-11-20T00:00:00Z

// network is one network of a test database and its record.
type network struct {
	cidr   string
	record mmdbtype.DataType
}

// buildDB returns the bytes of a MaxMind DB with the networks. Reserved
// networks are allowed in, so a test can show that Country refuses private
// addresses even when a database has data for them.
func buildDB(t testing.TB, dbType string, ipVersion int, networks []network) []byte {
	t.Helper()
	data, err := build(dbType, ipVersion, networks)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func build(dbType string, ipVersion int, networks []network) ([]byte, error) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		Description:             map[string]string{"en": dbType + " test database"},
		BuildEpoch:              testBuildEpoch,
		IPVersion:               ipVersion,
		RecordSize:              28,
		Languages:               []string{"en", "de"},
		IncludeReservedNetworks: true,
	})
	if err != nil {
		return nil, err
	}
	for _, n := range networks {
		_, ipNet, err := net.ParseCIDR(n.cidr)
		if err != nil {
			return nil, err
		}
		if err := tree.Insert(ipNet, n.record); err != nil {
			return nil, fmt.Errorf("insert %s: %w", n.cidr, err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeFile writes data into the test's temporary directory.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// openDB writes the database to a file and opens it with Open.
func openDB(t testing.TB, data []byte) *DB {
	t.Helper()
	d, err := Open(writeFile(t, "test.mmdb", data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func names(en, de string) mmdbtype.Map {
	return mmdbtype.Map{"en": mmdbtype.String(en), "de": mmdbtype.String(de)}
}

// geoLite2Country is a record shaped like GeoLite2-Country's (and DB-IP's
// country lite): maps with iso_code, geoname_id, names.
func geoLite2Country(iso, registered string) mmdbtype.Map {
	m := mmdbtype.Map{
		"continent": mmdbtype.Map{
			"code":       mmdbtype.String("EU"),
			"geoname_id": mmdbtype.Uint32(6255148),
			"names":      names("Europe", "Europa"),
		},
	}
	if iso != "" {
		m["country"] = mmdbtype.Map{
			"geoname_id":           mmdbtype.Uint32(2921044),
			"is_in_european_union": mmdbtype.Bool(true),
			"iso_code":             mmdbtype.String(iso),
			"names":                names("Country "+iso, "Land "+iso),
		}
	}
	if registered != "" {
		m["registered_country"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(2077456),
			"iso_code":   mmdbtype.String(registered),
			"names":      names("Registered "+registered, "Registriert "+registered),
		}
	}
	return m
}

// geoLite2City is a record shaped like GeoLite2-City's: the country fields
// among city, location, postal and subdivisions, which Country skips.
func geoLite2City(iso string) mmdbtype.Map {
	m := geoLite2Country(iso, iso)
	m["city"] = mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2643743), "names": names("London", "London")}
	m["location"] = mmdbtype.Map{
		"accuracy_radius": mmdbtype.Uint16(10),
		"latitude":        mmdbtype.Float64(51.5142),
		"longitude":       mmdbtype.Float64(-0.0931),
		"time_zone":       mmdbtype.String("Europe/London"),
	}
	m["postal"] = mmdbtype.Map{"code": mmdbtype.String("EC2V")}
	m["subdivisions"] = mmdbtype.Slice{
		mmdbtype.Map{"iso_code": mmdbtype.String("ENG"), "names": names("England", "England")},
	}
	return m
}
