// Package requestlog records page requests of the site (log data) without
// slowing them down: Record puts an entry in a bounded queue and returns
// at once; a background writer turns entries into rows of request_log in
// batches, one transaction and one multi-row INSERT per batch. Close
// writes everything still queued, so a clean shutdown loses nothing.
//
// What is kept of a request is minimal (docs/request-log.md): the route
// pattern, the status, the time, the browser's family, major version and
// device class (the raw user agent is read here, in memory, and never
// stored), the referring site's host when it is another site, and the
// network address, which the retention purge shortens to its network
// after a few days (privacy.LogAddressSetting) and deletes with the row.
//
// When the queue is full (the database cannot keep up, or is down), an
// entry is dropped and counted rather than the request made to wait: the
// log serves security, and a site that slows down under a flood because
// it logs the flood would serve it badly. Drops are counted in the
// metrics and warned about in the log at most once a minute.
package requestlog

import (
	"context"
	"database/sql"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storekeep/storekeep/internal/batch"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
)

// Entry is one page request as the web layer saw it. UserAgent and
// Referrer are the raw headers: they stay in memory, and the writer keeps
// only what Describe derives from them.
type Entry struct {
	At time.Time
	// Route is the path of the route pattern that matched ("/products/{slug}"),
	// or "unmatched"; never the path as requested.
	Route   string
	Status  int
	Network netip.Addr
	// UserAgent and Referrer are the request's headers, cut to maxHeader
	// bytes by Record.
	UserAgent string
	Referrer  string
	// Host is the request's Host header: a referrer from it is this site.
	Host string
}

// Options configures a Logger. Zero values take the defaults.
type Options struct {
	// Clock tells the time of warnings and times the batches; nil is the
	// system clock.
	Clock clock.Clock
	// Logger receives the writer's failures and the warnings about
	// dropped entries (never an entry's content); nil discards them.
	Logger *slog.Logger
	// Site is the site's base URL: referrers from its host are internal
	// and stored as empty.
	Site string
	// Queue is how many entries wait at most (default 10,000: at most
	// about 15 MiB with every header at its cap, seconds of traffic at
	// full speed).
	Queue int
	// Batch is the most rows one INSERT writes (default 500).
	Batch int
	// Interval is how long an entry waits at most before its batch is
	// written (default 1 s).
	Interval time.Duration
}

// Defaults of Options.
const (
	DefaultQueue    = 10000
	DefaultBatch    = 500
	DefaultInterval = time.Second
)

// maxHeader caps the user agent and referrer an entry holds in memory:
// the parser needs no more, and the queue's memory stays bounded.
const maxHeader = 512

// warnEvery is the least time between two warnings about dropped entries.
const warnEvery = time.Minute

// Logger queues entries and writes them in batches (internal/batch: a
// bounded queue, one writer, Close writes what is queued). Create it with
// New, give it to the web layer (web.Options.RequestLog), Close it after
// the HTTP server has stopped.
type Logger struct {
	db       *db.DB
	siteHost string
	batch    int
	w        *batch.Writer[Entry]

	// The writer's alone (no lock). browsers remembers what Describe said
	// of recent user agents, as the values the INSERT binds (boxed once,
	// not once a row); most requests come from a few browsers. routes does
	// the same for route patterns, a fixed set.
	browsers map[string][3]any
	routes   map[string]any
	// full is the prepared INSERT of a full batch: parsing a 4,000-parameter
	// statement for every batch was a third of the writer's CPU. Part
	// batches (a quiet site, Flush, Close) are rare and built as needed.
	full *sql.Stmt
	args []any // the last batch's arguments, reused

	// beforeWrite, when set (tests), runs before each batch is written.
	beforeWrite func()
}

// New starts a Logger writing to d.
func New(d *db.DB, o Options) *Logger {
	return newLogger(d, o, nil)
}

func newLogger(d *db.DB, o Options, timerSet func()) *Logger {
	l := &Logger{db: d, batch: o.Batch, siteHost: hostOf(o.Site)}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if l.batch <= 0 {
		l.batch = DefaultBatch
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	l.w = batch.New(batch.Options{Name: "request log", Clock: o.Clock, Logger: o.Logger, Queue: o.Queue, Batch: l.batch,
		Interval: o.Interval, TimerSet: timerSet}, l.write)
	return l
}

// Record queues e without ever waiting: when the queue is full, or the
// Logger is closed, e is dropped and counted.
func (l *Logger) Record(e Entry) {
	e.UserAgent = cut(e.UserAgent, maxHeader)
	e.Referrer = cut(e.Referrer, maxHeader)
	e.Host = cut(e.Host, maxHeader)
	l.w.Add(e)
}

// Flush writes everything queued before it was called, and returns the
// first write error.
func (l *Logger) Flush(ctx context.Context) error { return l.w.Flush(ctx) }

// Close stops taking entries and writes everything queued, waiting until
// it is written or ctx ends. Call it once the HTTP server has stopped, so
// no request can still be recording.
func (l *Logger) Close(ctx context.Context) error {
	err := l.w.Close(ctx)
	if err == nil && l.full != nil {
		_ = l.full.Close() // the writer has stopped
	}
	return err
}

// Written and Dropped count entries written and dropped (queue full,
// closed, or lost with a batch that failed to write).
func (l *Logger) Written() int64 { return l.w.Written() }

// Dropped counts entries dropped since New.
func (l *Logger) Dropped() int64 { return l.w.Dropped() }

// write inserts one batch in one statement. A batch that fails is logged
// and counted as dropped by the batch writer: retrying it would hold up
// the batches behind it, and the queue would overflow anyway.
func (l *Logger) write(ctx context.Context, batch []Entry) error {
	if l.beforeWrite != nil {
		l.beforeWrite()
	}
	args := l.args[:0]
	for _, e := range batch {
		b := l.describe(e.UserAgent)
		network := ""
		if e.Network.IsValid() {
			network = e.Network.Unmap().String()
		}
		args = append(args, e.At.UTC(), l.route(e.Route), e.Status, b[0], b[1], b[2],
			l.referrerHost(e.Referrer, e.Host), network)
	}
	// One statement, committed on its own, straight on the writer pool:
	// not through db.Tx or db.ExecContext, which move db.ContentStamp after
	// every commit so that the page cache re-reads content_version. The
	// request log is not content (no trigger of migration 00014 is on it),
	// and thirty batches a second would have every page request in flight
	// re-read it.
	var err error
	if len(batch) == l.batch {
		if l.full == nil {
			l.full, err = l.db.Writer().PrepareContext(ctx, l.insert(len(batch)))
		}
		if err == nil {
			_, err = l.full.ExecContext(ctx, args...)
		}
	} else {
		_, err = l.db.Writer().ExecContext(ctx, l.insert(len(batch)), args...)
	}
	clear(args) // let go of the values until the next batch
	l.args = args[:0]
	return err
}

// insert is the INSERT of n rows.
func (l *Logger) insert(n int) string {
	var q strings.Builder
	q.Grow(120 + n*40)
	q.WriteString(`INSERT INTO request_log (at, route, status, browser, browser_version, device, referrer_host, network) VALUES `)
	l.db.Dialect.Rows(&q, n, 8)
	return q.String()
}

// browserCache is how many user agents the writer remembers; the map is
// emptied when it is full, so its memory stays bounded.
const browserCache = 1024

// describe is Describe, remembered for recent user agents, as the
// family, version and device to bind.
func (l *Logger) describe(ua string) [3]any {
	if b, ok := l.browsers[ua]; ok {
		return b
	}
	if l.browsers == nil || len(l.browsers) >= browserCache {
		l.browsers = make(map[string][3]any, browserCache)
	}
	d := Describe(ua)
	b := [3]any{d.Family, d.Version, d.Device}
	l.browsers[ua] = b
	return b
}

// route is route(pattern), remembered (the patterns are the site's routes
// and "unmatched", a fixed set; bounded all the same).
func (l *Logger) route(pattern string) any {
	if r, ok := l.routes[pattern]; ok {
		return r
	}
	if l.routes == nil || len(l.routes) >= browserCache {
		l.routes = make(map[string]any)
	}
	var r any = route(pattern)
	l.routes[pattern] = r
	return r
}

// route keeps a route pattern's path: "GET /products/{slug}" is
// "/products/{slug}"; the empty route is "unmatched".
func route(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimSpace(pattern[i+1:])
	}
	if p, ok := strings.CutSuffix(pattern, "{$}"); ok {
		pattern = p // "/{$}" is the home page, "/"
	}
	return cut(pattern, 200)
}

// referrerHost is the host of an http(s) referrer from another site,
// lower-cased; "" for none, this site's own pages, and anything that is
// not an http(s) URL with a plausible host name.
func (l *Logger) referrerHost(ref, reqHost string) string {
	h := hostOf(ref)
	if h == "" || h == l.siteHost || h == hostOf("http://"+reqHost) {
		return ""
	}
	return h
}

// hostOf is the host name of an http(s) URL, lower-cased, without port
// and trailing dot; "" when there is none or it holds characters no host
// name or address has.
func hostOf(raw string) string {
	rest, ok := strings.CutPrefix(raw, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(raw, "http://"); !ok {
			return ""
		}
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:] // user information is never kept
	}
	host := rest
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return ""
		}
		host = host[1:end]
		if _, err := netip.ParseAddr(host); err != nil {
			return ""
		}
		return strings.ToLower(host)
	}
	if i := strings.IndexByte(host, ':'); i >= 0 {
		if _, err := strconv.Atoi(host[i+1:]); err != nil && host[i+1:] != "" {
			return ""
		}
		host = host[:i]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || len(host) > 253 {
		return ""
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return ""
		}
	}
	return host
}

// cut shortens s to at most n bytes, at a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Describe, Collect: the Logger is a prometheus.Collector, which the web
// layer registers with its metrics.
var (
	descWritten = prometheus.NewDesc("storekeep_request_log_written_total", "Page requests written to the request log.", nil, nil)
	descDropped = prometheus.NewDesc("storekeep_request_log_dropped_total",
		"Page requests not recorded in the request log: the queue was full (full) or their batch failed to write (failed).", []string{"reason"}, nil)
	descQueued = prometheus.NewDesc("storekeep_request_log_queued", "Page requests waiting to be written to the request log.", nil, nil)
)

// Describe implements prometheus.Collector.
func (l *Logger) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWritten
	ch <- descDropped
	ch <- descQueued
}

// Collect implements prometheus.Collector.
func (l *Logger) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descWritten, prometheus.CounterValue, float64(l.w.Written()))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(l.w.DroppedFull()), "full")
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(l.w.DroppedFailed()), "failed")
	ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(l.w.Queued()))
}
