package site

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/web"
)

// The public pages are the same for every visitor, so they are rendered
// once and served from memory until what they show changes.
//
// What they show (the catalog, the vendor's settings, the policy versions)
// is versioned by the database itself: triggers on those tables bump
// content_version in the same transaction as the change (migration 00014),
// whichever code path, instance or process makes it. A page rendered at
// another version than the current one is rendered again. Reading the
// version costs a query, so it is read only when db.ContentStamp says it
// may have moved: after any commit of this instance, and on PostgreSQL when
// another instance's change is notified (LISTEN/NOTIFY, delivered as the
// change commits). When the stamp cannot see other writers (the listening
// connection is down), the version is read on every request. Whatever the
// stamp says, the version is read again after recheck, which bounds how
// long a change the stamp cannot see (an SQL session by hand, another
// process on an SQLite file) goes unnoticed.
//
// A page is tagged with the version read before its data, so a change that
// commits while it renders leaves a page newer than its tag, never older.
// Pages that depend on time (the year in the footer, a policy's notice of a
// recent change) carry the moment they stop being true.

// maxCachedPages bounds the cache: the pages are the home page, one per
// product, the pricing page per currency on sale and the two policies.
const maxCachedPages = 512

// recheck is how long a version read stays believed without a new read.
const recheck = time.Second

type pageCache struct {
	mu      sync.RWMutex
	version int64
	pages   map[string]cachedPage

	known   bool      // version was read at stamp, at checked
	stamp   uint64    // the db.ContentStamp the version was read at
	checked time.Time // when it was read

	notice noticeMemo // the running policy announcement (archive.go)
}

// noticeMemo is the policy announcement read at a content version.
type noticeMemo struct {
	mu      sync.Mutex
	known   bool
	version int64
	n       *web.PolicyNotice
}

type cachedPage struct {
	body  []byte
	gz    []byte    // body compressed once, for browsers that accept gzip
	until time.Time // zero: as long as the version holds
}

func newPageCache() *pageCache { return &pageCache{pages: map[string]cachedPage{}} }

// current returns the content version, reading it from the database only
// when it may have changed.
func (c *pageCache) current(ctx context.Context, d *db.DB, now time.Time) (int64, error) {
	stamp, trusted := d.ContentStamp() // before the version: see ContentStamp
	c.mu.RLock()
	v := c.version
	fresh := c.known && trusted && stamp == c.stamp && !now.Before(c.checked) && now.Sub(c.checked) < recheck
	c.mu.RUnlock()
	if fresh {
		return v, nil
	}
	v, err := db.ContentVersion(ctx, d)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v > c.version {
		c.version, c.pages = v, map[string]cachedPage{}
	}
	if v == c.version {
		c.known, c.stamp, c.checked = true, stamp, now
	}
	return v, nil
}

func (c *pageCache) get(key string, version int64, now time.Time) (cachedPage, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.version != version {
		return cachedPage{}, false
	}
	p, ok := c.pages[key]
	if !ok || (!p.until.IsZero() && !now.Before(p.until)) {
		return cachedPage{}, false
	}
	return p, true
}

func (c *pageCache) put(key string, version int64, p cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version {
		return // rendered from data older than a version seen since
	}
	if len(c.pages) >= maxCachedPages {
		if _, ok := c.pages[key]; !ok {
			return
		}
	}
	c.pages[key] = p
}

// compress gzips a page at the best ratio: it is done once per page and
// version, and a product page of 5 kB then travels as about 1.6 kB.
func compress(body []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(body)                                    // writes to memory do not fail
	if zw.Close() != nil {
		return nil
	}
	return buf.Bytes()
}

// acceptsGzip reads Accept-Encoding: gzip is acceptable unless absent or
// given q=0.
func acceptsGzip(r *http.Request) bool {
	for _, h := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(h, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// write answers with p, compressed when the browser accepts it.
func write(w http.ResponseWriter, r *http.Request, p cachedPage, cache string) {
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	h.Set("X-Cache", cache)
	if p.gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		web.WriteHTML(w, http.StatusOK, p.gz)
		return
	}
	web.WriteHTML(w, http.StatusOK, p.body)
}

// rendered is a page ready to serve: the template, its title and content,
// and when it stops being true.
type rendered struct {
	name, title string
	page        any
	until       time.Time
}

// serveCached answers with the page under key from the cache, or builds
// it with build, renders and keeps it. build returns a refusal (such as an
// unknown product) or an error, which are answered as usual and not kept;
// cache false serves the page without keeping it.
func (s *handler) serveCached(w http.ResponseWriter, r *http.Request, key string, build func() (rendered, bool, error)) error {
	ctx, now := r.Context(), s.clock.Now()
	if s.Inventory().AsksConsent() {
		// With the cookie consent banner a page comes in two variants,
		// with it and without; each browser gets the one its consent
		// cookie calls for, here and in any cache on the way.
		key += s.ConsentVariant(r)
		w.Header().Add("Vary", "Cookie")
	}
	version, err := s.cache.current(ctx, s.db, now)
	if err != nil {
		return err
	}
	if p, ok := s.cache.get(key, version, now); ok {
		write(w, r, p, "hit")
		return nil
	}
	p, keep, err := build()
	if err != nil {
		return err
	}
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	t := s.pages.Template(p.name)
	body, err := s.RenderBytes(r, v, t, p.title, p.page)
	if err != nil {
		return err
	}
	s.pages.Rendered(p.name)
	// The footer names the year.
	until := time.Date(now.UTC().Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	if !p.until.IsZero() && p.until.Before(until) {
		until = p.until
	}
	// Every public page shows a running policy notice (web.PolicyNotice)
	// until it ends.
	if n, err := s.CurrentPolicyNotice(ctx); err == nil && n != nil && n.Until.Before(until) {
		until = n.Until
	}
	page := cachedPage{body: body, gz: compress(body), until: until}
	if keep {
		s.cache.put(key, version, page)
	}
	write(w, r, page, "miss")
	return nil
}
