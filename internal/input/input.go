// Package input is the one check of text that people type: every form
// value and every string of an API body passes through it before a domain
// stores it. It refuses what no person means to type and what would harm
// whoever reads the text later: bytes that are not UTF-8 (PostgreSQL
// refuses them, so they would end in a 500), NUL and the other control
// characters (C0, DEL, C1), line breaks in a one-line field (header and
// log injection, forged CSV rows) and the invisible characters that
// reorder text on screen (bidirectional embeddings, overrides, isolates
// and marks: "Trojan Source" spoofing of names in staff lists).
//
// It works on a Go string, so a form value and a decoded JSON string are
// checked alike; refusals are refuse.Field errors naming the field (form
// field or JSON member) with a message for the person who typed it.
//
// Lengths are counted in characters (Unicode code points), not bytes.
// Text is not normalised to NFC: that needs golang.org/x/text as a direct
// dependency, and nothing here compares typed text for equality.
package input

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/refuse"
)

// DefaultMax is the length limit of a Spec without one, in characters.
const DefaultMax = 200

// Spec describes one text field.
type Spec struct {
	// Field is the form field or JSON member, as refuse.Error.Field.
	Field string
	// Label names the field in messages, as the start of a sentence:
	// "The name", "The billing address".
	Label string
	// Max is the most characters accepted after cleaning; 0 is DefaultMax.
	Max int
	// Multiline accepts line breaks (a postal address, a message): CRLF
	// and CR become LF, each line is trimmed, and blank lines at the start
	// and end are dropped.
	Multiline bool
	// Required refuses a value that is empty after cleaning, with the
	// message Missing ("" says "<Label> is missing: please fill it in.").
	Required bool
	Missing  string
}

// Line checks a one-line text field that may be empty.
func Line(field, label string, max int, v string) (string, error) {
	return Spec{Field: field, Label: label, Max: max}.Clean(v)
}

// Text checks a multi-line text field that may be empty.
func Text(field, label string, max int, v string) (string, error) {
	return Spec{Field: field, Label: label, Max: max, Multiline: true}.Clean(v)
}

// Clean returns v as it is stored (trimmed; line breaks as LF in a
// multi-line field) or a refuse.Field error saying what to change. A
// refused value is returned as "" so that nobody stores it by mistake.
func (s Spec) Clean(v string) (string, error) {
	label := s.Label
	if label == "" {
		label = "This field"
	}
	max := s.Max
	if max <= 0 {
		max = DefaultMax
	}
	// Refuse absurd input before any work proportional to it: a
	// character is at most four bytes.
	if len(v) > 4*max+1024 {
		return "", s.refuse(label + " is too long: use at most " + strconv.Itoa(max) + " characters.")
	}
	if !utf8.ValidString(v) {
		return "", s.refuse(label + " contains bytes that are not text. Type it again rather than pasting it.")
	}
	if s.Multiline {
		v = strings.ReplaceAll(v, "\r\n", "\n")
		v = strings.ReplaceAll(v, "\r", "\n")
	}
	for _, r := range v {
		if r == '\n' && s.Multiline {
			continue
		}
		if !Allowed(r) {
			return "", s.refuse(label + " contains " + describe(r, s.Multiline) + ", which cannot be used. " + advice(s.Multiline))
		}
	}
	if s.Multiline {
		lines := strings.Split(v, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimSpace(l)
		}
		v = strings.Trim(strings.Join(lines, "\n"), "\n")
	} else {
		v = strings.TrimSpace(v)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return "", s.refuse(label + " is too long: use at most " + strconv.Itoa(max) + " characters (it has " + strconv.Itoa(n) + ").")
	}
	if s.Required && v == "" {
		if s.Missing != "" {
			return "", s.refuse(s.Missing)
		}
		return "", s.refuse(label + " is missing: please fill it in.")
	}
	return v, nil
}

func (s Spec) refuse(msg string) error {
	field := s.Field
	if field == "" {
		field = "text"
	}
	return refuse.Field(field, msg)
}

// Allowed reports whether r may appear in typed text (line breaks aside,
// which only a multi-line field takes). It refuses the control characters
// (C0 including NUL and TAB, DEL, C1), the Unicode line and paragraph
// separators, and the bidirectional formatting characters: embeddings and
// overrides U+202A–U+202E, isolates U+2066–U+2069, and the marks U+200E,
// U+200F and U+061C. It also refuses the byte order mark U+FEFF and the
// non-characters U+FFFE and U+FFFF, which only appear by accident.
func Allowed(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return false
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return false
	case r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff, r == utf8.RuneError:
		return false
	}
	return unicode.IsPrint(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r)
}

func describe(r rune, multiline bool) string {
	switch {
	case r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029:
		if multiline {
			return "an unusual line break"
		}
		return "a line break"
	case r == '\t':
		return "a tab"
	case r == 0:
		return "a NUL character"
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return "an invisible character that changes the direction of the text"
	case r == utf8.RuneError:
		return "a character that could not be read"
	}
	return "an invisible control character"
}

func advice(multiline bool) string {
	if multiline {
		return "Type it again rather than pasting it."
	}
	return "Type it again on one line rather than pasting it."
}

// Problems gathers the refusals of one form or request body, so that the
// person sees everything to change at once.
type Problems struct {
	list []*refuse.Error
}

// Clean cleans *v by s in place and keeps the refusal, if any.
func (p *Problems) Clean(s Spec, v *string) {
	out, err := s.Clean(*v)
	if err != nil {
		p.Add(err)
		return
	}
	*v = out
}

// Add keeps a refusal of another check (a country code, a VAT ID). A
// refuse.Error is kept as it is; any other error as an Invalid refusal
// with its text.
func (p *Problems) Add(err error) {
	if err == nil {
		return
	}
	if r, ok := refuse.As(err); ok {
		p.list = append(p.list, r)
		return
	}
	p.list = append(p.list, &refuse.Error{Kind: refuse.Invalid, Code: "invalid", Msg: err.Error()})
}

// Addf keeps a refusal about field with message msg.
func (p *Problems) Addf(field, msg string) { p.list = append(p.list, refuse.Field(field, msg)) }

// List returns the refusals in the order they were found.
func (p *Problems) List() []*refuse.Error { return p.list }

// Messages returns the refusals' messages, for a form's list of problems.
func (p *Problems) Messages() []string {
	out := make([]string, len(p.list))
	for i, e := range p.list {
		out[i] = e.Msg
	}
	return out
}

// Err returns nil when nothing was refused, else the first refusal (the
// others are in List).
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return p.list[0]
}

// Readable checks text whose shape is not known yet (every value of a
// submitted form, before any handler reads it): it must be UTF-8 and hold
// nothing Allowed refuses, line breaks aside. Lengths and line breaks are
// the field's own Spec's to judge.
func Readable(field, v string) error {
	if !utf8.ValidString(v) {
		return refuse.Field(field, "The field “"+printable(field)+"” contains bytes that are not text. Type the text again rather than pasting it; nothing was changed.")
	}
	for _, r := range v {
		if r == '\n' || r == '\r' || Allowed(r) {
			continue
		}
		return refuse.Field(field, "The field “"+printable(field)+"” contains "+describe(r, true)+", which cannot be used. Type the text again rather than pasting it; nothing was changed.")
	}
	return nil
}

// printable is a field name fit to quote in a message: a name that is
// itself hostile is not repeated.
func printable(field string) string {
	if !utf8.ValidString(field) || len(field) > 64 {
		return "?"
	}
	for _, r := range field {
		if !Allowed(r) {
			return "?"
		}
	}
	return field
}
