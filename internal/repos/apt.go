package repos

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/releases"
)

// The APT suites. A suite is a channel's view: stable lists stable
// releases only; beta lists beta and stable, so a beta tester gets the
// stable release once it is newer (as downloads.Newest decides).
const (
	SuiteStable = "stable"
	SuiteBeta   = "beta"
)

// Component is the one component of every suite.
const Component = "main"

// ArchAll is Debian's architecture-independent "architecture".
const ArchAll = "all"

// SuiteIncludes reports whether suite lists releases of channel; ok is
// false for a suite that does not exist.
func SuiteIncludes(suite string, channel releases.Channel) (includes, ok bool) {
	switch suite {
	case SuiteStable:
		return channel == releases.Stable, true
	case SuiteBeta:
		return channel == releases.Stable || channel == releases.Beta, true
	}
	return false, false
}

// APTSuite is what BuildAPT needs besides the releases.
type APTSuite struct {
	Suite  string    // SuiteStable or SuiteBeta
	Origin string    // the vendor
	Label  string    // the product's name
	Date   time.Time // when the metadata is made (the injected clock)
	Signer *Signer
}

// APT is one suite's metadata for one license: the Release file, signed
// clear (InRelease) and detached (Release.gpg), and the index files by
// their path under dists/SUITE/ ("main/binary-amd64/Packages", and the
// .gz beside it).
type APT struct {
	Release    []byte
	InRelease  []byte
	ReleaseGPG []byte
	Files      map[string][]byte
	// Skipped are the .deb files left out because their control data is
	// not fit to index (artifact id and why); the caller logs them.
	Skipped []SkippedDeb
}

// SkippedDeb is an artifact BuildAPT did not index.
type SkippedDeb struct {
	ArtifactID int64
	Reason     string
}

// Size is the bytes the metadata holds, for a cache's bound.
func (a *APT) Size() int {
	n := len(a.Release) + len(a.InRelease) + len(a.ReleaseGPG)
	for k, v := range a.Files {
		n += len(k) + len(v)
	}
	return n
}

// PoolPath is where a .deb is served, relative to the repository's root
// (the Filename field): its artifact id keeps two releases' files of the
// same name apart, and the name is the artifact's, which CleanFileName
// allowed (no separator, no dot segment).
func PoolPath(a releases.Artifact) string {
	return "pool/" + Component + "/" + strconv.FormatInt(a.ID, 10) + "/" + a.FileName
}

type debEntry struct {
	artifact releases.Artifact
	control  string
}

// BuildAPT makes a suite's metadata from the releases a license covers
// (downloads.Covered): every .deb of the releases the suite includes, in
// the Packages index of its architecture; an "all" package is listed in
// every architecture's index, and in binary-all, and the Release file says
// No-Support-for-Architecture-all: Packages (as Debian's archive does),
// so apt takes it from the index of its own architecture. The same
// releases, suite and date give the same bytes, signatures aside.
func BuildAPT(rels []releases.Release, o APTSuite) (*APT, error) {
	if o.Signer == nil {
		return nil, errors.New("apt metadata: no signer")
	}
	var debs []debEntry
	out := &APT{Files: map[string][]byte{}}
	for _, rel := range rels {
		if in, ok := SuiteIncludes(o.Suite, rel.Channel); !ok {
			return nil, fmt.Errorf("apt metadata: no suite %q", o.Suite)
		} else if !in {
			continue
		}
		for _, a := range rel.Artifacts {
			if a.Kind != releases.Deb {
				continue
			}
			c, err := CheckControl(a.Package)
			if err != nil {
				out.Skipped = append(out.Skipped, SkippedDeb{ArtifactID: a.ID, Reason: err.Error()})
				continue
			}
			debs = append(debs, debEntry{artifact: a, control: c})
		}
	}
	slices.SortFunc(debs, func(a, b debEntry) int {
		if c := strings.Compare(a.artifact.Package.Name, b.artifact.Package.Name); c != 0 {
			return c
		}
		if c := strings.Compare(a.artifact.Package.Arch, b.artifact.Package.Arch); c != 0 {
			return c
		}
		return int(a.artifact.ID - b.artifact.ID)
	})
	var arches []string
	hasAll := false
	for _, d := range debs {
		if d.artifact.Package.Arch == ArchAll {
			hasAll = true
		} else if !slices.Contains(arches, d.artifact.Package.Arch) {
			arches = append(arches, d.artifact.Package.Arch)
		}
	}
	slices.Sort(arches)
	listed := slices.Clone(arches)
	if hasAll || len(arches) == 0 {
		// binary-all always exists when nothing else does, so an empty
		// repository is still a valid one (apt updates it without error).
		listed = append(listed, ArchAll)
	}
	var names []string
	for _, arch := range listed {
		var idx bytes.Buffer
		for _, d := range debs {
			if a := d.artifact.Package.Arch; a != arch && a != ArchAll {
				continue
			}
			if idx.Len() > 0 {
				idx.WriteByte('\n')
			}
			idx.WriteString(d.control)
			fmt.Fprintf(&idx, "Filename: %s\nSize: %d\nSHA256: %s\n", PoolPath(d.artifact), d.artifact.Size, d.artifact.SHA256)
		}
		name := Component + "/binary-" + arch + "/Packages"
		gz, err := gzipped(idx.Bytes())
		if err != nil {
			return nil, err
		}
		out.Files[name] = idx.Bytes()
		out.Files[name+".gz"] = gz
		names = append(names, name, name+".gz")
	}
	var rel bytes.Buffer
	field := func(k, v string) { fmt.Fprintf(&rel, "%s: %s\n", k, oneLine(v)) }
	field("Origin", o.Origin)
	field("Label", o.Label)
	field("Suite", o.Suite)
	field("Codename", o.Suite)
	field("Date", o.Date.UTC().Format("Mon, 02 Jan 2006 15:04:05 UTC"))
	field("Architectures", strings.Join(listed, " "))
	field("Components", Component)
	field("Acquire-By-Hash", "no")
	if len(arches) > 0 {
		field("No-Support-for-Architecture-all", "Packages")
	}
	rel.WriteString("SHA256:\n")
	for _, n := range names {
		sum := sha256.Sum256(out.Files[n])
		fmt.Fprintf(&rel, " %s %8d %s\n", hex.EncodeToString(sum[:]), len(out.Files[n]), n)
	}
	out.Release = rel.Bytes()
	var err error
	if out.InRelease, err = o.Signer.ClearSign(out.Release); err != nil {
		return nil, err
	}
	if out.ReleaseGPG, err = o.Signer.DetachSign(out.Release); err != nil {
		return nil, err
	}
	return out, nil
}

// oneLine keeps a Release field's value on its line whatever the vendor
// named things.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}

// gzipped compresses b deterministically: no name, no time in the header.
func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Fields of a Packages entry that the repository writes itself: a control
// paragraph carrying one of them would point apt at another file or
// checksum than the one we serve.
var ownFields = []string{"filename", "size", "md5sum", "sha1", "sha256", "sha512", "msdos-filename"}

// fieldNameRE is deb822's field name: printable US-ASCII but the colon,
// not starting with '#' (a comment) or '-' (the signature armor).
var fieldNameRE = regexp.MustCompile(`^[!"$-,.-9;-~][!-9;-~]*$`)

// MaxControl is the longest control paragraph indexed.
const MaxControl = 64 << 10

// CheckControl checks again, before indexing, the control paragraph a
// .deb carried (releases.ReadDeb read it at upload; the index must not
// trust that reader's rules staying the same): one well-formed deb822
// paragraph (no empty or blank line, which would end it; no comment; every
// line a field or a continuation), each field once, none of the fields the
// index writes itself, Package, Version and Architecture as the artifact
// records them, and UTF-8 text without control characters. It returns
// the paragraph ending in one line break.
func CheckControl(p releases.Package) (string, error) {
	c := strings.TrimRight(p.Control, "\n")
	switch {
	case c == "":
		return "", errors.New("the package has no control paragraph")
	case len(c) > MaxControl:
		return "", errors.New("the control paragraph is too long")
	case !utf8.ValidString(c):
		return "", errors.New("the control paragraph is not UTF-8")
	}
	for _, r := range c {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
			return "", errors.New("the control paragraph holds a control character")
		}
	}
	seen := map[string]string{}
	for line := range strings.SplitSeq(c, "\n") {
		if strings.TrimLeft(line, " \t") == "" {
			return "", errors.New("the control data holds more than one paragraph (an empty line)")
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(seen) == 0 {
				return "", errors.New("the control paragraph starts with a continuation line")
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !fieldNameRE.MatchString(k) {
			return "", fmt.Errorf("the control paragraph has a line that is not a field: %.40q", line)
		}
		lk := strings.ToLower(k)
		if _, dup := seen[lk]; dup {
			return "", fmt.Errorf("the control paragraph has the field %s twice", k)
		}
		if slices.Contains(ownFields, lk) {
			return "", fmt.Errorf("the control paragraph has a %s field, which the repository writes itself", k)
		}
		seen[lk] = strings.Trim(v, " \t")
	}
	for _, f := range []struct{ name, want string }{{"package", p.Name}, {"version", p.Version}, {"architecture", p.Arch}} {
		if seen[f.name] == "" || seen[f.name] != f.want {
			return "", fmt.Errorf("the control paragraph's %s is %.40q, the package's is %.40q", f.name, seen[f.name], f.want)
		}
		if strings.ContainsAny(f.want, " \t") {
			return "", fmt.Errorf("the package's %s %.40q holds a space", f.name, f.want)
		}
	}
	return c + "\n", nil
}
