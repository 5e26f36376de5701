package httpsig

import (
	"encoding/base64"
	"errors"
	"strconv"
)

// A parser for RFC 8941 (Structured Field Values) dictionaries, enough for Signature-Input,
// Signature and Content-Digest: items are integers, strings, tokens, byte sequences and
// booleans (decimals are refused), values are items or inner lists, each with parameters.

// Item is a bare item with its parameters. Value is an int64, a string, a Token, a []byte or
// a bool.
type Item struct {
	Value  any
	Params []Param
}

// Token is an RFC 8941 token (as opposed to a string).
type Token string

// Member is one dictionary member: an item (Item, Params) or an inner list (List, Params).
type Member struct {
	Key    string
	Item   any
	List   []Item
	Params []Param
}

// Dictionary is an ordered RFC 8941 dictionary.
type Dictionary []Member

// Get returns the member with the key.
func (d Dictionary) Get(key string) (Member, bool) {
	for _, m := range d {
		if m.Key == key {
			return m, true
		}
	}
	return Member{}, false
}

// maxField bounds the length of a field this parser accepts.
const maxField = 8192

var errSyntax = errors.New("structured field syntax")

type sfParser struct {
	s string
	i int
}

// ParseDictionary parses an RFC 8941 dictionary (§4.2.2). A later duplicate key replaces an
// earlier one, as the RFC says.
func ParseDictionary(s string) (Dictionary, error) {
	if len(s) > maxField {
		return nil, errors.New("structured field too long")
	}
	p := &sfParser{s: s}
	p.skipSP()
	var d Dictionary
	if p.eof() {
		return nil, errors.New("empty structured field")
	}
	for !p.eof() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		m := Member{Key: key}
		if p.peek() == '=' {
			p.i++
			if p.peek() == '(' {
				m.List, m.Params, err = p.innerList()
			} else {
				var it Item
				it, err = p.item()
				m.Item, m.Params = it.Value, it.Params
			}
			if err != nil {
				return nil, err
			}
		} else {
			m.Item = true
			if m.Params, err = p.params(); err != nil {
				return nil, err
			}
		}
		replaced := false
		for j := range d {
			if d[j].Key == key {
				d[j], replaced = m, true
			}
		}
		if !replaced {
			d = append(d, m)
		}
		p.skipOWS()
		if p.eof() {
			return d, nil
		}
		if p.peek() != ',' {
			return nil, errSyntax
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return nil, errSyntax // trailing comma
		}
	}
	return d, nil
}

func (p *sfParser) eof() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) skipSP() {
	for !p.eof() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func isLcalpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }

func isKey(s string) bool {
	if s == "" || !(isLcalpha(s[0]) || s[0] == '*') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isLcalpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
			return false
		}
	}
	return true
}

func (p *sfParser) key() (string, error) {
	start := p.i
	if !(isLcalpha(p.peek()) || p.peek() == '*') {
		return "", errSyntax
	}
	for !p.eof() {
		c := p.s[p.i]
		if !(isLcalpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) innerList() ([]Item, []Param, error) {
	p.i++ // '('
	var items []Item
	for !p.eof() {
		p.skipSP()
		if p.peek() == ')' {
			p.i++
			params, err := p.params()
			return items, params, err
		}
		it, err := p.item()
		if err != nil {
			return nil, nil, err
		}
		items = append(items, it)
		if c := p.peek(); c != ' ' && c != ')' {
			return nil, nil, errSyntax
		}
	}
	return nil, nil, errSyntax
}

func (p *sfParser) item() (Item, error) {
	v, err := p.bareItem()
	if err != nil {
		return Item{}, err
	}
	params, err := p.params()
	return Item{Value: v, Params: params}, err
}

func (p *sfParser) params() ([]Param, error) {
	var out []Param
	for p.peek() == ';' {
		p.i++
		p.skipSP()
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		var v any = true
		if p.peek() == '=' {
			p.i++
			if v, err = p.bareItem(); err != nil {
				return nil, err
			}
		}
		replaced := false
		for j := range out {
			if out[j].Name == k {
				out[j].Value, replaced = v, true
			}
		}
		if !replaced {
			out = append(out, Param{Name: k, Value: v})
		}
	}
	return out, nil
}

func (p *sfParser) bareItem() (any, error) {
	c := p.peek()
	switch {
	case c == '-' || isDigit(c):
		return p.integer()
	case c == '"':
		return p.str()
	case c == ':':
		return p.bytes()
	case c == '?':
		p.i++
		switch p.peek() {
		case '0':
			p.i++
			return false, nil
		case '1':
			p.i++
			return true, nil
		}
		return nil, errSyntax
	case c == '*' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
		return p.token()
	}
	return nil, errSyntax
}

func (p *sfParser) integer() (int64, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	d := p.i
	for !p.eof() && isDigit(p.s[p.i]) {
		p.i++
	}
	if p.i == d || p.i-d > 15 {
		return 0, errSyntax
	}
	if p.peek() == '.' {
		return 0, errors.New("structured field decimals are not supported")
	}
	return strconv.ParseInt(p.s[start:p.i], 10, 64)
}

func (p *sfParser) str() (string, error) {
	p.i++ // '"'
	var b []byte
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.eof() {
				return "", errSyntax
			}
			n := p.s[p.i]
			p.i++
			if n != '"' && n != '\\' {
				return "", errSyntax
			}
			b = append(b, n)
		case c == '"':
			return string(b), nil
		case c < 0x20 || c > 0x7e:
			return "", errSyntax
		default:
			b = append(b, c)
		}
	}
	return "", errSyntax
}

func (p *sfParser) token() (Token, error) {
	start := p.i
	p.i++
	for !p.eof() {
		c := p.s[p.i]
		if c <= 0x20 || c >= 0x7f || isDelimiter(c) && c != ':' && c != '/' {
			break
		}
		p.i++
	}
	return Token(p.s[start:p.i]), nil
}

func isDelimiter(c byte) bool {
	switch c {
	case '(', ')', ',', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}', '"':
		return true
	}
	return false
}

func (p *sfParser) bytes() ([]byte, error) {
	p.i++ // ':'
	start := p.i
	for !p.eof() && p.s[p.i] != ':' {
		c := p.s[p.i]
		if !(c|0x20 >= 'a' && c|0x20 <= 'z' || isDigit(c) || c == '+' || c == '/' || c == '=') {
			return nil, errSyntax
		}
		p.i++
	}
	if p.eof() {
		return nil, errSyntax
	}
	enc := p.s[start:p.i]
	p.i++
	return base64.StdEncoding.DecodeString(enc)
}
