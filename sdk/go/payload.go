package license

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// payload holds the members of a key or file payload. Member names match exactly (the
// format's names, case-sensitive); unknown members are skipped; a known member twice is
// refused.
type payload struct {
	v              int64
	kid, lic, prd  string
	ed             string
	ent            []string
	iat, exp, upd  int64
	max            int64
	typ, key, st   string
	grace          int64
	fiat, fexp     int64
	fp             string
	seen           uint32
	unknownMembers int
}

const (
	mV uint32 = 1 << iota
	mKid
	mLic
	mPrd
	mEd
	mEnt
	mIat
	mExp
	mUpd
	mMax
	mTyp
	mKey
	mSt
	mGrace
	mFiat
	mFexp
	mFp

	keyMembers  = mV | mKid | mLic | mPrd | mEd | mEnt | mIat | mExp | mUpd | mMax
	fileMembers = keyMembers | mTyp | mKey | mSt | mGrace | mFiat | mFexp | mFp
)

var memberBits = map[string]uint32{
	"v": mV, "kid": mKid, "lic": mLic, "prd": mPrd, "ed": mEd, "ent": mEnt, "iat": mIat,
	"exp": mExp, "upd": mUpd, "max": mMax, "typ": mTyp, "key": mKey, "st": mSt,
	"grace": mGrace, "fiat": mFiat, "fexp": mFexp, "fp": mFp,
}

var memberNames = func() map[uint32]string {
	m := make(map[uint32]string)
	for k, v := range memberBits {
		m[v] = k
	}
	return m
}()

var errPayload = errors.New("payload is not a JSON object")

// parsePayload reads a payload and checks that the members in need are all present.
func parsePayload(b []byte, need uint32) (*payload, error) {
	if !utf8.Valid(b) || !json.Valid(b) {
		return nil, errors.New("payload is not UTF-8 JSON")
	}
	p := &payload{}
	s := scanner{b: b}
	s.ws()
	if !s.eat('{') {
		return nil, errPayload
	}
	s.ws()
	if s.eat('}') {
		return nil, missing(need)
	}
	for {
		s.ws()
		raw, escaped, err := s.rawStr()
		if err != nil {
			return nil, err
		}
		var bit uint32
		var known bool
		if escaped {
			var n string
			if err := json.Unmarshal(raw, &n); err != nil {
				return nil, err
			}
			bit, known = memberBits[n]
		} else {
			bit, known = memberBits[string(raw[1:len(raw)-1])] // no allocation
		}
		name := memberNames[bit]
		s.ws()
		s.eat(':')
		s.ws()
		if known && bit&need == 0 {
			known = false // a file member in a key payload is an unknown member there
		}
		if !known {
			p.unknownMembers++
			s.skip()
		} else {
			if p.seen&bit != 0 {
				return nil, fmt.Errorf("payload member %q twice", name)
			}
			p.seen |= bit
			if err := p.set(bit, &s); err != nil {
				return nil, fmt.Errorf("payload member %q: %w", name, err)
			}
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			break
		}
		return nil, errPayload
	}
	if m := need &^ p.seen; m != 0 {
		return nil, missing(m)
	}
	return p, nil
}

func missing(m uint32) error {
	for bit := uint32(1); bit != 0 && bit <= m; bit <<= 1 {
		if m&bit != 0 {
			return fmt.Errorf("payload member %q missing", memberNames[bit])
		}
	}
	return errPayload
}

func (p *payload) set(bit uint32, s *scanner) error {
	var err error
	switch bit {
	case mV:
		p.v, err = s.uint()
	case mIat:
		p.iat, err = s.uint()
	case mExp:
		p.exp, err = s.uint()
	case mUpd:
		p.upd, err = s.uint()
	case mMax:
		p.max, err = s.uint()
	case mGrace:
		p.grace, err = s.uint()
	case mFiat:
		p.fiat, err = s.uint()
	case mFexp:
		p.fexp, err = s.uint()
	case mKid:
		p.kid, err = s.str()
	case mLic:
		p.lic, err = s.str()
	case mPrd:
		p.prd, err = s.str()
	case mEd:
		p.ed, err = s.str()
	case mTyp:
		p.typ, err = s.str()
	case mKey:
		p.key, err = s.str()
	case mSt:
		p.st, err = s.str()
	case mFp:
		p.fp, err = s.str()
	case mEnt:
		p.ent, err = s.strs()
	}
	return err
}

// scanner walks JSON already checked by json.Valid.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// rawStr reads a string and returns it with its quotes, and whether it has escapes.
func (s *scanner) rawStr() ([]byte, bool, error) {
	start := s.i
	if !s.eat('"') {
		return nil, false, errors.New("not a string")
	}
	escaped := false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			return s.b[start:s.i], escaped, nil
		}
		s.i++
	}
	return nil, false, errors.New("unterminated string")
}

// str reads a string, unescaping it exactly as JSON does.
func (s *scanner) str() (string, error) {
	raw, escaped, err := s.rawStr()
	if err != nil {
		return "", err
	}
	if !escaped {
		return string(raw[1 : len(raw)-1]), nil
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", err
	}
	return out, nil
}

// uint reads a non-negative integer written without fraction or exponent.
func (s *scanner) uint() (int64, error) {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == start || s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, errors.New("not a non-negative integer")
	}
	if s.i-start > 18 {
		return 0, errors.New("integer too large")
	}
	var n int64
	for _, c := range s.b[start:s.i] {
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// strs reads an array of strings; null is read as an empty array (writers write []).
func (s *scanner) strs() ([]string, error) {
	if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return []string{}, nil
	}
	if !s.eat('[') {
		return nil, errors.New("not an array")
	}
	out := []string{}
	s.ws()
	if s.eat(']') {
		return out, nil
	}
	for {
		s.ws()
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat(']') {
			return out, nil
		}
		return nil, errors.New("bad array")
	}
}

// skip passes over one value.
func (s *scanner) skip() {
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			_, _, _ = s.rawStr()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return
			}
			depth--
			if depth == 0 {
				s.i++
				return
			}
		case ',':
			if depth == 0 {
				return
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return
			}
		}
		s.i++
	}
}
