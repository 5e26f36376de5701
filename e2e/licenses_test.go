package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/licensing"
)

// seededLicense is a license the test put into a demo's database, with
// two machines activated, one of them checked in.
type seededLicense struct {
	ID        int64
	LicenseID string
	Email     string
}

// seedLicense issues, in the database of the demo at site (started by
// startDemo), a Professional license to a new customer, signed with the
// demo's own key, and activates two machines on it as a product would.
func seedLicense(t *testing.T, site, email string) seededLicense {
	t.Helper()
	ctx := context.Background()
	d, keys := demoDB(t, site), demoKeys(t, site)
	now := time.Now().UTC()
	var c customers.Customer
	var owner, edition int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM staff WHERE role = 'owner' ORDER BY id LIMIT 1`).Scan(&owner); err != nil {
			return fmt.Errorf("owner: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM editions WHERE slug = 'professional'`).Scan(&edition); err != nil {
			return fmt.Errorf("edition: %w", err)
		}
		raw, err := customers.RequestSignIn(ctx, tx, email, now)
		if err != nil {
			return err
		}
		c, _, err = customers.CompleteSignIn(ctx, tx, raw, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := licensing.Issue(ctx, d, keys, owner, licensing.ManualIssue{CustomerID: c.ID, EditionID: edition, Quantity: 1}, "replacement for a lost order", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []licensing.MachineInfo{
		{Fingerprint: "fp-mx1", Hostname: "mx1.mail.example.net", Platform: "linux/amd64"},
		{Fingerprint: "fp-mx2", Hostname: "mx2.mail.example.net", Platform: "linux/arm64"},
	} {
		if r, err := licensing.Activate(ctx, d, keys, l.Key, m, now); err != nil || r.Code != licensing.CodeValid {
			t.Fatalf("activate %s: %s, %v", m.Hostname, r.Code, err)
		}
	}
	if r, err := licensing.CheckIn(ctx, d, keys, l.Key, "fp-mx1", "2.4.1", now); err != nil || r.Code != licensing.CodeValid {
		t.Fatalf("check in: %s, %v", r.Code, err)
	}
	return seededLicense{ID: l.ID, LicenseID: l.LicenseID, Email: email}
}

// signInEnrolled signs a demo staff member in for the first time: the
// password, then the second factor the console asks every role to set
// up, then the dashboard.
func signInEnrolled(t *testing.T, b *browser, site, email string) {
	t.Helper()
	signIn(t, b, site, email)
	if loc := location(t, b); loc != site+"/staff/2fa/setup" {
		t.Fatalf("after the password %s is at %s, want the two-factor setup", email, loc)
	}
	enrol(t, b)
	click(t, b, `main a[href="/staff"]`)
	if loc := location(t, b); loc != site+"/staff" {
		t.Fatalf("after signing in %s is at %s, want the dashboard", email, loc)
	}
}

// act fills in a license action's reason, as a person types it, and
// submits the action's form; it checks the page confirms it.
func act(t *testing.T, b *browser, form, reason, notice string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.ID(form+"-reason"), reason)); err != nil {
		t.Fatalf("the %s form has no reason field: %v", form, err)
	}
	click(t, b, "#"+form+` button[type="submit"]`)
	if got := visibleText(t, b, `main p.notice[role="status"]`); got != notice {
		t.Fatalf("after %s the page says %q, want %q", form, got, notice)
	}
}

// historyHas fails the test unless the license page's history has an
// entry with the action and every part given.
func historyHas(t *testing.T, b *browser, action string, parts ...string) {
	t.Helper()
	entries, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#history li")].map(li => li.innerText)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		ok := strings.Contains(e, action)
		for _, p := range parts {
			ok = ok && strings.Contains(e, p)
		}
		if ok {
			return
		}
	}
	t.Fatalf("the history has no %s entry with %q:\n%s", action, parts, strings.Join(entries, "\n"))
}

// TestStaffManageALicense: an owner (the role holding licenses.manage)
// finds a license by the customer's address, sees its machines and
// history, suspends and reinstates it and changes its machine limit,
// each with a reason that the history then shows; and edits an edition's
// license policy. A support agent (licenses.view only) sees the license
// without any action and is refused the actions and the policies.
func TestStaffManageALicense(t *testing.T) {
	site := startDemo(t)
	lic := seedLicense(t, site, "mira.postmaster@example.net")

	b := newBrowser(t)
	signInEnrolled(t, b, site, "owner@quillfeather.example")
	click(t, b, `nav[aria-label="Console"] a[href="/staff/licenses"]`)
	if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.ID("q"), lic.Email)); err != nil {
		t.Fatal(err)
	}
	click(t, b, `main form[role="search"] button[type="submit"]`)
	if got := visibleText(t, b, "#licenses-caption"); got != "Licenses found" {
		t.Fatalf("the search shows %q, want the licenses found", got)
	}
	rows, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSSAll("main table tbody tr")))
	if err != nil || len(rows) != 1 {
		t.Fatalf("the search for %s found %d licenses, want 1 (%v)", lic.Email, len(rows), err)
	}
	if row := visibleText(t, b, "main table tbody tr"); !strings.Contains(row, lic.LicenseID) || !strings.Contains(row, "2 of 5") {
		t.Errorf("the found license's row: %q, want %s with 2 of 5 seats", row, lic.LicenseID)
	}
	shoot(t, b, "console-licenses-search.png")
	click(t, b, `main table a[href="/staff/licenses/`+fmt.Sprint(lic.ID)+`"]`)
	if h1 := visibleText(t, b, "h1"); h1 != "License "+lic.LicenseID {
		t.Fatalf("h1 = %q", h1)
	}
	machines := visibleText(t, b, `main table:has(#machines-caption)`)
	for _, want := range []string{"mx1.mail.example.net", "linux/amd64 · 2.4.1", "mx2.mail.example.net", "none yet"} {
		if !strings.Contains(machines, want) {
			t.Errorf("the machines table lacks %q:\n%s", want, machines)
		}
	}
	historyHas(t, b, "license.issued", "replacement for a lost order")
	if got := visibleText(t, b, "#license-state"); got != "active" {
		t.Fatalf("state %q, want active", got)
	}
	shoot(t, b, "console-license.png")

	act(t, b, "suspend", "Chargeback opened by the card issuer", "The license is suspended: the product stops accepting it.")
	if got := visibleText(t, b, "#license-state"); got != "suspended" {
		t.Fatalf("state after suspending %q", got)
	}
	historyHas(t, b, "license.suspended", "Chargeback opened by the card issuer")
	act(t, b, "reinstate", "The bank withdrew the chargeback", "The license is reinstated.")
	if got := visibleText(t, b, "#license-state"); got != "active" {
		t.Fatalf("state after reinstating %q", got)
	}
	historyHas(t, b, "license.reinstated", "The bank withdrew the chargeback")
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID("max_machines"), "8")); err != nil {
		t.Fatal(err)
	}
	act(t, b, "machine-limit", "Customer added a third relay site", "The machine limit is changed.")
	if got := visibleText(t, b, "#license-limit"); got != "8" {
		t.Fatalf("machine limit shown %q, want 8", got)
	}
	historyHas(t, b, "license.machine_limit", "Customer added a third relay site")
	// The history is newest first and numbered from the first event: the
	// newest entry carries the highest number.
	if rev, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector("#history").reversed`)); err != nil || !rev {
		t.Errorf("the history, newest first, is numbered from the newest (%v)", err)
	}
	shoot(t, b, "console-license-after-actions.png")
	checkPageStructure(t, b)

	// An action without its reason is not sent: the browser holds it back.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`#suspend button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	missing, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector("#suspend-reason").validity.valueMissing`))
	if err != nil || !missing {
		t.Fatalf("the reason is not asked for (%v)", err)
	}
	if got := visibleText(t, b, "#license-state"); got != "active" {
		t.Fatalf("a suspension without a reason changed the state to %q", got)
	}

	// The owner edits the Professional edition's policy.
	click(t, b, `main a[href="/staff/licenses"]`)
	click(t, b, `main a[href="/staff/licenses/policies"]`)
	pro, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("main form")].find(f => f.querySelector("h2")?.innerText.startsWith("QuillGuard Milter Professional"))?.id ?? ""`))
	if err != nil || !strings.HasPrefix(pro, "policy-") {
		t.Fatalf("no policy form of the Professional edition (%q): %v", pro, err)
	}
	ed := strings.TrimPrefix(pro, "policy-")
	fill(t, b, map[string]string{"machines-" + ed: "3", "checkin-" + ed: "14", "ent-" + ed: "greylisting, spam-scoring, dkim"})
	click(t, b, "#"+pro+` button[type="submit"]`)
	if got := visibleText(t, b, `main p.notice[role="status"]`); got == "" {
		t.Fatal("saving the policy confirmed nothing")
	}
	if err := chromedp.Do(b.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	// Entitlements are kept in order of their names.
	for id, want := range map[string]string{"machines-" + ed: "3", "checkin-" + ed: "14", "ent-" + ed: "dkim, greylisting, spam-scoring"} {
		got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID(id)))
		if err != nil || got != want {
			t.Errorf("#%s after saving: %q, want %q (%v)", id, got, want, err)
		}
	}
	// Every edition's entitlements are shown whole, not cut off by the
	// field (Enterprise has the longest list).
	if cut, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[name="entitlements"]')].filter(e => e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight).map(e => e.id)`)); err != nil || len(cut) > 0 {
		t.Errorf("entitlements cut off in %v (%v)", cut, err)
	}
	shoot(t, b, "console-license-policies.png")
	b.checkStayedOnSite(t, site)

	// Support sees licenses but may not act on them.
	sb := newBrowser(t)
	signInEnrolled(t, sb, site, "support@quillfeather.example")
	if err := chromedp.Do(sb.ctx, chromedp.Navigate(fmt.Sprintf("%s/staff/licenses/%d", site, lic.ID))); err != nil {
		t.Fatal(err)
	}
	if h1 := visibleText(t, sb, "h1"); h1 != "License "+lic.LicenseID {
		t.Fatalf("support sees h1 %q, want the license", h1)
	}
	forms, err := chromedp.Run(sb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("main form").length`))
	if err != nil || forms != 0 {
		t.Fatalf("support is offered %d action forms (%v), want none", forms, err)
	}
	shoot(t, sb, "console-license-support.png")
	sb.checkStayedOnSite(t, site)
	// The form is not shown; sent anyway (from the console's own page,
	// so the cross-site check passes), the action is refused.
	status, err := chromedp.Run(sb.ctx, chromedp.Evaluate[int](fmt.Sprintf(
		`fetch("/staff/licenses/%d/suspend", {method: "POST", body: new URLSearchParams({reason: "trying"})}).then(r => r.status)`, lic.ID),
		chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Fatalf("support's suspension answered %d (%v), want 403", status, err)
	}
	resp, err := chromedp.RunResponse(sb.ctx, chromedp.Navigate(site+"/staff/licenses/policies"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 403 {
		t.Fatalf("the policies answered support with HTTP %d, want 403", resp.Status)
	}
	if text := visibleText(t, sb, "main"); !strings.Contains(text, "does not allow this") {
		t.Errorf("the refusal does not explain itself:\n%s", text)
	}
	// The license is as the owner left it.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(fmt.Sprintf("%s/staff/licenses/%d", site, lic.ID))); err != nil {
		t.Fatal(err)
	}
	if got := visibleText(t, b, "#license-state"); got != "active" {
		t.Fatalf("after support's refused suspension the state is %q", got)
	}
}
