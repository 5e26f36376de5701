package licensing

import (
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
)

// MaxVersion is the longest installed version a product may report.
const MaxVersion = 64

// ErrVersion refuses an installed version that is not a version string.
var ErrVersion = refuse.Field("version", "The version is at most 64 letters, digits and . + - ~ _, starting with a letter or digit, such as 2.4.1 or 2.5.0-beta.1.")

// CheckVersion reads the installed version a product reports at
// check-in or validation: "" (not reported), or a version string of at
// most MaxVersion characters from the letters, digits and . + - ~ _
// (semantic, Debian and RPM versions), beginning with a letter or digit.
// The notices' audiences compare it as a semantic version; anything
// else is kept but matches no version filter.
func CheckVersion(v string) (string, error) {
	v = strings.Trim(v, " ")
	if v == "" {
		return "", nil
	}
	if len(v) > MaxVersion {
		return "", ErrVersion
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		alnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alnum && (i == 0 || !strings.ContainsRune(".+-~_", rune(c))) {
			return "", ErrVersion
		}
	}
	return v, nil
}
