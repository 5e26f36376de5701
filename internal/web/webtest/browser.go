package webtest

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
)

// Browser keeps cookies across requests to a site, like a real one.
type Browser struct {
	Site    *Site
	Cookies map[string]string
}

// NewBrowser is a browser with no cookies.
func NewBrowser(s *Site) *Browser { return &Browser{Site: s, Cookies: map[string]string{}} }

// Do sends a request with the browser's cookies (and form, when not nil)
// and keeps the cookies the answer sets.
func (b *Browser) Do(t testing.TB, method, target string, form url.Values, header http.Header) (*http.Response, string) {
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
	for k, v := range b.Cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.Site.H.ServeHTTP(rec, req)
	res := rec.Result()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.Cookies, c.Name)
		} else {
			b.Cookies[c.Name] = c.Value
		}
	}
	out, _ := io.ReadAll(res.Body)
	return res, string(out)
}

// Get fetches target.
func (b *Browser) Get(t testing.TB, target string) (*http.Response, string) {
	t.Helper()
	return b.Do(t, http.MethodGet, target, nil, nil)
}

// Post submits form to target.
func (b *Browser) Post(t testing.TB, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.Do(t, http.MethodPost, target, form, nil)
}

// WantStatus stops the test unless res has status.
func WantStatus(t testing.TB, res *http.Response, body string, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d\n%s", res.StatusCode, status, body)
	}
}

// WantRedirect stops the test unless res is a 303 to a path with prefix.
func WantRedirect(t testing.TB, res *http.Response, prefix string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), prefix) {
		t.Fatalf("%d to %q, want a redirect to %s", res.StatusCode, res.Header.Get("Location"), prefix)
	}
}

// StaffPassword is every test staff account's password.
const StaffPassword = "correct horse battery staple"

// Member is a staff account made for a test.
type Member struct {
	staff.Account
	Secret string // TOTP secret, "" without a second factor
}

// AddStaff creates an account with a password and, when withTOTP, a second
// factor whose codes the test can compute.
func AddStaff(t testing.TB, s *Site, email string, role staff.Role, withTOTP bool) Member {
	t.Helper()
	ctx := context.Background()
	var m Member
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		a, err := staff.Create(ctx, tx, email, "", role, Start)
		if err != nil {
			return err
		}
		m.Account = a
		if err := staff.SetPassword(ctx, tx, a.ID, StaffPassword, Start); err != nil {
			return err
		}
		if withTOTP {
			k, err := staff.NewTOTPKey("test", email)
			if err != nil {
				return err
			}
			code, _ := staff.TOTPCode(k.Secret(), s.Clock.Now())
			if _, err := staff.EnrolTOTP(ctx, tx, a.ID, k.Secret(), code, s.Clock.Now()); err != nil {
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

// SignIn goes through the password and, if the account has one, the TOTP
// step, and leaves b with a full session. An account without a second
// factor on a site that requires one (the default, for every role) enrols
// one on the setup page, as its holder would; the site remembers the
// secret for the account's later sign-ins.
func (b *Browser) SignIn(t testing.TB, m Member) {
	t.Helper()
	secret := m.Secret
	if secret == "" {
		if v, ok := b.Site.secrets.Load(m.ID); ok {
			secret = v.(string)
		}
	}
	res, body := b.Post(t, "/staff/login", url.Values{"email": {m.Email}, "password": {StaffPassword}})
	if secret == "" {
		if strings.HasPrefix(res.Header.Get("Location"), "/staff/2fa/setup") {
			b.enrol(t, m)
			return
		}
		WantRedirect(t, res, "/staff")
		return
	}
	WantRedirect(t, res, "/staff/2fa")
	// Each sign-in uses the next time step, as a person would a minute later.
	b.Site.Clock.Advance(30 * time.Second)
	code, _ := staff.TOTPCode(secret, b.Site.Clock.Now())
	res, body = b.Post(t, "/staff/2fa", url.Values{"code": {code}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second factor refused: %d\n%s", res.StatusCode, body)
	}
}

var enrolSecret = regexp.MustCompile(`name="secret" value="([A-Z2-7]{32})"`)

// enrol sets up a second factor from the setup page of a password-only
// session and keeps its secret for m's later sign-ins.
func (b *Browser) enrol(t testing.TB, m Member) {
	t.Helper()
	res, body := b.Get(t, "/staff/2fa/setup")
	WantStatus(t, res, body, http.StatusOK)
	secret := enrolSecret.FindStringSubmatch(body)
	if secret == nil {
		t.Fatalf("no key on the setup page:\n%s", body)
	}
	code, _ := staff.TOTPCode(secret[1], b.Site.Clock.Now())
	res, body = b.Post(t, "/staff/2fa/setup", url.Values{"secret": {secret[1]}, "code": {code}})
	WantStatus(t, res, body, http.StatusOK)
	b.Site.secrets.Store(m.ID, secret[1])
}

// AuditActions lists the audit entries of action.
func AuditActions(t testing.TB, d *db.DB, action string) []audit.Entry {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// SignedInCustomer creates a customer through the sign-in link flow of
// the customers package and returns a browser holding their session.
func SignedInCustomer(t testing.TB, s *Site, email string) (*Browser, customers.Customer) {
	t.Helper()
	ctx := context.Background()
	var c customers.Customer
	var token string
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, email, s.Clock.Now())
		if err != nil {
			return err
		}
		if c, _, err = customers.CompleteSignIn(ctx, tx, raw, s.Clock.Now()); err != nil {
			return err
		}
		token, err = customers.StartSession(ctx, tx, c.ID, s.Clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b := NewBrowser(s)
	b.Cookies["sk_customer"] = token
	return b, c
}

// WantRefused stops the test unless res refuses the form's field with a
// 422 that says what to change: either the form shown again with the
// field's message (id="FIELD-error", and each of formTexts), or, for text
// no person types (control characters, NUL, bytes that are not UTF-8,
// direction overrides), the site's check of every form naming the field.
func WantRefused(t testing.TB, res *http.Response, body, field string, formTexts ...string) {
	t.Helper()
	WantStatus(t, res, body, http.StatusUnprocessableEntity)
	if strings.Contains(body, "The field “"+field+"” contains") && strings.Contains(body, "nothing was changed") {
		return
	}
	if len(formTexts) == 0 {
		formTexts = []string{`id="` + field + `-error"`}
	}
	for _, w := range formTexts {
		if !strings.Contains(body, w) {
			t.Fatalf("the refusal of %s lacks %q:\n%.400s", field, w, body)
		}
	}
}
