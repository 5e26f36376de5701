// Package httpsig signs HTTP responses as RFC 9421 (HTTP Message
// Signatures) says, with the body's RFC 9530 Content-Digest, and verifies
// them. It implements the one profile of docs/license-format.md and the
// general rules that profile rests on, no more:
//
//   - the covered components "@status", "content-digest", "date" and
//     "storekeep-nonce", in that order;
//   - the parameters created, keyid and alg="ed25519";
//   - the label "sk" in Signature-Input and Signature;
//   - Content-Digest with sha-256 only.
//
// The signature base is built as RFC 9421 §2.5 says: one line per covered
// component, `"name": value`, then `"@signature-params": ` and the
// serialized inner list of the components with its parameters, lines
// separated by LF and no LF after the last. Header values are the field's
// values, each trimmed of leading and trailing spaces and tabs, joined with
// ", " (§2.1). The dictionaries are RFC 8941 structured fields (sf.go).
//
// Why our own code and not a library: the profile is fixed (one
// algorithm, four components, responses only), the SDK must verify it
// with the standard library alone so its rules have to stay this small,
// and the library the design named is not served by the module proxy this
// project uses. SignatureBase is tested against RFC 9421's own Ed25519
// example (Appendix B.2.6), and the response profile against a base
// written out by hand.
package httpsig

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Label is the signature's label in Signature-Input and Signature.
const Label = "sk"

// Alg is the RFC 9421 algorithm name of Ed25519 (§3.3.6).
const Alg = "ed25519"

// NonceHeader carries the request's nonce in the response.
const NonceHeader = "Storekeep-Nonce"

// Components are the covered components of a Storekeep response, in order.
var Components = []string{"@status", "content-digest", "date", "storekeep-nonce"}

// Key is a signing key and its key id.
type Key struct {
	ID      string
	Private ed25519.PrivateKey
}

// ContentDigest is the RFC 9530 Content-Digest value of body with sha-256:
// sha-256=:<base64 of SHA-256(body)>:.
func ContentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=" + serializeByteSequence(sum[:])
}

// Params are a signature's covered components and its parameters, in the
// order they are serialized.
type Params struct {
	Components []string
	Params     []Param
}

// Serialize returns the inner list of Signature-Input, which is also the
// value of "@signature-params" in the signature base (RFC 9421 §2.3).
func (p Params) Serialize() (string, error) {
	var b strings.Builder
	b.WriteByte('(')
	for i, c := range p.Components {
		if i > 0 {
			b.WriteByte(' ')
		}
		s, err := serializeString(c)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	b.WriteByte(')')
	for _, pr := range p.Params {
		b.WriteByte(';')
		b.WriteString(pr.Name)
		switch v := pr.Value.(type) {
		case int64:
			b.WriteByte('=')
			b.WriteString(strconv.FormatInt(v, 10))
		case string:
			s, err := serializeString(v)
			if err != nil {
				return "", err
			}
			b.WriteByte('=')
			b.WriteString(s)
		case token:
			b.WriteByte('=')
			b.WriteString(string(v))
		case bool:
			if !v {
				b.WriteString("=?0")
			}
		default:
			return "", fmt.Errorf("httpsig: parameter %s has a value of type %T", pr.Name, pr.Value)
		}
	}
	return b.String(), nil
}

// param returns the value of the parameter named name.
func (p Params) param(name string) (any, bool) {
	for _, pr := range p.Params {
		if pr.Name == name {
			return pr.Value, true
		}
	}
	return nil, false
}

// SignatureBase builds the signature base of RFC 9421 §2.5 for p, asking
// value for each covered component's value (an error when the message
// lacks it). A component may appear once only.
func SignatureBase(p Params, value func(component string) (string, error)) (string, error) {
	var b strings.Builder
	for i, c := range p.Components {
		if slices.Contains(p.Components[:i], c) {
			return "", fmt.Errorf("httpsig: component %q is covered twice", c)
		}
		v, err := value(c)
		if err != nil {
			return "", err
		}
		if strings.ContainsAny(v, "\r\n") {
			return "", fmt.Errorf("httpsig: component %q holds a line break", c)
		}
		name, err := serializeString(c)
		if err != nil {
			return "", err
		}
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	sp, err := p.Serialize()
	if err != nil {
		return "", err
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(sp)
	return b.String(), nil
}

// responseValue returns the component values of a response (RFC 9421
// §2.1, §2.2.9): "@status" and header fields.
func responseValue(status int, h http.Header) func(string) (string, error) {
	return func(c string) (string, error) {
		if c == "@status" {
			if status < 100 || status > 999 {
				return "", fmt.Errorf("httpsig: status %d is not three digits", status)
			}
			return strconv.Itoa(status), nil
		}
		if strings.HasPrefix(c, "@") {
			return "", fmt.Errorf("httpsig: component %q is not one of a response", c)
		}
		if c != strings.ToLower(c) {
			return "", fmt.Errorf("httpsig: component %q is not lower case", c)
		}
		vs, ok := h[http.CanonicalHeaderKey(c)]
		if !ok {
			return "", fmt.Errorf("httpsig: the response has no %s header", c)
		}
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = strings.Trim(v, " \t")
		}
		return strings.Join(out, ", "), nil
	}
}

// Sign sets on h the headers of a signed response: Storekeep-Nonce (nonce,
// possibly empty), Content-Digest of body, Date (now), and Signature-Input
// and Signature by k over the components of Components with the
// parameters created (now), keyid and alg. Call it after every other
// header is set and before the status is written.
func Sign(h http.Header, status int, body []byte, nonce string, now time.Time, k Key) error {
	if len(k.Private) != ed25519.PrivateKeySize {
		return errors.New("httpsig: no signing key")
	}
	if strings.ContainsAny(nonce, "\r\n") {
		return errors.New("httpsig: the nonce holds a line break")
	}
	h.Set(NonceHeader, nonce)
	h.Set("Content-Digest", ContentDigest(body))
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	p := Params{Components: Components, Params: []Param{
		{"created", now.Unix()}, {"keyid", k.ID}, {"alg", Alg},
	}}
	base, err := SignatureBase(p, responseValue(status, h))
	if err != nil {
		return err
	}
	input, err := p.Serialize()
	if err != nil {
		return err
	}
	sig := ed25519.Sign(k.Private, []byte(base))
	h.Set("Signature-Input", Label+"="+input)
	h.Set("Signature", Label+"="+serializeByteSequence(sig))
	return nil
}

// Verified is what a verified response's signature says.
type Verified struct {
	KeyID   string
	Created time.Time
	// Nonce is the response's Storekeep-Nonce: compare it with the nonce
	// sent.
	Nonce string
}

// ErrInvalid is wrapped by every refusal of Verify.
var ErrInvalid = errors.New("httpsig: response not verified")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Verify checks a response signed as Sign signs: Content-Digest's sha-256
// against body, and the signature labelled sk, which must cover every one
// of Components with alg "ed25519", a created time and a keyid that key
// knows. It does not judge the time or the nonce: the caller compares
// Verified.Created with its clock and Verified.Nonce with what it sent.
func Verify(status int, h http.Header, body []byte, key func(kid string) (ed25519.PublicKey, bool)) (Verified, error) {
	var out Verified
	// RFC 9530: the digest of the body as received.
	_, digests, err := parseDictionary(strings.Join(h.Values("Content-Digest"), ", "))
	if err != nil {
		return out, invalid("Content-Digest: %v", err)
	}
	d, ok := digests["sha-256"].item.([]byte)
	sum := sha256.Sum256(body)
	if !ok {
		return out, invalid("no sha-256 Content-Digest")
	}
	if subtle.ConstantTimeCompare(d, sum[:]) != 1 {
		return out, invalid("the body does not match its Content-Digest")
	}

	_, inputs, err := parseDictionary(strings.Join(h.Values("Signature-Input"), ", "))
	if err != nil {
		return out, invalid("Signature-Input: %v", err)
	}
	in, ok := inputs[Label]
	if !ok || !in.isList {
		return out, invalid("no signature labelled %s", Label)
	}
	p := Params{Params: in.params}
	for _, it := range in.inner {
		c, ok := it.value.(string)
		if !ok || len(it.params) > 0 {
			return out, invalid("covered component %v is not a plain string", it.value)
		}
		p.Components = append(p.Components, c)
	}
	for _, c := range Components {
		if !slices.Contains(p.Components, c) {
			return out, invalid("the signature does not cover %s", c)
		}
	}
	if alg, _ := p.param("alg"); alg != Alg {
		return out, invalid("alg is %v, want %s", alg, Alg)
	}
	created, ok := p.param("created")
	if c, isInt := created.(int64); !ok || !isInt {
		return out, invalid("no created time")
	} else {
		out.Created = time.Unix(c, 0).UTC()
	}
	kid, _ := p.param("keyid")
	out.KeyID, _ = kid.(string)
	pub, ok := key(out.KeyID)
	if out.KeyID == "" || !ok || len(pub) != ed25519.PublicKeySize {
		return out, invalid("unknown key id %q", out.KeyID)
	}

	_, sigs, err := parseDictionary(strings.Join(h.Values("Signature"), ", "))
	if err != nil {
		return out, invalid("Signature: %v", err)
	}
	sig, ok := sigs[Label].item.([]byte)
	if !ok {
		return out, invalid("no signature labelled %s", Label)
	}
	base, err := SignatureBase(p, responseValue(status, h))
	if err != nil {
		return out, invalid("%v", err)
	}
	if !ed25519.Verify(pub, []byte(base), sig) {
		return out, invalid("the signature does not match")
	}
	out.Nonce, _ = responseValue(status, h)("storekeep-nonce")
	return out, nil
}
