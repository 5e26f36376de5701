package httpsig

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file is the part of RFC 8941 (Structured Field Values) that the
// signature headers use: dictionaries whose members are items or inner
// lists, with parameters; items that are integers, strings, tokens, byte
// sequences or booleans. Decimals are parsed as tokens would be refused:
// no header of ours carries one, and a value we do not understand is
// never verified.

// member is one dictionary member: an item, or an inner list of items,
// with its parameters.
type member struct {
	item   any    // int64, string, token, []byte, bool; nil for an inner list
	inner  []item // the inner list
	isList bool
	params []Param
}

type item struct {
	value  any
	params []Param
}

// token is a bare token (RFC 8941 §3.3.4), told apart from a string.
type token string

// Param is one signature parameter, in the order given. Value is an int64
// or a string.
type Param struct {
	Name  string
	Value any
}

var errSyntax = errors.New("httpsig: malformed structured field")

type sfParser struct {
	s string
	i int
}

// parseDictionary parses a Dictionary (RFC 8941 §4.2.2), keeping the
// members in order; a key given twice keeps its last value.
func parseDictionary(s string) (keys []string, members map[string]member, err error) {
	p := &sfParser{s: s}
	members = map[string]member{}
	p.ows()
	for p.i < len(p.s) {
		k, err := p.key()
		if err != nil {
			return nil, nil, err
		}
		var m member
		if p.peek() == '=' {
			p.i++
			if m, err = p.itemOrInnerList(); err != nil {
				return nil, nil, err
			}
		} else {
			m.item = true
			if m.params, err = p.parameters(); err != nil {
				return nil, nil, err
			}
		}
		if _, dup := members[k]; !dup {
			keys = append(keys, k)
		}
		members[k] = m
		p.ows()
		if p.i >= len(p.s) {
			break
		}
		if p.s[p.i] != ',' {
			return nil, nil, errSyntax
		}
		p.i++
		p.ows()
		if p.i >= len(p.s) {
			return nil, nil, errSyntax // trailing comma
		}
	}
	return keys, members, nil
}

func (p *sfParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *sfParser) ows() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *sfParser) sp() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func isLcAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }

func (p *sfParser) key() (string, error) {
	c := p.peek()
	if !isLcAlpha(c) && c != '*' {
		return "", errSyntax
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if !isLcAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*' {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) itemOrInnerList() (member, error) {
	if p.peek() == '(' {
		p.i++
		var m member
		m.isList = true
		for {
			p.sp()
			if p.peek() == ')' {
				p.i++
				var err error
				m.params, err = p.parameters()
				return m, err
			}
			v, err := p.bareItem()
			if err != nil {
				return m, err
			}
			ps, err := p.parameters()
			if err != nil {
				return m, err
			}
			m.inner = append(m.inner, item{v, ps})
			if c := p.peek(); c != ' ' && c != ')' {
				return m, errSyntax
			}
		}
	}
	v, err := p.bareItem()
	if err != nil {
		return member{}, err
	}
	ps, err := p.parameters()
	return member{item: v, params: ps}, err
}

func (p *sfParser) parameters() ([]Param, error) {
	var ps []Param
	for p.peek() == ';' {
		p.i++
		p.sp()
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
		for i := range ps {
			if ps[i].Name == k {
				ps[i].Value, replaced = v, true
			}
		}
		if !replaced {
			ps = append(ps, Param{k, v})
		}
	}
	return ps, nil
}

func (p *sfParser) bareItem() (any, error) {
	c := p.peek()
	switch {
	case c == '-' || isDigit(c):
		start := p.i
		if c == '-' {
			p.i++
		}
		digits := p.i
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
		if p.i == digits || p.i-digits > 15 || p.peek() == '.' {
			return nil, errSyntax // no digits, too long, or a decimal
		}
		n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil {
			return nil, errSyntax
		}
		return n, nil
	case c == '"':
		p.i++
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			switch {
			case c == '\\':
				if p.i >= len(p.s) || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
					return nil, errSyntax
				}
				b.WriteByte(p.s[p.i])
				p.i++
			case c == '"':
				return b.String(), nil
			case c < 0x20 || c > 0x7e:
				return nil, errSyntax
			default:
				b.WriteByte(c)
			}
		}
		return nil, errSyntax
	case c == ':':
		p.i++
		end := strings.IndexByte(p.s[p.i:], ':')
		if end < 0 {
			return nil, errSyntax
		}
		b, err := base64.StdEncoding.DecodeString(p.s[p.i : p.i+end])
		if err != nil {
			return nil, errSyntax
		}
		p.i += end + 1
		return b, nil
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
	case c == '*' || (c >= 'A' && c <= 'Z') || isLcAlpha(c):
		start := p.i
		for p.i < len(p.s) {
			c := p.s[p.i]
			if c <= 0x20 || c >= 0x7f || strings.IndexByte(`"(),;<=>?@[\]{}`, c) >= 0 {
				// tchar, ':' and '/' (RFC 8941 §3.3.4)
				break
			}
			p.i++
		}
		return token(p.s[start:p.i]), nil
	}
	return nil, errSyntax
}

// serializeString writes s as an sf-string. It refuses what a string
// cannot hold (RFC 8941 §4.1.6).
func serializeString(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("httpsig: %q cannot be a structured-field string", s)
		}
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// serializeByteSequence writes b as an sf-binary: :base64:.
func serializeByteSequence(b []byte) string {
	return ":" + base64.StdEncoding.EncodeToString(b) + ":"
}
