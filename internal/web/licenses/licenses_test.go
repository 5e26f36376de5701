package licenses_test

import (
	"context"
	"net/http"
	"net/url"
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

// world is a site with an owner and a support member signed in and a
// customer holding a yearly license issued by the owner.
type world struct {
	s              *webtest.Site
	owner, support *webtest.Browser
	ownerID        int64
	buyer          customers.Customer
	edition        int64
	lic            licensing.License
}

func newWorld(t *testing.T, d *db.DB) world {
	t.Helper()
	w := world{s: webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys), webtest.WithPayments(payments.Manual{}))}
	om := webtest.AddStaff(t, w.s, "owner@milterworks.example", staff.Owner, true)
	sm := webtest.AddStaff(t, w.s, "support@milterworks.example", staff.Support, true)
	w.ownerID = om.ID
	w.owner, w.support = webtest.NewBrowser(w.s), webtest.NewBrowser(w.s)
	w.owner.SignIn(t, om)
	w.support.SignIn(t, sm)
	_, w.buyer = webtest.SignedInCustomer(t, w.s, "bea@example.com")
	ctx := context.Background()
	if err := d.QueryRowContext(ctx, `SELECT min(id) FROM editions`).Scan(&w.edition); err != nil {
		t.Fatal(err)
	}
	var err error
	w.lic, err = licensing.Issue(ctx, d, webtest.LicenseKeys, om.ID, licensing.ManualIssue{CustomerID: w.buyer.ID, EditionID: w.edition, Yearly: true, Quantity: 1},
		"a replacement for a lost key", w.s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w world) page() string { return "/staff/licenses/" + webtest.Itoa(w.lic.ID) }

func TestListSearchAndDetail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		res, err := licensing.Activate(ctx, d, webtest.LicenseKeys, w.lic.Key,
			licensing.MachineInfo{Fingerprint: "fp-1", Hostname: "mx1.milterworks.example", Platform: "linux/amd64"}, w.s.Clock.Now())
		if err != nil || !res.Code.OK() {
			t.Fatal(res, err)
		}

		_, body := w.owner.Get(t, "/staff/licenses")
		webtest.MustContain(t, body, "Newest licenses", w.lic.LicenseID, "bea@example.com", "1 of 3", "mailguard")
		for _, q := range []string{"BEA@Example.com", "bea@", w.lic.Key, strings.ToUpper(w.lic.LicenseID)} {
			res, body := w.support.Get(t, "/staff/licenses?q="+url.QueryEscape(q))
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, "Licenses found", w.lic.LicenseID)
		}
		_, body = w.owner.Get(t, "/staff/licenses?q=nobody%40example.com")
		webtest.MustContain(t, body, "No license matches.")
		webtest.MustNotContain(t, body, w.lic.LicenseID)

		res2, body := w.support.Get(t, w.page())
		webtest.WantStatus(t, res2, body, http.StatusOK)
		webtest.MustContain(t, body, w.lic.LicenseID, w.lic.Key, "bea@example.com", "mx1.milterworks.example", "linux/amd64",
			"none yet", "license.issued", "a replacement for a lost key", "issued by staff")
		// Support looks; only managers get the forms.
		webtest.MustNotContain(t, body, "Suspend the license", "/staff/licenses/policies")
		_, body = w.owner.Get(t, w.page())
		webtest.MustContain(t, body, "Suspend the license", "Change the expiry", "Transfer the license", "Change the limit", "Revoke the license")

		views := webtest.AuditActions(t, d, "personal_data.view")
		found := false
		for _, e := range views {
			found = found || e.SubjectType == "customer" && e.SubjectID == webtest.Itoa(w.buyer.ID) && strings.Contains(e.Detail, w.lic.LicenseID)
		}
		if !found {
			t.Fatalf("opening the license recorded no view of the customer's data: %+v", views)
		}

		res2, body = w.owner.Get(t, "/staff/licenses/999999")
		webtest.WantStatus(t, res2, body, http.StatusNotFound)
	})
}

func TestBoughtLicenseShowsItsOrderAndTheMenuLeadsThere(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		buyer, _ := webtest.SignedInCustomer(t, w.s, "dora@example.com")
		res, _ := buyer.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual"))
		webtest.WantRedirect(t, res, "/account/orders/")
		number := strings.TrimPrefix(strings.Split(res.Header.Get("Location"), "?")[0], "/account/orders/")
		res, body := w.owner.Post(t, "/staff/orders/"+number+"/mark-paid", nil)
		webtest.WantRedirect(t, res, "/staff/orders/")

		_, body = w.support.Get(t, "/staff")
		webtest.MustContain(t, body, `href="/staff/licenses"`)
		_, body = w.support.Get(t, "/staff/licenses?q=dora")
		webtest.MustContain(t, body, "dora@example.com")
		webtest.MustNotContain(t, body, w.lic.LicenseID)
		var id int64
		if err := d.QueryRowContext(context.Background(), `SELECT id FROM licenses WHERE order_id IS NOT NULL`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		_, body = w.support.Get(t, "/staff/licenses/"+webtest.Itoa(id))
		webtest.MustContain(t, body, `href="/staff/orders/`+number+`"`, "No machine is activated.")

		analyst := webtest.NewBrowser(w.s)
		analyst.SignIn(t, webtest.AddStaff(t, w.s, "analyst@milterworks.example", staff.Analyst, true))
		res, body = analyst.Get(t, "/staff/licenses")
		webtest.WantStatus(t, res, body, http.StatusForbidden)
	})
}

// history is the license's audit entries, newest first.
func history(t *testing.T, d *db.DB, lic string) []audit.Entry {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{SubjectType: "license", SubjectID: lic})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestStaffActionsChangeTheLicenseWithAReason(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		_, other := webtest.SignedInCustomer(t, w.s, "carl@example.com")
		until := w.lic.ExpiresAt.AddDate(0, 6, 0).Format(time.DateOnly)

		// A support member looks but does not act.
		for _, a := range []string{"extend", "suspend", "reinstate", "revoke", "transfer", "machine-limit"} {
			res, body := w.support.Post(t, w.page()+"/"+a, url.Values{"reason": {"try"}})
			webtest.WantStatus(t, res, body, http.StatusForbidden)
		}
		// Every action needs a reason.
		res, body := w.owner.Post(t, w.page()+"/suspend", url.Values{"reason": {" "}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Say why")

		steps := []struct {
			action string
			form   url.Values
			check  func(l licensing.License) bool
			want   string // in the audit entry's detail besides the reason
		}{
			{"extend", url.Values{"until": {until}}, func(l licensing.License) bool { return l.ExpiresAt.Format(time.DateOnly) == until }, ""},
			{"suspend", url.Values{}, func(l licensing.License) bool { return l.Status == licensing.Suspended }, ""},
			{"reinstate", url.Values{}, func(l licensing.License) bool { return l.Status == licensing.Active }, ""},
			{"machine-limit", url.Values{"max_machines": {"7"}}, func(l licensing.License) bool { return l.MaxMachines == 7 }, ""},
			{"transfer", url.Values{"email": {"Carl@Example.com"}}, func(l licensing.License) bool { return l.CustomerID == other.ID }, ""},
			{"revoke", url.Values{}, func(l licensing.License) bool { return l.Status == licensing.Revoked }, ""},
		}
		for _, st := range steps {
			why := "ticket 42: " + st.action
			st.form.Set("reason", why)
			res, body := w.owner.Post(t, w.page()+"/"+st.action, st.form)
			webtest.WantRedirect(t, res, w.page()+"?done="+st.action)
			l, err := licensing.ByID(ctx, d, w.lic.ID, w.s.Clock.Now())
			if err != nil || !st.check(l) {
				t.Fatalf("%s: the license is %+v (%v)\n%s", st.action, l, err, body)
			}
			h := history(t, d, w.lic.LicenseID)
			if h[0].Action != "license."+strings.ReplaceAll(map[string]string{"extend": "extended", "suspend": "suspended", "reinstate": "reinstated",
				"machine-limit": "machine_limit", "transfer": "transferred", "revoke": "revoked"}[st.action], "-", "_") ||
				!strings.Contains(h[0].Detail, why) || h[0].ActorID != w.ownerID {
				t.Fatalf("%s: the newest audit entry is %+v", st.action, h[0])
			}
			_, body = w.owner.Get(t, res.Header.Get("Location"))
			webtest.MustContain(t, body, why, `role="status"`)
		}

		// Refusals show the license again with the message.
		res, body = w.owner.Post(t, w.page()+"/suspend", url.Values{"reason": {"again"}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "only an active license can be suspended", `role="alert"`)
		res, body = w.owner.Post(t, w.page()+"/transfer", url.Values{"reason": {"r"}, "email": {"nobody@example.com"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "No customer has this email address")
		res, body = w.owner.Post(t, w.page()+"/extend", url.Values{"reason": {"r"}, "until": {"soon"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		if n := len(history(t, d, w.lic.LicenseID)); n != 1+len(steps) {
			t.Fatalf("%d audit entries, want %d: refusals must record nothing", n, 1+len(steps))
		}
	})
}

func TestPolicyEditsTakeEffectOnTheNextLicense(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		res, body := w.support.Get(t, "/staff/licenses/policies")
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		_, body = w.owner.Get(t, "/staff/licenses/policies")
		webtest.MustContain(t, body, "(the default policy)", `name="check_in_days"`)

		form := url.Values{"edition": {webtest.Itoa(w.edition)}, "kind": {"term"}, "term_months": {""}, "updates_months": {"3"},
			"grace_days": {"5"}, "max_machines": {"9"}, "entitlements": {"malware-scan, dkim"}, "check_in_days": {"30"}}
		res, body = w.owner.Post(t, "/staff/licenses/policies", form)
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "A term license runs for 1 to 120 months.", `rows="2">malware-scan, dkim</textarea>`)
		form.Set("term_months", "6")
		res, _ = w.owner.Post(t, "/staff/licenses/policies", form)
		webtest.WantRedirect(t, res, "/staff/licenses/policies?done=saved")
		_, body = w.owner.Get(t, "/staff/licenses/policies?done=saved")
		webtest.MustContain(t, body, "applies to licenses issued from now on", `rows="2">dkim, malware-scan</textarea>`)
		if n := len(webtest.AuditActions(t, d, "license.policy_saved")); n != 1 {
			t.Fatalf("%d policy audit entries, want 1", n)
		}

		// The license issued before keeps its terms; the next one has the new.
		before, err := licensing.ByID(context.Background(), d, w.lic.ID, w.s.Clock.Now())
		if err != nil || before.MaxMachines != 3 {
			t.Fatalf("the earlier license changed: %+v %v", before, err)
		}
		now := w.s.Clock.Now()
		l, err := licensing.Issue(context.Background(), d, webtest.LicenseKeys, w.ownerID,
			licensing.ManualIssue{CustomerID: w.buyer.ID, EditionID: w.edition, Quantity: 1}, "trial", now)
		if err != nil {
			t.Fatal(err)
		}
		if l.MaxMachines != 9 || l.CheckInDays != 30 || l.GraceDays != 5 || strings.Join(l.Entitlements, ",") != "dkim,malware-scan" ||
			!l.ExpiresAt.Equal(now.UTC().AddDate(0, 6, 0)) || !l.UpdatesUntil.Equal(now.UTC().AddDate(0, 3, 0)) {
			t.Fatalf("the new license does not follow the policy: %+v", l)
		}
	})
}
