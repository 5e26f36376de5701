package releases_test

import (
	"bytes"
	"testing"

	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
)

// The metadata readers see uploaded bytes: they must never panic, hang
// or allocate what a header merely claims, and whatever they accept has
// the fields a repository index needs.

func FuzzReadDeb(f *testing.F) {
	deb := releasetest.Deb(f, "acme-filter", "1.2.3", "amd64")
	f.Add(deb)
	f.Add(deb[:len(deb)/2])
	f.Add(releasetest.Deb(f, "a0", "0.0.1-rc.1", "all"))
	f.Add([]byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := releases.ReadDeb(bytes.NewReader(b))
		if err == nil && (p.Name == "" || p.Version == "" || p.Arch == "" || p.Control == "") {
			t.Fatalf("accepted %+v", p)
		}
		_, _, _ = releases.Inspect(bytes.NewReader(b), "x.deb")
	})
}

func FuzzReadRPM(f *testing.F) {
	rpm := releasetest.RPM(f, "acme-filter", "1.2.3", "amd64")
	f.Add(rpm)
	f.Add(rpm[:len(rpm)/2])
	f.Add(releasetest.RPM(f, "a0", "2:0.0.1", "noarch"))
	// Dependencies of every kind, config, directory and ghost files, text
	// that needs escaping: the tags the YUM index reads.
	rich := richRPM(f)
	f.Add(rich)
	f.Add(rich[:len(rich)*3/4])
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := releases.ReadRPM(bytes.NewReader(b))
		if err == nil && (p.Name == "" || p.Version == "" || p.Arch == "") {
			t.Fatalf("accepted %+v", p)
		}
		if err == nil {
			m, err := releases.ParseRPMMeta(p.Meta)
			if err != nil || m.Version == "" || m.HeaderEnd <= m.HeaderStart || m.HeaderEnd > int64(len(b)) {
				t.Fatalf("accepted %+v with metadata %+v (%v)", p, m, err)
			}
		}
		_, _, _ = releases.Inspect(bytes.NewReader(b), "x.rpm")
	})
}
