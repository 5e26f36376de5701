package analytics

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeWire reads a beacon body: one JSON object whose keys are wire's
// (each at most once) with strings for t, id, p, r and q and numbers for w
// and ms. It is a strict subset of what encoding/json accepts for wire
// (FuzzDecodeWire checks it against encoding/json): unknown or repeated
// keys, null, other types, invalid UTF-8 and lone surrogates are refused
// rather than guessed at. It exists because encoding/json's reflection was
// a tenth of a beacon's cost; this reads the body in one pass and
// allocates only for the body's text and for strings with escapes.
func decodeWire(body []byte) (wire, bool) {
	d := wireDecoder{s: string(body)}
	var w wire
	if !d.object(&w) {
		return wire{}, false
	}
	return w, true
}

type wireDecoder struct {
	s string
	i int
}

// The keys, as bits, to refuse a key given twice.
const (
	keyT = 1 << iota
	keyID
	keyP
	keyR
	keyQ
	keyW
	keyMS
)

func (d *wireDecoder) object(w *wire) bool {
	d.space()
	if !d.byte('{') {
		return false
	}
	d.space()
	seen := 0
	if !d.byte('}') {
		for {
			key, ok := d.str()
			if !ok {
				return false
			}
			d.space()
			if !d.byte(':') {
				return false
			}
			d.space()
			var bit int
			switch key {
			case "t":
				bit = keyT
				w.T, ok = d.str()
			case "id":
				bit = keyID
				w.ID, ok = d.str()
			case "p":
				bit = keyP
				w.P, ok = d.str()
			case "r":
				bit = keyR
				w.R, ok = d.str()
			case "q":
				bit = keyQ
				w.Q, ok = d.str()
			case "w":
				bit = keyW
				w.W, ok = d.number()
			case "ms":
				bit = keyMS
				w.MS, ok = d.number()
			default:
				return false
			}
			if !ok || seen&bit != 0 {
				return false
			}
			seen |= bit
			d.space()
			if d.byte('}') {
				break
			}
			if !d.byte(',') {
				return false
			}
			d.space()
		}
	}
	d.space()
	return d.i == len(d.s)
}

// space skips JSON white space.
func (d *wireDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// byte consumes c when it is next.
func (d *wireDecoder) byte(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a JSON string. One without escapes is a piece of the body's
// text; one with escapes is built.
func (d *wireDecoder) str() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			v := d.s[start:d.i]
			d.i++
			if !utf8.ValidString(v) {
				return "", false
			}
			return v, true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", false
		}
		d.i++
	}
	return "", false
}

// escaped goes on with a string that has escapes, from its first one.
func (d *wireDecoder) escaped(start int) (string, bool) {
	var b strings.Builder
	b.Grow(d.i - start + 16)
	b.WriteString(d.s[start:d.i])
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			v := b.String()
			if !utf8.ValidString(v) {
				return "", false
			}
			return v, true
		case c < 0x20:
			return "", false
		case c != '\\':
			b.WriteByte(c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.s) {
			return "", false
		}
		e := d.s[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one
				// makes a character; anything else is refused.
				if r >= 0xdc00 || !strings.HasPrefix(d.s[d.i:], `\u`) {
					return "", false
				}
				d.i += 2
				r2, ok := d.hex4()
				if !ok {
					return "", false
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return "", false
				}
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return "", false
}

// hex4 reads the four hex digits of a \u escape.
func (d *wireDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(d.s[d.i : d.i+4]) {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	d.i += 4
	return r, true
}

// number reads a JSON number (RFC 8259's grammar, which is narrower than
// strconv's: no leading zeros, no "+", no hex, no Inf).
func (d *wireDecoder) number() (float64, bool) {
	start := d.i
	d.byte('-')
	switch {
	case d.byte('0'):
	case d.digits() == 0:
		return 0, false
	}
	if d.byte('.') && d.digits() == 0 {
		return 0, false
	}
	if d.byte('e') || d.byte('E') {
		if !d.byte('+') {
			d.byte('-')
		}
		if d.digits() == 0 {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(d.s[start:d.i], 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// digits consumes decimal digits and says how many.
func (d *wireDecoder) digits() int {
	n := 0
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}
