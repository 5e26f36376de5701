package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/demo"
	"github.com/storekeep/storekeep/internal/staff"
)

// signIn fills in the staff sign-in form and submits it.
func signIn(t *testing.T, b *browser, site, email string) {
	t.Helper()
	if err := chromedp.Do(b.ctx,
		chromedp.Navigate(site+"/staff"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), demo.StaffPassword),
	); err != nil {
		t.Fatalf("open the sign-in form: %v", err)
	}
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(`main button[type="submit"]`))); err != nil {
		t.Fatalf("submit the sign-in form: %v", err)
	}
}

func location(t *testing.T, b *browser) string {
	t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// enrol sets up two-factor authentication on the setup page the browser is
// at, as a person with an authenticator app would, and checks the QR code
// and the recovery codes are shown.
func enrol(t *testing.T, b *browser) {
	t.Helper()
	secret := strings.ReplaceAll(visibleText(t, b, "#totp-secret"), " ", "")
	if len(secret) != 32 {
		t.Fatalf("the setup page shows no usable key: %q", secret)
	}
	// naturalWidth is 0 for an image the browser could not decode (or the
	// CSP refused).
	qrWidth, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelector("#totp-qr").naturalWidth`))
	if err != nil || qrWidth != 240 {
		t.Fatalf("the setup page shows no QR code (width %d): %v", qrWidth, err)
	}
	code, err := staff.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.ID("code"), code)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(`main button[type="submit"]`))); err != nil {
		t.Fatalf("submit the code: %v", err)
	}
	codes, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSSAll("#recovery-codes li")))
	if err != nil || len(codes) != 10 {
		t.Fatalf("recovery codes shown: %d, %v; want 10", len(codes), err)
	}
}

// TestOwnerSignsInWithPasswordAndTOTP: the demo owner signs in, sets up
// two-factor authentication as the console demands, keeps the recovery
// codes and reaches the dashboard with every area in the navigation.
func TestOwnerSignsInWithPasswordAndTOTP(t *testing.T) {
	b := newBrowser(t)
	site := startSite(t)
	signIn(t, b, site, "owner@quillfeather.example")
	if loc := location(t, b); loc != site+"/staff/2fa/setup" {
		t.Fatalf("after the password the owner is at %s, want the two-factor setup", loc)
	}
	enrol(t, b)
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(`main a[href="/staff"]`))); err != nil {
		t.Fatalf("continue to the dashboard: %v", err)
	}
	if h1 := visibleText(t, b, "h1"); h1 != "Dashboard" {
		t.Fatalf("h1 = %q, want Dashboard", h1)
	}
	nav := visibleText(t, b, `nav[aria-label="Console"]`)
	for _, area := range []string{"Staff", "Settings", "Audit log", "Customers", "Orders"} {
		if !strings.Contains(nav, area) {
			t.Errorf("the owner's navigation lacks %q: %s", area, nav)
		}
	}
	shoot(t, b, "console-dashboard.png")
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(`nav a[href="/staff/audit"]`))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.ID("audit-caption"))); err != nil {
		t.Fatalf("the audit log shows no entries: %v", err)
	}
	if log := visibleText(t, b, "table"); !strings.Contains(log, "staff.2fa_enrolled") || !strings.Contains(log, "staff.login") {
		t.Errorf("the audit log does not show the sign-in and the enrolment:\n%s", log)
	}
	b.checkStayedOnSite(t, site)
}

// TestAnalystIsRefusedTheAuditLog: a role without the permission does not
// see the area in its navigation, and opening it directly is refused. Like
// every role by default, the analyst sets up a second factor first.
func TestAnalystIsRefusedTheAuditLog(t *testing.T) {
	b := newBrowser(t)
	site := startSite(t)
	signIn(t, b, site, "analyst@quillfeather.example")
	if loc := location(t, b); loc != site+"/staff/2fa/setup" {
		t.Fatalf("after the password the analyst is at %s, want the two-factor setup", loc)
	}
	enrol(t, b)
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(`main a[href="/staff"]`))); err != nil {
		t.Fatalf("continue to the dashboard: %v", err)
	}
	if loc := location(t, b); loc != site+"/staff" {
		t.Fatalf("after signing in the analyst is at %s, want the dashboard", loc)
	}
	if nav := visibleText(t, b, `nav[aria-label="Console"]`); strings.Contains(nav, "Audit log") || strings.Contains(nav, "Customers") {
		t.Errorf("the analyst's navigation offers areas it may not open: %s", nav)
	}
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(site+"/staff/audit"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 403 {
		t.Fatalf("the audit log answered the analyst with HTTP %d, want 403", resp.Status)
	}
	if text := visibleText(t, b, "main"); !strings.Contains(text, "does not allow this") {
		t.Errorf("the refusal does not explain itself:\n%s", text)
	}
}

// shoot keeps a full-page screenshot for a person to look at (see
// saveScreenshot).
func shoot(t *testing.T, b *browser, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	saveScreenshot(t, name, png)
}
