package releases

import (
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
)

// Version is a semantic version (https://semver.org, 2.0.0), parsed
// strictly: MAJOR.MINOR.PATCH, an optional pre-release after "-" and
// optional build metadata after "+". A leading "v" is accepted on input
// (v1.2.3 is how tags are often written) and dropped.
type Version struct {
	Major, Minor, Patch uint64
	// Pre is the pre-release's dot-separated identifiers, nil for a
	// release.
	Pre []string
	// Build is the build metadata, "" when none. It does not take part
	// in precedence.
	Build string
}

// ErrVersion refuses a version that is not a semantic version.
var ErrVersion = refuse.New(refuse.Invalid, "release_version",
	"The version is not a semantic version: write MAJOR.MINOR.PATCH, such as 1.4.0 or 2.0.0-beta.1.")

// ParseVersion parses s as a semantic version.
func ParseVersion(s string) (Version, error) {
	bad := ErrVersion
	if s == "" || len(s) > 128 {
		return Version{}, bad
	}
	s = strings.TrimPrefix(s, "v")
	var v Version
	if i := strings.IndexByte(s, '+'); i >= 0 {
		v.Build = s[i+1:]
		s = s[:i]
		if !identifiers(v.Build, false) {
			return Version{}, bad
		}
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		pre := s[i+1:]
		s = s[:i]
		if !identifiers(pre, true) {
			return Version{}, bad
		}
		v.Pre = strings.Split(pre, ".")
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, bad
	}
	var ok [3]bool
	v.Major, ok[0] = numeric(parts[0])
	v.Minor, ok[1] = numeric(parts[1])
	v.Patch, ok[2] = numeric(parts[2])
	if ok != [3]bool{true, true, true} {
		return Version{}, bad
	}
	return v, nil
}

// numeric reads a numeric identifier: digits, no leading zero.
func numeric(p string) (uint64, bool) {
	if p == "" || (len(p) > 1 && p[0] == '0') {
		return 0, false
	}
	for _, c := range []byte(p) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(p, 10, 64)
	return n, err == nil
}

// identifiers checks dot-separated identifiers of [0-9A-Za-z-]; in a
// pre-release a numeric identifier has no leading zero.
func identifiers(s string, pre bool) bool {
	for id := range strings.SplitSeq(s, ".") {
		if id == "" {
			return false
		}
		digits := true
		for _, c := range []byte(id) {
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				digits = false
			default:
				return false
			}
		}
		if pre && digits && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// String is the canonical text, without a "v".
func (v Version) String() string {
	s := v.Core()
	if v.Build != "" {
		s += "+" + v.Build
	}
	return s
}

// Core is the version without build metadata: what precedence compares,
// and what must be unique among a product's releases (1.0.0+a and
// 1.0.0+b are the same version to semver).
func (v Version) Core() string {
	s := strconv.FormatUint(v.Major, 10) + "." + strconv.FormatUint(v.Minor, 10) + "." + strconv.FormatUint(v.Patch, 10)
	if v.Pre != nil {
		s += "-" + strings.Join(v.Pre, ".")
	}
	return s
}

// Prerelease reports whether v is a pre-release (1.0.0-rc.1).
func (v Version) Prerelease() bool { return v.Pre != nil }

// Compare orders versions by semver precedence: -1 if v < w, 0 if equal
// (build metadata ignored), +1 if v > w.
func (v Version) Compare(w Version) int {
	for _, d := range [][2]uint64{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case v.Pre == nil && w.Pre == nil:
		return 0
	case v.Pre == nil:
		return 1 // a release ranks above its pre-releases
	case w.Pre == nil:
		return -1
	}
	for i := 0; i < len(v.Pre) && i < len(w.Pre); i++ {
		if c := compareIdent(v.Pre[i], w.Pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(v.Pre) < len(w.Pre):
		return -1
	case len(v.Pre) > len(w.Pre):
		return 1
	}
	return 0
}

// compareIdent compares pre-release identifiers: numeric ones
// numerically and below alphanumeric ones, which compare in ASCII order.
func compareIdent(a, b string) int {
	na, aNum := numeric(a)
	nb, bNum := numeric(b)
	switch {
	case aNum && bNum:
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	case aNum:
		return -1
	case bNum:
		return 1
	}
	return strings.Compare(a, b)
}
