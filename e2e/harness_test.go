package e2e

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestHarnessSeesViolations checks the checks: a page that breaks its CSP
// and logs an error must produce problems, a page that loads an image from
// another origin must produce an off-site request, and the structure check
// must see a missing lang attribute. Without it, a listener that silently saw nothing
// would let every site test pass.
func TestHarnessSeesViolations(t *testing.T) {
	b := newBrowser(t)

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>t</title><h1>bad page</h1>
<script>document.title = "inline ran"</script>
<script src="/err.js"></script>`))
	})
	mux.HandleFunc("/err.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		// The CSP blocks this fetch: a second violation.
		w.Write([]byte(`console.error("boom"); fetch("http://localhost:1/x").catch(() => {});`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// No CSP here. localhost is another origin than 127.0.0.1, yet the
	// request stays on this machine.
	offsite := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/pixel.png"
	mux.HandleFunc("/third-party", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>t</title><h1>tracked</h1><a href="/"><img src="` + offsite + `" alt=""></a>`))
	})

	if err := chromedp.Do(b.ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	// Let the script's console call and the blocked fetch arrive.
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.readyState === "complete"`)); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(b.ctx, chromedp.Navigate(srv.URL+"/third-party"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}

	// The page has no lang attribute and an image link without a name.
	structure, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](pageStructureProblems))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(structure, "\n"); !strings.Contains(got, "no lang") || !strings.Contains(got, "link without a name") {
		t.Errorf("the structure check missed the missing lang or the unnamed link; it found:\n%s", got)
	}

	b.events.mu.Lock()
	problems := strings.Join(b.events.problems, "\n")
	offSite := b.events.offSite(srv.URL)
	b.events.mu.Unlock()
	if !slices.Contains(offSite, offsite) {
		t.Errorf("the harness missed the request for %s; off-site requests: %q", offsite, offSite)
	}
	for _, want := range []string{"Content Security Policy", "console.error: boom"} {
		if !strings.Contains(problems, want) {
			t.Errorf("the harness missed %q; it recorded:\n%s", want, problems)
		}
	}
}
