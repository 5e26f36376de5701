package releases_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
)

// TestInspectRealPackages reads packages nfpm built: the kind and the
// metadata come from the content.
func TestInspectRealPackages(t *testing.T) {
	deb := releasetest.Deb(t, "acme-filter", "1.2.3", "amd64")
	rpm := releasetest.RPM(t, "acme-filter", "1.2.3", "amd64")
	tgz := releasetest.Tarball(t, "acme/README", []byte("hello"))
	for _, c := range []struct {
		name    string
		content []byte
		kind    releases.Kind
		pkg     releases.Package
	}{
		{"acme_1.2.3_amd64.deb", deb, releases.Deb, releases.Package{Name: "acme-filter", Version: "1.2.3-1", Arch: "amd64"}},
		{"renamed.bin", deb, releases.Deb, releases.Package{Name: "acme-filter", Version: "1.2.3-1", Arch: "amd64"}},
		{"acme-1.2.3-1.x86_64.rpm", rpm, releases.RPM, releases.Package{Name: "acme-filter", Version: "1.2.3-1", Arch: "x86_64"}},
		{"acme.rpm.download", rpm, releases.RPM, releases.Package{Name: "acme-filter", Version: "1.2.3-1", Arch: "x86_64"}},
		{"acme-1.2.3.tar.gz", tgz, releases.Tarball, releases.Package{}},
		{"acme-1.2.3.zip", []byte("PK\x03\x04 a zip"), releases.Other, releases.Package{}},
		{"notes.txt", []byte("plain text"), releases.Other, releases.Package{}},
	} {
		kind, pkg, err := releases.Inspect(bytes.NewReader(c.content), c.name)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		ctl, meta := pkg.Control, pkg.Meta
		pkg.Control, pkg.Meta = "", ""
		if kind == releases.RPM {
			if m, err := releases.ParseRPMMeta(meta); err != nil || m.Version != "1.2.3" || len(m.Files) != 1 {
				t.Errorf("%s: metadata %q: %v", c.name, meta, err)
			}
		}
		if kind != c.kind || pkg != c.pkg {
			t.Errorf("%s: %s %+v, want %s %+v", c.name, kind, pkg, c.kind, c.pkg)
		}
		if kind == releases.Deb && !bytes.Contains([]byte(ctl), []byte("Package: acme-filter\n")) {
			t.Errorf("%s: control data %q lacks the Package field", c.name, ctl)
		}
	}
}

// TestInspectRefusesImpostors: a file claiming to be a package or an
// archive and not being one, and a damaged package whatever its name.
func TestInspectRefusesImpostors(t *testing.T) {
	deb := releasetest.Deb(t, "acme-filter", "1.2.3", "amd64")
	rpm := releasetest.RPM(t, "acme-filter", "1.2.3", "amd64")
	for _, c := range []struct {
		name    string
		content []byte
	}{
		{"acme_1.2.3_amd64.deb", []byte("#!/bin/sh\necho not a package\n")},
		{"acme_1.2.3_amd64.deb", []byte{}},
		{"acme_1.2.3_amd64.deb", rpm},
		{"acme_1.2.3_amd64.deb", []byte("!<arch>\nother-member    0           0     0     644     4         `\nabcd")},
		{"acme.bin", deb[:200]},        // starts like a .deb, cut short
		{"acme.bin", deb[:len(deb)/3]}, // control archive cut
		{"acme-1.2.3.x86_64.rpm", deb}, // a .deb named .rpm
		{"acme-1.2.3.x86_64.rpm", []byte("not an rpm")},
		{"acme.bin", rpm[:300]}, // an RPM cut inside its headers
		{"acme-1.2.3.tar.gz", []byte("\x1f\x8b not really gzip")},
		{"acme-1.2.3.tar", []byte("plain text")},
	} {
		kind, _, err := releases.Inspect(bytes.NewReader(c.content), c.name)
		if !errors.Is(err, releases.ErrContent) {
			t.Errorf("%s (%d bytes): kind %q, err %v; want ErrContent", c.name, len(c.content), kind, err)
		}
	}
}
