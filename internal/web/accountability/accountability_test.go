package accountability_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func auditCount(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantIn(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

var accountant = url.Values{"name": {"Steuerbüro Klein"}, "kind": {"controller"}, "purpose": {"bookkeeping and tax returns"},
	"categories": {"user.financial.purchase", "user.name"}, "location": {"Switzerland"}, "outside_eea": {"yes"}, "safeguard": {"adequacy"},
	"safeguard_note": {"Commission decision 2000/518/EC"}, "agreement_ref": {"Engagement letter 2025-07"}, "agreement_date": {"2025-07-01"}, "review_date": {"2027-07-01"}}

func TestRecipientsRegister(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		sup := webtest.NewBrowser(s)
		sup.SignIn(t, webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false))

		// Owners only.
		for _, p := range []string{"/staff/privacy/recipients", "/staff/privacy/records", "/staff/privacy/records.pdf", "/staff/privacy/disclosures"} {
			res, body := sup.Get(t, p)
			webtest.WantStatus(t, res, body, http.StatusForbidden)
		}
		res, body := sup.Get(t, "/staff")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if strings.Contains(body, "privacy-problems") {
			t.Error("support sees the register's problems on the dashboard")
		}

		// The declared recipients are there; Stripe, without an agreement, is a problem.
		res, body = owner.Get(t, "/staff/privacy/recipients")
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, `id="r-stripe"`, `id="r-hosting"`, `id="r-mail"`, "declared by the code, receives data",
			`data-code="no_agreement"`, "Stripe receives personal data, but no agreement with them is on file")
		res, body = owner.Get(t, "/staff")
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, `id="privacy-problems"`, "Stripe receives personal data, but no agreement")

		// Deleting or ending Stripe is refused, and changes nothing.
		before := auditCount(t, d)
		res, body = owner.Post(t, "/staff/privacy/recipients/stripe/delete", url.Values{})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		wantIn(t, body, "Stripe cannot be deleted: it still receives")
		stripe := url.Values{"name": {"Stripe Payments Europe"}, "kind": {"processor"}, "purpose": {"card payments"}, "location": {"Ireland and the United States"},
			"outside_eea": {"yes"}, "safeguard": {"scc"}, "agreement_ref": {"Stripe DPA v2026-03"}, "agreement_date": {"2026-03-01"}, "ended": {"yes"}}
		res, body = owner.Post(t, "/staff/privacy/recipients/stripe", stripe)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		wantIn(t, body, "Stripe still receives", "cannot be marked as ended", `value="Stripe Payments Europe"`)
		// Bad input: refused with the field named, what was typed kept.
		bad := webtest.WithForm(accountant, "categories", "")
		bad.Del("categories")
		res, body = owner.Post(t, "/staff/privacy/recipients", bad)
		webtest.WantRefused(t, res, body, "categories")
		wantIn(t, body, `value="Steuerbüro Klein"`)
		res, body = owner.Post(t, "/staff/privacy/recipients", webtest.WithForm(accountant, "agreement_date", "1 July"))
		webtest.WantRefused(t, res, body, "agreement_date")
		res, body = owner.Post(t, "/staff/privacy/recipients", webtest.WithForm(accountant, "outside_eea", ""))
		webtest.WantRefused(t, res, body, "safeguard")
		if n := auditCount(t, d); n != before {
			t.Errorf("refusals wrote %d audit entries", n-before)
		}

		// The agreement on file ends Stripe's problem.
		stripe.Del("ended")
		res, body = owner.Post(t, "/staff/privacy/recipients/stripe", stripe)
		webtest.WantRedirect(t, res, "/staff/privacy/recipients?done=saved")
		res, body = owner.Post(t, "/staff/privacy/recipients", accountant)
		webtest.WantRedirect(t, res, "/staff/privacy/recipients?done=added")
		if len(webtest.AuditActions(t, d, "recipient.updated")) != 1 || len(webtest.AuditActions(t, d, "recipient.added")) != 1 {
			t.Error("the changes are not audited")
		}
		res, body = owner.Get(t, "/staff/privacy/recipients?done=added")
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, "Steuerbüro Klein", "Stripe Payments Europe", "Stripe DPA v2026-03")
		if strings.Contains(body, "Stripe Payments Europe receives personal data, but no agreement") {
			t.Error("Stripe's problem outlived its agreement")
		}

		// The policy lists the register.
		res, body = webtest.NewBrowser(s).Get(t, "/privacy")
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, "Steuerbüro Klein", "Stripe Payments Europe", "Switzerland", "Commission decision 2000/518/EC")

		// The records: page, PDF, JSON, CSV.
		res, body = owner.Get(t, "/staff/privacy/records")
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, "Records of processing", "Steuerbüro Klein", "Security measures in force", "Selling and fulfilling licenses")
		res, body = owner.Get(t, "/staff/privacy/records.pdf")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if res.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("PDF content type %q", res.Header.Get("Content-Type"))
		}
		text := strings.Join(strings.Fields(testutil.PDFText(t, []byte(body))), " ")
		for _, w := range []string{"Records of processing activities", "Steuerbüro Klein", "Stripe Payments Europe", "Stripe DPA v2026-03"} {
			if !strings.Contains(text, w) {
				t.Errorf("the PDF lacks %q", w)
			}
		}
		res, body = owner.Get(t, "/staff/privacy/records.json")
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, `"activities"`, `"Steuerbüro Klein"`)
		res, body = owner.Get(t, "/staff/privacy/records.csv")
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, "section,name,", "recipient,Steuerbüro Klein")
		if n := len(webtest.AuditActions(t, d, "records.downloaded")); n != 3 {
			t.Errorf("%d downloads audited, want 3", n)
		}

		// A recipient the owner added can be deleted.
		v, _ := settings.Load(context.Background(), d)
		reg, _ := privacy.Register(context.Background(), d, privacy.Declared, v)
		key := reg[len(reg)-1].Key
		res, body = owner.Get(t, "/staff/privacy/recipients/"+key)
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, `id="delete-form"`)
		res, body = owner.Post(t, "/staff/privacy/recipients/"+key+"/delete", url.Values{})
		webtest.WantRedirect(t, res, "/staff/privacy/recipients?done=deleted")
		res, body = owner.Get(t, "/staff/privacy/recipients/new")
		webtest.WantStatus(t, res, body, http.StatusOK)
		res, body = owner.Get(t, "/staff/privacy/recipients/nobody")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestDisclosureLog(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		_, ada := webtest.SignedInCustomer(t, s, "ada@example.com")

		res, body := owner.Get(t, "/staff/privacy/disclosures")
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, "No authority has asked")
		res, body = owner.Get(t, "/staff/privacy/disclosures/new")
		webtest.WantStatus(t, res, body, http.StatusOK)

		form := url.Values{"authority": {"Landeskriminalamt Berlin"}, "authority_ref": {"LKA 4711/26"}, "legal_basis": {"court order, AG Tiergarten"},
			"requested_at": {"2026-04-20"}, "asked": {"who holds license MW-1"}, "subject_email": {"ADA@example.com"}, "decision": {"disclosed"},
			"disclosed": {"name and email address"}, "disclosed_at": {"2026-04-24"}, "withheld": {"yes"}, "withheld_reason": {"§ 101 StPO, deferred by the court"}}
		before := auditCount(t, d)
		for _, b := range []struct{ field, value string }{{"authority", ""}, {"requested_at", "yesterday"}, {"disclosed_at", ""}, {"withheld_reason", ""}, {"subject_email", "not an address"}} {
			res, body = owner.Post(t, "/staff/privacy/disclosures", webtest.WithForm(form, b.field, b.value))
			webtest.WantRefused(t, res, body, b.field)
		}
		if n := auditCount(t, d); n != before {
			t.Errorf("refusals wrote %d audit entries", n-before)
		}
		res, body = owner.Post(t, "/staff/privacy/disclosures", form)
		webtest.WantRedirect(t, res, "/staff/privacy/disclosures?done=recorded")
		list, err := privacy.Disclosures(context.Background(), d, 10)
		if err != nil || len(list) != 1 || list[0].CustomerID != ada.ID || !list[0].Withheld {
			t.Fatalf("log: %+v, %v", list, err)
		}
		res, body = owner.Get(t, "/staff/privacy/disclosures?done=recorded")
		webtest.WantStatus(t, res, body, http.StatusOK)
		wantIn(t, body, "Landeskriminalamt Berlin", "ada@example.com", "kept from the person")
		path := "/staff/privacy/disclosures/" + webtest.Itoa(list[0].ID)
		res, body = owner.Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusOK)
		res, body = owner.Post(t, path, webtest.WithForm(form, "withheld", ""))
		webtest.WantRedirect(t, res, "/staff/privacy/disclosures?done=disclosed")
		if len(webtest.AuditActions(t, d, "disclosure.recorded")) != 1 || len(webtest.AuditActions(t, d, "disclosure.updated")) != 1 {
			t.Error("the log's changes are not audited")
		}
		if len(webtest.AuditActions(t, d, "personal_data.view")) < 2 {
			t.Error("views of the log are not recorded")
		}
	})
}
