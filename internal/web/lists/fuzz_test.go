package lists_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/unsubscribe"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// FuzzUnsubscribeAndConfirmLinks: no text but a token this site signed
// unsubscribes anyone, and no confirmation token it did not mail
// subscribes anyone; every answer is a page, never a failure of ours.
func FuzzUnsubscribeAndConfirmLinks(f *testing.F) {
	s := webtest.NewSite(f, testutil.SQLite(f))
	good := unsubscribe.Sign(s.Srv.Secret(), unsubscribe.Token{Subscriber: 1, Purpose: "marketing", List: 1})
	for _, seed := range []string{good, good[:len(good)-1], "a.b", "", "%00", "..", strings.Repeat("A", 300),
		unsubscribe.Sign([]byte("other"), unsubscribe.Token{Customer: 1, Purpose: "notices"})} {
		f.Add(seed)
	}
	b := webtest.NewBrowser(s)
	f.Fuzz(func(t *testing.T, tok string) {
		// Past the per-network limits, so every try reaches the token check.
		s.Clock.Advance(16 * time.Minute)
		path := "/unsubscribe/" + url.PathEscape(tok)
		for _, try := range []struct {
			method, path string
			form         url.Values
		}{
			{http.MethodGet, path, nil},
			{http.MethodPost, path, url.Values{"List-Unsubscribe": {"One-Click"}}},
			{http.MethodPost, path + "/confirm", url.Values{}},
			{http.MethodGet, "/newsletter/confirm?t=" + url.QueryEscape(tok), nil},
			{http.MethodPost, "/newsletter/confirm", url.Values{"t": {tok}}},
		} {
			res, body := b.Do(t, try.method, try.path, try.form, nil)
			if res.StatusCode >= 500 {
				t.Fatalf("%s %s: %d\n%s", try.method, try.path, res.StatusCode, body)
			}
		}
		if n := webtest.Count(t, s.DB, `SELECT count(*) FROM unsubscribes`) + webtest.Count(t, s.DB, `SELECT count(*) FROM list_members`); n != 0 {
			t.Fatalf("%q changed something", tok)
		}
	})
}
