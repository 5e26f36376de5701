package releases

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/storekeep/storekeep/internal/refuse"
)

// Kind is what an artifact is, as its content shows.
type Kind string

// The kinds.
const (
	Tarball Kind = "tarball" // a tar archive, plain or gzip, xz, zstd or bzip2 compressed
	Deb     Kind = "deb"     // a Debian binary package with readable control data
	RPM     Kind = "rpm"     // an RPM package with a readable header
	Other   Kind = "other"   // anything else (a zip, an installer, a checksum list)
)

// ErrContent refuses a file that is not what it claims to be: named .deb
// and no Debian package, a damaged package, a .tar.gz that is no tar.
var ErrContent = refuse.New(refuse.Invalid, "release_content", "The file is not what its name says it is.")

// claims is what a file name says the content is, "" for no claim.
func claims(name string) Kind {
	n := strings.ToLower(name)
	switch {
	case strings.HasSuffix(n, ".deb"), strings.HasSuffix(n, ".ddeb"):
		return Deb
	case strings.HasSuffix(n, ".rpm"):
		return RPM
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.bz2", ".tbz2", ".tbz"} {
		if strings.HasSuffix(n, ext) {
			return Tarball
		}
	}
	return ""
}

// Inspect reads r, the stored content of the file named name, and says
// what it is. The kind comes from the content, never from the name; the
// name only makes a claim the content must keep: a file named .deb must be
// a readable Debian package, one named .rpm an RPM, a .tar.gz a tar
// archive. Content that starts like a package must be a readable one,
// whatever its name. For packages it returns what their metadata says.
func Inspect(r io.ReadSeeker, name string) (Kind, Package, error) {
	head := make([]byte, 4096)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", Package{}, fmt.Errorf("inspect %s: %w", name, err)
	}
	head = head[:n]
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return "", Package{}, fmt.Errorf("inspect %s: %w", name, err)
	}
	claim := claims(name)
	kind, pkg, err := inspect(r, head, name, claim)
	if err == nil && claim != "" && kind != claim {
		return "", Package{}, ErrContent.Withf("%s is named like a %s but is a %s: rename the file, or upload the right one.", name, kindNames[claim], kindNames[kind])
	}
	return kind, pkg, err
}

var kindNames = map[Kind]string{Deb: "Debian package", RPM: "RPM package", Tarball: "tar archive", Other: "file of another kind"}

func inspect(r io.ReadSeeker, head []byte, name string, claim Kind) (Kind, Package, error) {
	switch {
	case bytes.HasPrefix(head, debMagic) && (claim == Deb || bytes.HasPrefix(head[len(debMagic):], []byte("debian-binary"))):
		p, err := ReadDeb(r)
		if errors.Is(err, errNotDeb) {
			break
		}
		if err != nil {
			return "", Package{}, ErrContent.Withf("%s is not a readable Debian package: %v. Upload the .deb as dpkg-deb or nfpm built it.", name, err)
		}
		return Deb, p, nil
	case bytes.HasPrefix(head, rpmLeadMagic):
		p, err := ReadRPM(r)
		if err != nil {
			return "", Package{}, ErrContent.Withf("%s is not a readable RPM package: %v. Upload the .rpm as rpmbuild or nfpm built it.", name, err)
		}
		return RPM, p, nil
	case isTar(head):
		return Tarball, Package{}, nil
	}
	switch claim {
	case Deb:
		return "", Package{}, ErrContent.Withf("%s is named like a Debian package but has no Debian package's control data: upload the real .deb, or rename the file.", name)
	case RPM:
		return "", Package{}, ErrContent.Withf("%s is named like an RPM package but has no RPM header: upload the real .rpm, or rename the file.", name)
	case Tarball:
		return "", Package{}, ErrContent.Withf("%s is named like a tar archive but is none: upload the real archive, or rename the file.", name)
	}
	return Other, Package{}, nil
}

// isTar reports whether head, the start of a file, is a tar archive's
// first header, plain or behind one of the usual compressions.
func isTar(head []byte) bool {
	ustar := func(b []byte) bool { return len(b) >= 262 && bytes.HasPrefix(b[257:], []byte("ustar")) }
	if ustar(head) {
		return true
	}
	var zr io.Reader
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		g, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return false
		}
		zr = g
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		x, err := xz.NewReader(bytes.NewReader(head))
		if err != nil {
			return false
		}
		zr = x
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(bytes.NewReader(head), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<20))
		if err != nil {
			return false
		}
		defer z.Close()
		zr = z
	case bytes.HasPrefix(head, []byte("BZh")):
		zr = bzip2.NewReader(bytes.NewReader(head))
	default:
		return false
	}
	b := make([]byte, 262)
	n, _ := io.ReadFull(zr, b)
	return ustar(b[:n])
}
