package web_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/serving"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
)

const staffPassword = "correct horse battery staple"

// member is a staff account made for a test.
type member struct {
	staff.Account
	Secret string // TOTP secret, "" without a second factor
}

// addStaff creates an account with a password and, when withTOTP, a second
// factor whose codes the test can compute.
func addStaff(t *testing.T, s *site, email string, role staff.Role, withTOTP bool) member {
	t.Helper()
	ctx := context.Background()
	var m member
	err := s.d.Tx(ctx, func(tx *sql.Tx) error {
		a, err := staff.Create(ctx, tx, email, "", role, start)
		if err != nil {
			return err
		}
		m.Account = a
		if err := staff.SetPassword(ctx, tx, a.ID, staffPassword, start); err != nil {
			return err
		}
		if withTOTP {
			k, err := staff.NewTOTPKey("test", email)
			if err != nil {
				return err
			}
			code, _ := staff.TOTPCode(k.Secret(), s.clock.Now())
			if _, err := staff.EnrolTOTP(ctx, tx, a.ID, k.Secret(), code, s.clock.Now()); err != nil {
				return err
			}
			m.Secret = k.Secret()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// browser keeps cookies across requests to a site, like a real one.
type browser struct {
	s       *site
	cookies map[string]string
}

func newBrowser(s *site) *browser { return &browser{s: s, cookies: map[string]string{}} }

func (b *browser) do(t *testing.T, method, target string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.s.h.ServeHTTP(rec, req)
	res := rec.Result()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	out, _ := io.ReadAll(res.Body)
	return res, string(out)
}

func (b *browser) get(t *testing.T, target string) (*http.Response, string) {
	t.Helper()
	return b.do(t, http.MethodGet, target, nil, nil)
}

func (b *browser) post(t *testing.T, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.do(t, http.MethodPost, target, form, nil)
}

func wantStatus(t *testing.T, res *http.Response, body string, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d\n%s", res.StatusCode, status, body)
	}
}

func wantRedirect(t *testing.T, res *http.Response, prefix string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), prefix) {
		t.Fatalf("%d to %q, want a redirect to %s", res.StatusCode, res.Header.Get("Location"), prefix)
	}
}

// signIn goes through the password and, if the account has one, the TOTP
// step, and leaves b with a full session.
func (b *browser) signIn(t *testing.T, m member) {
	t.Helper()
	res, body := b.post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {staffPassword}})
	if m.Secret == "" {
		wantRedirect(t, res, "/staff")
		_ = body
		return
	}
	wantRedirect(t, res, "/staff/2fa")
	// Each sign-in uses the next time step, as a person would a minute later.
	b.s.clock.Advance(30 * time.Second)
	code, _ := staff.TOTPCode(m.Secret, b.s.clock.Now())
	res, body = b.post(t, "/staff/2fa", url.Values{"code": {code}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second factor refused: %d\n%s", res.StatusCode, body)
	}
}

func auditActions(t *testing.T, d *db.DB, action string) []audit.Entry {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestStaffSignInWithPasswordAndTOTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		m := addStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := newBrowser(s)

		res, _ := b.get(t, "/staff/audit")
		wantRedirect(t, res, "/staff/login?next=%2Fstaff%2Faudit")
		res, body := b.get(t, "/staff/login?next=/staff/audit")
		wantStatus(t, res, body, 200)
		mustContain(t, body, `name="password"`, `value="/staff/audit"`)

		res, _ = b.post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {staffPassword}, "next": {"/staff/audit"}})
		wantRedirect(t, res, "/staff/2fa")
		// A password-only session opens nothing but the second step.
		res, _ = b.get(t, "/staff")
		wantRedirect(t, res, "/staff/login")
		res, body = b.get(t, "/staff/2fa?next=/staff/audit")
		wantStatus(t, res, body, 200)

		res, body = b.post(t, "/staff/2fa", url.Values{"code": {"000000"}, "next": {"/staff/audit"}})
		wantStatus(t, res, body, http.StatusUnauthorized)
		mustContain(t, body, "The code is wrong")
		if len(auditActions(t, d, "staff.2fa_failed")) != 1 {
			t.Fatal("failed second factor not recorded")
		}

		s.clock.Advance(30 * time.Second)
		code, _ := staff.TOTPCode(m.Secret, s.clock.Now())
		res, _ = b.post(t, "/staff/2fa", url.Values{"code": {code}, "next": {"/staff/audit"}})
		wantRedirect(t, res, "/staff/audit")
		res, body = b.get(t, "/staff")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Dashboard", "owner@milterworks.example", `href="/staff/audit"`)

		// The same code cannot be replayed by someone who saw it.
		other := newBrowser(s)
		res, _ = other.post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {staffPassword}})
		wantRedirect(t, res, "/staff/2fa")
		res, body = other.post(t, "/staff/2fa", url.Values{"code": {code}})
		wantStatus(t, res, body, http.StatusUnauthorized)

		if n := len(auditActions(t, d, "staff.login")); n != 1 {
			t.Fatalf("%d staff.login entries, want 1", n)
		}
		// Signing out ends the session.
		res, _ = b.post(t, "/staff/logout", nil)
		wantRedirect(t, res, "/staff/login")
		res, _ = b.get(t, "/staff")
		wantRedirect(t, res, "/staff/login")
	})
}

func TestOwnerMustEnrolSecondFactor(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		m := addStaff(t, s, "new-owner@milterworks.example", staff.Owner, false)
		b := newBrowser(s)
		res, _ := b.post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {staffPassword}})
		wantRedirect(t, res, "/staff/2fa/setup")
		res, _ = b.get(t, "/staff/2fa")
		wantRedirect(t, res, "/staff/2fa/setup")
		res, body := b.get(t, "/staff/2fa/setup")
		wantStatus(t, res, body, 200)
		secret := regexp.MustCompile(`name="secret" value="([A-Z2-7]{32})"`).FindStringSubmatch(body)
		if secret == nil {
			t.Fatalf("no secret on the setup page:\n%s", body)
		}
		res, body = b.post(t, "/staff/2fa/setup", url.Values{"secret": {secret[1]}, "code": {"123456"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = b.post(t, "/staff/2fa/setup", url.Values{"secret": {"not-base32"}, "code": {"123456"}})
		wantStatus(t, res, body, http.StatusBadRequest)

		code, _ := staff.TOTPCode(secret[1], s.clock.Now())
		res, body = b.post(t, "/staff/2fa/setup", url.Values{"secret": {secret[1]}, "code": {code}})
		wantStatus(t, res, body, 200)
		codes := regexp.MustCompile(`<code>([a-z2-9]{5}-[a-z2-9]{5})</code>`).FindAllStringSubmatch(body, -1)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown, want 10:\n%s", len(codes), body)
		}
		if len(auditActions(t, d, "staff.login")) != 1 || len(auditActions(t, d, "staff.2fa_enrolled")) != 1 {
			t.Fatal("a sign-in completed by enrolment must record both the enrolment and the sign-in")
		}
		res, body = b.get(t, "/staff")
		wantStatus(t, res, body, 200)
		res, body = b.get(t, "/staff/account")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "On (10 recovery codes left)", "This browser")

		// A recovery code signs in once.
		for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
			o := newBrowser(s)
			res, _ = o.post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {staffPassword}})
			wantRedirect(t, res, "/staff/2fa")
			res, body = o.post(t, "/staff/2fa", url.Values{"code": {strings.ToUpper(codes[0][1])}})
			if res.StatusCode != want {
				t.Fatalf("recovery code use %d: %d, want %d\n%s", i+1, res.StatusCode, want, body)
			}
		}
	})
}

func TestSignInFailuresRevealNothingAndAreLimited(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		m := addStaff(t, s, "support@milterworks.example", staff.Support, false)
		b := newBrowser(s)
		_, known := b.post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {"wrong password!"}})
		res, unknown := b.post(t, "/staff/login", url.Values{"email": {"nobody@milterworks.example"}, "password": {"wrong password!"}})
		wantStatus(t, res, unknown, http.StatusUnauthorized)
		msg := "The email address or password is wrong."
		mustContain(t, known, msg)
		mustContain(t, unknown, msg)
		if len(auditActions(t, d, "staff.login_failed")) != 1 {
			t.Fatal("failed sign-in to a real account not recorded")
		}
		res, body := b.post(t, "/staff/login", url.Values{"email": {""}, "password": {""}})
		wantStatus(t, res, body, http.StatusBadRequest)

		// Ten tries per address in 15 minutes, for real and unknown
		// addresses alike; then even the right password waits.
		for _, email := range []string{m.Email, "nobody@milterworks.example"} {
			var last *http.Response
			for range 10 {
				last, _ = b.post(t, "/staff/login", url.Values{"email": {email}, "password": {"wrong password!"}})
			}
			if last.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("%s: status %d after 11 attempts, want 429", email, last.StatusCode)
			}
		}
		res, body = b.post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {staffPassword}})
		wantStatus(t, res, body, http.StatusTooManyRequests)
		s.clock.Advance(15 * time.Minute)
		res, _ = b.post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {staffPassword}})
		wantRedirect(t, res, "/staff")
	})
}

// TestStaffRoutePermissions walks every staff route with every role and
// without a session, and checks that only the roles the route's permission
// names get through.
func TestStaffRoutePermissions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		members := map[staff.Role]member{}
		browsers := map[staff.Role]*browser{}
		for _, r := range staff.Roles {
			members[r] = addStaff(t, s, string(r)+"@milterworks.example", r, true)
			browsers[r] = newBrowser(s)
			browsers[r].signIn(t, members[r])
		}
		target := addStaff(t, s, "target@milterworks.example", staff.Support, false)
		fill := strings.NewReplacer("{id}", itoa64(target.ID))
		anon := newBrowser(s)
		for _, rule := range s.srv.StaffRules() {
			method, path, _ := strings.Cut(rule.Pattern, " ")
			path = fill.Replace(path)
			if rule.Public {
				continue
			}
			// Without a session: GET goes to sign-in, anything else is 401.
			res, body := anon.do(t, method, path, url.Values{}, nil)
			if method == http.MethodGet {
				wantRedirect(t, res, "/staff/login")
			} else {
				wantStatus(t, res, body, http.StatusUnauthorized)
			}
			if rule.Partial {
				continue
			}
			for _, role := range staff.Roles {
				if strings.Contains(path, "/logout") || strings.HasSuffix(path, "/disable") || strings.HasSuffix(path, "/password") {
					// Ending sessions would spoil the walk; these routes
					// are covered by their own tests.
					if !role.Can(staff.Permission(rule.Perm)) {
						res, body := browsers[role].do(t, method, path, url.Values{}, nil)
						wantStatus(t, res, body, http.StatusForbidden)
					}
					continue
				}
				res, body := browsers[role].do(t, method, path, url.Values{}, nil)
				allowed := role.Can(staff.Permission(rule.Perm))
				switch {
				case allowed && (res.StatusCode == http.StatusForbidden || res.StatusCode == http.StatusUnauthorized ||
					strings.HasPrefix(res.Header.Get("Location"), "/staff/login")):
					t.Errorf("%s as %s: %d, want access", rule.Pattern, role, res.StatusCode)
				case !allowed && res.StatusCode != http.StatusForbidden:
					t.Errorf("%s as %s: %d, want 403\n%s", rule.Pattern, role, res.StatusCode, body)
				}
			}
		}
		if n := len(auditActions(t, d, "staff.access_denied")); n == 0 {
			t.Fatal("refused requests were not recorded in the audit log")
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// TestEveryStaffRouteHasARule fails when a route under /staff is added
// without going through the permission table.
func TestEveryStaffRouteHasARule(t *testing.T) {
	s := newSite(t, testutil.SQLite(t))
	ruled := map[string]bool{}
	for _, r := range s.srv.StaffRules() {
		if !r.Public && !r.Partial && r.Perm == "" {
			t.Errorf("%s has no permission", r.Pattern)
		}
		ruled[r.Pattern] = true
	}
	if len(ruled) < 20 {
		t.Fatalf("only %d staff rules registered", len(ruled))
	}
	for _, p := range s.srv.Patterns() {
		_, path, _ := strings.Cut(p, " ")
		if strings.HasPrefix(path, "/staff") && !ruled[p] {
			t.Errorf("route %s has no permission rule: register it with staffHandle", p)
		}
	}
	// And the check itself notices a route added around the table.
	s.srv.HandleForTest("GET /staff/sneaky", func(w http.ResponseWriter, r *http.Request) error { return nil })
	found := false
	for _, p := range s.srv.Patterns() {
		if p == "GET /staff/sneaky" && !ruled[p] {
			found = true
		}
	}
	if !found {
		t.Fatal("a route registered outside the table was not detected")
	}
}

func TestSessionsEndWhenIdleOrOld(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		m := addStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		b := newBrowser(s)
		b.signIn(t, m)
		s.clock.Advance(staff.IdleTimeout - time.Minute)
		if res, body := b.get(t, "/staff"); res.StatusCode != 200 {
			t.Fatalf("active session refused: %d %s", res.StatusCode, body)
		}
		s.clock.Advance(staff.IdleTimeout)
		res, _ := b.get(t, "/staff")
		wantRedirect(t, res, "/staff/login")

		// Busy all day: still ends after the absolute timeout.
		b.signIn(t, m)
		for elapsed := time.Duration(0); elapsed < staff.AbsoluteTimeout-20*time.Minute; elapsed += 20 * time.Minute {
			s.clock.Advance(20 * time.Minute)
			if res, _ := b.get(t, "/staff"); res.StatusCode != 200 {
				t.Fatalf("session ended early, after %v", elapsed)
			}
		}
		s.clock.Advance(20 * time.Minute)
		res, _ = b.get(t, "/staff")
		wantRedirect(t, res, "/staff/login")

		// A forged or damaged cookie is no session.
		f := newBrowser(s)
		f.cookies["sk_staff"] = "forged-token"
		res, _ = f.get(t, "/staff")
		wantRedirect(t, res, "/staff/login")
	})
}

func TestOwnAccountPasswordAndSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		m := addStaff(t, s, "analyst@milterworks.example", staff.Analyst, false)
		laptop, phone, tablet := newBrowser(s), newBrowser(s), newBrowser(s)
		for _, b := range []*browser{laptop, phone, tablet} {
			b.signIn(t, m)
		}
		res, body := laptop.get(t, "/staff/account")
		wantStatus(t, res, body, 200)
		ids := regexp.MustCompile(`/staff/account/sessions/(\d+)/revoke`).FindAllStringSubmatch(body, -1)
		if len(ids) != 2 {
			t.Fatalf("account page lists %d other sessions, want 2", len(ids))
		}
		res, _ = laptop.post(t, "/staff/account/sessions/"+ids[0][1]+"/revoke", nil)
		wantRedirect(t, res, "/staff/account?done=session-ended")
		ended := 0
		for _, b := range []*browser{phone, tablet} {
			if res, _ := b.get(t, "/staff"); res.StatusCode != 200 {
				ended++
			}
		}
		if ended != 1 {
			t.Fatalf("%d sessions ended by revoking one", ended)
		}
		res, _ = laptop.post(t, "/staff/account/logout-everywhere", nil)
		wantRedirect(t, res, "/staff/account?done=signed-out")
		for _, b := range []*browser{phone, tablet} {
			res, _ := b.get(t, "/staff")
			wantRedirect(t, res, "/staff/login")
		}
		res, body = laptop.get(t, "/staff/account?done=signed-out")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Your other sessions are signed out.")

		res, body = laptop.post(t, "/staff/account/password", url.Values{"current": {"wrong"}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		wantStatus(t, res, body, http.StatusUnauthorized)
		res, body = laptop.post(t, "/staff/account/password", url.Values{"current": {staffPassword}, "password": {"short"}, "confirm": {"short"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = laptop.post(t, "/staff/account/password", url.Values{"current": {staffPassword}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		wantRedirect(t, res, "/staff/account?done=password")
		if res, body := laptop.get(t, "/staff"); res.StatusCode != 200 {
			t.Fatalf("the browser that changed the password was signed out: %d %s", res.StatusCode, body)
		}
		if _, err := staff.CheckPassword(context.Background(), d, m.Email, "a brand new passphrase"); err != nil {
			t.Fatal("new password does not work")
		}
	})
}

func TestOwnerManagesStaff(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		owner := addStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		ob := newBrowser(s)
		ob.signIn(t, owner)
		res, body := ob.get(t, "/staff/team")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "owner@milterworks.example")
		if len(auditActions(t, d, "personal_data.view")) == 0 {
			t.Fatal("viewing the staff list was not recorded")
		}

		res, body = ob.post(t, "/staff/team", url.Values{"email": {"not-an-address"}, "role": {"support"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		mustContain(t, body, "is not an email address")
		res, body = ob.post(t, "/staff/team", url.Values{"email": {"sam@milterworks.example"}, "role": {"janitor"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = ob.post(t, "/staff/team", url.Values{"email": {"sam@milterworks.example"}, "name": {"Sam"}, "role": {"support"}})
		wantStatus(t, res, body, 200)
		link := regexp.MustCompile(`http://127\.0\.0\.1:8080(/staff/setup\?token=[A-Za-z0-9_-]+)`).FindStringSubmatch(body)
		if link == nil {
			t.Fatalf("no setup link shown:\n%s", body)
		}
		res, body = ob.post(t, "/staff/team", url.Values{"email": {"sam@milterworks.example"}, "role": {"support"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)

		sam := newBrowser(s)
		res, body = sam.get(t, link[1])
		wantStatus(t, res, body, 200)
		mustContain(t, body, "sam@milterworks.example")
		token := strings.TrimPrefix(link[1], "/staff/setup?token=")
		res, body = sam.post(t, "/staff/setup", url.Values{"token": {token}, "password": {staffPassword}, "confirm": {"something else"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = sam.post(t, "/staff/setup", url.Values{"token": {token}, "password": {staffPassword}, "confirm": {staffPassword}})
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Your password is saved")
		res, body = sam.post(t, "/staff/setup", url.Values{"token": {token}, "password": {staffPassword}, "confirm": {staffPassword}})
		wantStatus(t, res, body, http.StatusGone)
		res, body = sam.get(t, "/staff/setup?token=made-up")
		wantStatus(t, res, body, http.StatusGone)
		samAcct, err := staff.ByEmail(context.Background(), d, "sam@milterworks.example")
		if err != nil {
			t.Fatal(err)
		}
		sam.signIn(t, member{Account: samAcct})

		id := itoa64(samAcct.ID)
		res, _ = ob.post(t, "/staff/team/"+id+"/role", url.Values{"role": {"finance"}})
		wantRedirect(t, res, "/staff/team?done=role")
		res, body = ob.post(t, "/staff/team/"+id+"/role", url.Values{"role": {"overlord"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = ob.post(t, "/staff/team/"+id+"/disable", nil)
		wantRedirect(t, res, "/staff/team?done=disabled")
		res, _ = sam.get(t, "/staff")
		wantRedirect(t, res, "/staff/login")
		res, body = sam.post(t, "/staff/login", url.Values{"email": {"sam@milterworks.example"}, "password": {staffPassword}})
		wantStatus(t, res, body, http.StatusUnauthorized)
		res, _ = ob.post(t, "/staff/team/"+id+"/enable", nil)
		wantRedirect(t, res, "/staff/team?done=enabled")
		res, body = ob.post(t, "/staff/team/"+id+"/reset-link", nil)
		wantStatus(t, res, body, 200)
		mustContain(t, body, "/staff/setup?token=")

		// The last owner can be neither demoted nor disabled, and nobody
		// disables themselves.
		oid := itoa64(owner.ID)
		res, body = ob.post(t, "/staff/team/"+oid+"/role", url.Values{"role": {"support"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		mustContain(t, body, "last active owner")
		res, body = ob.post(t, "/staff/team/"+oid+"/disable", nil)
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = ob.post(t, "/staff/team/99999/enable", nil)
		wantStatus(t, res, body, http.StatusNotFound)

		res, _ = ob.post(t, "/staff/team/"+oid+"/reset-2fa", nil)
		wantRedirect(t, res, "/staff/team?done=2fa-reset")
		res, _ = ob.get(t, "/staff")
		wantRedirect(t, res, "/staff/login") // resetting 2FA ends the sessions
		for _, a := range []string{"staff.created", "staff.password_set", "staff.role", "staff.disable", "staff.enable", "staff.reset_link", "staff.reset_2fa"} {
			if len(auditActions(t, d, a)) == 0 {
				t.Errorf("no audit entry for %s", a)
			}
		}
	})
}

func TestSettingsDrivePolicyAndNotice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		owner := addStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := newBrowser(s)
		b.signIn(t, owner)
		res, body := b.get(t, "/staff/settings")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "has not been shown yet")
		_, policy := b.get(t, "/privacy")
		mustContain(t, policy, "privacy@milterworks.example")

		form := url.Values{"name": {"Milterworks"}, "legal_name": {"Milterworks AG"}, "address": {"Bahnhofstrasse 1\r\nZürich"},
			"privacy_email": {"not an address"}, "support_email": {"help@milterworks.example"}, "country": {"Switzerland"},
			"hosting_provider": {"Exoscale"}, "hosting_location": {"Switzerland"}, "require_2fa": {"on"},
			"mail_provider": {"Postmark Relay"}, "mail_location": {"United States"}, "mail_transfer": {"Standard Contractual Clauses"}}
		res, body = b.post(t, "/staff/settings", form)
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		mustContain(t, body, "is not an email address")
		_, policy = b.get(t, "/privacy")
		mustContain(t, policy, "privacy@milterworks.example") // nothing changed

		s.clock.Advance(48 * time.Hour)
		b.signIn(t, owner)
		form.Set("privacy_email", "dpo@milterworks.example")
		res, _ = b.post(t, "/staff/settings", form)
		wantRedirect(t, res, "/staff/settings?done=saved")
		_, policy = b.get(t, "/privacy")
		mustContain(t, policy, "dpo@milterworks.example", "Milterworks AG", "Exoscale", "9 May 2026", "Postmark Relay")

		res, body = b.post(t, "/staff/settings/policy-notice", url.Values{"note": {""}})
		wantStatus(t, res, body, http.StatusBadRequest)
		res, _ = b.post(t, "/staff/settings/policy-notice", url.Values{"note": {"We now host in Switzerland."}})
		wantRedirect(t, res, "/staff/settings?done=policy-notice")
		_, policy = b.get(t, "/privacy")
		mustContain(t, policy, "We now host in Switzerland.")
		res, body = b.get(t, "/staff/settings?done=policy-notice")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "marked as a significant change")

		// Requiring 2FA for everyone sends a colleague without it to enrol.
		sup := addStaff(t, s, "support@milterworks.example", staff.Support, false)
		sb := newBrowser(s)
		res, _ = sb.post(t, "/staff/login", url.Values{"email": {sup.Email}, "password": {staffPassword}})
		wantRedirect(t, res, "/staff/2fa/setup")
		if len(auditActions(t, d, "settings.changed")) != 1 || len(auditActions(t, d, "policy.significant_change")) != 1 {
			t.Fatal("settings changes not recorded")
		}
	})
}

func TestAuditLogViewFilterAndExport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		owner := addStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		analyst := addStaff(t, s, "analyst@milterworks.example", staff.Analyst, false)
		b, ab := newBrowser(s), newBrowser(s)
		b.signIn(t, owner)
		ab.signIn(t, analyst)
		res, body := ab.get(t, "/staff/audit")
		wantStatus(t, res, body, http.StatusForbidden)
		mustContain(t, body, "Your role (analyst) does not allow this")

		res, body = b.get(t, "/staff/audit")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "staff.login", "staff.access_denied", "analyst@milterworks.example")
		res, body = b.get(t, "/staff/audit?action=staff.access")
		wantStatus(t, res, body, 200)
		if strings.Contains(body, "<td>staff.login</td>") {
			t.Fatal("action filter let other actions through")
		}
		res, body = b.get(t, "/staff/audit?actor="+itoa64(analyst.ID)+"&from=2026-05-01&to=2026-05-31")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "staff.access_denied")
		res, body = b.get(t, "/staff/audit?action=nothing.like.this")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "No entries match.")
		for _, bad := range []string{"?from=yesterday", "?actor=abc", "?before=-1"} {
			res, body = b.get(t, "/staff/audit"+bad)
			wantStatus(t, res, body, http.StatusBadRequest)
		}
		res, body = b.get(t, "/staff/audit.csv?action=staff.")
		wantStatus(t, res, body, 200)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("CSV content type %q", ct)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) < 3 || recs[0][4] != "action" {
			t.Fatalf("CSV export = %v, %v", recs, err)
		}
		if len(auditActions(t, d, "audit.exported")) != 1 {
			t.Fatal("the export was not recorded")
		}
		if _, err := audit.Verify(context.Background(), d, nil); err != nil {
			t.Fatalf("audit chain broken after console use: %v", err)
		}
	})
}

func TestCrossSiteStaffPostsRefused(t *testing.T) {
	s := newSite(t, testutil.SQLite(t))
	m := addStaff(t, s, "owner@milterworks.example", staff.Owner, true)
	b := newBrowser(s)
	b.signIn(t, m)
	res, body := b.do(t, http.MethodPost, "/staff/team", url.Values{"email": {"evil@example.com"}, "role": {"owner"}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
	wantStatus(t, res, body, http.StatusForbidden)
	if _, err := staff.ByEmail(context.Background(), s.d, "evil@example.com"); err == nil {
		t.Fatal("a cross-site post created an account")
	}
}

func TestConsoleAreasAndDashboard(t *testing.T) {
	s := newSite(t, testutil.SQLite(t))
	m := addStaff(t, s, "support@milterworks.example", staff.Support, true)
	b := newBrowser(s)
	b.signIn(t, m)
	res, body := b.get(t, "/staff")
	wantStatus(t, res, body, 200)
	mustContain(t, body, `href="/staff/customers"`, `href="/staff/requests"`)
	if strings.Contains(body, `href="/staff/orders"`) || strings.Contains(body, `href="/staff/audit"`) {
		t.Fatal("the support role's navigation shows areas it may not open")
	}
	res, body = b.get(t, "/staff/customers")
	wantStatus(t, res, body, 200)
	mustContain(t, body, "<h1>Customers</h1>")
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("console page Cache-Control %q, want no-store", cc)
	}
}

// TestAuditRecordsTheClientBehindATrustedProxy: with serve's proxy
// middleware in front, the audit log names the client's network, not the
// proxy's, and only when the proxy is trusted.
func TestAuditRecordsTheClientBehindATrustedProxy(t *testing.T) {
	s := newSite(t, testutil.SQLite(t))
	m := addStaff(t, s, "support@milterworks.example", staff.Support, false)
	// httptest requests come from 192.0.2.1.
	s.h = serving.ClientIPMiddleware([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})(s.srv.Handler())
	b := newBrowser(s)
	res, _ := b.do(t, http.MethodPost, "/staff/login", url.Values{"email": {m.Email}, "password": {staffPassword}},
		http.Header{"X-Forwarded-For": {"203.0.113.77"}})
	wantRedirect(t, res, "/staff")
	logins := auditActions(t, s.d, "staff.login")
	if len(logins) != 1 || logins[0].SourceNet != "203.0.113.0/24" {
		t.Fatalf("login recorded from %+v, want the client's network 203.0.113.0/24", logins)
	}
	s.h = serving.ClientIPMiddleware(nil)(s.srv.Handler())
	res, _ = b.do(t, http.MethodPost, "/staff/login", url.Values{"email": {m.Email}, "password": {staffPassword}},
		http.Header{"X-Forwarded-For": {"203.0.113.77"}})
	wantRedirect(t, res, "/staff")
	if logins = auditActions(t, s.d, "staff.login"); logins[0].SourceNet != "192.0.2.0/24" {
		t.Fatalf("an untrusted X-Forwarded-For was believed: %+v", logins[0])
	}
}

// TestStaffResetsTheirOwnPassword: the emailed link works once; the answer
// never says whether an address has an account; requests are limited.
func TestStaffResetsTheirOwnPassword(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		m := addStaff(t, s, "sam@milterworks.example", staff.Support, false)
		b := newBrowser(s)
		res, body := b.get(t, "/staff/reset")
		wantStatus(t, res, body, 200)
		_, known := b.post(t, "/staff/reset", url.Values{"email": {m.Email}})
		_, unknown := b.post(t, "/staff/reset", url.Values{"email": {"nobody@milterworks.example"}})
		for _, page := range []string{known, unknown} {
			mustContain(t, page, "a link to choose a new password is on its way")
		}
		res, body = b.post(t, "/staff/reset", url.Values{"email": {"nonsense"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		var text string
		if err := d.QueryRowContext(context.Background(), `SELECT text_body FROM outbox WHERE template = 'staff_reset' AND to_addr = $1`, m.Email).Scan(&text); err != nil {
			t.Fatalf("no reset mail queued: %v", err)
		}
		if n := countRows(t, d, `SELECT count(*) FROM outbox`); n != 1 {
			t.Fatalf("%d mails queued, want only the real account's", n)
		}
		token := regexp.MustCompile(`token=([A-Za-z0-9_-]+)`).FindStringSubmatch(text)[1]
		res, _ = b.post(t, "/staff/setup", url.Values{"token": {token}, "password": {"a fresh long passphrase"}, "confirm": {"a fresh long passphrase"}})
		if res.StatusCode != 200 {
			t.Fatalf("using the emailed link: %d", res.StatusCode)
		}
		if _, err := staff.CheckPassword(context.Background(), d, m.Email, "a fresh long passphrase"); err != nil {
			t.Fatal("the new password does not work")
		}
		for range 3 {
			res, _ = b.post(t, "/staff/reset", url.Values{"email": {m.Email}})
		}
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("reset requests are not limited: %d", res.StatusCode)
		}
	})
}
