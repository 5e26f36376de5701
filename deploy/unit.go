package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// UnitFile is a systemd unit file read into its sections: section name,
// then each key's values in the order given (a key such as
// SystemCallFilter= may appear more than once).
type UnitFile map[string]map[string][]string

// ParseUnit reads a unit file: [Section] headers, Key=Value lines,
// comments (# and ;) and blank lines. Line continuations are not used by
// our unit and are refused rather than misread.
func ParseUnit(b []byte) (UnitFile, error) {
	u := UnitFile{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case strings.HasSuffix(line, `\`):
			return nil, fmt.Errorf("unit line %d: continuation lines are not supported", n)
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
			continue
		}
		key, v, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			return nil, fmt.Errorf("unit line %d: %q is not Key=Value in a section", n, line)
		}
		key = strings.TrimSpace(key)
		u[section][key] = append(u[section][key], strings.TrimSpace(v))
	}
	return u, sc.Err()
}

// Get is the last value of key in section ("" when it is not set), as
// systemd takes the last assignment of a single-valued key.
func (u UnitFile) Get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}
