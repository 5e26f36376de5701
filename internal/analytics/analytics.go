// Package analytics counts the site's visits without tracking anyone
// (docs/analytics.md).
//
// The site's one script (count.js) sends a beacon when a page is shown and
// another with the page's engaged time when it is hidden. The web layer
// decides whether a beacon may be counted at all (Do Not Track, Global
// Privacy Control, the visitor's "do not count me" choice, a customer's
// objection or restriction, another site's request, a flood) and hands
// the rest to Counter.Count, which checks the body, derives the day's
// visitor number and queues a row; a background writer stores the rows in
// batches. Nothing on the request path waits for the database.
//
// A visitor is a keyed hash (HMAC-SHA256) of the site, the network
// address and the user agent under the day's salt, which only the running
// instances hold (internal/analytics/salt). The address and the user
// agent are read in memory and never stored; once the day's salt is
// forgotten, the numbers of that day point to nobody.
//
// Rollup turns a day's raw rows into the daily aggregates and the funnel;
// the raw rows are deleted by the retention purge after two days (the
// inventory declares them), the aggregates hold counts only.
package analytics

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storekeep/storekeep/internal/batch"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/requestlog"
)

// Salts gives the day's salt; internal/analytics/salt's Keeper is one.
// ok is false while this instance does not hold the day's salt yet.
type Salts interface {
	Salt(now time.Time) (salt [32]byte, ok bool)
}

// Countries tells a network address's country (ISO 3166-1 alpha-2), ""
// when unknown; internal/geoip's DB is one. Optional.
type Countries interface {
	Country(ip netip.Addr) string
}

// Options configures a Counter.
type Options struct {
	Clock  clock.Clock
	Logger *slog.Logger
	// Site is the site's base URL: its host goes into the visitor hash and
	// referrers from it are the site's own pages.
	Site string
	// Salts gives the day's salt. Required.
	Salts Salts
	// Countries, when set, adds the country to views.
	Countries Countries
	// Queue and Batch size the writer (batch.Options).
	Queue, Batch int
	// Interval is how long a row waits at most before it is written.
	Interval time.Duration
}

// Hit is a beacon as the web layer received it.
type Hit struct {
	// Body is the beacon's body; Count does not keep it once it returns
	// (the web layer reuses the buffer).
	Body      []byte
	At        time.Time
	Addr      netip.Addr
	UserAgent string
	// Countable reports whether a path is a page the analytics count
	// (the web layer knows: the public site's pages); nil counts every
	// path.
	Countable func(path string) bool
}

// Outcome is what became of a hit.
type Outcome uint8

// The outcomes, counted in the metrics by name.
const (
	Counted    Outcome = iota // queued for writing
	Refused                   // the body is not a beacon (see ParseBeacon)
	NotCounted                // a path the analytics do not count
	Bot                       // a crawler, monitor or command-line client, or no user agent
	NoSalt                    // this instance does not hold the day's salt yet
	Dropped                   // the queue was full
	// Outcomes the web layer decides before a hit reaches Count (Note):
	Declined  // Global Privacy Control, Do Not Track, the visitor's choice, a customer's objection or restriction
	CrossSite // not sent by one of the site's own pages
	Flood     // too many beacons from one address this minute
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"counted", "refused", "not_counted", "bot", "no_salt", "dropped", "declined", "cross_site", "flood"}

func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", o)
}

// viewRow and engagedRow are what the writers store.
type viewRow struct {
	at                                   time.Time
	view                                 string
	visitor                              int64
	path, referrer                       string
	source, medium, campaign             string
	browser, device, screen, countryCode string
}

type engagedRow struct {
	at   time.Time
	view string
	ms   int64
}

// Counter counts beacons. Create it with New; Close it after the HTTP
// server has stopped.
type Counter struct {
	db        *db.DB
	clock     clock.Clock
	log       *slog.Logger
	siteHost  string
	salts     Salts
	countries Countries

	views   *batch.Writer[viewRow]
	engaged *batch.Writer[engagedRow]

	outcomes [numOutcomes]atomic.Int64
	macs     sync.Pool // *keyedMAC

	// batch is the writers' batch size; full batches of views, the
	// common case under load, reuse one prepared statement (parsing a
	// statement of 6,500 parameters was a third of the writer's time).
	batch     int
	fullViews *sql.Stmt // the writer's alone
}

// keyedMAC is an HMAC under one salt, reused across hits of the day.
type keyedMAC struct {
	salt [32]byte
	mac  hash.Hash
	sum  [sha256.Size]byte
	buf  []byte // what is hashed, gathered for one Write
}

// New starts a Counter writing to d.
func New(d *db.DB, o Options) (*Counter, error) {
	if o.Salts == nil {
		return nil, fmt.Errorf("analytics: no salt keeper given")
	}
	c := &Counter{db: d, clock: o.Clock, log: o.Logger, siteHost: requestlog.HostOf(o.Site), salts: o.Salts,
		countries: o.Countries}
	if c.clock == nil {
		c.clock = clock.System{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.batch = o.Batch
	if c.batch <= 0 {
		c.batch = batch.DefaultBatch
	}
	bo := batch.Options{Clock: c.clock, Logger: c.log, Queue: o.Queue, Batch: c.batch, Interval: o.Interval}
	bo.Name = "analytics views"
	c.views = batch.New(bo, c.writeViews)
	bo.Name = "analytics engaged time"
	c.engaged = batch.New(bo, c.writeEngaged)
	return c, nil
}

// Day is the UTC day of t as the tables store it.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// maxUserAgent caps the user agent hashed and parsed.
const maxUserAgent = 512

// Count checks a hit and queues what it reports. It never waits.
func (c *Counter) Count(h Hit) Outcome {
	o := c.count(h)
	c.outcomes[o].Add(1)
	return o
}

// Note counts a hit the web layer did not hand to Count, with its reason.
func (c *Counter) Note(o Outcome) {
	if o < numOutcomes {
		c.outcomes[o].Add(1)
	}
}

func (c *Counter) count(h Hit) Outcome {
	b, err := ParseBeacon(h.Body)
	if err != nil {
		return Refused
	}
	if b.Kind == Engaged {
		if !c.engaged.Add(engagedRow{at: h.At, view: b.View, ms: b.Engaged.Milliseconds()}) {
			return Dropped
		}
		return Counted
	}
	if h.Countable != nil && !h.Countable(b.Path) {
		return NotCounted
	}
	ua := h.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	br := requestlog.Describe(ua)
	if ua == "" || br.Family == "bot" {
		return Bot
	}
	salt, ok := c.salts.Salt(h.At)
	if !ok {
		return NoSalt
	}
	row := viewRow{at: h.At, view: b.View, visitor: c.visitor(&salt, h.Addr, ua), path: b.Path,
		referrer: c.referrerHost(b.Referrer), source: b.Source, medium: b.Medium, campaign: b.Campaign,
		browser: br.Family, device: br.Device, screen: b.Screen}
	if c.countries != nil && h.Addr.IsValid() {
		row.countryCode = c.countries.Country(h.Addr.Unmap())
	}
	if !c.views.Add(row) {
		return Dropped
	}
	return Counted
}

// visitor is the day's number of a browser: HMAC-SHA256 under the salt of
// the site's host, the address and the user agent, cut to 64 bits (enough
// to tell a day's visitors apart; collisions merge two visitors now and
// then in a million).
func (c *Counter) visitor(salt *[32]byte, addr netip.Addr, ua string) int64 {
	m, _ := c.macs.Get().(*keyedMAC)
	if m == nil || m.salt != *salt {
		m = &keyedMAC{salt: *salt, mac: hmac.New(sha256.New, salt[:])}
	} else {
		m.mac.Reset()
	}
	var a [16]byte
	if addr.IsValid() {
		a = addr.Unmap().As16()
	}
	// One buffer kept with the MAC: string conversions passed to the
	// hash's Write would each allocate.
	m.buf = append(append(append(append(m.buf[:0], c.siteHost...), 0), a[:]...), ua...)
	m.mac.Write(m.buf)
	sum := m.mac.Sum(m.sum[:0])
	var v int64 // the first 8 bytes, big-endian; any sign will do
	for _, b := range sum[:8] {
		v = v<<8 | int64(b)
	}
	c.macs.Put(m)
	return v
}

// referrerHost keeps a referrer's host when it is another site.
func (c *Counter) referrerHost(ref string) string {
	if h := requestlog.HostOf(ref); h != c.siteHost {
		return h
	}
	return ""
}

// Outcomes counts the hits of each outcome since New.
func (c *Counter) Outcomes() map[string]int64 {
	m := make(map[string]int64, numOutcomes)
	for i := range numOutcomes {
		m[outcomeNames[i]] = c.outcomes[i].Load()
	}
	return m
}

// Flush writes everything queued.
func (c *Counter) Flush(ctx context.Context) error {
	return errors.Join(c.views.Flush(ctx), c.engaged.Flush(ctx))
}

// Close stops counting and writes everything queued.
func (c *Counter) Close(ctx context.Context) error {
	err := errors.Join(c.views.Close(ctx), c.engaged.Close(ctx))
	if err == nil && c.fullViews != nil {
		_ = c.fullViews.Close() // the writer has stopped: no one uses it
	}
	return err
}

// Written counts the rows written (views and engaged times).
func (c *Counter) Written() int64 { return c.views.Written() + c.engaged.Written() }

func viewsInsert(dialect db.Dialect, n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO analytics_views (day, at, view, visitor, path, referrer_host, utm_source, utm_medium, utm_campaign, browser, device, screen, country) VALUES `)
	dialect.Rows(&q, n, 13)
	return q.String()
}

func (c *Counter) writeViews(ctx context.Context, rows []viewRow) error {
	args := make([]any, 0, len(rows)*13)
	var day any // a batch's rows are nearly all of one day: its text made and boxed once
	var dayOf time.Time
	for _, r := range rows {
		if d := r.at.UTC().Truncate(24 * time.Hour); !d.Equal(dayOf) {
			day, dayOf = Day(d), d
		}
		args = append(args, day, r.at.UTC(), r.view, r.visitor, r.path, r.referrer, r.source, r.medium, r.campaign,
			r.browser, r.device, r.screen, r.countryCode)
	}
	// Straight on the writer pool, not db.Tx: the analytics are not
	// content, and moving db.ContentStamp would have the page cache
	// re-read content_version (as with the request log).
	if len(rows) == c.batch {
		if c.fullViews == nil {
			st, err := c.db.Writer().PrepareContext(ctx, viewsInsert(c.db.Dialect, c.batch))
			if err != nil {
				return err
			}
			c.fullViews = st
		}
		_, err := c.fullViews.ExecContext(ctx, args...)
		return err
	}
	_, err := c.db.Writer().ExecContext(ctx, viewsInsert(c.db.Dialect, len(rows)), args...)
	return err
}

func (c *Counter) writeEngaged(ctx context.Context, rows []engagedRow) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO analytics_engaged (day, at, view, ms) VALUES `)
	c.db.Dialect.Rows(&q, len(rows), 4)
	args := make([]any, 0, len(rows)*4)
	for _, r := range rows {
		args = append(args, Day(r.at), r.at.UTC(), r.view, r.ms)
	}
	_, err := c.db.Writer().ExecContext(ctx, q.String(), args...)
	return err
}

// Describe, Collect: the Counter is a prometheus.Collector.
var (
	descHits    = prometheus.NewDesc("storekeep_analytics_beacons_total", "Analytics beacons by outcome.", []string{"outcome"}, nil)
	descWritten = prometheus.NewDesc("storekeep_analytics_rows_written_total", "Analytics rows written (views and engaged times).", nil, nil)
	descLost    = prometheus.NewDesc("storekeep_analytics_rows_lost_total", "Analytics rows dropped by a full queue or a failed batch.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *Counter) Describe(ch chan<- *prometheus.Desc) {
	ch <- descHits
	ch <- descWritten
	ch <- descLost
}

// Collect implements prometheus.Collector.
func (c *Counter) Collect(ch chan<- prometheus.Metric) {
	for i := range numOutcomes {
		ch <- prometheus.MustNewConstMetric(descHits, prometheus.CounterValue, float64(c.outcomes[i].Load()), outcomeNames[i])
	}
	ch <- prometheus.MustNewConstMetric(descWritten, prometheus.CounterValue, float64(c.Written()))
	ch <- prometheus.MustNewConstMetric(descLost, prometheus.CounterValue, float64(c.views.Dropped()+c.engaged.Dropped()))
}
