package analytics_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

const (
	firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	safari  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	google  = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

// salts is a fixed salt per day, like the keeper gives.
type salts struct{ off bool }

func (s salts) Salt(now time.Time) ([32]byte, bool) {
	if s.off {
		return [32]byte{}, false
	}
	var b [32]byte
	copy(b[:], analytics.Day(now))
	return b, true
}

type countries map[netip.Addr]string

func (c countries) Country(ip netip.Addr) string { return c[ip] }

func view(id, path string, extra ...string) []byte {
	s := fmt.Sprintf(`{"t":"v","id":%q,"p":%q`, id, path)
	for _, e := range extra {
		s += "," + e
	}
	return []byte(s + "}")
}

func engaged(id string, ms int) []byte {
	return fmt.Appendf(nil, `{"t":"e","id":%q,"ms":%d}`, id, ms)
}

func TestParseBeacon(t *testing.T) {
	good := "0123456789abcdef"
	for _, c := range []struct {
		name string
		body string
		want analytics.Beacon
		err  error
	}{
		{"view", `{"t":"v","id":"` + good + `","p":"/products/milter?x=1#top","r":"https://news.example.org/a?b","q":"?utm_source=Newsletter&utm_medium=email&utm_campaign=spring%202026","w":1280}`,
			analytics.Beacon{Kind: analytics.View, View: good, Path: "/products/milter", Referrer: "https://news.example.org/a?b",
				Source: "newsletter", Medium: "email", Campaign: "spring 2026", Screen: "desktop"}, nil},
		{"phone", `{"t":"v","id":"` + good + `","p":"/","w":390}`, analytics.Beacon{Kind: analytics.View, View: good, Path: "/", Screen: "phone"}, nil},
		{"campaign with an address is left out", `{"t":"v","id":"` + good + `","p":"/","q":"utm_source=ada@example.com&utm_medium=x"}`,
			analytics.Beacon{Kind: analytics.View, View: good, Path: "/", Medium: "x"}, nil},
		{"silly screen", `{"t":"v","id":"` + good + `","p":"/","w":1e300}`, analytics.Beacon{Kind: analytics.View, View: good, Path: "/"}, nil},
		{"engaged", `{"t":"e","id":"` + good + `","ms":12345}`, analytics.Beacon{Kind: analytics.Engaged, View: good, Engaged: 12345 * time.Millisecond}, nil},
		{"engaged capped", `{"t":"e","id":"` + good + `","ms":7200000}`, analytics.Beacon{Kind: analytics.Engaged, View: good, Engaged: analytics.MaxEngaged}, nil},
		{"engaged negative", `{"t":"e","id":"` + good + `","ms":-5}`, analytics.Beacon{}, analytics.ErrEngaged},
		{"engaged huge", `{"t":"e","id":"` + good + `","ms":1e12}`, analytics.Beacon{}, analytics.ErrEngaged},
		{"not json", `t=v&id=` + good, analytics.Beacon{}, analytics.ErrBody},
		{"array", `[1,2]`, analytics.Beacon{}, analytics.ErrBody},
		{"wrong types", `{"t":1,"id":"` + good + `"}`, analytics.Beacon{}, analytics.ErrBody},
		{"empty", ``, analytics.Beacon{}, analytics.ErrBody},
		{"huge", `{"t":"v","id":"` + good + `","p":"/` + strings.Repeat("a", analytics.MaxBody) + `"}`, analytics.Beacon{}, analytics.ErrBody},
		{"kind", `{"t":"x","id":"` + good + `"}`, analytics.Beacon{}, analytics.ErrKind},
		{"short id", `{"t":"v","id":"abc","p":"/"}`, analytics.Beacon{}, analytics.ErrView},
		{"upper id", `{"t":"v","id":"0123456789ABCDEF","p":"/"}`, analytics.Beacon{}, analytics.ErrView},
		{"relative path", `{"t":"v","id":"` + good + `","p":"products"}`, analytics.Beacon{}, analytics.ErrPath},
		{"scheme-relative", `{"t":"v","id":"` + good + `","p":"//evil.example"}`, analytics.Beacon{}, analytics.ErrPath},
		{"control", `{"t":"v","id":"` + good + `","p":"/a\u0000b"}`, analytics.Beacon{}, analytics.ErrPath},
		{"long path", `{"t":"v","id":"` + good + `","p":"/` + strings.Repeat("a", 400) + `"}`, analytics.Beacon{}, analytics.ErrPath},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := analytics.ParseBeacon([]byte(c.body))
			if err != c.err {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if got != c.want {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// FuzzParseBeacon: no body crashes the parser, and what it accepts holds
// only what the tables may keep.
func FuzzParseBeacon(f *testing.F) {
	f.Add([]byte(`{"t":"v","id":"0123456789abcdef","p":"/products/milter","r":"https://a.example/","q":"?utm_source=x","w":1280}`))
	f.Add([]byte(`{"t":"e","id":"0123456789abcdef","ms":1000}`))
	f.Add([]byte(`{"t":"v","id":"0123456789abcdef","p":"/\u00e9","q":"utm_campaign=%ZZ"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := analytics.ParseBeacon(body)
		if err != nil {
			return
		}
		if b.Kind == analytics.View && (!strings.HasPrefix(b.Path, "/") || strings.ContainsAny(b.Path, "?#\x00") || len(b.Path) > 300) {
			t.Fatalf("path %q accepted", b.Path)
		}
		for _, v := range []string{b.Source, b.Medium, b.Campaign} {
			if len(v) > 64 || strings.ContainsAny(v, "@=&<>\"") {
				t.Fatalf("campaign value %q accepted", v)
			}
		}
		if b.Engaged < 0 || b.Engaged > analytics.MaxEngaged {
			t.Fatalf("engaged %v accepted", b.Engaged)
		}
	})
}

func newCounter(t *testing.T, d *db.DB, o analytics.Options) *analytics.Counter {
	t.Helper()
	if o.Salts == nil {
		o.Salts = salts{}
	}
	if o.Site == "" {
		o.Site = "https://shop.example.com"
	}
	c, err := analytics.New(d, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

type viewRow struct {
	Day, View, Path, Referrer, Source, Browser, Device, Screen, Country string
	Visitor                                                             int64
}

func views(t *testing.T, d *db.DB) []viewRow {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT day, view, path, referrer_host, utm_source, browser, device, screen, country, visitor FROM analytics_views ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []viewRow
	for rows.Next() {
		var r viewRow
		if err := rows.Scan(&r.Day, &r.View, &r.Path, &r.Referrer, &r.Source, &r.Browser, &r.Device, &r.Screen, &r.Country, &r.Visitor); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCountStoresTheLeastData: a view keeps the path, the referring site
// (not its page, and not this site), the campaign, the browser's family,
// device and screen class, the country when configured, and a visitor
// number; the address and the user agent are nowhere. Bots, uncountable
// paths, garbage and a missing salt store nothing.
func TestCountStoresTheLeastData(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ada := netip.MustParseAddr("198.51.100.7")
		c := newCounter(t, d, analytics.Options{Countries: countries{ada: "DE"}})
		hit := func(body []byte, ua string) analytics.Outcome {
			return c.Count(analytics.Hit{Body: body, At: t0, Addr: ada, UserAgent: ua,
				Countable: func(p string) bool { return !strings.HasPrefix(p, "/account") }})
		}
		for _, h := range []struct {
			body []byte
			ua   string
			want analytics.Outcome
		}{
			{view("00000000000000a1", "/products/milter", `"r":"https://news.example.org/story?id=5"`, `"q":"?utm_source=mastodon"`, `"w":1440`), firefox, analytics.Counted},
			{view("00000000000000a2", "/pricing", `"r":"https://shop.example.com/products/milter"`), firefox, analytics.Counted},
			{view("00000000000000a2", "/pricing"), firefox, analytics.Counted}, // a replay: stored again, counted once by the roll-up
			{engaged("00000000000000a1", 4200), firefox, analytics.Counted},
			{view("00000000000000a3", "/account/orders/SK-1"), firefox, analytics.NotCounted},
			{view("00000000000000a4", "/"), google, analytics.Bot},
			{view("00000000000000a5", "/"), "", analytics.Bot},
			{[]byte(`{"t":"v"`), firefox, analytics.Refused},
		} {
			if got := hit(h.body, h.ua); got != h.want {
				t.Fatalf("%s: %v, want %v", h.body, got, h.want)
			}
		}
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got := views(t, d)
		if len(got) != 3 {
			t.Fatalf("%d views stored, want 3: %+v", len(got), got)
		}
		if err := analytics.Rollup(ctx, d, t0); err != nil {
			t.Fatal(err)
		}
		if total := dailyRows(t, d, "2026-05-07")["total:"]; total.views != 2 {
			t.Fatalf("the replay counted: %+v", total)
		}
		if got[0].Path != "/products/milter" || got[0].Referrer != "news.example.org" || got[0].Source != "mastodon" ||
			got[0].Browser != "Firefox" || got[0].Device != "desktop" || got[0].Screen != "desktop" || got[0].Country != "DE" || got[0].Day != "2026-05-07" {
			t.Fatalf("first view %+v", got[0])
		}
		if got[1].Referrer != "" {
			t.Fatalf("the site's own page kept as a referrer: %+v", got[1])
		}
		if got[0].Visitor != got[1].Visitor || got[0].Visitor == 0 {
			t.Fatalf("one browser, two visitor numbers: %d, %d", got[0].Visitor, got[1].Visitor)
		}
		// Nothing stored names the address or the user agent.
		dump := fmt.Sprint(got)
		for _, secret := range []string{"198.51.100", "Gecko", "rv:128", "story?id"} {
			if strings.Contains(dump, secret) {
				t.Fatalf("%q stored: %s", secret, dump)
			}
		}
		var ms int64
		if err := d.QueryRowContext(ctx, `SELECT ms FROM analytics_engaged WHERE view = '00000000000000a1'`).Scan(&ms); err != nil || ms != 4200 {
			t.Fatalf("engaged %d, %v", ms, err)
		}

		// Another address or another browser is another visitor; the same
		// browser tomorrow is another visitor too (the salt changed).
		other := analytics.Hit{Body: view("00000000000000b1", "/"), At: t0, Addr: netip.MustParseAddr("203.0.113.9"), UserAgent: firefox}
		otherUA := analytics.Hit{Body: view("00000000000000b2", "/"), At: t0, Addr: ada, UserAgent: safari}
		tomorrow := analytics.Hit{Body: view("00000000000000b3", "/"), At: t0.AddDate(0, 0, 1), Addr: ada, UserAgent: firefox}
		for _, h := range []analytics.Hit{other, otherUA, tomorrow} {
			if o := c.Count(h); o != analytics.Counted {
				t.Fatal(o)
			}
		}
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for _, v := range views(t, d) {
			seen[v.Visitor] = true
		}
		if len(seen) != 4 {
			t.Fatalf("%d visitor numbers, want 4", len(seen))
		}

		noSalt := newCounter(t, d, analytics.Options{Salts: salts{off: true}})
		if o := noSalt.Count(analytics.Hit{Body: view("00000000000000c1", "/"), At: t0, Addr: ada, UserAgent: firefox}); o != analytics.NoSalt {
			t.Fatal(o)
		}
		if m := c.Outcomes(); m["counted"] != 7 || m["bot"] != 2 || m["refused"] != 1 || m["not_counted"] != 1 {
			t.Fatalf("outcomes %v", m)
		}
	})
}

// TestQueueFullDropsInsteadOfWaiting: a flood beyond the queue is dropped
// and counted, never made to wait; Close writes what was queued.
func TestQueueFullDropsInsteadOfWaiting(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		c, err := analytics.New(d, analytics.Options{Salts: salts{}, Site: "https://shop.example.com", Queue: 10, Batch: 1000, Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		dropped := 0
		for i := range 25 {
			if c.Count(analytics.Hit{Body: view(fmt.Sprintf("%016x", i+1), "/"), At: t0, Addr: netip.MustParseAddr("198.51.100.7"), UserAgent: firefox}) == analytics.Dropped {
				dropped++
			}
		}
		if dropped != 15 {
			t.Fatalf("%d dropped, want 15", dropped)
		}
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(views(t, d)); n != 10 {
			t.Fatalf("%d written after Close, want 10", n)
		}
	})
}
