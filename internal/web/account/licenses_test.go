package account_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// licenseSite is a whole site that signs licenses with webtest.LicenseKeys
// and takes the demo's payments.
func licenseSite(t *testing.T, d *db.DB) *webtest.Site {
	return webtest.NewSite(t, d, webtest.WithPayments(webtest.NewDemoProvider(t), payments.Manual{}), webtest.WithDemo(),
		webtest.WithLicenseKeys(webtest.LicenseKeys))
}

// buy pays an order through checkout as the customer signed in on b and
// returns the license it issued.
func buy(t *testing.T, s *webtest.Site, b *webtest.Browser, c customers.Customer) licensing.License {
	t.Helper()
	res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, s.DB), "method", "demo"))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout answered %d", res.StatusCode)
	}
	pay := strings.TrimPrefix(res.Header.Get("Location"), "http://127.0.0.1:8080")
	res, _ = b.Post(t, pay+"/pay", nil)
	webtest.WantRedirect(t, res, "/account/orders/")
	ls, err := licensing.ForCustomer(context.Background(), s.DB, c.ID, s.Clock.Now())
	if err != nil || len(ls) != 1 {
		t.Fatalf("the purchase issued %d licenses (%v)", len(ls), err)
	}
	return ls[0]
}

// activate activates the product on a machine, as the product does.
func activate(t *testing.T, s *webtest.Site, key, fingerprint, host string) licensing.Result {
	t.Helper()
	r, err := licensing.Activate(context.Background(), s.DB, webtest.LicenseKeys, key,
		licensing.MachineInfo{Fingerprint: fingerprint, Hostname: host, Platform: "linux/amd64"}, s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPurchasedLicenseAppearsInAccount: a purchase through checkout issues
// a license that the account lists, linked from the account home, and
// shows with its key, how to activate and its machines.
func TestPurchasedLicenseAppearsInAccount(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := licenseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		_, body := b.Get(t, "/account/licenses")
		webtest.MustContain(t, body, "No licenses yet")
		l := buy(t, s, b, c)

		_, body = b.Get(t, "/account")
		webtest.MustContain(t, body, `href="/account/licenses"`)
		res, body := b.Get(t, "/account/licenses")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `href="/account/licenses/`+l.LicenseID+`"`, "Mailguard Professional", "Active", "0 used of ")
		if l.Perpetual() {
			webtest.MustContain(t, body, "Perpetual")
		} else {
			webtest.MustContain(t, body, "Until "+l.ExpiresAt.Format("2 January 2006"))
		}
		if !l.UpdatesUntil.IsZero() {
			webtest.MustContain(t, body, "Updates released until "+l.UpdatesUntil.Format("2 January 2006"))
		}

		activate(t, s, l.Key, "fp-office", "mail1.example.com")
		s.Clock.Advance(time.Hour)
		if _, err := licensing.CheckIn(context.Background(), d, webtest.LicenseKeys, l.Key, "fp-office", "2.1.0", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		res, body = b.Get(t, "/account/licenses/"+l.LicenseID)
		webtest.WantStatus(t, res, body, http.StatusOK)
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("the page showing the key has Cache-Control %q", cc)
		}
		webtest.MustContain(t, body, `<textarea id="license-key" readonly`, l.Key, "copy it", "To activate",
			"mail1.example.com", "linux/amd64", s.Clock.Now().Format("2 Jan 2006 15:04 UTC"), "1 used of ")
		webtest.MustNotContain(t, body, "<script")
		_, body = b.Get(t, "/account/licenses")
		webtest.MustContain(t, body, "1 used of ")

		// The state in words, as the license changes.
		owner := webtest.AddStaff(t, s, "owner@example.com", staff.Owner, false)
		if _, err := licensing.Suspend(context.Background(), d, owner.ID, l.ID, "chargeback check", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		_, body = b.Get(t, "/account/licenses/"+l.LicenseID)
		webtest.MustContain(t, body, "Suspended")
	})
}

// TestLicenseStatesInWords: a yearly license is active until its expiry,
// then in its grace period, then expired; a revoked one says so.
func TestLicenseStatesInWords(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := licenseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		owner := webtest.AddStaff(t, s, "owner@example.com", staff.Owner, false)
		var edition int64
		if err := d.QueryRowContext(context.Background(), `SELECT id FROM editions WHERE slug = 'professional'`).Scan(&edition); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		l, err := licensing.Issue(ctx, d, webtest.LicenseKeys, owner.ID, licensing.ManualIssue{CustomerID: c.ID, EditionID: edition, Yearly: true, Quantity: 1},
			"replacement", s.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		page := "/account/licenses/" + l.LicenseID
		_, body := b.Get(t, page)
		webtest.MustContain(t, body, "Active", "Until "+l.ExpiresAt.Format("2 January 2006"))
		if l.GraceDays > 0 {
			// A year on, the customer signs in again.
			s.Clock.Set(l.ExpiresAt.Add(time.Hour))
			b, _ = webtest.SignedInCustomer(t, s, "bea@example.com")
			_, body = b.Get(t, page)
			webtest.MustContain(t, body, "in its grace period until "+l.ExpiresAt.AddDate(0, 0, l.GraceDays).Format("2 January 2006"))
		}
		s.Clock.Set(l.ExpiresAt.AddDate(0, 0, l.GraceDays+1))
		b, _ = webtest.SignedInCustomer(t, s, "bea@example.com")
		_, body = b.Get(t, "/account/licenses")
		webtest.MustContain(t, body, "Expired", "Ended "+l.ExpiresAt.Format("2 January 2006"))
		if _, err := licensing.Revoke(ctx, d, owner.ID, l.ID, "fraud", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		_, body = b.Get(t, page)
		webtest.MustContain(t, body, "Revoked")
	})
}

// TestFreeingASeatLetsAnotherMachineActivate: every seat taken, the
// customer frees one from the license page (audited as the customer), and
// another machine activates.
func TestFreeingASeatLetsAnotherMachineActivate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := licenseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		l := buy(t, s, b, c)
		if l.MaxMachines == 0 {
			t.Fatal("the seeded edition's license has no machine limit")
		}
		var first licensing.Result
		for i := range l.MaxMachines {
			r := activate(t, s, l.Key, "fp-"+webtest.Itoa(int64(i)), "host"+webtest.Itoa(int64(i)))
			if r.Code != licensing.CodeValid {
				t.Fatalf("activation %d: %s", i, r.Code)
			}
			if i == 0 {
				first = r
			}
		}
		if r := activate(t, s, l.Key, "fp-new", "newhost"); r.Code != licensing.CodeTooManyMachines {
			t.Fatalf("an activation over the limit: %s", r.Code)
		}
		path := "/account/licenses/" + l.LicenseID + "/machines/" + webtest.Itoa(first.Machine.ID) + "/free"
		res, _ := b.Post(t, path, nil)
		webtest.WantRedirect(t, res, "/account/licenses/"+l.LicenseID+"?done=freed")
		_, body := b.Get(t, "/account/licenses/"+l.LicenseID+"?done=freed")
		webtest.MustContain(t, body, "seat is free")
		webtest.MustNotContain(t, body, ">host0<")

		if r := activate(t, s, l.Key, "fp-new", "newhost"); r.Code != licensing.CodeValid {
			t.Fatalf("the activation after a seat was freed: %s", r.Code)
		}
		es := webtest.AuditActions(t, d, "license.machine_freed")
		if len(es) != 1 || es[0].ActorType != audit.ActorCustomer || es[0].ActorID != c.ID || es[0].SubjectID != l.LicenseID {
			t.Fatalf("the audit log: %+v", es)
		}
		// Freed already: nothing to free.
		res, body = b.Post(t, path, nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = b.Post(t, "/account/licenses/"+l.LicenseID+"/machines/x/free", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}

// TestLicenseFileDownloads: the file is an attachment, not stored by
// caches, and verifies with the site's key; bound to a machine that holds
// a seat when its fingerprint is given, refused for one that holds none.
func TestLicenseFileDownloads(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := licenseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		l := buy(t, s, b, c)

		res, body := b.Get(t, "/account/licenses/"+l.LicenseID+"/file")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, l.LicenseID) {
			t.Errorf("Content-Disposition %q", cd)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		f, err := licensing.ParseFile(webtest.LicenseKeys, []byte(body))
		if err != nil {
			t.Fatalf("the downloaded file does not verify: %v\n%s", err, body)
		}
		if f.License != l.LicenseID || f.Key != l.Key || f.Fingerprint != "" || f.State != licensing.StateActive {
			t.Fatalf("the file says %+v", f)
		}

		activate(t, s, l.Key, "fp-offline-box", "vault")
		res, body = b.Get(t, "/account/licenses/"+l.LicenseID+"/file?fingerprint=fp-offline-box")
		webtest.WantStatus(t, res, body, http.StatusOK)
		f, err = licensing.ParseFile(webtest.LicenseKeys, []byte(body))
		if err != nil || f.Fingerprint != licensing.FingerprintHash("fp-offline-box") {
			t.Fatalf("the bound file: %+v, %v", f, err)
		}

		res, body = b.Get(t, "/account/licenses/"+l.LicenseID+"/file?fingerprint=fp-elsewhere")
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, `id="fingerprint-error"`, "holds a seat", `value="fp-elsewhere"`)
		res, body = b.Get(t, "/account/licenses/"+l.LicenseID+"/file?fingerprint="+strings.Repeat("x", licensing.MaxFingerprint+1))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		// Text no product shows as a fingerprint is refused, and no file is made.
		for _, fp := range []string{"a%01b", "%E2%80%AEfp", "%FF"} {
			res, body = b.Get(t, "/account/licenses/"+l.LicenseID+"/file?fingerprint="+fp)
			if res.StatusCode < 400 || res.StatusCode >= 500 || strings.Contains(body, "STOREKEEP LICENSE FILE") {
				t.Errorf("fingerprint %s: %d\n%s", fp, res.StatusCode, body)
			}
		}
	})
}

// TestResendKeyIsRateLimited: the key is mailed again through the outbox
// to the account's address, three times an hour per license.
func TestResendKeyIsRateLimited(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := licenseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		l := buy(t, s, b, c)
		path := "/account/licenses/" + l.LicenseID + "/send-key"
		for range 3 {
			res, _ := b.Post(t, path, nil)
			webtest.WantRedirect(t, res, "/account/licenses/"+l.LicenseID+"?done=key-sent")
		}
		_, body := b.Get(t, "/account/licenses/"+l.LicenseID+"?done=key-sent")
		webtest.MustContain(t, body, "on its way")
		q := `SELECT count(*) FROM outbox WHERE template = 'license_key' AND to_addr = $1 AND customer_id = $2 AND text_body LIKE $3`
		if n := webtest.Count(t, d, q, c.Email, c.ID, "%"+l.Key+"%"); n != 3 {
			t.Fatalf("%d key mails queued, want 3", n)
		}
		res, body := b.Post(t, path, nil)
		webtest.WantStatus(t, res, body, http.StatusTooManyRequests)
		webtest.MustContain(t, body, `id="send-key-error"`, l.Key)
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox WHERE template = 'license_key'`); n != 3 {
			t.Fatalf("%d key mails queued after the limit, want 3", n)
		}
		s.Clock.Advance(time.Hour + time.Minute)
		res, _ = b.Post(t, path, nil)
		webtest.WantRedirect(t, res, "/account/licenses/"+l.LicenseID+"?done=key-sent")
	})
}

// TestAnotherCustomersLicenseIsNotFound: every license page and form of
// another customer's license, or of a made-up one, is a 404 and changes
// nothing; without a session each asks to sign in.
func TestAnotherCustomersLicenseIsNotFound(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := licenseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		l := buy(t, s, b, c)
		m := activate(t, s, l.Key, "fp-1", "host1").Machine
		mallory, mc := webtest.SignedInCustomer(t, s, "mallory@example.com")
		_, body := mallory.Get(t, "/account/licenses")
		webtest.MustNotContain(t, body, l.LicenseID)

		base := "/account/licenses/" + l.LicenseID
		free := base + "/machines/" + webtest.Itoa(m.ID) + "/free"
		for _, id := range []string{l.LicenseID, "lic_madeup", "12", "x%00y"} {
			p := "/account/licenses/" + id
			for _, get := range []string{p, p + "/file", p + "/file?fingerprint=fp-1"} {
				res, body := mallory.Get(t, get)
				webtest.WantStatus(t, res, body, http.StatusNotFound)
				webtest.MustNotContain(t, body, l.Key)
			}
			for _, post := range []string{p + "/send-key", p + "/machines/" + webtest.Itoa(m.ID) + "/free"} {
				res, body := mallory.Post(t, post, nil)
				webtest.WantStatus(t, res, body, http.StatusNotFound)
			}
		}
		// The owner's machine is freed only from the owner's license.
		other := buy(t, s, mallory, mc)
		res, body := mallory.Post(t, "/account/licenses/"+other.LicenseID+"/machines/"+webtest.Itoa(m.ID)+"/free", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		if n := webtest.Count(t, d, `SELECT count(*) FROM license_machines WHERE id = $1`, m.ID); n != 1 {
			t.Fatal("another customer freed the machine")
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox WHERE template = 'license_key'`); n != 0 {
			t.Fatalf("%d key mails queued for another customer", n)
		}

		anon := webtest.NewBrowser(s)
		for _, get := range []string{"/account/licenses", base, base + "/file"} {
			res, _ := anon.Get(t, get)
			webtest.WantRedirect(t, res, "/account/login")
		}
		for _, post := range []string{base + "/send-key", free} {
			res, body := anon.Post(t, post, nil)
			if res.StatusCode < 300 || res.StatusCode == http.StatusOK {
				t.Errorf("POST %s without a session: %d\n%s", post, res.StatusCode, body)
			}
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM license_machines WHERE id = $1`, m.ID); n != 1 {
			t.Fatal("a request without a session freed the machine")
		}
	})
}
