package analytics

import (
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what a beacon reports.
type Kind uint8

// The beacon kinds.
const (
	// View: a page was shown.
	View Kind = iota + 1
	// Engaged: how long a page view has been visible and in use so far.
	Engaged
)

// MaxBody is the largest beacon body read; a real one is about 200 bytes.
const MaxBody = 2048

// MaxEngaged is the most engaged time one view is credited with: a page
// left open and in focus all afternoon says nothing more than half an
// hour does.
const MaxEngaged = 30 * time.Minute

// Beacon is a beacon's body, checked. What it carries is what the
// page's script knows (count.js): the page view's random number, the
// page's path, the referring page, the campaign parameters of the page's
// address, the screen's width, the engaged time.
type Beacon struct {
	Kind Kind
	// View is the page view's random identifier: 16 to 32 lower-case hex
	// digits, made by the script for this page load.
	View string
	// Path is the page's path ("/products/milter"), without query or
	// fragment. View beacons only.
	Path string
	// Referrer is the referring page as the browser gave it; the counter
	// keeps its host only, and only when it is another site.
	Referrer string
	// Source, Medium and Campaign are the page address's utm_source,
	// utm_medium and utm_campaign, normalised; "" when absent or unusable.
	Source, Medium, Campaign string
	// Screen is the screen's size class ("phone", "tablet", "desktop",
	// "wide"), "" when unknown.
	Screen string
	// Engaged is the view's engaged time so far. Engaged beacons only.
	Engaged time.Duration
}

// wire is a beacon body as the script sends it: a small JSON object, as
// text/plain so that sendBeacon needs no CORS preflight. decodeWire reads
// it; the tags say what encoding/json would make of it, which the fuzz
// test holds decodeWire to.
type wire struct {
	T  string  `json:"t"`
	ID string  `json:"id"`
	P  string  `json:"p"`
	R  string  `json:"r"`
	Q  string  `json:"q"`
	W  float64 `json:"w"`
	MS float64 `json:"ms"`
}

// Reasons a beacon is refused; the counter counts them by name.
var (
	ErrBody    = errors.New("analytics: the beacon is not a JSON object of the expected fields")
	ErrKind    = errors.New("analytics: unknown beacon kind")
	ErrView    = errors.New("analytics: the page view's identifier is not 16 to 32 hex digits")
	ErrPath    = errors.New("analytics: the page's path is not a usable path")
	ErrEngaged = errors.New("analytics: the engaged time is not a positive number of milliseconds under a day")
)

// ParseBeacon reads and checks a beacon body. Anything it cannot vouch for
// is refused (an error) or left out (an unusable referrer, campaign or
// screen width), never stored as it came.
func ParseBeacon(body []byte) (Beacon, error) {
	if len(body) == 0 || len(body) > MaxBody || body[0] != '{' {
		return Beacon{}, ErrBody
	}
	w, ok := decodeWire(body)
	if !ok {
		return Beacon{}, ErrBody
	}
	if !validView(w.ID) {
		return Beacon{}, ErrView
	}
	b := Beacon{View: w.ID}
	switch w.T {
	case "v":
		b.Kind = View
		p, ok := cleanPath(w.P)
		if !ok {
			return Beacon{}, ErrPath
		}
		b.Path = p
		if len(w.R) <= 2048 && utf8.ValidString(w.R) {
			b.Referrer = w.R
		}
		b.Source, b.Medium, b.Campaign = campaign(w.Q)
		b.Screen = screenClass(w.W)
	case "e":
		b.Kind = Engaged
		if !(w.MS > 0 && w.MS < float64(24*time.Hour/time.Millisecond)) {
			return Beacon{}, ErrEngaged
		}
		b.Engaged = min(time.Duration(w.MS)*time.Millisecond, MaxEngaged)
	default:
		return Beacon{}, ErrKind
	}
	return b, nil
}

func validView(id string) bool {
	if len(id) < 16 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// maxPath is the longest path kept.
const maxPath = 300

// cleanPath is p without query and fragment, when it is an absolute path
// of printable characters.
func cleanPath(p string) (string, bool) {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if p == "" || p[0] != '/' || len(p) > maxPath || strings.HasPrefix(p, "//") || !utf8.ValidString(p) {
		return "", false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' || (r >= 0x80 && r < 0xa0) {
			return "", false
		}
	}
	return p, true
}

// campaign reads the utm parameters of a query string ("?utm_source=x&...").
func campaign(q string) (source, medium, name string) {
	if q == "" || len(q) > 1024 {
		return "", "", ""
	}
	v, err := url.ParseQuery(strings.TrimPrefix(q, "?"))
	if err != nil {
		return "", "", ""
	}
	return utm(v.Get("utm_source")), utm(v.Get("utm_medium")), utm(v.Get("utm_campaign"))
}

// maxUTM is the longest campaign value kept.
const maxUTM = 64

// utm normalises a campaign value: trimmed, lower case, letters, digits
// and - _ . + / and spaces only, at most 64 bytes; "" otherwise. A value
// that carries anything else (an address, a token) is left out whole.
func utm(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxUTM {
		return ""
	}
	s = strings.ToLower(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.+/ ", c) >= 0) {
			return ""
		}
	}
	return s
}

// screenClass turns a screen width in CSS pixels into a class; the width
// itself, with other details, would help single a browser out.
func screenClass(w float64) string {
	switch {
	case !(w >= 200 && w <= 20000):
		return ""
	case w < 600:
		return "phone"
	case w < 1024:
		return "tablet"
	case w < 1920:
		return "desktop"
	default:
		return "wide"
	}
}
