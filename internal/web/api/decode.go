package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 16 << 10

// Nonce lengths (docs/license-format.md): 16 to 128 characters, from the
// visible ASCII characters (0x21 to 0x7E), so that the nonce travels in a
// header unchanged.
const (
	minNonce = 16
	maxNonce = 128
)

// badRequest is a request that cannot be answered: 400 BAD_REQUEST with
// what to change. nonce is the request's when it was readable.
type badRequest struct {
	msg   string
	nonce string
}

func (e *badRequest) Error() string { return e.msg }

func bad(format string, a ...any) *badRequest { return &badRequest{msg: fmt.Sprintf(format, a...)} }

func withNonce(b *badRequest, nonce string) *badRequest {
	b.nonce = nonce
	return b
}

// decode reads r's body into dst, a pointer to a struct whose members
// have json tags, strictly: Content-Type application/json, at most
// MaxBody bytes, one JSON object and nothing after it, only the members
// dst declares, each once, spelt exactly, of its type. A refusal is a
// *badRequest carrying the request's nonce when one of the right shape
// could be read, so that the answer echoes it.
func decode(r *http.Request, dst any) error {
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		return bad("Send the request body as JSON with the header Content-Type: application/json.")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return bad("The request body could not be read.")
	}
	if len(raw) > MaxBody {
		return bad("The request body is larger than %d bytes.", MaxBody)
	}
	known := members(dst)
	// First the shape: one object, with known members, each once.
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return bad("The request body is not JSON: %s.", jsonProblem(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return bad("The request body must be a JSON object.")
	}
	seen := map[string]bool{}
	var problem *badRequest // the first, reported once the nonce is known
	nonce := ""
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return withNonce(bad("The request body is not JSON: %s.", jsonProblem(err)), nonce)
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return withNonce(bad("The request body is not JSON: %s.", jsonProblem(err)), nonce)
		}
		switch {
		case problem != nil:
		case !known[name]:
			problem = bad("The member %q is not one this endpoint takes (it takes %s).", clip(name), list(known))
		case seen[name]:
			problem = bad("The member %q is given twice.", name)
		}
		if name == "nonce" && !seen[name] {
			var n string
			if json.Unmarshal(v, &n) == nil && checkNonce(n) == nil {
				nonce = n
			}
		}
		seen[name] = true
	}
	if _, err := dec.Token(); err != nil {
		return withNonce(bad("The request body is not JSON: %s.", jsonProblem(err)), nonce)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("The request body must hold one JSON object and nothing after it.")
	}
	if problem != nil {
		return withNonce(problem, nonce)
	}
	// Then the values, each of its type.
	dec = json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return withNonce(bad("The member %q must be %s.", te.Field, typeName(te.Type)), nonce)
		}
		return withNonce(bad("The request body is not JSON: %s.", jsonProblem(err)), nonce)
	}
	return nil
}

func jsonProblem(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return "it cannot be read"
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array of strings"
	}
	return "of another type"
}

// members lists the json names of dst's fields.
func members(dst any) map[string]bool {
	t := reflect.TypeOf(dst).Elem()
	out := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}

func list(known map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(known)), ", ")
}

// clip shortens a member name to quote it in a message; one that is not
// readable text is not repeated.
func clip(s string) string {
	if input.Readable("member", s) != nil {
		return "?"
	}
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// checkNonce checks the nonce's length and characters.
func checkNonce(n string) error {
	if n == "" {
		return bad("The member \"nonce\" is missing: send %d to %d characters, new for each request.", minNonce, maxNonce)
	}
	if len(n) < minNonce || len(n) > maxNonce {
		return bad("The nonce must have %d to %d characters; it has %d.", minNonce, maxNonce, len(n))
	}
	for i := 0; i < len(n); i++ {
		if n[i] < 0x21 || n[i] > 0x7e {
			return bad("The nonce may hold visible ASCII characters only (no spaces).")
		}
	}
	return nil
}

// text checks a typed text member with input's rules (one line, at most
// max characters); a refusal is a bad request naming the member.
func text(p *[]error, member, label string, max int, v *string) {
	out, err := input.Line(member, label, max, *v)
	if err != nil {
		msg := err.Error()
		if rf, ok := refuse.As(err); ok {
			msg = rf.Msg
		}
		*p = append(*p, bad("%s", msg))
		return
	}
	*v = out
}
