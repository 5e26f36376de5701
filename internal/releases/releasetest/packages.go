// Package releasetest builds small real packages for tests: a .deb and an
// .rpm made by nfpm, the packager many vendors use, and a tarball. Only
// tests import it, so the binary does not link nfpm.
package releasetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"
)

// Deb builds a .deb of package name at version for arch that installs one
// small script, /usr/bin/<name>.
func Deb(t testing.TB, name, version, arch string) []byte {
	return build(t, deb.Default, "deb", name, version, arch)
}

// RPM builds an .rpm the same way.
func RPM(t testing.TB, name, version, arch string) []byte {
	return build(t, rpm.DefaultRPM, "rpm", name, version, arch)
}

func build(t testing.TB, p nfpm.Packager, format, name, version, arch string) []byte {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(src, []byte("#!/bin/sh\necho "+name+" "+version+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name: name, Arch: arch, Platform: "linux", Version: version, Release: "1",
		Maintainer: "Test Vendor <packages@example.com>", Description: "A test package of " + name,
		Vendor: "Test Vendor", Homepage: "https://example.com", License: "Proprietary",
		MTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Overridables: nfpm.Overridables{Contents: files.Contents{
			{Source: src, Destination: "/usr/bin/" + name, FileInfo: &files.ContentFileInfo{Mode: 0o755}},
		}},
	})
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		t.Fatalf("nfpm %s: %v", format, err)
	}
	var buf bytes.Buffer
	if err := p.Package(info, &buf); err != nil {
		t.Fatalf("nfpm %s: %v", format, err)
	}
	return buf.Bytes()
}

// Tarball is a gzipped tar archive holding one file.
func Tarball(t testing.TB, name string, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
