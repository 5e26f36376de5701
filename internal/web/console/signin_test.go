package console_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/serving"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// setRequireTwoFactor stores the owners' choice directly, for tests about
// sign-in without a second factor.
func setRequireTwoFactor(t *testing.T, d *db.DB, on bool) {
	t.Helper()
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.SetRequireTwoFactor(ctx, tx, on, webtest.Start) }); err != nil {
		t.Fatal(err)
	}
}

// behindProxy makes the site believe X-Forwarded-For, so a test can send
// requests from any network (httptest's own peer is 192.0.2.1).
func behindProxy(s *webtest.Site) {
	s.H = serving.ClientIPMiddleware([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})(s.Srv.Handler())
}

func from(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }

func login(t *testing.T, b *webtest.Browser, email, pw string, h http.Header) *http.Response {
	t.Helper()
	res, _ := b.Do(t, http.MethodPost, "/staff/login", url.Values{"email": {email}, "password": {pw}}, h)
	return res
}

// TestRevokingAnotherMembersSessionChangesAndRecordsNothing (issue 9,
// defect 6): the revoke route ends only a live session of the member
// asking. Another member's session number, or one that does not exist, is
// a 404 with nothing recorded, and the other member stays signed in.
func TestRevokingAnotherMembersSessionChangesAndRecordsNothing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		alice := webtest.AddStaff(t, s, "alice@milterworks.example", staff.Support, true)
		bob := webtest.AddStaff(t, s, "bob@milterworks.example", staff.Finance, true)
		ab, ab2, bb := webtest.NewBrowser(s), webtest.NewBrowser(s), webtest.NewBrowser(s)
		ab.SignIn(t, alice)
		ab2.SignIn(t, alice)
		bb.SignIn(t, bob)
		ctx := context.Background()
		var bobSession, aliceOther int64
		if err := d.QueryRowContext(ctx, `SELECT max(id) FROM staff_sessions WHERE staff_id = $1 AND revoked_at IS NULL`, bob.ID).Scan(&bobSession); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT max(id) FROM staff_sessions WHERE staff_id = $1 AND revoked_at IS NULL`, alice.ID).Scan(&aliceOther); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{bobSession, bobSession + 1000} {
			res, body := ab.Post(t, fmt.Sprintf("/staff/account/sessions/%d/revoke", id), nil)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
			webtest.MustContain(t, body, "You have no such session")
		}
		res, body := ab.Post(t, "/staff/account/sessions/abc/revoke", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		if n := len(webtest.AuditActions(t, d, "staff.session_revoked")); n != 0 {
			t.Fatalf("%d revocations recorded, none happened", n)
		}
		if res, body := bb.Get(t, "/staff"); res.StatusCode != http.StatusOK {
			t.Fatalf("bob's session ended: %d\n%s", res.StatusCode, body)
		}

		// A real revocation is recorded once; revoking it again is a 404.
		res, _ = ab.Post(t, fmt.Sprintf("/staff/account/sessions/%d/revoke", aliceOther), nil)
		webtest.WantRedirect(t, res, "/staff/account?done=session-ended")
		res, body = ab.Post(t, fmt.Sprintf("/staff/account/sessions/%d/revoke", aliceOther), nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		got := webtest.AuditActions(t, d, "staff.session_revoked")
		if len(got) != 1 || got[0].ActorID != alice.ID || got[0].SubjectID != fmt.Sprint(aliceOther) {
			t.Fatalf("revocations recorded: %+v, want alice's one", got)
		}
		if res, _ := ab2.Get(t, "/staff"); res.StatusCode == http.StatusOK {
			t.Fatal("the revoked session still works")
		}
	})
}

// TestWrongPasswordsElsewhereDoNotLockTheMemberOut (issue 9, defect 7): a
// hundred wrong passwords from one network, and a hundred more spread over
// a hundred networks, do not stop the member signing in from the browser
// they signed in with before; the attacker is limited all the same.
func TestWrongPasswordsElsewhereDoNotLockTheMemberOut(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		behindProxy(s)
		m := webtest.AddStaff(t, s, "sam@milterworks.example", staff.Support, true)
		office := "192.0.2.10"
		usual := webtest.NewBrowser(s)
		usual.SignIn(t, m) // the sign-in gives this browser a device cookie
		if usual.Cookies["sk_staff_device"] == "" {
			t.Fatal("no device cookie after a complete sign-in")
		}
		res, _ := usual.Post(t, "/staff/logout", nil)
		webtest.WantRedirect(t, res, "/staff/login")

		// A hundred networks, one attempt each: the account-wide bound for
		// browsers without the account's device cookie lets twenty
		// passwords be checked (the member's first sign-in, from a browser
		// that had none yet, was one of them), then refuses.
		statuses := map[int]int{}
		for i := range 100 {
			statuses[login(t, webtest.NewBrowser(s), m.Email, "wrong password!", from(fmt.Sprintf("198.51.%d.7", i))).StatusCode]++
		}
		if statuses[http.StatusUnauthorized] != 19 || statuses[http.StatusTooManyRequests] != 81 {
			t.Fatalf("attempts from many networks: %v, want 19 checked and 81 refused", statuses)
		}
		// A hundred more from one network: all refused now.
		attacker := webtest.NewBrowser(s)
		for range 100 {
			login(t, attacker, m.Email, "wrong password!", from("203.0.113.66"))
		}
		if res := login(t, attacker, m.Email, webtest.StaffPassword, from("203.0.113.66")); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the right password from the attacker's browser: %d, want 429", res.StatusCode)
		}
		if n := len(webtest.AuditActions(t, d, "staff.login_failed")); n != 19 {
			t.Fatalf("%d wrong passwords checked over the attack, want 19", n)
		}

		// That network has used up its limit for every account; from a
		// fresh one, another account gets ten checks, then refusals, even
		// of the right password.
		fran := webtest.AddStaff(t, s, "fran@milterworks.example", staff.Finance, true)
		if res := login(t, attacker, fran.Email, webtest.StaffPassword, from("203.0.113.66")); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("another account from the network over its limit: %d, want 429", res.StatusCode)
		}
		statuses = map[int]int{}
		for range 30 {
			statuses[login(t, attacker, fran.Email, "wrong password!", from("100.64.1.1")).StatusCode]++
		}
		if statuses[http.StatusUnauthorized] != 10 || statuses[http.StatusTooManyRequests] != 20 {
			t.Fatalf("one network's attempts: %v, want 10 checked and 20 refused", statuses)
		}
		if res := login(t, attacker, fran.Email, webtest.StaffPassword, from("100.64.1.1")); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the right password from the limited network: %d, want 429", res.StatusCode)
		}

		// The member's usual browser is not held up, from the office or
		// from the attacker's own network.
		for _, ip := range []string{office, "203.0.113.99"} {
			res := login(t, usual, m.Email, webtest.StaffPassword, from(ip))
			webtest.WantRedirect(t, res, "/staff/2fa")
			s.Clock.Advance(30 * time.Second)
			code, _ := staff.TOTPCode(m.Secret, s.Clock.Now())
			res, body := usual.Do(t, http.MethodPost, "/staff/2fa", url.Values{"code": {code}}, from(ip))
			webtest.WantRedirect(t, res, "/staff")
			if res, body = usual.Get(t, "/staff"); res.StatusCode != http.StatusOK {
				t.Fatalf("dashboard after signing in: %d\n%s", res.StatusCode, body)
			}
			usual.Post(t, "/staff/logout", nil)
		}

		// What the attack does cost: a browser that never signed in to the
		// account waits, like the attacker, until the window passes.
		fresh := webtest.NewBrowser(s)
		res = login(t, fresh, m.Email, webtest.StaffPassword, from(office))
		webtest.WantStatus(t, res, "", http.StatusTooManyRequests)
		_, body := fresh.Do(t, http.MethodPost, "/staff/login", url.Values{"email": {m.Email}, "password": {webtest.StaffPassword}}, from(office))
		webtest.MustContain(t, body, "A browser you have signed in with before is not held up")

		// A device cookie counts only for the account it was issued for,
		// and only unaltered: copied onto attempts at another account, or
		// changed, it is no cookie.
		other := webtest.AddStaff(t, s, "ana@milterworks.example", staff.Analyst, true)
		forger := webtest.NewBrowser(s)
		forger.Cookies["sk_staff_device"] = usual.Cookies["sk_staff_device"]
		for range 10 {
			login(t, forger, other.Email, "wrong password!", from("203.0.113.200"))
		}
		if res := login(t, forger, other.Email, "wrong password!", from("203.0.113.200")); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("another account's device cookie lifted the limits: %d", res.StatusCode)
		}
		tampered := webtest.NewBrowser(s)
		tampered.Cookies["sk_staff_device"] = strings.Replace(usual.Cookies["sk_staff_device"], ".", "x.", 1)
		if res := login(t, tampered, m.Email, webtest.StaffPassword, from(office)); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("an altered device cookie lifted the limits: %d", res.StatusCode)
		}

		// The trusted browser is limited too, by its own bucket.
		for range 10 {
			if res := login(t, usual, m.Email, "wrong password!", from(office)); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a wrong password from the usual browser: %d, want 401", res.StatusCode)
			}
		}
		if res := login(t, usual, m.Email, webtest.StaffPassword, from(office)); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the usual browser after ten wrong passwords: %d, want 429", res.StatusCode)
		}

		// The window passes for everyone.
		s.Clock.Advance(15 * time.Minute)
		webtest.WantRedirect(t, login(t, fresh, m.Email, webtest.StaffPassword, from(office)), "/staff/2fa")
	})
}

// TestWrongCodesElsewhereDoNotBlockTheSecondFactor: someone who has the
// password and tries codes from another browser uses up the limit of
// untrusted browsers, not that of the member's own.
func TestWrongCodesElsewhereDoNotBlockTheSecondFactor(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "sam@milterworks.example", staff.Support, true)
		usual := webtest.NewBrowser(s)
		usual.SignIn(t, m)
		usual.Post(t, "/staff/logout", nil)
		thief := webtest.NewBrowser(s)
		webtest.WantRedirect(t, login(t, thief, m.Email, webtest.StaffPassword, nil), "/staff/2fa")
		for range 11 {
			thief.Post(t, "/staff/2fa", url.Values{"code": {"000000"}})
		}
		res, body := thief.Post(t, "/staff/2fa", url.Values{"code": {"000000"}})
		webtest.WantStatus(t, res, body, http.StatusTooManyRequests)
		usual.SignIn(t, m)
		if res, body := usual.Get(t, "/staff"); res.StatusCode != http.StatusOK {
			t.Fatalf("the member's own browser was blocked: %d\n%s", res.StatusCode, body)
		}
	})
}

var (
	otpauthHref = regexp.MustCompile(`id="totp-link" href="(otpauth://totp/[^"]+)"`)
	qrSrc       = regexp.MustCompile(`id="totp-qr" src="data:image/png;base64,([^"]+)"`)
	secretField = regexp.MustCompile(`name="secret" value="([A-Z2-7]{32})"`)
)

// enrolmentShows checks that the setup page offers secret as a key, as an
// otpauth link and as a QR code, and returns the secret.
func enrolmentShows(t *testing.T, body string) string {
	t.Helper()
	if strings.Contains(body, "ZgotmplZ") {
		t.Fatalf("html/template refused a value on the setup page:\n%s", body)
	}
	secret := secretField.FindStringSubmatch(body)
	if secret == nil {
		t.Fatalf("no key on the setup page:\n%s", body)
	}
	href := otpauthHref.FindStringSubmatch(body)
	if href == nil {
		t.Fatalf("no otpauth link on the setup page:\n%s", body)
	}
	u, err := url.Parse(html.UnescapeString(href[1]))
	if err != nil || u.Query().Get("secret") != secret[1] || u.Query().Get("issuer") != "Milterworks staff" {
		t.Fatalf("otpauth link %q does not carry the key %s (%v)", href[1], secret[1], err)
	}
	qr := qrSrc.FindStringSubmatch(body)
	if qr == nil {
		t.Fatalf("no QR code on the setup page:\n%s", body)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(qr[1]))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() != 240 {
		t.Fatalf("the QR code is not a 240-pixel PNG: %v", err)
	}
	return secret[1]
}

// TestEnrolmentOffersLinkAndQRCodeAndKeepsThemAfterAWrongCode (issue 9,
// defect 10): the otpauth link is a working link, the QR code is there,
// and a wrong code shows the same key, link and code again with the error.
func TestEnrolmentOffersLinkAndQRCodeAndKeepsThemAfterAWrongCode(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, false)
		b := webtest.NewBrowser(s)
		webtest.WantRedirect(t, login(t, b, m.Email, webtest.StaffPassword, nil), "/staff/2fa/setup")
		res, body := b.Get(t, "/staff/2fa/setup")
		webtest.WantStatus(t, res, body, http.StatusOK)
		secret := enrolmentShows(t, body)
		webtest.MustContain(t, body, "Cancel and sign out")

		res, body = b.Post(t, "/staff/2fa/setup", url.Values{"secret": {secret}, "code": {"123456"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "That code does not match")
		if again := enrolmentShows(t, body); again != secret {
			t.Fatalf("the page after a wrong code offers key %s, want the same %s", again, secret)
		}
		code, _ := staff.TOTPCode(secret, s.Clock.Now())
		res, body = b.Post(t, "/staff/2fa/setup", url.Values{"secret": {secret}, "code": {code}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Your recovery codes")
	})
}

// TestEveryRoleNeedsASecondFactorByDefault (issue 9, defect 10): a support
// member without a second factor is sent to enrol and opens no console
// page before it; owners may turn the requirement off (recorded), and
// turning it on again signs out those without one.
func TestEveryRoleNeedsASecondFactorByDefault(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		sup := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		b := webtest.NewBrowser(s)
		webtest.WantRedirect(t, login(t, b, sup.Email, webtest.StaffPassword, nil), "/staff/2fa/setup")
		for _, page := range []string{"/staff", "/staff/customers", "/staff/outbox", "/staff/requests", "/staff/account"} {
			res, _ := b.Get(t, page)
			webtest.WantRedirect(t, res, "/staff/login")
			// The sign-in page sends a half-signed-in browser on to the
			// second step, which sends one without a factor to enrol.
			res, _ = b.Get(t, res.Header.Get("Location"))
			webtest.WantRedirect(t, res, "/staff/2fa?next="+url.QueryEscape(page))
			res, _ = b.Get(t, res.Header.Get("Location"))
			webtest.WantRedirect(t, res, "/staff/2fa/setup")
		}
		if n := len(webtest.AuditActions(t, d, "staff.login")); n != 0 {
			t.Fatalf("%d sign-ins recorded before the second factor", n)
		}
		if n := len(webtest.AuditActions(t, d, "personal_data.view")); n != 0 {
			t.Fatalf("%d views of personal data before the second factor", n)
		}

		// An owner turns the requirement off: support signs in with the
		// password alone. The form needs an explicit choice.
		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		ob := webtest.NewBrowser(s)
		ob.SignIn(t, owner)
		res, body := ob.Get(t, "/staff/settings")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `id="require_2fa_on" name="require_2fa" type="radio" value="on" checked`)
		res, body = ob.Post(t, "/staff/settings/security", url.Values{})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = ob.Post(t, "/staff/settings/security", url.Values{"require_2fa": {"off"}})
		webtest.WantRedirect(t, res, "/staff/settings?done=2fa-off")
		res, body = ob.Get(t, "/staff/settings?done=2fa-off")
		webtest.MustContain(t, body, "Only owners need two-factor authentication now.", `value="off" checked`)
		res, _ = ob.Post(t, "/staff/settings/security", url.Values{"require_2fa": {"off"}})
		webtest.WantRedirect(t, res, "/staff/settings?done=unchanged")
		pb := webtest.NewBrowser(s)
		if res := login(t, pb, sup.Email, webtest.StaffPassword, nil); res.Header.Get("Location") != "/staff" {
			t.Fatalf("support with the requirement off: %d to %q, want the dashboard", res.StatusCode, res.Header.Get("Location"))
		}
		if res, body := pb.Get(t, "/staff/customers"); res.StatusCode != http.StatusOK {
			t.Fatalf("support with the requirement off: %d\n%s", res.StatusCode, body)
		}
		// Saving the vendor details leaves the choice alone.
		vendor := url.Values{"name": {"Milterworks"}, "legal_name": {"Milterworks GmbH"}, "privacy_email": {"privacy@milterworks.example"},
			"support_email": {"support@milterworks.example"}}
		res, _ = ob.Post(t, "/staff/settings", vendor)
		webtest.WantRedirect(t, res, "/staff/settings?done=saved")
		if on, _ := settings.RequireTwoFactor(context.Background(), d); on {
			t.Fatal("saving the vendor settings turned the requirement back on")
		}

		// On again: support's password-only session ends.
		res, _ = ob.Post(t, "/staff/settings/security", url.Values{"require_2fa": {"on"}})
		webtest.WantRedirect(t, res, "/staff/settings?done=2fa-on")
		res, _ = pb.Get(t, "/staff/customers")
		webtest.WantRedirect(t, res, "/staff/login")
		if res, _ := ob.Get(t, "/staff"); res.StatusCode != http.StatusOK {
			t.Fatal("the owner, who has a second factor, was signed out")
		}
		got := webtest.AuditActions(t, d, "settings.2fa_requirement")
		if len(got) != 2 {
			t.Fatalf("%d requirement changes recorded, want 2 (the unchanged save is not one)", len(got))
		}
		details := got[0].Detail + " | " + got[1].Detail
		if got[0].ActorID != owner.ID || !strings.Contains(details, "off: only owners need a second factor") ||
			!strings.Contains(details, "on: every role needs a second factor; 2 sessions without one signed out") {
			t.Fatalf("requirement changes recorded: %+v", got)
		}
	})
}

// TestConsoleFormsRefuseHostileText (issue 9, defects 4 and 10's forms): a
// staff name that a right-to-left override would show reversed, a vendor
// name with a line break, a search with a NUL: each refused with a
// message, nothing changed.
func TestConsoleFormsRefuseHostileText(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := webtest.NewBrowser(s)
		b.SignIn(t, owner)

		res, body := b.Post(t, "/staff/team", url.Values{"email": {"sam@milterworks.example"}, "name": {"Sam \u202enimdA"}, "role": {"support"}})
		webtest.WantRefused(t, res, body, "name", "The name contains an invisible character that changes the direction of the text")
		res, body = b.Post(t, "/staff/team", url.Values{"email": {"sam@milterworks.example\r\nBcc: x@example.com"}, "role": {"support"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "The email address contains a line break")
		if _, err := staff.ByEmail(context.Background(), d, "sam@milterworks.example"); err == nil {
			t.Fatal("a refused form created the account")
		}

		form := url.Values{"name": {"Milterworks\nAdmin"}, "legal_name": {"Milterworks GmbH"}, "privacy_email": {"privacy@milterworks.example"},
			"support_email": {"support@milterworks.example"}}
		res, body = b.Post(t, "/staff/settings", form)
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "The name on the site contains a line break")
		form.Set("name", "Milterworks")
		form.Set("legal_name", "Milterworks \xff GmbH")
		res, body = b.Post(t, "/staff/settings", form)
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "contains bytes that are not text")
		if n := len(webtest.AuditActions(t, d, "settings.changed")); n != 0 {
			t.Fatalf("%d settings changes recorded for refused forms", n)
		}

		res, body = b.Get(t, "/staff/customers?q="+url.QueryEscape("bea\x00@example.com"))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "The search contains a NUL character")
		res, body = b.Post(t, "/staff/settings/policy-notice", url.Values{"note": {"We moved \u2066abroad"}})
		webtest.WantRefused(t, res, body, "note", "changes the direction of the text")

		// The login form refuses the same before any lookup.
		res, body = webtest.NewBrowser(s).Post(t, "/staff/login", url.Values{"email": {"owner@milterworks.example\u202e"}, "password": {"x"}})
		webtest.WantRefused(t, res, body, "email", "changes the direction of the text")
	})
}
