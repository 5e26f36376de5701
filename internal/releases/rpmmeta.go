package releases

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// RPMMeta is what an RPM's header says beyond its name, version and
// architecture: the fields of a YUM repository's primary.xml and
// filelists.xml, kept as JSON in Package.Meta (the pkg_meta column)
// when the package is uploaded, so the repository never reopens the file.
type RPMMeta struct {
	// Epoch is "" when the header has none; Version and Release are the
	// header's, unsplit.
	Epoch   string `json:"epoch,omitempty"`
	Version string `json:"version"`
	Release string `json:"release"`

	Summary     string `json:"summary,omitempty"`
	Description string `json:"description,omitempty"`
	Packager    string `json:"packager,omitempty"`
	URL         string `json:"url,omitempty"`
	License     string `json:"license,omitempty"`
	Vendor      string `json:"vendor,omitempty"`
	Group       string `json:"group,omitempty"`
	BuildHost   string `json:"buildhost,omitempty"`
	SourceRPM   string `json:"sourcerpm,omitempty"`

	BuildTime     int64 `json:"buildtime,omitempty"`     // Unix seconds
	InstalledSize int64 `json:"installedsize,omitempty"` // bytes, the files installed
	ArchiveSize   int64 `json:"archivesize,omitempty"`   // bytes, the uncompressed payload
	// HeaderStart and HeaderEnd are the main header's byte range in the
	// file (primary.xml's rpm:header-range): dnf reads just that much to
	// check a package.
	HeaderStart int64 `json:"headerstart"`
	HeaderEnd   int64 `json:"headerend"`

	Provides    []RPMDep `json:"provides,omitempty"`
	Requires    []RPMDep `json:"requires,omitempty"`
	Conflicts   []RPMDep `json:"conflicts,omitempty"`
	Obsoletes   []RPMDep `json:"obsoletes,omitempty"`
	Recommends  []RPMDep `json:"recommends,omitempty"`
	Suggests    []RPMDep `json:"suggests,omitempty"`
	Supplements []RPMDep `json:"supplements,omitempty"`
	Enhances    []RPMDep `json:"enhances,omitempty"`

	// Files is every file the package installs, in the header's order.
	Files []RPMFile `json:"files,omitempty"`
}

// RPMDep is one dependency entry: a name, the comparison (rpm's sense
// flags) and the version compared with, if any.
type RPMDep struct {
	Name    string `json:"n"`
	Flags   uint32 `json:"f,omitempty"`
	Epoch   string `json:"e,omitempty"`
	Version string `json:"v,omitempty"`
	Release string `json:"r,omitempty"`
}

// rpm's sense flags (lib/rpmds.h) that primary.xml shows.
const (
	rpmSenseLess    = 1 << 1
	rpmSenseGreater = 1 << 2
	rpmSenseEqual   = 1 << 3
	rpmSensePrereq  = 1 << 6
	rpmSensePre     = 1 << 9  // %pre
	rpmSensePost    = 1 << 10 // %post
	rpmSensePreun   = 1 << 11
	rpmSensePostun  = 1 << 12
	rpmSenseRPMLib  = 1 << 24 // rpmlib(...) features, not packages
)

// Comparison is the entry's relation as primary.xml writes it: EQ, LT,
// GT, LE, GE, or "" for none.
func (d RPMDep) Comparison() string {
	switch d.Flags & (rpmSenseLess | rpmSenseGreater | rpmSenseEqual) {
	case rpmSenseEqual:
		return "EQ"
	case rpmSenseLess:
		return "LT"
	case rpmSenseGreater:
		return "GT"
	case rpmSenseLess | rpmSenseEqual:
		return "LE"
	case rpmSenseGreater | rpmSenseEqual:
		return "GE"
	}
	return ""
}

// Pre reports whether the requirement must be met before the package's
// install scripts run (primary.xml's pre="1"), as createrepo_c decides.
func (d RPMDep) Pre() bool {
	return d.Flags&(rpmSensePrereq|rpmSensePre|rpmSensePost|rpmSensePreun|rpmSensePostun) != 0
}

// RPMLib reports whether the entry names a feature of rpm itself
// (rpmlib(PayloadIsZstd)), which repositories leave out.
func (d RPMDep) RPMLib() bool {
	return d.Flags&rpmSenseRPMLib != 0 || strings.HasPrefix(d.Name, "rpmlib(")
}

// RPMFile is one file of the package: its path and "dir" or "ghost" (a
// file the package owns but does not carry), "" for a plain file.
type RPMFile struct {
	Path string `json:"p"`
	Type string `json:"t,omitempty"`
}

// Primary reports whether primary.xml lists the file, by createrepo's
// rule: files under /etc, in any bin/ directory, and /usr/lib/sendmail
// (what dependencies commonly name); filelists.xml lists them all.
func (f RPMFile) Primary() bool {
	return strings.HasPrefix(f.Path, "/etc/") || f.Path == "/usr/lib/sendmail" || strings.Contains(f.Path, "bin/")
}

// Marshal is m as JSON, as Package.Meta keeps it.
func (m RPMMeta) Marshal() (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("rpm metadata: %w", err)
	}
	return string(b), nil
}

// ErrNoRPMMeta: an artifact recorded before the reader kept what the YUM
// repository needs; it must be uploaded again.
var ErrNoRPMMeta = errors.New("the package was uploaded before Storekeep kept its repository metadata: upload it again")

// ParseRPMMeta reads Package.Meta of an RPM artifact: ErrNoRPMMeta when
// it is empty.
func ParseRPMMeta(s string) (RPMMeta, error) {
	if s == "" {
		return RPMMeta{}, ErrNoRPMMeta
	}
	var m RPMMeta
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return RPMMeta{}, fmt.Errorf("rpm metadata: %w", err)
	}
	return m, nil
}
