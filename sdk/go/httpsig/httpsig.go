// Package httpsig implements the part of RFC 9421 (HTTP Message Signatures) and RFC 9530
// (Digest Fields) that Storekeep's license API uses: Ed25519 signatures over a response's
// status, Content-Digest (sha-256), Date and Storekeep-Nonce.
//
// The same code signs (the fake server in licensetest, and the Storekeep server if it wants)
// and verifies (the SDK's client), so the tests also check it against the examples published
// in RFC 9421 Appendix B and RFC 9530 Appendix B.
package httpsig

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Label is the signature label Storekeep uses in Signature-Input and Signature.
const Label = "sk"

// Alg is the RFC 9421 algorithm name for Ed25519.
const Alg = "ed25519"

// NonceHeader carries the request's nonce back in every response.
const NonceHeader = "Storekeep-Nonce"

// ResponseComponents are the components every Storekeep response signature covers, in the
// order Storekeep writes them.
var ResponseComponents = []string{"@status", "content-digest", "date", "storekeep-nonce"}

// Param is one signature parameter (RFC 9421 §2.3). Value is an int64, a string or a bool.
type Param struct {
	Name  string
	Value any
}

// Params is a parsed or to-be-serialised signature: its covered components and parameters, in
// order.
type Params struct {
	Components []string
	Params     []Param
}

// Int returns an integer parameter.
func (p Params) Int(name string) (int64, bool) {
	for _, q := range p.Params {
		if q.Name == name {
			v, ok := q.Value.(int64)
			return v, ok
		}
	}
	return 0, false
}

// String returns a string parameter.
func (p Params) String(name string) (string, bool) {
	for _, q := range p.Params {
		if q.Name == name {
			v, ok := q.Value.(string)
			return v, ok
		}
	}
	return "", false
}

// Serialize returns the RFC 8941 serialisation of the inner list with its parameters, which is
// both the Signature-Input member value and the value of "@signature-params".
func (p Params) Serialize() (string, error) {
	var b strings.Builder
	b.WriteByte('(')
	for i, c := range p.Components {
		if i > 0 {
			b.WriteByte(' ')
		}
		if err := writeString(&b, c); err != nil {
			return "", err
		}
	}
	b.WriteByte(')')
	for _, q := range p.Params {
		if !isKey(q.Name) {
			return "", fmt.Errorf("httpsig: bad parameter name %q", q.Name)
		}
		b.WriteByte(';')
		b.WriteString(q.Name)
		switch v := q.Value.(type) {
		case int64:
			if v < -999999999999999 || v > 999999999999999 {
				return "", errors.New("httpsig: integer out of range")
			}
			b.WriteByte('=')
			b.WriteString(strconv.FormatInt(v, 10))
		case string:
			b.WriteByte('=')
			if err := writeString(&b, v); err != nil {
				return "", err
			}
		case bool:
			if !v {
				b.WriteString("=?0")
			}
		default:
			return "", fmt.Errorf("httpsig: unsupported parameter type %T", q.Value)
		}
	}
	return b.String(), nil
}

func writeString(b *strings.Builder, s string) error {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return errors.New("httpsig: string has a character outside printable ASCII")
		}
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return nil
}

// Message is what a signature covers: a response (Status) or, for the RFC's request examples,
// a request (Method, Path, Authority).
type Message struct {
	Status    int
	Method    string
	Path      string
	Authority string
	Header    http.Header
}

// ComponentValue returns the canonical value of one component (RFC 9421 §2.1, §2.2).
func (m Message) ComponentValue(name string) (string, error) {
	switch name {
	case "@status":
		if m.Status < 100 || m.Status > 999 {
			return "", errors.New("httpsig: no status")
		}
		return strconv.Itoa(m.Status), nil
	case "@method":
		if m.Method == "" {
			return "", errors.New("httpsig: no method")
		}
		return m.Method, nil
	case "@path":
		if m.Path == "" {
			return "/", nil
		}
		return m.Path, nil
	case "@authority":
		if m.Authority == "" {
			return "", errors.New("httpsig: no authority")
		}
		return strings.ToLower(m.Authority), nil
	}
	if name == "" || strings.HasPrefix(name, "@") || name != strings.ToLower(name) {
		return "", fmt.Errorf("httpsig: unsupported component %q", name)
	}
	vals, ok := m.Header[http.CanonicalHeaderKey(name)]
	if !ok {
		return "", fmt.Errorf("httpsig: component %q: header absent", name)
	}
	// RFC 9421 §2.1: strip leading and trailing whitespace from each field line and join
	// multiple lines with a comma and a space; obsolete line folding becomes a space.
	parts := make([]string, len(vals))
	for i, v := range vals {
		if strings.Contains(v, "\r\n") {
			v = unfold.Replace(v)
		}
		parts[i] = strings.Trim(v, " \t")
	}
	return strings.Join(parts, ", "), nil
}

// unfold turns obsolete line folding into a space. Built once: a Replacer
// compiles its table on first use, which cost more than the rest of a
// component's value.
var unfold = strings.NewReplacer("\r\n ", " ", "\r\n\t", " ")

// Base builds the signature base of RFC 9421 §2.5: one line per covered component,
// `"name": value`, then the `"@signature-params"` line, lines separated by a single LF and no
// LF after the last.
func Base(m Message, p Params) ([]byte, error) {
	params, err := p.Serialize()
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(p.Components))
	var b strings.Builder
	for _, c := range p.Components {
		if seen[c] {
			return nil, fmt.Errorf("httpsig: component %q covered twice", c)
		}
		seen[c] = true
		v, err := m.ComponentValue(c)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("httpsig: component %q has a line break", c)
		}
		_ = writeString(&b, c) // names were checked by Serialize
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(params)
	return []byte(b.String()), nil
}

// ContentDigest returns the RFC 9530 Content-Digest field value for body: sha-256=:<base64>:.
func ContentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// CheckContentDigest verifies that the Content-Digest field value (all lines joined) holds a
// sha-256 digest equal to that of body. Other algorithms are ignored; sha-256 must be there.
func CheckContentDigest(field string, body []byte) error {
	d, err := ParseDictionary(field)
	if err != nil {
		return fmt.Errorf("Content-Digest: %w", err)
	}
	for _, m := range d {
		if m.Key != "sha-256" {
			continue
		}
		got, ok := m.Item.([]byte)
		if !ok || m.List != nil {
			return errors.New("Content-Digest: sha-256 is not a byte sequence")
		}
		want := sha256.Sum256(body)
		if subtle.ConstantTimeCompare(got, want[:]) != 1 {
			return errors.New("Content-Digest: sha-256 does not match the body")
		}
		return nil
	}
	return errors.New("Content-Digest: no sha-256 digest")
}

// SignResponse signs a response: it sets Content-Digest, Date (if absent), Storekeep-Nonce,
// Signature-Input and Signature on h, with the given creation time (Unix seconds).
func SignResponse(h http.Header, status int, body []byte, nonce, date string, created int64, kid string, key ed25519.PrivateKey) error {
	h.Set("Content-Digest", ContentDigest(body))
	h.Set("Date", date)
	h.Set(NonceHeader, nonce)
	p := Params{
		Components: ResponseComponents,
		Params: []Param{
			{"created", created},
			{"keyid", kid},
			{"alg", Alg},
		},
	}
	base, err := Base(Message{Status: status, Header: h}, p)
	if err != nil {
		return err
	}
	input, _ := p.Serialize()
	sig := ed25519.Sign(key, base)
	h.Set("Signature-Input", Label+"="+input)
	h.Set("Signature", Label+"=:"+base64.StdEncoding.EncodeToString(sig)+":")
	return nil
}

// Signature is a verified response signature.
type Signature struct {
	KeyID   string
	Created int64
	Params  Params
}

// VerifyResponse checks the signature labelled Label on a response: the Content-Digest
// against body, that the covered components include every one of ResponseComponents, alg is
// ed25519, and the Ed25519 signature under the key that lookup returns for keyid. It does not
// judge time or the nonce: the caller compares Created with its clock and the nonce with the
// one it sent.
func VerifyResponse(status int, h http.Header, body []byte, lookup func(kid string) (ed25519.PublicKey, bool)) (Signature, error) {
	if err := CheckContentDigest(strings.Join(h.Values("Content-Digest"), ", "), body); err != nil {
		return Signature{}, err
	}
	inputs, err := ParseDictionary(strings.Join(h.Values("Signature-Input"), ", "))
	if err != nil {
		return Signature{}, fmt.Errorf("Signature-Input: %w", err)
	}
	sigs, err := ParseDictionary(strings.Join(h.Values("Signature"), ", "))
	if err != nil {
		return Signature{}, fmt.Errorf("Signature: %w", err)
	}
	in, ok := inputs.Get(Label)
	if !ok || in.List == nil {
		return Signature{}, errors.New("Signature-Input: no inner list labelled " + Label)
	}
	sm, ok := sigs.Get(Label)
	if !ok {
		return Signature{}, errors.New("Signature: nothing labelled " + Label)
	}
	sig, ok := sm.Item.([]byte)
	if !ok || sm.List != nil {
		return Signature{}, errors.New("Signature: not a byte sequence")
	}
	p := Params{Params: in.Params}
	for _, it := range in.List {
		s, ok := it.Value.(string)
		if !ok || len(it.Params) != 0 {
			return Signature{}, errors.New("Signature-Input: a component is not a plain string")
		}
		p.Components = append(p.Components, s)
	}
	for _, want := range ResponseComponents {
		found := false
		for _, c := range p.Components {
			found = found || c == want
		}
		if !found {
			return Signature{}, fmt.Errorf("Signature-Input: %q is not covered", want)
		}
	}
	if alg, ok := p.String("alg"); !ok || alg != Alg {
		return Signature{}, errors.New(`Signature-Input: alg is not "ed25519"`)
	}
	kid, ok := p.String("keyid")
	if !ok {
		return Signature{}, errors.New("Signature-Input: no keyid")
	}
	created, ok := p.Int("created")
	if !ok {
		return Signature{}, errors.New("Signature-Input: no created")
	}
	pub, ok := lookup(kid)
	if !ok {
		return Signature{}, fmt.Errorf("Signature-Input: unknown keyid %q", kid)
	}
	base, err := Base(Message{Status: status, Header: h}, p)
	if err != nil {
		return Signature{}, err
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, base, sig) {
		return Signature{}, errors.New("Signature: does not verify")
	}
	return Signature{KeyID: kid, Created: created, Params: p}, nil
}
