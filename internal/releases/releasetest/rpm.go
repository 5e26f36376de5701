package releasetest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"
)

// RPMSpec describes a richer .rpm than RPM builds: the fields and
// dependencies a YUM repository's index repeats.
type RPMSpec struct {
	Name, Version, Arch string
	Release             string // "" is 1
	Summary             string
	Description         string
	// Depends, Provides, Conflicts, Replaces (rpm's obsoletes) and
	// Recommends are nfpm's: "name", "name >= 1.0".
	Depends, Provides, Conflicts, Replaces, Recommends []string
	// Files maps a path the package installs to its content; a path
	// under /etc is a config file. Every package also installs
	// /usr/bin/NAME, as RPM's do.
	Files map[string]string
	// Dirs are directories the package owns; Ghosts, files it owns but
	// does not carry.
	Dirs, Ghosts []string
	MTime        time.Time // zero: 2026-01-02 03:04:05 UTC
}

// RPMOf builds the .rpm that spec describes, with nfpm.
func RPMOf(t testing.TB, spec RPMSpec) []byte {
	t.Helper()
	dir := t.TempDir()
	if spec.Release == "" {
		spec.Release = "1"
	}
	if spec.MTime.IsZero() {
		spec.MTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	if spec.Description == "" {
		spec.Description = "A test package of " + spec.Name
	}
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, filepath.Base(name))
		for i := 0; ; i++ {
			if _, err := os.Stat(p); os.IsNotExist(err) {
				break
			}
			p = filepath.Join(dir, filepath.Base(name)+"."+string(rune('a'+i)))
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	contents := files.Contents{{Source: write(spec.Name, "#!/bin/sh\necho "+spec.Name+" "+spec.Version+"\n", 0o755),
		Destination: "/usr/bin/" + spec.Name, FileInfo: &files.ContentFileInfo{Mode: 0o755}}}
	for dst, content := range spec.Files {
		c := &files.Content{Source: write(dst, content, 0o644), Destination: dst, FileInfo: &files.ContentFileInfo{Mode: 0o644}}
		if len(dst) > 5 && dst[:5] == "/etc/" {
			c.Type = files.TypeConfigNoReplace
		}
		contents = append(contents, c)
	}
	for _, d := range spec.Dirs {
		contents = append(contents, &files.Content{Destination: d, Type: files.TypeDir, FileInfo: &files.ContentFileInfo{Mode: 0o755}})
	}
	for _, g := range spec.Ghosts {
		contents = append(contents, &files.Content{Destination: g, Type: files.TypeRPMGhost})
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name: spec.Name, Arch: spec.Arch, Platform: "linux", Version: spec.Version, Release: spec.Release,
		Maintainer: "Test Vendor <packages@example.com>", Description: spec.Description,
		Vendor: "Test Vendor", Homepage: "https://example.com", License: "Proprietary",
		MTime: spec.MTime,
		Overridables: nfpm.Overridables{
			Contents: contents, Depends: spec.Depends, Provides: spec.Provides, Conflicts: spec.Conflicts,
			Replaces: spec.Replaces, Recommends: spec.Recommends,
			RPM: nfpm.RPM{Summary: spec.Summary, Group: "Applications/Internet", BuildHost: "build.example.com",
				Packager: "Test Vendor <packages@example.com>"},
		},
	})
	if err := nfpm.PrepareForPackager(info, "rpm"); err != nil {
		t.Fatalf("nfpm rpm: %v", err)
	}
	var buf bytes.Buffer
	if err := rpm.DefaultRPM.Package(info, &buf); err != nil {
		t.Fatalf("nfpm rpm: %v", err)
	}
	return buf.Bytes()
}
