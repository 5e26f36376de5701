// Package beacon is the web side of the usage analytics
// (internal/analytics, docs/analytics.md): the endpoint the counting
// script reports to (POST /a/v), the list of pages that load the script,
// and the page where a visitor sees what is counted and can ask not to be
// counted (/statistics).
//
// The endpoint decides first whether a beacon may be counted at all, from
// what the request says before its body is read: Global Privacy Control
// and Do Not Track, the visitor's "do not count me" cookie, a signed-in
// customer's objection to the "improvement" purpose or restriction of
// processing, a request from another site, a flood from one address.
// Every answer is the same empty 204, whether the beacon was counted or
// not: a visitor learns nothing, an attacker gets nothing to measure.
package beacon

import (
	"crypto/sha256"
	"embed"
	"io"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// Endpoint is where the script reports (count.js names it too).
const Endpoint = "/a/v"

// CountedPages are the route patterns of the pages the analytics count:
// the public site's. Account pages, the staff console, the API and the
// rest are never counted (their paths can carry order numbers and
// tokens, and what is done there is recorded by the domains).
var CountedPages = []string{
	"GET /{$}", "GET /products/{slug}", "GET /pricing", "GET /privacy", "GET /cookies", "GET /statistics",
	"GET /checkout", "GET /support", "GET /products/{slug}/download",
}

// DefaultPerMinute is how many beacons one address may send a minute
// before the rest are ignored: a person reading pages sends two a page;
// an office or a mobile carrier's gateway puts many people behind one
// address.
const DefaultPerMinute = 600

// Options configure the area.
type Options struct {
	// Counter counts the beacons; nil mounts nothing and no page loads
	// the script.
	Counter *analytics.Counter
	// PerMinute is the most beacons counted per address and minute
	// (DefaultPerMinute when 0).
	PerMinute int
}

type handler struct {
	*web.Server
	pages   *web.Pages
	counter *analytics.Counter
	origin  string
	flood   *limiter

	mu        sync.Mutex
	customers map[[32]byte]verdict // session cookie hash -> may be counted
	countable func(path string) bool
	paths     sync.Map // path -> counted (isCounted)
	pathCount atomic.Int64
}

type verdict struct {
	count bool
	until time.Time
}

// Mount registers the endpoint and the statistics page on s.
func Mount(s *web.Server, o Options) error {
	if o.Counter == nil {
		return nil
	}
	pages, err := s.NewPages("beacon", templates, web.Public, nil)
	if err != nil {
		return err
	}
	if o.PerMinute <= 0 {
		o.PerMinute = DefaultPerMinute
	}
	h := &handler{Server: s, pages: pages, counter: o.Counter, origin: s.BaseURL().Scheme + "://" + s.BaseURL().Host,
		flood: newLimiter(o.PerMinute), customers: map[[32]byte]verdict{}}
	h.countable = h.isCounted
	if err := s.RegisterCollector(o.Counter); err != nil {
		return err
	}
	s.CountPages(CountedPages...)
	s.Handle("POST "+Endpoint, h.beacon)
	s.LogQuietly("POST " + Endpoint)
	s.Handle("GET /statistics", h.statistics)
	s.AddFooterLink("Statistics", "/statistics")
	s.Handle("POST /statistics", h.choose)
	return nil
}

// beacon counts a beacon when it may be counted, and always answers 204.
func (h *handler) beacon(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	now := h.Clock().Now()
	if o, skip := h.skip(r, now); skip {
		h.counter.Note(o)
	} else {
		buf := bodies.Get().(*[analytics.MaxBody + 1]byte)
		n, err := io.ReadFull(r.Body, buf[:])
		switch err {
		case nil, io.EOF, io.ErrUnexpectedEOF:
			// Count does not keep the body: what it stores is copied out.
			h.counter.Count(analytics.Hit{Body: buf[:n], At: now, Addr: web.ClientIP(r), UserAgent: r.UserAgent(), Countable: h.countable})
		default:
			h.counter.Note(analytics.Refused)
		}
		bodies.Put(buf)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// bodies are the buffers beacon bodies are read into: one more byte than
// the largest accepted, so that a longer body is seen to be too long.
var bodies = sync.Pool{New: func() any { return new([analytics.MaxBody + 1]byte) }}

// countable reports whether path is one of the counted pages.
// The answers are remembered per path (the router's lookup allocates a
// request): the site's pages are few; a flood of made-up paths empties
// the memory when it is full rather than growing it.
func (h *handler) isCounted(path string) bool {
	if v, ok := h.paths.Load(path); ok {
		return v.(bool)
	}
	counted := h.Counted(h.PatternOf(path))
	if h.pathCount.Add(1) > maxPaths {
		h.paths.Clear()
		h.pathCount.Store(0)
	}
	h.paths.Store(path, counted)
	return counted
}

// maxPaths bounds the remembered paths.
const maxPaths = 10000

// skip tells whether a beacon must not be counted, and why, from its
// headers alone.
func (h *handler) skip(r *http.Request, now time.Time) (analytics.Outcome, bool) {
	if DoNotCount(r) {
		return analytics.Declined, true
	}
	// Only the site's own pages report: the script's beacons carry the
	// site's origin; another site's page, or a request made without a
	// browser, does not.
	if r.Header.Get("Origin") != h.origin {
		return analytics.CrossSite, true
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return analytics.CrossSite, true
	}
	if !h.flood.allow(web.ClientIP(r), now) {
		return analytics.Flood, true
	}
	if !h.customerMayBeCounted(r, now) {
		return analytics.Declined, true
	}
	return 0, false
}

// DoNotCount reports whether the request asks not to be counted: Global
// Privacy Control, Do Not Track, or the visitor's choice on /statistics.
func DoNotCount(r *http.Request) bool {
	if r.Header.Get("Sec-GPC") == "1" || r.Header.Get("DNT") == "1" {
		return true
	}
	for _, name := range []string{cookieName, "__Host-" + cookieName} {
		if _, err := r.Cookie(name); err == nil {
			return true
		}
	}
	return false
}

// customerTTL is how long what a customer's choices say is remembered: a
// new objection applies within a minute.
const customerTTL = time.Minute

// customerMayBeCounted: a signed-in customer who objected to the
// "improvement" purpose, or whose processing is restricted, is not
// counted. A visitor without a session is not looked up.
func (h *handler) customerMayBeCounted(r *http.Request, now time.Time) bool {
	token, ok := h.CustomerCookie(r)
	if !ok {
		return true
	}
	key := sha256.Sum256([]byte(token))
	h.mu.Lock()
	v, ok := h.customers[key]
	h.mu.Unlock()
	if ok && now.Before(v.until) {
		return v.count
	}
	count := true
	c, err := h.CurrentCustomer(r)
	switch {
	case err != nil:
		// When we cannot tell, we do not count.
		return false
	case c != nil:
		choices, err := privacy.LoadChoices(r.Context(), h.DB(), c.ID)
		if err != nil {
			return false
		}
		count, _ = choices.Permits(privacy.Declared, "improvement")
	}
	h.mu.Lock()
	if len(h.customers) >= 10000 {
		clear(h.customers)
	}
	h.customers[key] = verdict{count: count, until: now.Add(customerTTL)}
	h.mu.Unlock()
	return count
}

// limiter counts beacons per address in fixed one-minute windows, in
// memory: a flood is ignored before its body is read, without a database
// round trip. Its memory is bounded by the addresses seen in one minute,
// and at most maxAddresses of them.
type limiter struct {
	perMinute int
	mu        sync.Mutex
	window    int64
	counts    map[netip.Addr]int
}

const maxAddresses = 100000

func newLimiter(perMinute int) *limiter {
	return &limiter{perMinute: perMinute, counts: map[netip.Addr]int{}}
}

func (l *limiter) allow(addr netip.Addr, now time.Time) bool {
	w := now.Unix() / 60
	// IPv6 visitors are counted by their /64, which one household holds.
	if addr.Is6() && !addr.Is4In6() {
		p, _ := addr.Prefix(64)
		addr = p.Addr()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w != l.window || len(l.counts) >= maxAddresses {
		l.window = w
		clear(l.counts)
	}
	n := l.counts[addr] + 1
	l.counts[addr] = n
	return n <= l.perMinute
}
