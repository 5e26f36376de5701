package repos

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/releases"
)

func testSigner(t testing.TB) *Signer {
	t.Helper()
	s, err := GenerateKey(t.TempDir(), "Example Vendor", clockAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func control(name, version, arch string) string {
	return fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <t@example.com>\nDescription: a test\n more text\n .\n end\n", name, version, arch)
}

func deb(id int64, name, version, arch string) releases.Artifact {
	sum := sha256.Sum256([]byte(name + version + arch))
	return releases.Artifact{ID: id, FileName: name + "_" + version + "_" + arch + ".deb", Kind: releases.Deb, Size: 1000 + id,
		SHA256:  hex.EncodeToString(sum[:]),
		Package: releases.Package{Name: name, Version: version, Arch: arch, Control: control(name, version, arch)}}
}

func rel(version string, ch releases.Channel, as ...releases.Artifact) releases.Release {
	v, err := releases.ParseVersion(version)
	if err != nil {
		panic(err)
	}
	return releases.Release{Version: v, Channel: ch, Artifacts: as}
}

// paragraphs splits a Packages file into its paragraphs' fields (a
// reader of our own, so the test does not check BuildAPT with itself).
func paragraphs(t *testing.T, b []byte) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, p := range strings.Split(strings.TrimRight(string(b), "\n"), "\n\n") {
		if p == "" {
			continue
		}
		f := map[string]string{}
		last := ""
		for _, line := range strings.Split(p, "\n") {
			if line[0] == ' ' {
				f[last] += "\n" + line
				continue
			}
			k, v, _ := strings.Cut(line, ": ")
			if _, dup := f[k]; dup {
				t.Fatalf("field %s twice in %q", k, p)
			}
			f[k], last = v, k
		}
		out = append(out, f)
	}
	return out
}

// TestBuildAPT: each suite lists what it should, "all" packages in every
// architecture's index, pool paths by artifact id, sums that match the
// files, signatures that verify, and the same bytes for the same input.
func TestBuildAPT(t *testing.T) {
	s := testSigner(t)
	rels := []releases.Release{
		rel("1.2.0-beta.1", releases.Beta, deb(5, "mailguard", "1.2.0~beta.1-1", "amd64")),
		rel("1.1.0", releases.Stable, deb(3, "mailguard", "1.1.0-1", "amd64"), deb(4, "mailguard", "1.1.0-1", "arm64"),
			deb(6, "mailguard-doc", "1.1.0-1", "all"),
			releases.Artifact{ID: 7, FileName: "mailguard.tar.gz", Kind: releases.Tarball}),
		rel("1.0.0", releases.Stable, deb(1, "mailguard", "1.0.0-1", "amd64")),
	}
	date := time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)
	build := func(suite string) *APT {
		a, err := BuildAPT(rels, APTSuite{Suite: suite, Origin: "Example Vendor", Label: "Mail\nguard", Date: date, Signer: s})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	stable, beta := build(SuiteStable), build(SuiteBeta)
	release := string(stable.Release)
	for _, want := range []string{"Origin: Example Vendor\n", "Label: Mail guard\n", "Suite: stable\n", "Codename: stable\n",
		"Date: Thu, 07 May 2026 10:00:00 UTC\n", "Architectures: amd64 arm64 all\n", "Components: main\n", "Acquire-By-Hash: no\n",
		"No-Support-for-Architecture-all: Packages\n"} {
		if !strings.Contains(release, want) {
			t.Errorf("Release lacks %q:\n%s", want, release)
		}
	}
	// Every file is listed with its sum and size, and nothing else is.
	listed := 0
	for _, line := range strings.Split(release[strings.Index(release, "SHA256:\n")+8:], "\n") {
		if line == "" {
			continue
		}
		var sum, name string
		var size int
		if _, err := fmt.Sscanf(line, " %s %d %s", &sum, &size, &name); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		b, ok := stable.Files[name]
		got := sha256.Sum256(b)
		if !ok || hex.EncodeToString(got[:]) != sum || len(b) != size {
			t.Errorf("Release lists %s wrongly", name)
		}
		listed++
	}
	if listed != len(stable.Files) || listed != 6 {
		t.Errorf("Release lists %d of %d files", listed, len(stable.Files))
	}
	amd := paragraphs(t, stable.Files["main/binary-amd64/Packages"])
	var got []string
	for _, p := range amd {
		got = append(got, p["Package"]+" "+p["Version"]+" "+p["Filename"])
	}
	want := []string{"mailguard 1.0.0-1 pool/main/1/mailguard_1.0.0-1_amd64.deb", "mailguard 1.1.0-1 pool/main/3/mailguard_1.1.0-1_amd64.deb",
		"mailguard-doc 1.1.0-1 pool/main/6/mailguard-doc_1.1.0-1_all.deb"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("stable amd64 lists\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p := amd[0]; p["Size"] != "1001" || p["SHA256"] != deb(1, "mailguard", "1.0.0-1", "amd64").SHA256 || p["Description"] != "a test\n more text\n .\n end" {
		t.Errorf("entry %v", p)
	}
	if n := len(paragraphs(t, stable.Files["main/binary-arm64/Packages"])); n != 2 {
		t.Errorf("arm64 lists %d packages, want 2 (its own and the all one)", n)
	}
	if n := len(paragraphs(t, stable.Files["main/binary-all/Packages"])); n != 1 {
		t.Errorf("binary-all lists %d packages, want 1", n)
	}
	if n := len(paragraphs(t, beta.Files["main/binary-amd64/Packages"])); n != 4 {
		t.Errorf("beta amd64 lists %d packages, want 4 (beta and stable)", n)
	}
	zr, err := gzip.NewReader(bytes.NewReader(stable.Files["main/binary-amd64/Packages.gz"]))
	if err != nil {
		t.Fatal(err)
	}
	if unz, _ := io.ReadAll(zr); !bytes.Equal(unz, stable.Files["main/binary-amd64/Packages"]) {
		t.Error("Packages.gz is not Packages")
	}
	if err := s.Verify(stable.Release, stable.ReleaseGPG); err != nil {
		t.Errorf("Release.gpg: %v", err)
	}
	if !bytes.Contains(stable.InRelease, stable.Release) || !bytes.HasPrefix(stable.InRelease, []byte("-----BEGIN PGP SIGNED MESSAGE-----")) {
		t.Error("InRelease does not clear-sign Release")
	}
	// Deterministic: the same input in another order gives the same bytes.
	again, err := BuildAPT([]releases.Release{rels[2], rels[1], rels[0]}, APTSuite{Suite: SuiteStable, Origin: "Example Vendor", Label: "Mail\nguard", Date: date, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	// (The signatures differ: the library salts each one.)
	if !bytes.Equal(again.Release, stable.Release) {
		t.Error("the same releases gave another Release file")
	}
	for n, b := range stable.Files {
		if !bytes.Equal(again.Files[n], b) {
			t.Errorf("%s differs", n)
		}
	}
	if _, err := BuildAPT(rels, APTSuite{Suite: "unstable", Signer: s}); err == nil {
		t.Error("an unknown suite was built")
	}
}

// TestBuildAPTEmptyAndSkipped: no packages is still a repository (an
// empty binary-all), and a package with unfit control data is left out
// with the reason instead of breaking the index.
func TestBuildAPTEmptyAndSkipped(t *testing.T) {
	s := testSigner(t)
	bad := deb(2, "mailguard", "1.0.0-1", "amd64")
	bad.Package.Control += "Filename: ../../etc/passwd\n"
	a, err := BuildAPT([]releases.Release{rel("1.0.0", releases.Stable, bad)}, APTSuite{Suite: SuiteStable, Origin: "V", Label: "P", Date: t0, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Skipped) != 1 || a.Skipped[0].ArtifactID != 2 || !strings.Contains(a.Skipped[0].Reason, "Filename") {
		t.Errorf("skipped %+v", a.Skipped)
	}
	if b, ok := a.Files["main/binary-all/Packages"]; !ok || len(b) != 0 || !strings.Contains(string(a.Release), "Architectures: all\n") {
		t.Errorf("empty repository: files %v, Release\n%s", a.Files, a.Release)
	}
	if strings.Contains(string(a.Release), "No-Support-for-Architecture-all") {
		t.Error("an all-only repository told apt not to read binary-all")
	}
}

func TestCheckControl(t *testing.T) {
	good := releases.Package{Name: "mg", Version: "1.0-1", Arch: "amd64", Control: "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nDescription: x\n .\n y\n"}
	if c, err := CheckControl(good); err != nil || c != good.Control {
		t.Fatalf("good paragraph: %q, %v", c, err)
	}
	for name, ctl := range map[string]string{
		"two paragraphs":    "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\n\nPackage: evil\n",
		"blank line":        "Package: mg\nVersion: 1.0-1\n \t\nArchitecture: amd64\n",
		"own Filename":      "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nFilename: pool/x.deb\n",
		"own SHA256":        "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nsha256: 00\n",
		"own Size":          "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nSize: 1\n",
		"duplicate":         "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nversion: 2.0\n",
		"comment":           "Package: mg\n# hello\nVersion: 1.0-1\nArchitecture: amd64\n",
		"armor":             "-----BEGIN PGP SIGNATURE-----\nPackage: mg\nVersion: 1.0-1\nArchitecture: amd64\n",
		"not a field":       "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\njunk\n",
		"continuation":      " x\nPackage: mg\nVersion: 1.0-1\nArchitecture: amd64\n",
		"carriage return":   "Package: mg\r\nVersion: 1.0-1\nArchitecture: amd64\n",
		"other version":     "Package: mg\nVersion: 2.0-1\nArchitecture: amd64\n",
		"other arch":        "Package: mg\nVersion: 1.0-1\nArchitecture: all\n",
		"no package":        "Version: 1.0-1\nArchitecture: amd64\n",
		"empty":             "",
		"nul":               "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nX: \x00\n",
		"line separator":    "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nX: a\u2028b\n",
		"not utf-8":         "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nX: \xff\n",
		"space in name":     "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nMy Field: x\n",
		"empty field name":  "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\n: x\n",
		"leading newlines":  "\nPackage: mg\nVersion: 1.0-1\nArchitecture: amd64\n",
		"md5sum any case":   "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nMD5Sum: 00\n",
		"msdos filename":    "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nMSDOS-Filename: X.DEB\n",
		"sha512 of its own": "Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nSHA512: 00\n",
	} {
		p := good
		p.Control = ctl
		if c, err := CheckControl(p); err == nil {
			t.Errorf("%s: accepted as %q", name, c)
		}
	}
}

// FuzzCheckControl: whatever a control paragraph holds, what CheckControl
// accepts is one paragraph (no empty line), ends in one line break, holds
// none of the fields the index writes, checks again to itself, and, with
// the index's fields after it, reads back with exactly our Filename.
func FuzzCheckControl(f *testing.F) {
	f.Add("Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nDescription: x\n .\n y\n")
	f.Add("Package: mg\nVersion: 1.0-1\nArchitecture: amd64\n\nFilename: evil\n")
	f.Add("Package: mg\nVersion: 1.0-1\nArchitecture: amd64\n \nFilename: evil\n")
	f.Add("Package: mg\nVersion: 1.0-1\nArchitecture: amd64\nDescription: a\n Filename: b\n")
	f.Add("Package: mg\r\nVersion: 1.0-1\r\nArchitecture: amd64\r\n")
	f.Add(control("mg", "1.0-1", "amd64"))
	f.Fuzz(func(t *testing.T, ctl string) {
		p := releases.Package{Name: "mg", Version: "1.0-1", Arch: "amd64", Control: ctl}
		c, err := CheckControl(p)
		if err != nil {
			return
		}
		if !strings.HasSuffix(c, "\n") || strings.HasSuffix(c, "\n\n") || strings.Contains(c, "\n\n") || strings.ContainsAny(c, "\r\x00") {
			t.Fatalf("accepted %q", c)
		}
		p.Control = c
		if again, err := CheckControl(p); err != nil || again != c {
			t.Fatalf("not stable: %q, %v", again, err)
		}
		entry := c + "Filename: pool/main/1/mg.deb\nSize: 1\nSHA256: 00\n"
		filenames := 0
		for _, line := range strings.Split(strings.TrimRight(entry, "\n"), "\n") {
			if strings.TrimSpace(line) == "" {
				t.Fatalf("a blank line in %q", entry)
			}
			k, v, ok := strings.Cut(line, ":")
			if line[0] != ' ' && line[0] != '\t' && ok && strings.EqualFold(k, "filename") {
				filenames++
				if strings.TrimSpace(v) != "pool/main/1/mg.deb" {
					t.Fatalf("Filename %q in %q", v, entry)
				}
			}
		}
		if filenames != 1 {
			t.Fatalf("%d Filename fields in %q", filenames, entry)
		}
	})
}
