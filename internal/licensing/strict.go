package licensing

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"unicode/utf8"
)

// The members of each payload (docs/license-format.md, "Precisely"): all
// are required, a known member may appear once, numbers are non-negative
// integers without fraction or exponent. Unknown members are ignored.
var (
	keyMembers    = []string{"v", "kid", "lic", "prd", "ed", "ent", "iat", "exp", "upd", "max"}
	fileMembers   = append(slices.Clone(keyMembers), "typ", "key", "st", "grace", "fiat", "fexp", "fp")
	numberMembers = []string{"v", "iat", "exp", "upd", "max", "grace", "fiat", "fexp"}
)

// checkMembers enforces those rules on a payload before it is parsed.
func checkMembers(payload []byte, members []string) error {
	if !utf8.Valid(payload) {
		return invalid("payload is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return invalid("payload is not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return invalid("payload: %v", err)
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return invalid("payload: %v", err)
		}
		if !slices.Contains(members, name) {
			continue // unknown members are ignored
		}
		if seen[name] {
			return invalid("member %q appears twice", name)
		}
		seen[name] = true
		if slices.Contains(numberMembers, name) && !digits(raw) {
			return invalid("member %q is not a non-negative integer", name)
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return invalid("payload is not one JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("data after the payload's JSON object")
	}
	for _, m := range members {
		if !seen[m] {
			return invalid("member %q is missing", m)
		}
	}
	return nil
}

func digits(raw []byte) bool {
	if len(raw) == 0 || len(raw) > 19 {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isB64URL reports whether s holds only the base64url alphabet (no
// padding, no line breaks, which the decoder would skip).
func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
