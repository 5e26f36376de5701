package repos

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/releases"
)

// YUMPackage is one package a YUM repository lists: the artifact (its
// SHA-256 is the package's checksum in the index), what its header said
// at upload, and where the repository serves it, relative to the
// repository's root (packages/ID/NAME.rpm).
type YUMPackage struct {
	Artifact releases.Artifact
	Meta     releases.RPMMeta
	Href     string
}

// YUMArtifacts picks the RPM packages of rels (the releases a license
// covers) for the channel's repository: the stable repository lists
// stable releases only, the beta one beta and stable. Artifacts recorded
// before the reader kept the repository's metadata (an empty
// Package.Meta) are left out and returned in stale, so the caller can
// say which ones need uploading again. It reads no metadata: the list is
// what a cache of built metadata is keyed by.
func YUMArtifacts(rels []releases.Release, channel releases.Channel) (arts, stale []releases.Artifact) {
	for _, rel := range rels {
		if channel == releases.Stable && rel.Channel != releases.Stable {
			continue
		}
		for _, a := range rel.Artifacts {
			switch {
			case a.Kind != releases.RPM:
			case a.Package.Meta == "":
				stale = append(stale, a)
			default:
				arts = append(arts, a)
			}
		}
	}
	return arts, stale
}

// YUMPackages reads the metadata the RPM artifacts arts kept at upload.
func YUMPackages(arts []releases.Artifact) ([]YUMPackage, error) {
	pkgs := make([]YUMPackage, 0, len(arts))
	for _, a := range arts {
		m, err := releases.ParseRPMMeta(a.Package.Meta)
		if err != nil {
			return nil, fmt.Errorf("artifact %d: %w", a.ID, err)
		}
		pkgs = append(pkgs, YUMPackage{Artifact: a, Meta: m, Href: PackageHref(a)})
	}
	return pkgs, nil
}

// PackageHref is where a YUM repository serves artifact a, relative to its
// root. The name is the artifact's file name, which releases.CleanFileName
// keeps to characters that need no escaping in a URL path.
func PackageHref(a releases.Artifact) string {
	return "packages/" + strconv.FormatInt(a.ID, 10) + "/" + a.FileName
}

// YUMMetadata is a built repository's repodata/ directory: repomd.xml,
// its detached signature repomd.xml.asc, and the files repomd.xml names,
// by file name (SHA256-primary.xml.gz, SHA256-filelists.xml.gz).
type YUMMetadata struct {
	RepoMD    []byte
	Signature []byte
	Files     map[string][]byte
}

// Size is the bytes the metadata holds, for a cache's bound.
func (m *YUMMetadata) Size() int {
	n := len(m.RepoMD) + len(m.Signature)
	for k, f := range m.Files {
		n += len(k) + len(f)
	}
	return n
}

// File is one file of repodata/ by name, ok false when there is none.
func (m *YUMMetadata) File(name string) ([]byte, bool) {
	switch name {
	case "repomd.xml":
		return m.RepoMD, true
	case "repomd.xml.asc":
		return m.Signature, true
	}
	f, ok := m.Files[name]
	return f, ok
}

// BuildYUM writes the repository metadata of pkgs: primary.xml (what dnf
// resolves and installs from) and filelists.xml (every file, for
// `dnf provides` and file dependencies), gzipped, and repomd.xml naming
// them with their checksums and sizes, signed by s. at is the metadata's
// time (repomd's revision and timestamps): the same packages and time give
// the same bytes, so callers pass a time derived from the content (the
// newest release listed) and the output can be cached and compared. The
// packages are listed by name, then artifact ID, whatever their order in
// pkgs.
func BuildYUM(pkgs []YUMPackage, at time.Time, s *Signer) (*YUMMetadata, error) {
	pkgs = slices.Clone(pkgs)
	slices.SortFunc(pkgs, func(a, b YUMPackage) int {
		if c := strings.Compare(a.Artifact.Package.Name, b.Artifact.Package.Name); c != 0 {
			return c
		}
		return int(a.Artifact.ID - b.Artifact.ID)
	})
	md := &YUMMetadata{Files: map[string][]byte{}}
	var repomd bytes.Buffer
	ts := strconv.FormatInt(at.Unix(), 10)
	repomd.WriteString(xmlHeader + `<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">` + "\n")
	repomd.WriteString("  <revision>" + ts + "</revision>\n")
	for _, part := range []struct {
		typ   string
		write func(*xmlWriter, []YUMPackage)
	}{{"primary", writePrimary}, {"filelists", writeFilelists}} {
		var open bytes.Buffer
		part.write(&xmlWriter{w: &open}, pkgs)
		gz, err := gzipped(open.Bytes())
		if err != nil {
			return nil, fmt.Errorf("yum %s: %w", part.typ, err)
		}
		sum, openSum := sha256.Sum256(gz), sha256.Sum256(open.Bytes())
		name := hex.EncodeToString(sum[:]) + "-" + part.typ + ".xml.gz"
		md.Files[name] = gz
		fmt.Fprintf(&repomd, `  <data type="%s">
    <checksum type="sha256">%x</checksum>
    <open-checksum type="sha256">%x</open-checksum>
    <location href="repodata/%s"/>
    <timestamp>%s</timestamp>
    <size>%d</size>
    <open-size>%d</open-size>
  </data>
`, part.typ, sum, openSum, name, ts, len(gz), open.Len())
	}
	repomd.WriteString("</repomd>\n")
	md.RepoMD = repomd.Bytes()
	sig, err := s.DetachSign(md.RepoMD)
	if err != nil {
		return nil, fmt.Errorf("sign repomd.xml: %w", err)
	}
	md.Signature = sig
	return md, nil
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// writePrimary writes primary.xml as createrepo_c does, with the fields
// libsolv reads.
func writePrimary(x *xmlWriter, pkgs []YUMPackage) {
	x.raw(xmlHeader + `<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="` +
		strconv.Itoa(len(pkgs)) + `">` + "\n")
	for _, p := range pkgs {
		m, a := p.Meta, p.Artifact
		x.raw(`<package type="rpm">` + "\n")
		x.elem("  ", "name", a.Package.Name)
		x.elem("  ", "arch", a.Package.Arch)
		x.raw(`  <version epoch="`)
		x.attr(epoch(m.Epoch))
		x.raw(`" ver="`)
		x.attr(m.Version)
		x.raw(`" rel="`)
		x.attr(m.Release)
		x.raw(`"/>` + "\n")
		x.raw(`  <checksum type="sha256" pkgid="YES">`)
		x.text(a.SHA256)
		x.raw("</checksum>\n")
		x.elem("  ", "summary", m.Summary)
		x.elem("  ", "description", m.Description)
		x.elem("  ", "packager", m.Packager)
		x.elem("  ", "url", m.URL)
		x.raw(`  <time file="` + strconv.FormatInt(a.CreatedAt.Unix(), 10) + `" build="` + strconv.FormatInt(m.BuildTime, 10) + `"/>` + "\n")
		x.raw(`  <size package="` + strconv.FormatInt(a.Size, 10) + `" installed="` + strconv.FormatInt(m.InstalledSize, 10) +
			`" archive="` + strconv.FormatInt(m.ArchiveSize, 10) + `"/>` + "\n")
		x.raw(`  <location href="`)
		x.attr(p.Href)
		x.raw(`"/>` + "\n")
		x.raw("  <format>\n")
		x.elem("    ", "rpm:license", m.License)
		x.elem("    ", "rpm:vendor", m.Vendor)
		x.elem("    ", "rpm:group", m.Group)
		x.elem("    ", "rpm:buildhost", m.BuildHost)
		x.elem("    ", "rpm:sourcerpm", m.SourceRPM)
		x.raw(`    <rpm:header-range start="` + strconv.FormatInt(m.HeaderStart, 10) + `" end="` + strconv.FormatInt(m.HeaderEnd, 10) + `"/>` + "\n")
		for _, d := range []struct {
			tag  string
			deps []releases.RPMDep
		}{
			{"provides", m.Provides}, {"requires", m.Requires}, {"conflicts", m.Conflicts}, {"obsoletes", m.Obsoletes},
			{"suggests", m.Suggests}, {"enhances", m.Enhances}, {"recommends", m.Recommends}, {"supplements", m.Supplements},
		} {
			writeDeps(x, d.tag, d.deps, d.tag == "requires")
		}
		for _, f := range m.Files {
			if f.Primary() {
				writeFile(x, "    ", f)
			}
		}
		x.raw("  </format>\n</package>\n")
	}
	x.raw("</metadata>\n")
}

// writeDeps writes one dependency list, leaving out rpm's own features
// and, in requires, duplicates, as createrepo_c does.
func writeDeps(x *xmlWriter, tag string, deps []releases.RPMDep, requires bool) {
	seen := map[releases.RPMDep]bool{}
	var list []releases.RPMDep
	for _, d := range deps {
		if requires && (d.RPMLib() || seen[d]) {
			continue
		}
		seen[d] = true
		list = append(list, d)
	}
	if len(list) == 0 {
		return
	}
	x.raw("    <rpm:" + tag + ">\n")
	for _, d := range list {
		x.raw(`      <rpm:entry name="`)
		x.attr(d.Name)
		x.raw(`"`)
		if c := d.Comparison(); c != "" {
			x.raw(` flags="` + c + `" epoch="`)
			x.attr(epoch(d.Epoch))
			x.raw(`" ver="`)
			x.attr(d.Version)
			x.raw(`"`)
			if d.Release != "" {
				x.raw(` rel="`)
				x.attr(d.Release)
				x.raw(`"`)
			}
		}
		if requires && d.Pre() {
			x.raw(` pre="1"`)
		}
		x.raw("/>\n")
	}
	x.raw("    </rpm:" + tag + ">\n")
}

func writeFile(x *xmlWriter, indent string, f releases.RPMFile) {
	x.raw(indent + "<file")
	if f.Type != "" {
		x.raw(` type="` + f.Type + `"`)
	}
	x.raw(">")
	x.text(f.Path)
	x.raw("</file>\n")
}

func writeFilelists(x *xmlWriter, pkgs []YUMPackage) {
	x.raw(xmlHeader + `<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="` + strconv.Itoa(len(pkgs)) + `">` + "\n")
	for _, p := range pkgs {
		x.raw(`<package pkgid="`)
		x.attr(p.Artifact.SHA256)
		x.raw(`" name="`)
		x.attr(p.Artifact.Package.Name)
		x.raw(`" arch="`)
		x.attr(p.Artifact.Package.Arch)
		x.raw(`">` + "\n" + `  <version epoch="`)
		x.attr(epoch(p.Meta.Epoch))
		x.raw(`" ver="`)
		x.attr(p.Meta.Version)
		x.raw(`" rel="`)
		x.attr(p.Meta.Release)
		x.raw(`"/>` + "\n")
		for _, f := range p.Meta.Files {
			writeFile(x, "  ", f)
		}
		x.raw("</package>\n")
	}
	x.raw("</filelists>\n")
}

func epoch(e string) string {
	if e == "" {
		return "0"
	}
	return e
}

// xmlWriter writes XML text with the escaping any string from a vendor's
// package header needs: markup characters escaped, invalid UTF-8 and
// characters XML 1.0 cannot carry (C0 controls other than tab, newline
// and carriage return; U+FFFE, U+FFFF) replaced by U+FFFD, and in
// attributes tab, newline and carriage return as references, so a parser
// gives back the same text.
type xmlWriter struct{ w *bytes.Buffer }

func (x *xmlWriter) raw(s string) { x.w.WriteString(s) }

func (x *xmlWriter) elem(indent, name, value string) {
	if value == "" {
		x.raw(indent + "<" + name + "/>\n")
		return
	}
	x.raw(indent + "<" + name + ">")
	x.text(value)
	x.raw("</" + name + ">\n")
}

func (x *xmlWriter) text(s string) { escapeXML(x.w, s, false) }
func (x *xmlWriter) attr(s string) { escapeXML(x.w, s, true) }

func escapeXML(w io.StringWriter, s string, attr bool) {
	last := 0
	for i, r := range s {
		size := utf8.RuneLen(r)
		if r == utf8.RuneError {
			_, size = utf8.DecodeRuneInString(s[i:])
		}
		var esc string
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '"' && attr:
			esc = "&quot;"
		case r == '\r':
			esc = "&#13;"
		case (r == '\n' || r == '\t') && attr:
			esc = "&#" + strconv.Itoa(int(r)) + ";"
		case r == '\n' || r == '\t':
			continue
		case r < 0x20, r == 0xfffe, r == 0xffff, r == utf8.RuneError && size == 1:
			esc = "\uFFFD"
		default:
			continue
		}
		_, _ = w.WriteString(s[last:i])
		_, _ = w.WriteString(esc)
		last = i + size
	}
	_, _ = w.WriteString(s[last:])
}
