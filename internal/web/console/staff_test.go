package console_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"github.com/storekeep/storekeep/internal/fraud"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/breaches"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/serving"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestStaffSignInWithPasswordAndTOTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := webtest.NewBrowser(s)

		res, _ := b.Get(t, "/staff/audit")
		webtest.WantRedirect(t, res, "/staff/login?next=%2Fstaff%2Faudit")
		res, body := b.Get(t, "/staff/login?next=/staff/audit")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, `name="password"`, `value="/staff/audit"`)

		res, _ = b.Post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {webtest.StaffPassword}, "next": {"/staff/audit"}})
		webtest.WantRedirect(t, res, "/staff/2fa")
		// A password-only session opens nothing but the second step.
		res, _ = b.Get(t, "/staff")
		webtest.WantRedirect(t, res, "/staff/login")
		res, body = b.Get(t, "/staff/2fa?next=/staff/audit")
		webtest.WantStatus(t, res, body, 200)

		res, body = b.Post(t, "/staff/2fa", url.Values{"code": {"000000"}, "next": {"/staff/audit"}})
		webtest.WantStatus(t, res, body, http.StatusUnauthorized)
		webtest.MustContain(t, body, "The code is wrong")
		if len(webtest.AuditActions(t, d, "staff.2fa_failed")) != 1 {
			t.Fatal("failed second factor not recorded")
		}

		s.Clock.Advance(30 * time.Second)
		code, _ := staff.TOTPCode(m.Secret, s.Clock.Now())
		res, _ = b.Post(t, "/staff/2fa", url.Values{"code": {code}, "next": {"/staff/audit"}})
		webtest.WantRedirect(t, res, "/staff/audit")
		res, body = b.Get(t, "/staff")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Dashboard", "owner@milterworks.example", `href="/staff/audit"`)

		// The same code cannot be replayed by someone who saw it.
		other := webtest.NewBrowser(s)
		res, _ = other.Post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {webtest.StaffPassword}})
		webtest.WantRedirect(t, res, "/staff/2fa")
		res, body = other.Post(t, "/staff/2fa", url.Values{"code": {code}})
		webtest.WantStatus(t, res, body, http.StatusUnauthorized)

		if n := len(webtest.AuditActions(t, d, "staff.login")); n != 1 {
			t.Fatalf("%d staff.login entries, want 1", n)
		}
		// Signing out ends the session.
		res, _ = b.Post(t, "/staff/logout", nil)
		webtest.WantRedirect(t, res, "/staff/login")
		res, _ = b.Get(t, "/staff")
		webtest.WantRedirect(t, res, "/staff/login")
	})
}

func TestOwnerMustEnrolSecondFactor(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "new-owner@milterworks.example", staff.Owner, false)
		b := webtest.NewBrowser(s)
		res, _ := b.Post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {webtest.StaffPassword}})
		webtest.WantRedirect(t, res, "/staff/2fa/setup")
		res, _ = b.Get(t, "/staff/2fa")
		webtest.WantRedirect(t, res, "/staff/2fa/setup")
		res, body := b.Get(t, "/staff/2fa/setup")
		webtest.WantStatus(t, res, body, 200)
		secret := regexp.MustCompile(`name="secret" value="([A-Z2-7]{32})"`).FindStringSubmatch(body)
		if secret == nil {
			t.Fatalf("no secret on the setup page:\n%s", body)
		}
		res, body = b.Post(t, "/staff/2fa/setup", url.Values{"secret": {secret[1]}, "code": {"123456"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = b.Post(t, "/staff/2fa/setup", url.Values{"secret": {"not-base32"}, "code": {"123456"}})
		webtest.WantStatus(t, res, body, http.StatusBadRequest)

		code, _ := staff.TOTPCode(secret[1], s.Clock.Now())
		res, body = b.Post(t, "/staff/2fa/setup", url.Values{"secret": {secret[1]}, "code": {code}})
		webtest.WantStatus(t, res, body, 200)
		codes := regexp.MustCompile(`<code>([a-z2-9]{5}-[a-z2-9]{5})</code>`).FindAllStringSubmatch(body, -1)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown, want 10:\n%s", len(codes), body)
		}
		if len(webtest.AuditActions(t, d, "staff.login")) != 1 || len(webtest.AuditActions(t, d, "staff.2fa_enrolled")) != 1 {
			t.Fatal("a sign-in completed by enrolment must record both the enrolment and the sign-in")
		}
		res, body = b.Get(t, "/staff")
		webtest.WantStatus(t, res, body, 200)
		res, body = b.Get(t, "/staff/account")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "On (10 recovery codes left)", "This browser")

		// A recovery code signs in once.
		for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
			o := webtest.NewBrowser(s)
			res, _ = o.Post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {webtest.StaffPassword}})
			webtest.WantRedirect(t, res, "/staff/2fa")
			res, body = o.Post(t, "/staff/2fa", url.Values{"code": {strings.ToUpper(codes[0][1])}})
			if res.StatusCode != want {
				t.Fatalf("recovery code use %d: %d, want %d\n%s", i+1, res.StatusCode, want, body)
			}
		}
	})
}

func TestSignInFailuresRevealNothingAndAreLimited(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		b := webtest.NewBrowser(s)
		_, known := b.Post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {"wrong password!"}})
		res, unknown := b.Post(t, "/staff/login", url.Values{"email": {"nobody@milterworks.example"}, "password": {"wrong password!"}})
		webtest.WantStatus(t, res, unknown, http.StatusUnauthorized)
		msg := "The email address or password is wrong."
		webtest.MustContain(t, known, msg)
		webtest.MustContain(t, unknown, msg)
		if len(webtest.AuditActions(t, d, "staff.login_failed")) != 1 {
			t.Fatal("failed sign-in to a real account not recorded")
		}
		res, body := b.Post(t, "/staff/login", url.Values{"email": {""}, "password": {""}})
		webtest.WantStatus(t, res, body, http.StatusBadRequest)

		// Ten tries per address from one network in 15 minutes, for real
		// and unknown addresses alike; then even the right password waits
		// (in a browser that never signed in to the account).
		for _, email := range []string{m.Email, "nobody@milterworks.example"} {
			var last *http.Response
			for range 10 {
				last, _ = b.Post(t, "/staff/login", url.Values{"email": {email}, "password": {"wrong password!"}})
			}
			if last.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("%s: status %d after 11 attempts, want 429", email, last.StatusCode)
			}
		}
		res, body = b.Post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {webtest.StaffPassword}})
		webtest.WantStatus(t, res, body, http.StatusTooManyRequests)
		s.Clock.Advance(15 * time.Minute)
		res, _ = b.Post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {webtest.StaffPassword}})
		webtest.WantRedirect(t, res, "/staff")
	})
}

// TestStaffRoutePermissions walks every staff route with every role and
// without a session, with path values that exist (a real order, invoice,
// correction, customer, request, message, staff member and session), and
// checks that exactly the roles the route's permission names get through.
// Getting through means an answer the handler gives on purpose: a page, a
// redirect onwards, or a refusal of the empty form (400, 409, 422). A 404
// or a 500 for a permitted role fails the test as surely as a 403 does.
func TestStaffRoutePermissions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}), webtest.WithLicenseKeys(webtest.LicenseKeys))
		members := map[staff.Role]webtest.Member{}
		browsers := map[staff.Role]*webtest.Browser{}
		for _, r := range staff.Roles {
			members[r] = webtest.AddStaff(t, s, string(r)+"@milterworks.example", r, true)
			browsers[r] = webtest.NewBrowser(s)
			browsers[r].SignIn(t, members[r])
		}
		target := webtest.AddStaff(t, s, "target@milterworks.example", staff.Support, false)
		fx := permissionFixtures(t, s, browsers[staff.Owner])
		// A second session per member, for the route that ends one.
		spare := map[staff.Role]int64{}
		ctx := context.Background()
		for r, m := range members {
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := staff.StartSession(ctx, tx, m.ID, staff.LevelFull, s.Clock.Now())
				return err
			})
			var id int64
			if err == nil {
				err = d.QueryRowContext(ctx, `SELECT max(id) FROM staff_sessions WHERE staff_id = $1`, m.ID).Scan(&id)
			}
			if err != nil {
				t.Fatal(err)
			}
			spare[r] = id
		}
		fill := func(pattern string, role staff.Role) string {
			_, path, _ := strings.Cut(pattern, " ")
			id := webtest.Itoa(target.ID)
			switch {
			case strings.HasPrefix(path, "/staff/customers/"):
				id = webtest.Itoa(fx.customer)
			case strings.HasPrefix(path, "/staff/requests/"):
				id = webtest.Itoa(fx.request)
			case strings.HasPrefix(path, "/staff/outbox/"):
				id = webtest.Itoa(fx.message)
			case strings.HasPrefix(path, "/staff/licenses/"):
				id = webtest.Itoa(fx.license)
			case strings.HasPrefix(path, "/staff/notices/"):
				id = webtest.Itoa(fx.notice)
			case strings.HasPrefix(path, "/staff/privacy/disclosures/"):
				id = webtest.Itoa(fx.disclosure)
			case strings.HasPrefix(path, "/staff/breaches/"):
				id = webtest.Itoa(fx.breach)
			case strings.HasPrefix(path, "/staff/fraud/"):
				id = webtest.Itoa(fx.fraudCase)
			case strings.HasPrefix(path, "/staff/releases/"):
				id = webtest.Itoa(fx.release)
			case strings.HasPrefix(path, "/staff/support/canned/"):
				id = webtest.Itoa(fx.canned)
			case strings.HasPrefix(path, "/staff/support/parked/"):
				id = webtest.Itoa(fx.parked)
			case strings.HasPrefix(path, "/staff/support/"):
				id = webtest.Itoa(fx.ticket)
			case strings.HasPrefix(path, "/staff/account/sessions/"):
				id = webtest.Itoa(spare[role])
			}
			number := fx.order
			switch {
			case strings.HasPrefix(path, "/staff/invoices/"):
				number = fx.invoice
			case strings.HasPrefix(path, "/staff/corrections/"):
				number = fx.correction
			}
			return strings.NewReplacer("{id}", id, "{key}", "stripe", "{number}", number, "{what}", "product", "{action}", "cancel",
				"{artifact}", webtest.Itoa(fx.artifact), "{file}", webtest.Itoa(fx.file), "{message}", webtest.Itoa(fx.mail),
				"{doc}", "cookies", "{decision}", webtest.Itoa(fx.fraudDecision)).Replace(path)
		}
		anon := webtest.NewBrowser(s)
		for _, rule := range s.Srv.StaffRules() {
			method, _, _ := strings.Cut(rule.Pattern, " ")
			if rule.Access == web.AccessPublic {
				continue
			}
			// Without a session: GET goes to sign-in, anything else is 401.
			res, body := anon.Do(t, method, fill(rule.Pattern, staff.Owner), url.Values{}, nil)
			if method == http.MethodGet {
				webtest.WantRedirect(t, res, "/staff/login")
			} else {
				webtest.WantStatus(t, res, body, http.StatusUnauthorized)
			}
			if rule.Access == web.AccessPartial {
				continue
			}
			for _, role := range staff.Roles {
				path := fill(rule.Pattern, role)
				allowed := role.Can(rule.Perm)
				if strings.Contains(path, "/logout") || strings.HasSuffix(path, "/disable") || strings.HasSuffix(path, "/password") {
					// Ending sessions would spoil the walk; these routes
					// are covered by their own tests.
					if !allowed {
						res, body := browsers[role].Do(t, method, path, url.Values{}, nil)
						webtest.WantStatus(t, res, body, http.StatusForbidden)
					}
					continue
				}
				res, body := browsers[role].Do(t, method, path, url.Values{}, nil)
				switch {
				case allowed && !granted(res):
					t.Errorf("%s as %s: %d (to %q), want access\n%s", path, role, res.StatusCode, res.Header.Get("Location"), body)
				case !allowed && res.StatusCode != http.StatusForbidden:
					t.Errorf("%s as %s: %d, want 403\n%s", path, role, res.StatusCode, body)
				}
			}
		}
		if n := len(webtest.AuditActions(t, d, "staff.access_denied")); n == 0 {
			t.Fatal("refused requests were not recorded in the audit log")
		}
	})
}

// granted tells an answer given on purpose to a permitted member: a page,
// a redirect onwards (not to sign-in), or a refusal of the empty form.
func granted(res *http.Response) bool {
	switch res.StatusCode {
	case http.StatusOK, http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity:
		return true
	case http.StatusSeeOther:
		return !strings.HasPrefix(res.Header.Get("Location"), "/staff/login")
	}
	return false
}

// fixtures are records every console path can name.
type fixtures struct {
	customer, request, message, license int64
	release, artifact, notice           int64
	disclosure                          int64 // the accountability area's
	breach, fraudCase, fraudDecision    int64
	ticket, file, mail, canned, parked  int64 // the support desk's
	order, invoice, correction          string
}

// permissionFixtures makes, through the site as its people would, a paid
// order by bank transfer with its invoice, a correction and the license it
// issued, and a privacy request.
func permissionFixtures(t *testing.T, s *webtest.Site, owner *webtest.Browser) fixtures {
	t.Helper()
	var fx fixtures
	buyer, c := webtest.SignedInCustomer(t, s, "bea@example.com")
	fx.customer = c.ID
	res, _ := buyer.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, s.DB), "method", "manual"))
	webtest.WantRedirect(t, res, "/account/orders/")
	fx.order = strings.TrimPrefix(strings.Split(res.Header.Get("Location"), "?")[0], "/account/orders/")
	res, body := owner.Post(t, "/staff/orders/"+fx.order+"/mark-paid", nil)
	webtest.WantRedirect(t, res, "/staff/orders/")
	fx.invoice = "2026-000001"
	res, body = owner.Post(t, "/staff/invoices/"+fx.invoice+"/correct", url.Values{"name": {"Bea Buyer"},
		"address": {"Neue Str. 1\r\n10115 Berlin"}, "country": {"de"}, "reason": {"moved"}})
	webtest.WantRedirect(t, res, "/staff/orders/")
	fx.correction = "2026-000002"
	if err := s.DB.QueryRowContext(context.Background(), `SELECT max(id) FROM licenses`).Scan(&fx.license); err != nil {
		t.Fatal(err)
	}
	page := newRequest(t, owner, url.Values{"kind": {"access"}, "email": {"bea@example.com"}, "channel": {"email"},
		"received": {webtest.Start.Format(time.DateOnly)}}, "created")
	id, err := strconv.ParseInt(strings.TrimPrefix(page, "/staff/requests/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	fx.request = id
	if err := s.DB.QueryRowContext(context.Background(), `SELECT max(id) FROM outbox`).Scan(&fx.message); err != nil {
		t.Fatal(err, body)
	}
	// A draft release with one file (its row only: this site has no store).
	rel, err := (&releases.Releases{DB: s.DB, Clock: s.Clock}).Create(context.Background(), audit.System(),
		releases.NewRelease{Product: "mailguard", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	fx.release = rel.ID
	// A pending request from an authority.
	if fx.disclosure, err = privacy.RecordDisclosure(context.Background(), s.DB, audit.System(), privacy.DisclosureInput{Authority: "Court",
		LegalBasis: "order", RequestedAt: s.Clock.Now(), Asked: "records", Decision: privacy.DecisionPending}, s.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	// A draft notice to every license holder.
	if fx.notice, err = notices.Create(context.Background(), s.DB, audit.System(),
		notices.Input{Kind: notices.Security, Subject: "Fix", Body: "Update."}, s.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	// A breach in the register.
	if fx.breach, err = breaches.Record(context.Background(), s.DB, audit.System(),
		breaches.Input{Facts: breaches.Facts{Title: "Lost laptop", WhatHappened: "Stolen.", DiscoveredAt: s.Clock.Now()}}, s.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	// A fraud review case about the license.
	err = s.DB.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		fx.fraudCase, _, err = fraud.Raise(context.Background(), tx, s.DB.Dialect, fraud.Signal{Kind: fraud.KeySharing,
			Subject: fraud.Subject{LicenseID: fx.license}, Summary: "Used from many networks.",
			Facts: []fraud.Fact{{Name: "networks in 24 hours", Value: "9"}}, Source: "console-walk", At: s.Clock.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Decided (nothing wrong), so that its decision can be named.
	dec, err := fraud.Service{DB: s.DB, SiteName: "Milterworks", BaseURL: webtest.BaseURL}.Decide(context.Background(), fraud.DecideRequest{CaseID: fx.fraudCase,
		Action: fraud.NoAction, Reason: "The networks are the customer's offices.", Token: "console-walk", StaffID: 1}, s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	fx.fraudDecision = dec.ID
	err = s.DB.Tx(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRowContext(context.Background(), `INSERT INTO release_artifacts (release_id, file_name, platform, kind, size, sha256,
			signature, store_key, created_at) VALUES ($1, 'a.tar', 'any', 'other', 0, '', '', 'fixture', $2) RETURNING id`, rel.ID, s.Clock.Now()).Scan(&fx.artifact)
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A support ticket from a mail with a file, a canned reply and a
	// parked message.
	desk := &support.Desk{DB: s.DB, Clock: s.Clock}
	env := support.Envelope{Sender: "kim@example.org", Recipient: "support@milterworks.example", Via: "pipe"}
	out, err := desk.Receive(ctx, env, []byte("From: kim@example.org\r\nSubject: Help\r\nMessage-ID: <fx1@example.org>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHelp\r\n--b\r\n"+
		"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=log.txt\r\n\r\nlog\r\n--b--\r\n"))
	if err != nil || out.TicketID == 0 {
		t.Fatal(out, err)
	}
	fx.ticket = out.TicketID
	if err := s.DB.QueryRowContext(ctx, `SELECT max(id) FROM support_attachments`).Scan(&fx.file); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.QueryRowContext(ctx, `SELECT max(id) FROM support_messages WHERE raw IS NOT NULL`).Scan(&fx.mail); err != nil {
		t.Fatal(err)
	}
	cr, err := desk.SaveCanned(ctx, support.Canned{Title: "Fixture", Body: "Hello {name}"}, audit.System())
	if err != nil {
		t.Fatal(err)
	}
	fx.canned = cr.ID
	out, err = desk.Receive(ctx, env, []byte("From: kim@example.org\r\nSubject: Spam?\r\nMessage-ID: <fx2@example.org>\r\nX-Spam-Flag: YES\r\n\r\nbody\r\n"))
	if err != nil || out.ParkedID == 0 {
		t.Fatal(out, err)
	}
	fx.parked = out.ParkedID
	return fx
}

// TestEveryStaffRouteHasARule fails when a route under /staff is added
// without going through the permission table.
func TestEveryStaffRouteHasARule(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	ruled := map[string]bool{}
	for _, r := range s.Srv.StaffRules() {
		if r.Access == web.AccessFull && r.Perm == "" {
			t.Errorf("%s has no permission", r.Pattern)
		}
		ruled[r.Pattern] = true
	}
	if len(ruled) < 20 {
		t.Fatalf("only %d staff rules registered", len(ruled))
	}
	for _, p := range s.Srv.Patterns() {
		_, path, _ := strings.Cut(p, " ")
		if strings.HasPrefix(path, "/staff") && !ruled[p] {
			t.Errorf("route %s has no permission rule: register it with staffHandle", p)
		}
	}
	// And a route cannot be added around the table: Handle refuses
	// console paths.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Handle registered a console route without a permission rule")
			}
		}()
		s.Srv.Handle("GET /staff/sneaky", func(w http.ResponseWriter, r *http.Request) error { return nil })
	}()
}

func TestSessionsEndWhenIdleOrOld(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		b := webtest.NewBrowser(s)
		b.SignIn(t, m)
		s.Clock.Advance(staff.IdleTimeout - time.Minute)
		if res, body := b.Get(t, "/staff"); res.StatusCode != 200 {
			t.Fatalf("active session refused: %d %s", res.StatusCode, body)
		}
		s.Clock.Advance(staff.IdleTimeout)
		res, _ := b.Get(t, "/staff")
		webtest.WantRedirect(t, res, "/staff/login")

		// Busy all day: still ends after the absolute timeout.
		b.SignIn(t, m)
		for elapsed := time.Duration(0); elapsed < staff.AbsoluteTimeout-20*time.Minute; elapsed += 20 * time.Minute {
			s.Clock.Advance(20 * time.Minute)
			if res, _ := b.Get(t, "/staff"); res.StatusCode != 200 {
				t.Fatalf("session ended early, after %v", elapsed)
			}
		}
		s.Clock.Advance(20 * time.Minute)
		res, _ = b.Get(t, "/staff")
		webtest.WantRedirect(t, res, "/staff/login")

		// A forged or damaged cookie is no session.
		f := webtest.NewBrowser(s)
		f.Cookies["sk_staff"] = "forged-token"
		res, _ = f.Get(t, "/staff")
		webtest.WantRedirect(t, res, "/staff/login")
	})
}

func TestOwnAccountPasswordAndSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "analyst@milterworks.example", staff.Analyst, false)
		laptop, phone, tablet := webtest.NewBrowser(s), webtest.NewBrowser(s), webtest.NewBrowser(s)
		for _, b := range []*webtest.Browser{laptop, phone, tablet} {
			b.SignIn(t, m)
		}
		res, body := laptop.Get(t, "/staff/account")
		webtest.WantStatus(t, res, body, 200)
		ids := regexp.MustCompile(`/staff/account/sessions/(\d+)/revoke`).FindAllStringSubmatch(body, -1)
		if len(ids) != 2 {
			t.Fatalf("account page lists %d other sessions, want 2", len(ids))
		}
		res, _ = laptop.Post(t, "/staff/account/sessions/"+ids[0][1]+"/revoke", nil)
		webtest.WantRedirect(t, res, "/staff/account?done=session-ended")
		ended := 0
		for _, b := range []*webtest.Browser{phone, tablet} {
			if res, _ := b.Get(t, "/staff"); res.StatusCode != 200 {
				ended++
			}
		}
		if ended != 1 {
			t.Fatalf("%d sessions ended by revoking one", ended)
		}
		res, _ = laptop.Post(t, "/staff/account/logout-everywhere", nil)
		webtest.WantRedirect(t, res, "/staff/account?done=signed-out")
		for _, b := range []*webtest.Browser{phone, tablet} {
			res, _ := b.Get(t, "/staff")
			webtest.WantRedirect(t, res, "/staff/login")
		}
		res, body = laptop.Get(t, "/staff/account?done=signed-out")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Your other sessions are signed out.")

		res, body = laptop.Post(t, "/staff/account/password", url.Values{"current": {"wrong"}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		webtest.WantStatus(t, res, body, http.StatusUnauthorized)
		res, body = laptop.Post(t, "/staff/account/password", url.Values{"current": {webtest.StaffPassword}, "password": {"short"}, "confirm": {"short"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = laptop.Post(t, "/staff/account/password", url.Values{"current": {webtest.StaffPassword}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		webtest.WantRedirect(t, res, "/staff/account?done=password")
		if res, body := laptop.Get(t, "/staff"); res.StatusCode != 200 {
			t.Fatalf("the browser that changed the password was signed out: %d %s", res.StatusCode, body)
		}
		if _, err := staff.CheckPassword(context.Background(), d, m.Email, "a brand new passphrase"); err != nil {
			t.Fatal("new password does not work")
		}
	})
}

func TestOwnerManagesStaff(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		ob := webtest.NewBrowser(s)
		ob.SignIn(t, owner)
		res, body := ob.Get(t, "/staff/team")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "owner@milterworks.example")
		if len(webtest.AuditActions(t, d, "personal_data.view")) == 0 {
			t.Fatal("viewing the staff list was not recorded")
		}

		res, body = ob.Post(t, "/staff/team", url.Values{"email": {"not-an-address"}, "role": {"support"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "is not an email address")
		res, body = ob.Post(t, "/staff/team", url.Values{"email": {"sam@milterworks.example"}, "role": {"janitor"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = ob.Post(t, "/staff/team", url.Values{"email": {"sam@milterworks.example"}, "name": {"Sam"}, "role": {"support"}})
		webtest.WantStatus(t, res, body, 200)
		link := regexp.MustCompile(`http://127\.0\.0\.1:8080(/staff/setup\?token=[A-Za-z0-9_-]+)`).FindStringSubmatch(body)
		if link == nil {
			t.Fatalf("no setup link shown:\n%s", body)
		}
		res, body = ob.Post(t, "/staff/team", url.Values{"email": {"sam@milterworks.example"}, "role": {"support"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)

		sam := webtest.NewBrowser(s)
		res, body = sam.Get(t, link[1])
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "sam@milterworks.example")
		token := strings.TrimPrefix(link[1], "/staff/setup?token=")
		res, body = sam.Post(t, "/staff/setup", url.Values{"token": {token}, "password": {webtest.StaffPassword}, "confirm": {"something else"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = sam.Post(t, "/staff/setup", url.Values{"token": {token}, "password": {webtest.StaffPassword}, "confirm": {webtest.StaffPassword}})
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Your password is saved")
		res, body = sam.Post(t, "/staff/setup", url.Values{"token": {token}, "password": {webtest.StaffPassword}, "confirm": {webtest.StaffPassword}})
		webtest.WantStatus(t, res, body, http.StatusGone)
		res, body = sam.Get(t, "/staff/setup?token=made-up")
		webtest.WantStatus(t, res, body, http.StatusGone)
		samAcct, err := staff.ByEmail(context.Background(), d, "sam@milterworks.example")
		if err != nil {
			t.Fatal(err)
		}
		sam.SignIn(t, webtest.Member{Account: samAcct})

		id := webtest.Itoa(samAcct.ID)
		res, _ = ob.Post(t, "/staff/team/"+id+"/role", url.Values{"role": {"finance"}})
		webtest.WantRedirect(t, res, "/staff/team?done=role")
		res, body = ob.Post(t, "/staff/team/"+id+"/role", url.Values{"role": {"overlord"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = ob.Post(t, "/staff/team/"+id+"/disable", nil)
		webtest.WantRedirect(t, res, "/staff/team?done=disabled")
		res, _ = sam.Get(t, "/staff")
		webtest.WantRedirect(t, res, "/staff/login")
		res, body = sam.Post(t, "/staff/login", url.Values{"email": {"sam@milterworks.example"}, "password": {webtest.StaffPassword}})
		webtest.WantStatus(t, res, body, http.StatusUnauthorized)
		res, _ = ob.Post(t, "/staff/team/"+id+"/enable", nil)
		webtest.WantRedirect(t, res, "/staff/team?done=enabled")
		res, body = ob.Post(t, "/staff/team/"+id+"/reset-link", nil)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "/staff/setup?token=")

		// The last owner can be neither demoted nor disabled, and nobody
		// disables themselves.
		oid := webtest.Itoa(owner.ID)
		res, body = ob.Post(t, "/staff/team/"+oid+"/role", url.Values{"role": {"support"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "last active owner")
		res, body = ob.Post(t, "/staff/team/"+oid+"/disable", nil)
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = ob.Post(t, "/staff/team/99999/enable", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)

		res, _ = ob.Post(t, "/staff/team/"+oid+"/reset-2fa", nil)
		webtest.WantRedirect(t, res, "/staff/team?done=2fa-reset")
		res, _ = ob.Get(t, "/staff")
		webtest.WantRedirect(t, res, "/staff/login") // resetting 2FA ends the sessions
		for _, a := range []string{"staff.created", "staff.password_set", "staff.role", "staff.disable", "staff.enable", "staff.reset_link", "staff.reset_2fa"} {
			if len(webtest.AuditActions(t, d, a)) == 0 {
				t.Errorf("no audit entry for %s", a)
			}
		}
	})
}

func TestSettingsDrivePolicyAndNotice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := webtest.NewBrowser(s)
		b.SignIn(t, owner)
		res, body := b.Get(t, "/staff/settings")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "has not been shown yet")
		_, policy := b.Get(t, "/privacy")
		webtest.MustContain(t, policy, "privacy@milterworks.example")

		form := url.Values{"name": {"Milterworks"}, "legal_name": {"Milterworks AG"}, "address": {"Bahnhofstrasse 1\r\nZürich"},
			"privacy_email": {"not an address"}, "support_email": {"help@milterworks.example"}, "country": {"Switzerland"},
			"hosting_provider": {"Exoscale"}, "hosting_location": {"Switzerland"},
			"mail_provider": {"Postmark Relay"}, "mail_location": {"United States"}, "mail_transfer": {"Standard Contractual Clauses"}}
		res, body = b.Post(t, "/staff/settings", form)
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "is not an email address")
		_, policy = b.Get(t, "/privacy")
		webtest.MustContain(t, policy, "privacy@milterworks.example") // nothing changed

		s.Clock.Advance(48 * time.Hour)
		b.SignIn(t, owner)
		form.Set("privacy_email", "dpo@milterworks.example")
		res, _ = b.Post(t, "/staff/settings", form)
		webtest.WantRedirect(t, res, "/staff/settings?done=saved")
		_, policy = b.Get(t, "/privacy")
		webtest.MustContain(t, policy, "dpo@milterworks.example", "Milterworks AG", "Exoscale", "9 May 2026", "Postmark Relay")

		res, body = b.Post(t, "/staff/settings/policy-notice", url.Values{"note": {""}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = b.Post(t, "/staff/settings/policy-notice", url.Values{"note": {"We now host in Switzerland."}})
		webtest.WantRedirect(t, res, "/staff/settings?done=policy-notice")
		_, policy = b.Get(t, "/privacy")
		webtest.MustContain(t, policy, "We now host in Switzerland.")
		res, body = b.Get(t, "/staff/settings?done=policy-notice")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "marked as a significant change")

		// Requiring 2FA for everyone (the default) sends a colleague without
		// it to enrol.
		sup := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		sb := webtest.NewBrowser(s)
		res, _ = sb.Post(t, "/staff/login", url.Values{"email": {sup.Email}, "password": {webtest.StaffPassword}})
		webtest.WantRedirect(t, res, "/staff/2fa/setup")
		if len(webtest.AuditActions(t, d, "settings.changed")) != 1 || len(webtest.AuditActions(t, d, "policy.significant_change")) != 1 {
			t.Fatal("settings changes not recorded")
		}
	})
}

func TestAuditLogViewFilterAndExport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		analyst := webtest.AddStaff(t, s, "analyst@milterworks.example", staff.Analyst, false)
		b, ab := webtest.NewBrowser(s), webtest.NewBrowser(s)
		b.SignIn(t, owner)
		ab.SignIn(t, analyst)
		res, body := ab.Get(t, "/staff/audit")
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		webtest.MustContain(t, body, "Your role (analyst) does not allow this")

		res, body = b.Get(t, "/staff/audit")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "staff.login", "staff.access_denied", "analyst@milterworks.example")
		res, body = b.Get(t, "/staff/audit?action=staff.access")
		webtest.WantStatus(t, res, body, 200)
		if strings.Contains(body, "<td>staff.login</td>") {
			t.Fatal("action filter let other actions through")
		}
		res, body = b.Get(t, "/staff/audit?actor="+webtest.Itoa(analyst.ID)+"&from=2026-05-01&to=2026-05-31")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "staff.access_denied")
		res, body = b.Get(t, "/staff/audit?action=nothing.like.this")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "No entries match.")
		for _, bad := range []string{"?from=yesterday", "?actor=abc", "?before=-1"} {
			res, body = b.Get(t, "/staff/audit"+bad)
			webtest.WantStatus(t, res, body, http.StatusBadRequest)
		}
		res, body = b.Get(t, "/staff/audit.csv?action=staff.")
		webtest.WantStatus(t, res, body, 200)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("CSV content type %q", ct)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) < 3 || recs[0][4] != "action" {
			t.Fatalf("CSV export = %v, %v", recs, err)
		}
		if len(webtest.AuditActions(t, d, "audit.exported")) != 1 {
			t.Fatal("the export was not recorded")
		}
		if _, err := audit.Verify(context.Background(), d, nil); err != nil {
			t.Fatalf("audit chain broken after console use: %v", err)
		}
	})
}

func TestCrossSiteStaffPostsRefused(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	m := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
	b := webtest.NewBrowser(s)
	b.SignIn(t, m)
	res, body := b.Do(t, http.MethodPost, "/staff/team", url.Values{"email": {"evil@example.com"}, "role": {"owner"}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
	webtest.WantStatus(t, res, body, http.StatusForbidden)
	if _, err := staff.ByEmail(context.Background(), s.DB, "evil@example.com"); err == nil {
		t.Fatal("a cross-site post created an account")
	}
}

func TestConsoleAreasAndDashboard(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	m := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, true)
	b := webtest.NewBrowser(s)
	b.SignIn(t, m)
	res, body := b.Get(t, "/staff")
	webtest.WantStatus(t, res, body, 200)
	webtest.MustContain(t, body, `href="/staff/customers"`, `href="/staff/requests"`)
	if strings.Contains(body, `href="/staff/orders"`) || strings.Contains(body, `href="/staff/audit"`) {
		t.Fatal("the support role's navigation shows areas it may not open")
	}
	res, body = b.Get(t, "/staff/customers")
	webtest.WantStatus(t, res, body, 200)
	webtest.MustContain(t, body, "<h1>Customers</h1>")
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("console page Cache-Control %q, want no-store", cc)
	}
}

// TestAuditRecordsTheClientBehindATrustedProxy: with serve's proxy
// middleware in front, the audit log names the client's network, not the
// proxy's, and only when the proxy is trusted.
func TestAuditRecordsTheClientBehindATrustedProxy(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	m := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
	setRequireTwoFactor(t, s.DB, false) // the password completes the sign-in
	// httptest requests come from 192.0.2.1.
	s.H = serving.ClientIPMiddleware([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})(s.Srv.Handler())
	b := webtest.NewBrowser(s)
	res, _ := b.Do(t, http.MethodPost, "/staff/login", url.Values{"email": {m.Email}, "password": {webtest.StaffPassword}},
		http.Header{"X-Forwarded-For": {"203.0.113.77"}})
	webtest.WantRedirect(t, res, "/staff")
	logins := webtest.AuditActions(t, s.DB, "staff.login")
	if len(logins) != 1 || logins[0].SourceNet != "203.0.113.0/24" {
		t.Fatalf("login recorded from %+v, want the client's network 203.0.113.0/24", logins)
	}
	s.H = serving.ClientIPMiddleware(nil)(s.Srv.Handler())
	res, _ = b.Do(t, http.MethodPost, "/staff/login", url.Values{"email": {m.Email}, "password": {webtest.StaffPassword}},
		http.Header{"X-Forwarded-For": {"203.0.113.77"}})
	webtest.WantRedirect(t, res, "/staff")
	if logins = webtest.AuditActions(t, s.DB, "staff.login"); logins[0].SourceNet != "192.0.2.0/24" {
		t.Fatalf("an untrusted X-Forwarded-For was believed: %+v", logins[0])
	}
}

// TestStaffResetsTheirOwnPassword: the emailed link works once; the answer
// never says whether an address has an account; requests are limited.
func TestStaffResetsTheirOwnPassword(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "sam@milterworks.example", staff.Support, false)
		b := webtest.NewBrowser(s)
		res, body := b.Get(t, "/staff/reset")
		webtest.WantStatus(t, res, body, 200)
		_, known := b.Post(t, "/staff/reset", url.Values{"email": {m.Email}})
		_, unknown := b.Post(t, "/staff/reset", url.Values{"email": {"nobody@milterworks.example"}})
		for _, page := range []string{known, unknown} {
			webtest.MustContain(t, page, "a link to choose a new password is on its way")
		}
		res, body = b.Post(t, "/staff/reset", url.Values{"email": {"nonsense"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		var text string
		if err := d.QueryRowContext(context.Background(), `SELECT text_body FROM outbox WHERE template = 'staff_reset' AND to_addr = $1`, m.Email).Scan(&text); err != nil {
			t.Fatalf("no reset mail queued: %v", err)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox`); n != 1 {
			t.Fatalf("%d mails queued, want only the real account's", n)
		}
		token := regexp.MustCompile(`token=([A-Za-z0-9_-]+)`).FindStringSubmatch(text)[1]
		res, _ = b.Post(t, "/staff/setup", url.Values{"token": {token}, "password": {"a fresh long passphrase"}, "confirm": {"a fresh long passphrase"}})
		if res.StatusCode != 200 {
			t.Fatalf("using the emailed link: %d", res.StatusCode)
		}
		if _, err := staff.CheckPassword(context.Background(), d, m.Email, "a fresh long passphrase"); err != nil {
			t.Fatal("the new password does not work")
		}
		for range 3 {
			res, _ = b.Post(t, "/staff/reset", url.Values{"email": {m.Email}})
		}
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("reset requests are not limited: %d", res.StatusCode)
		}
	})
}
