package requestlog_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/requestlog"
	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

const (
	firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	chrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36"
	safari  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	curl    = "curl/8.5.0"
	google  = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

func count(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM request_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func entry(i int) requestlog.Entry {
	return requestlog.Entry{At: t0.Add(time.Duration(i) * time.Millisecond), Route: "GET /products/{slug}", Status: 200,
		Network: netip.MustParseAddr("198.51.100.7"), UserAgent: firefox, Host: "127.0.0.1:8080"}
}

// TestDescribe: family and major version of real browsers, "bot" for
// crawlers and command-line clients, nothing for what the parser does not
// know; never more than the family, a short number and the device class.
func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		ua   string
		want requestlog.Browser
	}{
		{firefox, requestlog.Browser{Family: "Firefox", Version: "128", Device: "desktop"}},
		{chrome, requestlog.Browser{Family: "Chrome", Version: "126", Device: "desktop"}},
		{safari, requestlog.Browser{Family: "Safari", Version: "17", Device: "mobile"}},
		{curl, requestlog.Browser{Family: "bot", Device: "bot"}},
		{google, requestlog.Browser{Family: "bot", Device: "bot"}},
		{"", requestlog.Browser{}},
		{"something nobody sends", requestlog.Browser{}},
	} {
		if got := requestlog.Describe(c.ua); got != c.want {
			t.Errorf("Describe(%q) = %+v, want %+v", c.ua, got, c.want)
		}
	}
}

// FuzzDescribe: whatever a client sends as its user agent, what is kept
// is short, printable and never the user agent itself.
func FuzzDescribe(f *testing.F) {
	for _, s := range []string{firefox, chrome, safari, curl, google, "", "Mozilla/5.0 (\x00\xff) Firefox/99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		b := requestlog.Describe(ua)
		for _, v := range []string{b.Family, b.Version, b.Device} {
			if len(v) > 40 || !utf8.ValidString(v) || (len(ua) > 40 && v == ua) {
				t.Fatalf("Describe(%q) = %+v", ua, b)
			}
		}
		for _, r := range b.Version {
			if r < '0' || r > '9' {
				t.Fatalf("version %q is not a number", b.Version)
			}
		}
	})
}

// FuzzHostOf: a referrer becomes a host name of safe characters or
// nothing; no path, query, user or port survives.
func FuzzHostOf(f *testing.F) {
	for _, s := range []string{"https://www.example.com/a?b=c", "http://user:pw@Example.COM:8080/", "https://[2001:db8::1]:443/x", "ftp://x", "https://a b/", "https://ex.com./"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		h := requestlog.HostOf(ref)
		if len(h) > 253 || strings.ContainsAny(h, "/?#@ %") || strings.ToLower(h) != h {
			t.Fatalf("HostOf(%q) = %q", ref, h)
		}
	})
}

func TestHostOf(t *testing.T) {
	for ref, want := range map[string]string{
		"https://www.Example.com/path?q=secret#x": "www.example.com",
		"http://user:pw@example.com:8080/":        "example.com",
		"https://[2001:DB8::1]:443/x":             "2001:db8::1",
		"https://news.example.org.":               "news.example.org",
		"android-app://com.example/":              "",
		"https://a b/":                            "",
		"":                                        "",
		"/relative":                               "",
	} {
		if got := requestlog.HostOf(ref); got != want {
			t.Errorf("HostOf(%q) = %q, want %q", ref, got, want)
		}
	}
}

// TestBatchesRows: entries become rows with what Describe and the
// referrer's host keep; the route loses its method, the home page's {$},
// an external referrer keeps its host only, the site's own is dropped.
func TestBatchesRows(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := requestlog.New(d, requestlog.Options{Clock: clock.NewFixed(t0), Site: "https://shop.example", Batch: 3})
		defer l.Close(ctx)
		l.Record(requestlog.Entry{At: t0, Route: "GET /{$}", Status: 200, Network: netip.MustParseAddr("2001:db8::7"), UserAgent: chrome,
			Referrer: "https://news.example.org/story?id=42", Host: "shop.example"})
		l.Record(requestlog.Entry{At: t0, Route: "GET /pricing", Status: 200, Network: netip.MustParseAddr("::ffff:198.51.100.7"), UserAgent: firefox,
			Referrer: "https://shop.example/products/x?q=1", Host: "shop.example"})
		l.Record(requestlog.Entry{At: t0, Route: "", Status: 404, UserAgent: curl, Referrer: "http://internal.proxy:8080/", Host: "internal.proxy:8080"})
		for i := 0; i < 4; i++ {
			l.Record(entry(i))
		}
		if err := l.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d); n != 7 || l.Written() != 7 {
			t.Fatalf("%d rows, %d written, want 7", n, l.Written())
		}
		rows, err := d.QueryContext(ctx, `SELECT route, status, browser, browser_version, device, referrer_host, network FROM request_log ORDER BY id LIMIT 3`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var route, browser, version, device, ref, network string
			var status int
			if err := rows.Scan(&route, &status, &browser, &version, &device, &ref, &network); err != nil {
				t.Fatal(err)
			}
			got = append(got, strings.Join([]string{route, browser, version, device, ref, network}, "|"))
		}
		want := []string{"/|Chrome|126|desktop|news.example.org|2001:db8::7", "/pricing|Firefox|128|desktop||198.51.100.7", "unmatched|bot||bot||"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestFullQueueDropsInsteadOfBlocking: with the writer stuck, Record
// still returns at once; what does not fit is counted, warned about once
// a minute, and everything that fitted is written once the writer moves.
func TestFullQueueDropsInsteadOfBlocking(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		var logs syncBuffer
		l := requestlog.New(d, requestlog.Options{Clock: clk, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Queue: 4, Batch: 1})
		release := make(chan struct{})
		entered := make(chan struct{}, 100)
		var once sync.Once
		requestlog.SetBeforeWrite(l, func() {
			entered <- struct{}{}
			once.Do(func() { <-release })
		})
		l.Record(entry(0)) // taken by the writer, which then blocks
		<-entered
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 1; i <= 20; i++ {
				l.Record(entry(i))
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Record blocked on a full queue")
		}
		if l.Dropped() != 16 {
			t.Fatalf("dropped %d, want 16 (20 recorded, 4 queued)", l.Dropped())
		}
		if n := strings.Count(logs.String(), "queue full"); n != 1 {
			t.Fatalf("%d warnings, want 1:\n%s", n, logs.String())
		}
		clk.Advance(time.Minute)
		l.Record(entry(21))
		if n := strings.Count(logs.String(), "queue full"); n != 2 {
			t.Fatalf("%d warnings a minute later, want 2", n)
		}
		if strings.Contains(logs.String(), "198.51.100") || strings.Contains(logs.String(), "Firefox") {
			t.Fatalf("the warning holds an entry's data: %s", logs.String())
		}
		close(release)
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d); n != 5 {
			t.Fatalf("%d rows, want the 5 that were queued", n)
		}
	})
}

// TestCloseWritesEverythingQueued: entries queued and not yet written (no
// batch full, no timer fired) are all in the table once Close returns.
func TestCloseWritesEverythingQueued(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		const n = 1234
		l := requestlog.New(d, requestlog.Options{Clock: clock.NewFixed(t0), Queue: n})
		for i := 0; i < n; i++ {
			l.Record(entry(i))
		}
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := count(t, d); got != n || l.Dropped() != 0 {
			t.Fatalf("%d rows, %d dropped, want %d rows", got, l.Dropped(), n)
		}
		l.Record(entry(0)) // after Close: dropped, not blocked, not written
		if got := count(t, d); got != n || l.Dropped() != 1 {
			t.Fatalf("after Close: %d rows, %d dropped", got, l.Dropped())
		}
	})
}

// TestIntervalWritesAPartBatch: a batch that does not fill is written
// once its first entry has waited the interval (on the test's clock).
func TestIntervalWritesAPartBatch(t *testing.T) {
	d := testutil.SQLite(t)
	clk := clock.NewFixed(t0)
	set := make(chan struct{}, 1)
	l := requestlog.NewWithTimerSet(d, requestlog.Options{Clock: clk}, func() { set <- struct{}{} })
	defer l.Close(context.Background())
	written := make(chan struct{}, 1)
	requestlog.SetBeforeWrite(l, func() { written <- struct{}{} })
	l.Record(entry(0))
	l.Record(entry(1))
	<-set
	clk.Advance(time.Second - time.Nanosecond)
	select {
	case <-written:
		t.Fatal("written before the interval passed")
	default:
	}
	clk.Advance(time.Nanosecond)
	<-written
	if err := l.Flush(context.Background()); err != nil { // waits for the write to finish
		t.Fatal(err)
	}
	if n := count(t, d); n != 2 {
		t.Fatalf("%d rows after the interval, want 2", n)
	}
}

// TestFailedWritesAreCountedAndLogged: a database that refuses the rows
// costs the batch, counted and logged without its content.
func TestFailedWritesAreCountedAndLogged(t *testing.T) {
	d := testutil.SQLite(t)
	if _, err := d.ExecContext(context.Background(), `DROP TABLE request_log`); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	l := requestlog.New(d, requestlog.Options{Clock: clock.NewFixed(t0), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	l.Record(entry(0))
	if err := l.Flush(context.Background()); err == nil {
		t.Fatal("Flush reports no error")
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.Dropped() != 1 || !strings.Contains(logs.String(), "could not be written") || strings.Contains(logs.String(), "198.51.100") {
		t.Fatalf("dropped %d; log: %s", l.Dropped(), logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
