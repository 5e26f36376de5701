package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/requestlog"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

const (
	firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	chromeUA  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36"
	curlUA    = "curl/8.5.0"
)

type logRow struct {
	route, browser, version, device, referrer, network string
	status                                             int
}

func logRows(t *testing.T, d *db.DB) []logRow {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT route, status, browser, browser_version, device, referrer_host, network FROM request_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []logRow
	for rows.Next() {
		var r logRow
		if err := rows.Scan(&r.route, &r.status, &r.browser, &r.version, &r.device, &r.referrer, &r.network); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestPageRequestsAreLogged: page requests through the whole site become
// request_log rows with the route (never the path typed or its query),
// the status, the browser's family and major version, an external
// referrer's host (the site's own is dropped) and the address; the staff
// console, static files, the health check and the API are not pages; no
// row holds a query string or a user agent.
func TestPageRequestsAreLogged(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		rl := requestlog.New(d, requestlog.Options{Site: webtest.BaseURL})
		defer rl.Close(ctx)
		s := webtest.NewSite(t, d, webtest.WithRequestLog(rl))
		b := webtest.NewBrowser(s)
		get := func(target, ua, referrer string) int {
			h := http.Header{"User-Agent": {ua}}
			if referrer != "" {
				h.Set("Referer", referrer)
			}
			res, _ := b.Do(t, http.MethodGet, target, nil, h)
			return res.StatusCode
		}
		steps := []struct {
			target, ua, ref string
			status          int
		}{
			{"/?utm_source=newsletter&email=ann%40example.com", firefoxUA, "https://news.example.org/story?id=42", 200},
			{"/products/mailguard?ref=secret-token", chromeUA, webtest.BaseURL + "/?utm_source=x", 200},
			{"/no-such-page/ann@example.com", curlUA, "", 404},
			{"/pricing", "", "android-app://com.example.app/", 200},
			{"/staff/login", firefoxUA, "", 200},
			{"/healthz", firefoxUA, "", 200},
		}
		for _, st := range steps {
			if got := get(st.target, st.ua, st.ref); got != st.status {
				t.Fatalf("%s: %d, want %d", st.target, got, st.status)
			}
		}
		res, body := b.Get(t, "/")
		webtest.WantStatus(t, res, body, 200)
		if err := rl.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got := logRows(t, d)
		want := []logRow{
			{route: "/", status: 200, browser: "Firefox", version: "128", device: "desktop", referrer: "news.example.org", network: "192.0.2.1"},
			{route: "/products/{slug}", status: 200, browser: "Chrome", version: "126", device: "desktop", network: "192.0.2.1"},
			{route: "unmatched", status: 404, browser: "bot", device: "bot", network: "192.0.2.1"},
			{route: "/pricing", status: 200, network: "192.0.2.1"},
			{route: "/", status: 200, network: "192.0.2.1"},
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		var all string
		if err := d.QueryRowContext(ctx, `SELECT COALESCE(string_agg(route || ' ' || browser || ' ' || browser_version || ' ' || device || ' ' || referrer_host || ' ' || network, ' '), '') FROM request_log`).Scan(&all); err != nil {
			if d.Dialect != db.SQLite {
				t.Fatal(err)
			}
			if err := d.QueryRowContext(ctx, `SELECT COALESCE(group_concat(route || ' ' || browser || ' ' || browser_version || ' ' || device || ' ' || referrer_host || ' ' || network, ' '), '') FROM request_log`).Scan(&all); err != nil {
				t.Fatal(err)
			}
		}
		for _, bad := range []string{"?", "utm", "newsletter", "ann", "secret", "mailguard", "Mozilla", "Gecko", "curl/", "story", "android"} {
			if strings.Contains(all, bad) {
				t.Errorf("the request log holds %q: %s", bad, all)
			}
		}
	})
}

// TestPagesDoNotWaitForTheRequestLog: with the log's database refusing
// writes, or its writer stuck behind another transaction, pages are
// served all the same; what cannot be written is counted.
func TestPagesDoNotWaitForTheRequestLog(t *testing.T) {
	ctx := context.Background()
	broken := testutil.SQLite(t)
	if _, err := broken.ExecContext(ctx, `DROP TABLE request_log`); err != nil {
		t.Fatal(err)
	}
	stuck := testutil.SQLite(t)
	release := make(chan struct{})
	holding := make(chan struct{})
	go func() {
		_ = stuck.Tx(ctx, func(*sql.Tx) error { close(holding); <-release; return nil })
	}()
	<-holding
	defer close(release)
	for name, logDB := range map[string]*db.DB{"refusing": broken, "stuck": stuck} {
		t.Run(name, func(t *testing.T) {
			rl := requestlog.New(logDB, requestlog.Options{Site: webtest.BaseURL, Queue: 2, Batch: 1})
			s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithRequestLog(rl))
			b := webtest.NewBrowser(s)
			start := time.Now()
			for range 20 {
				res, body := b.Get(t, "/pricing")
				webtest.WantStatus(t, res, body, 200)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("20 pages took %v: the request path waits for the log", el)
			}
			if name == "refusing" {
				_ = rl.Close(ctx)
				if rl.Dropped() != 20 || rl.Written() != 0 {
					t.Fatalf("dropped %d, written %d, want 20 dropped", rl.Dropped(), rl.Written())
				}
			} else if rl.Dropped() < 16 {
				// The writer took at most one queue's worth (2) before it
				// stuck; the queue holds 2 more.
				t.Fatalf("dropped %d of 20 with the writer stuck, want at least 16", rl.Dropped())
			}
		})
	}
}
