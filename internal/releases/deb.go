package releases

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/storekeep/storekeep/internal/input"
)

// Package is what a .deb's control data or an .rpm's header says about
// the package: what the APT and YUM repositories index.
type Package struct {
	Name    string
	Version string // Debian: the Version field; RPM: [epoch:]version-release
	Arch    string
	// Control is a .deb's control paragraph as the package carries it
	// (the repository's Packages index repeats it); "" for an .rpm.
	Control string
	// Meta is what a repository index needs beyond the fields above, as
	// JSON: for an .rpm, the primary.xml fields its header gives. "" when
	// the reader records nothing more.
	Meta string
}

// Limits of what the readers accept: a control archive or an RPM header
// is kilobytes; anything far larger is not a package we serve.
const (
	maxControlMember = 16 << 20 // control.tar.* as stored in the .deb
	maxControlTar    = 32 << 20 // the control archive decompressed
	maxControlFile   = 1 << 20  // the control file
)

var (
	debMagic = []byte("!<arch>\n")
	// errNotDeb: the content is not a Debian package at all (as opposed to
	// a damaged one).
	errNotDeb = errors.New("not a Debian package")

	debPackageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	debVersionRE = regexp.MustCompile(`^[A-Za-z0-9.+~:-]+$`)
	debArchRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// ReadDeb reads a Debian binary package's control data: the ar archive's
// members debian-binary (format 2.x), then control.tar (plain, gzip, xz
// or zstd) with its control file, whose Package, Version and Architecture
// fields must be present and well formed. It reads no further than the
// control member, and refuses anything unusual with the reason.
func ReadDeb(r io.Reader) (Package, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(debMagic))
	if _, err := io.ReadFull(br, magic); err != nil || !bytes.Equal(magic, debMagic) {
		return Package{}, errNotDeb
	}
	name, size, err := arHeader(br)
	if err != nil {
		return Package{}, err
	}
	if name != "debian-binary" {
		return Package{}, errNotDeb
	}
	if size > 64 {
		return Package{}, errors.New("the debian-binary member is too long")
	}
	ver := make([]byte, size)
	if _, err := io.ReadFull(br, ver); err != nil {
		return Package{}, fmt.Errorf("the debian-binary member is cut short")
	}
	if !bytes.HasPrefix(ver, []byte("2.")) {
		return Package{}, fmt.Errorf("unsupported .deb format %q (want 2.x)", strings.TrimSpace(string(ver)))
	}
	if err := arPad(br, size); err != nil {
		return Package{}, err
	}
	name, size, err = arHeader(br)
	if err != nil {
		return Package{}, err
	}
	if size > maxControlMember {
		return Package{}, fmt.Errorf("the control member is %d bytes, more than a control archive holds", size)
	}
	member := io.LimitReader(br, size)
	var tr io.Reader
	switch name {
	case "control.tar":
		tr = member
	case "control.tar.gz":
		zr, err := gzip.NewReader(member)
		if err != nil {
			return Package{}, fmt.Errorf("the control archive is not readable gzip: %w", err)
		}
		tr = zr
	case "control.tar.xz":
		zr, err := xz.NewReader(member)
		if err != nil {
			return Package{}, fmt.Errorf("the control archive is not readable xz: %w", err)
		}
		tr = zr
	case "control.tar.zst":
		zr, err := zstd.NewReader(member, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxControlTar))
		if err != nil {
			return Package{}, fmt.Errorf("the control archive is not readable zstd: %w", err)
		}
		defer zr.Close()
		tr = zr
	default:
		return Package{}, fmt.Errorf("the second member is %q, not the control archive", name)
	}
	control, err := controlFile(io.LimitReader(tr, maxControlTar))
	if err != nil {
		return Package{}, err
	}
	return parseControl(control)
}

// arHeader reads one ar member header: its name (GNU's trailing slash
// dropped) and size.
func arHeader(r io.Reader) (string, int64, error) {
	var h [60]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", 0, errors.New("the ar archive is cut short")
	}
	if h[58] != '`' || h[59] != '\n' {
		return "", 0, errors.New("an ar member header is damaged")
	}
	name := strings.TrimSuffix(strings.TrimRight(string(h[0:16]), " "), "/")
	size, err := strconv.ParseInt(strings.TrimRight(string(h[48:58]), " "), 10, 64)
	if err != nil || size < 0 {
		return "", 0, errors.New("an ar member's size is not a number")
	}
	return name, size, nil
}

// arPad skips the padding byte after an odd-sized member.
func arPad(r *bufio.Reader, size int64) error {
	if size%2 == 1 {
		if _, err := r.ReadByte(); err != nil {
			return errors.New("the ar archive is cut short")
		}
	}
	return nil
}

// controlFile finds ./control in the control archive.
func controlFile(r io.Reader) ([]byte, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the control archive has no control file")
		}
		if err != nil {
			return nil, fmt.Errorf("the control archive is not a readable tar archive: %w", err)
		}
		if strings.TrimPrefix(h.Name, "./") != "control" || h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > maxControlFile {
			return nil, errors.New("the control file is too large")
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxControlFile+1))
		if err != nil {
			return nil, fmt.Errorf("the control file is not readable: %w", err)
		}
		return b, nil
	}
}

// parseControl reads the control paragraph's fields and checks the three
// a repository needs.
func parseControl(b []byte) (Package, error) {
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	fields := map[string]string{}
	last := ""
	for line := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		if line == "" {
			return Package{}, errors.New("the control file holds more than one paragraph")
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "" {
				return Package{}, errors.New("the control file starts with a continuation line")
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return Package{}, fmt.Errorf("the control file has a line that is not a field: %.40q", line)
		}
		last = strings.ToLower(k)
		if _, dup := fields[last]; dup {
			return Package{}, fmt.Errorf("the control file has the field %s twice", k)
		}
		fields[last] = strings.TrimSpace(v)
	}
	p := Package{Name: fields["package"], Version: fields["version"], Arch: fields["architecture"], Control: strings.TrimRight(text, "\n") + "\n"}
	switch {
	case p.Name == "" || p.Version == "" || p.Arch == "":
		return Package{}, errors.New("the control file lacks Package, Version or Architecture")
	case len(p.Name) > 128 || !debPackageRE.MatchString(p.Name):
		return Package{}, fmt.Errorf("the control file's Package %.40q is not a Debian package name", p.Name)
	case len(p.Version) > 128 || !debVersionRE.MatchString(p.Version) || p.Version[0] < '0' || p.Version[0] > '9':
		return Package{}, fmt.Errorf("the control file's Version %.40q is not a Debian version", p.Version)
	case len(p.Arch) > 32 || !debArchRE.MatchString(p.Arch):
		return Package{}, fmt.Errorf("the control file's Architecture %.40q is not an architecture", p.Arch)
	}
	if !inputReadable(p.Control) {
		return Package{}, errors.New("the control file holds control characters or is not UTF-8")
	}
	return p, nil
}

// inputReadable reports whether package metadata is UTF-8 text without
// control characters (tabs and line breaks aside), so it can be shown and
// indexed as it is.
func inputReadable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && !input.Allowed(r) {
			return false
		}
	}
	return true
}
