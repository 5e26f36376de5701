package releases

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
)

// ErrFileName refuses an artifact name that could be read as a path or
// an option, or that holds characters a download name should not.
var ErrFileName = refuse.New(refuse.Invalid, "release_file_name",
	"The file name may hold letters, digits and . _ - + ~ only, may not start with a dot or a dash, and may not contain \"..\".")

// MaxFileName is the longest artifact file name.
const MaxFileName = 200

// CleanFileName normalises an artifact's file name (surrounding spaces
// dropped) and refuses what could be a path trick: separators, "..",
// control characters, a leading dot (a hidden file, "." and ".."), a
// leading dash (an option to the customer's tools) and anything beyond a
// small ASCII set, which keeps names safe in URLs, in checksums files and
// in package repository indexes. Names ending in .minisig, and the
// checksums file's, are ours.
//
// The name is only ever shown and offered as a download name: stored
// files are named after their content's SHA-256 (see Store).
func CleanFileName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", ErrFileName.With("Name the file.")
	}
	if len(name) > MaxFileName {
		return "", ErrFileName.Withf("The file name is longer than %d characters.", MaxFileName)
	}
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == '-', c == '+', c == '~':
		case c == '/' || c == '\\':
			return "", ErrFileName.With("The file name may not contain / or \\: give the file's name, not a path.")
		case c < 0x20 || c == 0x7f:
			return "", ErrFileName.With("The file name contains a control character.")
		default:
			return "", ErrFileName
		}
	}
	switch {
	case name[0] == '.':
		return "", ErrFileName.With("The file name may not start with a dot.")
	case name[0] == '-':
		return "", ErrFileName.With("The file name may not start with a dash.")
	case strings.Contains(name, ".."):
		return "", ErrFileName.With("The file name may not contain \"..\".")
	case name == ChecksumsName || strings.HasSuffix(name, SignatureSuffix):
		return "", ErrFileName.Withf("The names %s and *%s are the release's own: rename the file.", ChecksumsName, SignatureSuffix)
	}
	return name, nil
}

// ChecksumsName is the name of a release's checksums file, and
// SignatureSuffix what a minisign signature file's name ends in.
const (
	ChecksumsName   = "SHA256SUMS"
	SignatureSuffix = ".minisig"
)

// entitlementName is a feature name as license policies write them.
var entitlementName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// CleanEntitlements sorts, deduplicates and checks the entitlements a
// release requires: feature names as license policies have them (at most
// 16).
func CleanEntitlements(ent []string) ([]string, error) {
	out := make([]string, 0, len(ent))
	for _, e := range ent {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if !entitlementName.MatchString(e) {
			return nil, refuse.Field("requires", fmt.Sprintf("The entitlement %.70q is not a feature name: use lower-case letters, digits, dots, dashes and underscores (for example malware-scan), as the license policies do.", e))
		}
		out = append(out, e)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 16 {
		return nil, refuse.Field("requires", "A release can require at most 16 entitlements.")
	}
	return out, nil
}
