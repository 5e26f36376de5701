package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// testTimeout bounds each browser test. The whole suite takes a few
// seconds; a hung browser or page must not stall CI for minutes.
const testTimeout = 60 * time.Second

// browser is one headless chromium with one tab, and what the tab saw.
type browser struct {
	ctx    context.Context // the tab; carries the test's deadline
	events *pageEvents
}

// chromiumPath returns the browser to drive: $CHROMIUM or Debian's
// /usr/bin/chromium.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requireBrowser reports whether a missing browser fails the test rather than
// skipping it: in CI, or when the developer asks for it.
func requireBrowser() bool {
	return os.Getenv("CI") != "" || os.Getenv("STOREKEEP_TEST_REQUIRE") == "1"
}

// newBrowser starts a fresh chromium (own profile, no network side traffic)
// for the test and closes it when the test ends. It skips the test when
// chromium is missing, or fails it when requireBrowser says so.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath(chromiumPath())
	if err != nil {
		msg := fmt.Sprintf("chromium not found (%v): install it (apt-get install chromium) or set CHROMIUM to its path", err)
		if requireBrowser() {
			t.Fatal(msg)
		}
		t.Skip(msg + "; set CI or STOREKEEP_TEST_REQUIRE=1 to make this a failure")
	}

	// TempDir first: cleanups run last-in first-out, so the profile is
	// removed only after the browser has exited.
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // containers and CI run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)

	events := &pageEvents{}
	// WithListener sees the tab's events from its very first command, so no
	// request or console message can slip by before a later Listen call.
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(events.record))
	t.Cleanup(cancelTab)
	// Start the browser with a context that has no deadline: the first Do
	// binds the browser's life to its context (see chromedp's API.md, 21).
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(tabCtx, testTimeout)
	t.Cleanup(cancel)
	return &browser{ctx: ctx, events: events}
}

// pageEvents collects, from the browser's event loop, every request the tab
// sent and every error the page reported.
type pageEvents struct {
	mu       sync.Mutex
	requests []string // URLs, in order
	urls     map[network.RequestID]string
	problems []string // console errors, exceptions, CSP violations, failed responses
}

// record is the tab's listener. It runs in chromedp's event loop: it must
// return fast and send no command.
func (e *pageEvents) record(ev any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		e.requests = append(e.requests, ev.Request.URL)
		if e.urls == nil {
			e.urls = map[network.RequestID]string{}
		}
		e.urls[ev.RequestID] = ev.Request.URL
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			e.problems = append(e.problems, fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL))
		}
	case *network.EventLoadingFailed:
		// A canceled load is a request the next navigation cut short,
		// not a fault of the page.
		if !ev.Canceled {
			e.problems = append(e.problems, fmt.Sprintf("loading %s failed: %s %s", e.urls[ev.RequestID], ev.ErrorText, ev.BlockedReason))
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				var str string
				switch {
				case a.Type == runtime.RemoteObjectTypeString && json.Unmarshal(a.Value, &str) == nil:
					args = append(args, str)
				case a.Description != "":
					args = append(args, a.Description)
				default:
					args = append(args, string(a.Value))
				}
			}
			e.problems = append(e.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		e.problems = append(e.problems, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
	case *log.EventEntryAdded:
		// Content-Security-Policy violations arrive here, with the source
		// "security" or "violation"; so do failed loads.
		en := ev.Entry
		if en.Level == log.EntryLevelError || en.Source == log.EntrySourceSecurity || en.Source == log.EntrySourceViolation {
			e.problems = append(e.problems, fmt.Sprintf("browser log %s/%s: %s %s", en.Source, en.Level, en.Text, en.URL))
		}
	}
}

// offSite returns the requested URLs that are not under site. The caller
// holds e.mu.
func (e *pageEvents) offSite(site string) []string {
	var out []string
	for _, u := range e.requests {
		// data: URLs are decoded by the browser itself (its own date-picker
		// icon, for one) and reach no server.
		if strings.HasPrefix(u, "data:") {
			continue
		}
		if u != site && !strings.HasPrefix(u, site+"/") {
			out = append(out, u)
		}
	}
	return out
}

// checkStayedOnSite fails the test when the tab requested anything outside
// site (fonts, analytics, CDNs: a visitor's IP address would reach a third
// party) or when the page reported an error, such as a CSP violation.
func (b *browser) checkStayedOnSite(t *testing.T, site string) {
	t.Helper()
	b.events.mu.Lock()
	defer b.events.mu.Unlock()
	if len(b.events.requests) == 0 {
		t.Error("saw no network requests at all: is the listener wired?")
	}
	for _, u := range b.events.offSite(site) {
		t.Errorf("the page requested %s, outside the site %s", u, site)
	}
	for _, p := range b.events.problems {
		t.Errorf("page problem: %s", p)
	}
	if t.Failed() {
		t.Logf("requests made:\n  %s", strings.Join(b.events.requests, "\n  "))
	}
}

// saveScreenshot writes png as name into $STOREKEEP_E2E_SCREENSHOTS, to
// keep it (a CI artifact, a human look), or else into the test's temporary
// directory, which proves at least that a screenshot can be taken.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("STOREKEEP_E2E_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("STOREKEEP_E2E_SCREENSHOTS") != "" {
		t.Logf("screenshot: %s", path)
	}
}
