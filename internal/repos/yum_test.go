package repos

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
)

// yumPackageOf reads an nfpm-built package as an upload would and makes
// it the artifact id of a repository.
func yumPackageOf(t testing.TB, id int64, b []byte) YUMPackage {
	t.Helper()
	p, err := releases.ReadRPM(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	m, err := releases.ParseRPMMeta(p.Meta)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	a := releases.Artifact{ID: id, ReleaseID: id, FileName: p.Name + "-" + p.Version + "." + p.Arch + ".rpm", Kind: releases.RPM,
		Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), Package: p, CreatedAt: t0}
	return YUMPackage{Artifact: a, Meta: m, Href: PackageHref(a)}
}

type yumRepomd struct {
	Revision string `xml:"revision"`
	Data     []struct {
		Type         string `xml:"type,attr"`
		Checksum     string `xml:"checksum"`
		OpenChecksum string `xml:"open-checksum"`
		Location     struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Timestamp int64 `xml:"timestamp"`
		Size      int   `xml:"size"`
		OpenSize  int   `xml:"open-size"`
	} `xml:"data"`
}

type yumEntry struct {
	Name  string `xml:"name,attr"`
	Flags string `xml:"flags,attr"`
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
	Pre   string `xml:"pre,attr"`
}

type yumFile struct {
	Type string `xml:"type,attr"`
	Path string `xml:",chardata"`
}

type yumPrimary struct {
	Count    int `xml:"packages,attr"`
	Packages []struct {
		Name    string `xml:"name"`
		Arch    string `xml:"arch"`
		Version struct {
			Epoch string `xml:"epoch,attr"`
			Ver   string `xml:"ver,attr"`
			Rel   string `xml:"rel,attr"`
		} `xml:"version"`
		Checksum    string `xml:"checksum"`
		Summary     string `xml:"summary"`
		Description string `xml:"description"`
		Packager    string `xml:"packager"`
		URL         string `xml:"url"`
		Size        struct {
			Package   int64 `xml:"package,attr"`
			Installed int64 `xml:"installed,attr"`
		} `xml:"size"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Format struct {
			License     string `xml:"license"`
			HeaderRange struct {
				Start int64 `xml:"start,attr"`
				End   int64 `xml:"end,attr"`
			} `xml:"header-range"`
			Requires  []yumEntry `xml:"requires>entry"`
			Provides  []yumEntry `xml:"provides>entry"`
			Conflicts []yumEntry `xml:"conflicts>entry"`
			Obsoletes []yumEntry `xml:"obsoletes>entry"`
			Files     []yumFile  `xml:"file"`
		} `xml:"format"`
	} `xml:"package"`
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBuildYUM builds a repository of two packages and reads it back as
// dnf would: repomd.xml's checksums and sizes match the files it names,
// its signature verifies, primary.xml carries the header's fields (the
// hostile text intact), and the output is the same for the same input.
func TestBuildYUM(t *testing.T) {
	s, err := GenerateKey(t.TempDir(), "Example Vendor", clockAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	rich := releasetest.RPMOf(t, releasetest.RPMSpec{
		Name: "acme-milter", Version: "2.1.0", Arch: "amd64", Release: "3",
		Summary:     "Acme's milter <fast> & \"safe\"",
		Description: "Filters mail.\r\n\nLine two & <tags> ]]> \x01 here.",
		Depends:     []string{"postfix >= 3.5", "acme-common = 1:2.1.0-3"},
		Conflicts:   []string{"old-milter < 1.0"},
		Replaces:    []string{"acme-legacy <= 0.9"},
		Files:       map[string]string{"/etc/acme/acme.conf": "x\n", "/usr/lib/acme/helper.so": "ELF"},
		Dirs:        []string{"/var/lib/acme"},
		Ghosts:      []string{"/var/log/acme.log"},
	})
	pkgs := []YUMPackage{yumPackageOf(t, 7, rich), yumPackageOf(t, 3, releasetest.RPM(t, "acme-common", "2.1.0", "noarch"))}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	md, err := BuildYUM(pkgs, at, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(md.RepoMD, md.Signature); err != nil {
		t.Fatalf("repomd.xml.asc: %v", err)
	}
	var rm yumRepomd
	if err := xml.Unmarshal(md.RepoMD, &rm); err != nil {
		t.Fatal(err)
	}
	if rm.Revision != strconv.FormatInt(at.Unix(), 10) || len(rm.Data) != 2 {
		t.Fatalf("repomd %+v", rm)
	}
	open := map[string][]byte{}
	for _, d := range rm.Data {
		name, ok := strings.CutPrefix(d.Location.Href, "repodata/")
		f, found := md.File(name)
		if !ok || !found {
			t.Fatalf("%s: %s is not served", d.Type, d.Location.Href)
		}
		plain := gunzip(t, f)
		sum, openSum := sha256.Sum256(f), sha256.Sum256(plain)
		if d.Checksum != hex.EncodeToString(sum[:]) || d.OpenChecksum != hex.EncodeToString(openSum[:]) ||
			d.Size != len(f) || d.OpenSize != len(plain) || d.Timestamp != at.Unix() || !strings.HasPrefix(name, d.Checksum+"-") {
			t.Errorf("%s: repomd says %+v; file %d bytes (%d open)", d.Type, d, len(f), len(plain))
		}
		open[d.Type] = plain
	}
	var pr yumPrimary
	if err := xml.Unmarshal(open["primary"], &pr); err != nil {
		t.Fatalf("primary.xml: %v\n%s", err, open["primary"])
	}
	if pr.Count != 2 || len(pr.Packages) != 2 || pr.Packages[0].Name != "acme-common" || pr.Packages[1].Name != "acme-milter" {
		t.Fatalf("primary lists %+v", pr)
	}
	p, want := pr.Packages[1], pkgs[0]
	if p.Summary != want.Meta.Summary || p.Description != strings.ReplaceAll(want.Meta.Description, "\x01", "\uFFFD") {
		t.Errorf("text came back as %q / %q, want %q / %q", p.Summary, p.Description, want.Meta.Summary, want.Meta.Description)
	}
	if p.Arch != "x86_64" || p.Version.Epoch != "0" || p.Version.Ver != "2.1.0" || p.Version.Rel != "3" ||
		p.Checksum != want.Artifact.SHA256 || p.Location.Href != "packages/7/acme-milter-2.1.0-3.x86_64.rpm" ||
		p.Size.Package != int64(len(rich)) || p.Size.Installed != want.Meta.InstalledSize || p.Format.License != "Proprietary" ||
		p.Format.HeaderRange.Start != want.Meta.HeaderStart || p.Format.HeaderRange.End != want.Meta.HeaderEnd {
		t.Errorf("package %+v", p)
	}
	if !slices.Contains(p.Format.Requires, yumEntry{Name: "postfix", Flags: "GE", Epoch: "0", Ver: "3.5"}) ||
		!slices.Contains(p.Format.Requires, yumEntry{Name: "acme-common", Flags: "EQ", Epoch: "1", Ver: "2.1.0", Rel: "3"}) ||
		!slices.Contains(p.Format.Conflicts, yumEntry{Name: "old-milter", Flags: "LT", Epoch: "0", Ver: "1.0"}) ||
		!slices.Contains(p.Format.Obsoletes, yumEntry{Name: "acme-legacy", Flags: "LE", Epoch: "0", Ver: "0.9"}) ||
		!slices.Contains(p.Format.Provides, yumEntry{Name: "acme-milter", Flags: "EQ", Epoch: "0", Ver: "2.1.0", Rel: "3"}) {
		t.Errorf("dependencies %+v", p.Format)
	}
	for _, e := range p.Format.Requires {
		if strings.HasPrefix(e.Name, "rpmlib(") {
			t.Errorf("rpm's own feature listed: %+v", e)
		}
	}
	// primary.xml: createrepo's subset of files; filelists.xml: all.
	if want := []yumFile{{Path: "/etc/acme/acme.conf"}, {Path: "/usr/bin/acme-milter"}}; !slices.Equal(p.Format.Files, want) {
		t.Errorf("primary's files %+v, want %+v", p.Format.Files, want)
	}
	var fl struct {
		Packages []struct {
			PkgID string    `xml:"pkgid,attr"`
			Name  string    `xml:"name,attr"`
			Files []yumFile `xml:"file"`
		} `xml:"package"`
	}
	if err := xml.Unmarshal(open["filelists"], &fl); err != nil {
		t.Fatal(err)
	}
	if len(fl.Packages) != 2 || fl.Packages[1].PkgID != want.Artifact.SHA256 ||
		!slices.Contains(fl.Packages[1].Files, yumFile{Path: "/usr/lib/acme/helper.so"}) ||
		!slices.Contains(fl.Packages[1].Files, yumFile{Type: "dir", Path: "/var/lib/acme"}) ||
		!slices.Contains(fl.Packages[1].Files, yumFile{Type: "ghost", Path: "/var/log/acme.log"}) {
		t.Errorf("filelists %+v", fl)
	}

	again, err := BuildYUM([]YUMPackage{pkgs[1], pkgs[0]}, at, s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.RepoMD, md.RepoMD) || len(again.Files) != len(md.Files) {
		t.Fatal("the same packages gave other metadata")
	}
	for k, f := range md.Files {
		if !bytes.Equal(again.Files[k], f) {
			t.Fatalf("%s differs", k)
		}
	}
	empty, err := BuildYUM(nil, time.Unix(0, 0), s)
	if err != nil {
		t.Fatal(err)
	}
	var erm yumRepomd
	if err := xml.Unmarshal(empty.RepoMD, &erm); err != nil || len(erm.Data) != 2 {
		t.Fatalf("empty repository: %v %+v", err, erm)
	}
}

// yumClean is what an XML parser must give back for s.
func yumClean(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				b.WriteRune('\uFFFD')
				continue
			}
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xfffe || r == 0xffff {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// FuzzYUMText puts arbitrary text where a vendor's package puts its own
// (summary, description, license, a dependency's name and version, a
// path) and checks that primary.xml stays well-formed and an XML parser
// reads back the same text, with only what XML cannot carry replaced.
func FuzzYUMText(f *testing.F) {
	for _, s := range []string{"plain", `<a href="x">&amp;</a>`, "]]>", "\x00\x01\x1f\t\n\r", "\xff\xfe", "\uFFFE\uFFFF", "tab\tnew\nline\r\n", "'\"", "ü€😀"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, text, attr string) {
		m := releases.RPMMeta{Version: "1", Release: "1", Summary: text, Description: text + text, License: text,
			Requires: []releases.RPMDep{{Name: attr, Flags: 8, Version: attr}},
			Files:    []releases.RPMFile{{Path: "/etc/" + text}}}
		p := YUMPackage{Artifact: releases.Artifact{ID: 1, SHA256: "ab", Package: releases.Package{Name: "n", Arch: "noarch"}}, Meta: m, Href: "packages/1/" + attr}
		var buf bytes.Buffer
		writePrimary(&xmlWriter{w: &buf}, []YUMPackage{p})
		var pr yumPrimary
		if err := xml.Unmarshal(buf.Bytes(), &pr); err != nil {
			t.Fatalf("%v\n%s", err, buf.Bytes())
		}
		if len(pr.Packages) != 1 {
			t.Fatalf("%d packages", len(pr.Packages))
		}
		got := pr.Packages[0]
		want, wantAttr := yumClean(text), yumClean(attr)
		// In text, a parser turns \r\n and a lone \r into \n only when they
		// were literal; ours are references, so they come back as they were.
		// The description is text twice: its halves can join into one
		// valid character, so it is cleaned as a whole.
		if got.Summary != want || got.Description != yumClean(text+text) || got.Format.License != want || got.Location.Href != "packages/1/"+wantAttr {
			t.Errorf("text %q came back as %q / %q / %q / %q", text, got.Summary, got.Description, got.Format.License, got.Location.Href)
		}
		if len(got.Format.Files) != 1 || got.Format.Files[0].Path != "/etc/"+want {
			t.Errorf("path %q came back as %+v", text, got.Format.Files)
		}
		if attr != "" {
			if len(got.Format.Requires) != 1 || got.Format.Requires[0].Name != wantAttr || got.Format.Requires[0].Ver != wantAttr {
				t.Errorf("attribute %q came back as %+v", attr, got.Format.Requires)
			}
		}
	})
}
