package privacy_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestRecordsCoverTheInventory fails when a purpose the inventory uses, a
// category it holds or a recipient it sends data to is missing from the
// records of processing.
func TestRecordsCoverTheInventory(t *testing.T) {
	inv := privacy.Declared
	v := settings.Vendor{LegalName: "Milterworks GmbH", PrivacyEmail: "privacy@milterworks.example", Address: "Hauptstr. 1\n10115 Berlin", Country: "Germany"}
	reg := []privacy.Registered{}
	rec := privacy.BuildRecords(inv, reg, v, privacy.Deployment{Facts: privacy.Facts{HTTPS: true}}, t0)

	activity := map[string]privacy.ProcessingActivity{}
	for _, a := range rec.Activities {
		activity[a.Purpose] = a
	}
	var recipients []string
	for _, r := range rec.Recipients {
		recipients = append(recipients, r.Name)
	}
	check := func(where string, purposes []string, cats []privacy.Category, recips []string) {
		for _, p := range purposes {
			a, ok := activity[p]
			if !ok {
				t.Errorf("%s: purpose %s is missing from the records", where, p)
				continue
			}
			for _, c := range cats {
				if !slices.Contains(a.Categories, c.Label()+" ("+string(c)+")") {
					t.Errorf("%s: category %s is missing from activity %s", where, c, p)
				}
			}
			for _, id := range recips {
				r, _ := inv.Recipient(id)
				name := r.Name
				if r.Setting != "" {
					name = map[string]string{"hosting": v.HostingProvider, "mail": v.MailProvider}[r.Setting]
					if name == "" {
						name = r.Name
					}
				}
				if !slices.Contains(a.Recipients, name) {
					t.Errorf("%s: recipient %s is missing from activity %s", where, id, p)
				}
				if !slices.Contains(recipients, name) {
					t.Errorf("%s: recipient %s is missing from the records' recipients", where, id)
				}
			}
		}
	}
	for _, tb := range inv.Tables {
		if tb.OnlyWithOptionalCookies && !inv.AsksConsent() {
			continue
		}
		for _, c := range tb.Columns {
			if c.Personal {
				check(tb.Name+"."+c.Name, c.Purposes, []privacy.Category{c.Category}, c.Recipients)
			}
		}
	}
	for _, a := range inv.Activities {
		check("activity "+a.ID, a.Purposes, a.Categories, a.Recipients)
	}
	if rec.Controller.Name != "Milterworks GmbH" || rec.Controller.PrivacyEmail == "" {
		t.Errorf("controller: %+v", rec.Controller)
	}
	if !slices.ContainsFunc(rec.Security, func(s string) bool { return strings.Contains(s, "HTTPS") }) {
		t.Errorf("an HTTPS deployment's measures lack HTTPS: %q", rec.Security)
	}
	plain := privacy.BuildRecords(inv, reg, v, privacy.Deployment{}, t0)
	if slices.ContainsFunc(plain.Security, func(s string) bool { return strings.Contains(s, "HTTPS") }) {
		t.Errorf("a plain-HTTP deployment claims HTTPS: %q", plain.Security)
	}
	// Stripe processes in the United States: the transfer and its
	// safeguard are in the records.
	found := false
	for _, a := range rec.Activities {
		for _, tr := range a.Transfers {
			found = found || strings.Contains(tr, "Stripe") && strings.Contains(tr, "Standard Contractual Clauses")
		}
	}
	if !found {
		t.Error("the Stripe transfer and its safeguard are missing from the records")
	}
	var js bytes.Buffer
	if err := rec.WriteJSON(&js); err != nil || !json.Valid(js.Bytes()) {
		t.Fatalf("JSON: %v", err)
	}
	var cs bytes.Buffer
	if err := rec.WriteCSV(&cs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	if len(rows) != 2+len(rec.Activities)+len(rec.Recipients)+len(rec.Security)+len(rec.Stores) {
		t.Errorf("CSV has %d rows", len(rows))
	}
}

var owner = audit.Staff(1)

func TestRegisterDeclaredRecipientsAndProblems(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		inv := privacy.Declared
		v := settings.Vendor{}
		reg, err := privacy.Register(ctx, d, inv, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"hosting", "mail", "stripe"} {
			if !slices.ContainsFunc(reg, func(r privacy.Registered) bool { return r.Declared == id && r.InUse }) {
				t.Errorf("declared recipient %s is not in the register, in use", id)
			}
		}
		probs := privacy.RecipientProblems(reg, t0)
		if !slices.ContainsFunc(probs, func(p privacy.RecipientProblem) bool { return p.Key == "stripe" && p.Code == "no_agreement" }) {
			t.Errorf("Stripe without an agreement is not reported: %+v", probs)
		}

		// Deleting or ending a declared recipient data goes to is refused,
		// and nothing changes.
		before := auditCount(t, d)
		if err := privacy.DeleteRecipient(ctx, d, inv, v, owner, "stripe", t0); !errors.Is(err, privacy.ErrRecipientInUse) {
			t.Fatalf("delete Stripe: %v", err)
		}
		in := privacy.RecipientInput{Name: "Stripe", Kind: privacy.KindProcessor, Purpose: "card payments", Location: "United States",
			OutsideEEA: true, Safeguard: privacy.SafeguardSCC, AgreementRef: "DPA 2026-04", AgreementDate: t0.AddDate(0, -6, 0), Ended: true}
		err = privacy.UpdateRecipient(ctx, d, inv, v, owner, "stripe", in, t0)
		if rf, ok := refuse.As(err); !ok || !errors.Is(err, privacy.ErrRecipientInUse) || !strings.Contains(rf.Msg, "Stripe still receives") {
			t.Fatalf("end Stripe: %v", err)
		}
		if n := auditCount(t, d); n != before {
			t.Errorf("a refusal wrote %d audit entries", n-before)
		}
		// A transfer out of the EEA without a safeguard is reported.
		in.Ended, in.Safeguard = false, privacy.SafeguardNone
		if err := privacy.UpdateRecipient(ctx, d, inv, v, owner, "stripe", in, t0); err != nil {
			t.Fatal(err)
		}
		probs, err = privacy.LoadRecipientProblems(ctx, d, inv, t0)
		if err != nil {
			t.Fatal(err)
		}
		codes := map[string]bool{}
		for _, p := range probs {
			if p.Key == "stripe" {
				codes[p.Code] = true
			}
		}
		if !codes["no_safeguard"] || codes["no_agreement"] {
			t.Errorf("Stripe's problems: %v", codes)
		}
		in.Safeguard = privacy.SafeguardSCC
		in.ReviewDate = t0.AddDate(0, 0, -1)
		if err := privacy.UpdateRecipient(ctx, d, inv, v, owner, "stripe", in, t0); err != nil {
			t.Fatal(err)
		}
		probs, _ = privacy.LoadRecipientProblems(ctx, d, inv, t0)
		if len(probs) == 0 || !slices.ContainsFunc(probs, func(p privacy.RecipientProblem) bool { return p.Key == "stripe" && p.Code == "review_due" }) ||
			slices.ContainsFunc(probs, func(p privacy.RecipientProblem) bool { return p.Key == "stripe" && p.Code != "review_due" }) {
			t.Errorf("after the agreement and SCCs: %+v", probs)
		}

		// Bad input is refused with the field to correct.
		bad := []struct {
			in    privacy.RecipientInput
			field string
		}{
			{privacy.RecipientInput{Kind: privacy.KindProcessor, Purpose: "x", Location: "x", Categories: []privacy.Category{"user.name"}}, "name"},
			{privacy.RecipientInput{Name: "A", Kind: "boss", Purpose: "x", Location: "x", Categories: []privacy.Category{"user.name"}}, "kind"},
			{privacy.RecipientInput{Name: "A", Kind: privacy.KindProcessor, Purpose: "x", Location: "x"}, "categories"},
			{privacy.RecipientInput{Name: "A", Kind: privacy.KindProcessor, Purpose: "x", Location: "x", Categories: []privacy.Category{"user.secret"}}, "categories"},
			{privacy.RecipientInput{Name: "A", Kind: privacy.KindProcessor, Purpose: "x", Location: "x", Categories: []privacy.Category{"user.name"}, Safeguard: privacy.SafeguardSCC}, "safeguard"},
			{privacy.RecipientInput{Name: "A", Kind: privacy.KindProcessor, Purpose: "x", Location: "x", Categories: []privacy.Category{"user.name"}, OutsideEEA: true, Safeguard: privacy.SafeguardDerogation}, "safeguard_note"},
		}
		for _, b := range bad {
			_, err := privacy.AddRecipient(ctx, d, owner, b.in, t0)
			if rf, ok := refuse.As(err); !ok || rf.Field != b.field {
				t.Errorf("%+v: %v, want a refusal of %s", b.in, err, b.field)
			}
		}

		// An added recipient is in the register, the policy and the
		// records; it can be deleted.
		key, err := privacy.AddRecipient(ctx, d, owner, privacy.RecipientInput{Name: "Steuerbüro Klein", Kind: privacy.OtherController,
			Purpose: "bookkeeping and tax returns", Location: "Germany", Categories: []privacy.Category{"user.financial.purchase", "user.name"},
			AgreementRef: "engagement letter 2025"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := privacy.CurrentOf(ctx, d, inv, privacy.PrivacyPolicy, privacy.Facts{}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(p.Recipients, func(r privacy.RecipientUse) bool { return r.Name == "Steuerbüro Klein" && len(r.Data) == 2 }) {
			t.Errorf("the policy does not list the added recipient: %+v", p.Recipients)
		}
		if !slices.ContainsFunc(p.Recipients, func(r privacy.RecipientUse) bool {
			return r.Name == "Stripe" && r.Location == "United States" && strings.Contains(r.Transfer, "Standard Contractual")
		}) {
			t.Errorf("the policy does not show the register's record of Stripe: %+v", p.Recipients)
		}
		rec, err := privacy.LoadRecords(ctx, d, inv, privacy.Facts{}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rec.Recipients, func(r privacy.RecordsRecipient) bool { return r.Name == "Steuerbüro Klein" }) {
			t.Error("the records lack the added recipient")
		}
		if err := privacy.DeleteRecipient(ctx, d, inv, v, owner, key, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := privacy.RegisteredByKey(ctx, d, inv, v, key); !errors.Is(err, privacy.ErrNoRecipient) {
			t.Errorf("after delete: %v", err)
		}
	})
}

func auditCount(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDisclosuresInTheExport: the subject's access export lists
// disclosures about them, except those the law forbids telling them of.
func TestDisclosuresInTheExport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		base := privacy.DisclosureInput{Authority: "Landeskriminalamt Berlin", AuthorityRef: "LKA 4711/26", LegalBasis: "§ 100g StPO, court order of 3 Nov 2026",
			RequestedAt: t0.AddDate(0, 0, -3), Asked: "Name and email of the license holder", Decision: privacy.DecisionDisclosed,
			Disclosed: "Name and email address", DisclosedAt: t0.AddDate(0, 0, -1), SubjectEmail: "Ada@Example.com"}
		if _, err := privacy.RecordDisclosure(ctx, d, owner, base, t0); err != nil {
			t.Fatal(err)
		}
		gagged := base
		gagged.AuthorityRef, gagged.Asked, gagged.Withheld, gagged.WithheldReason = "LKA 4712/26", "Purchase history", true, "§ 101 StPO: notification deferred by the court"
		if _, err := privacy.RecordDisclosure(ctx, d, owner, gagged, t0); err != nil {
			t.Fatal(err)
		}
		e, err := privacy.Collect(ctx, d, privacy.Declared, settings.Vendor{}, privacy.SubjectRef{Kind: privacy.Customer, Email: "ada@example.com"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		for _, tb := range e.Tables {
			if tb.Name == "disclosures" {
				rows = tb.Rows
			}
		}
		if len(rows) != 1 || rows[0]["authority_reference"] != "LKA 4711/26" || rows[0]["what_was_disclosed"] != "Name and email address" {
			t.Fatalf("export's disclosures: %+v", rows)
		}
		list, err := privacy.Disclosures(ctx, d, 10)
		if err != nil || len(list) != 2 {
			t.Fatalf("log: %d, %v", len(list), err)
		}
		if list[0].DecidedBy != 1 || list[0].SubjectEmail != "ada@example.com" {
			t.Errorf("entry: %+v", list[0])
		}

		before := auditCount(t, d)
		bad := []struct {
			change func(*privacy.DisclosureInput)
			field  string
		}{
			{func(in *privacy.DisclosureInput) { in.Authority = " " }, "authority"},
			{func(in *privacy.DisclosureInput) { in.LegalBasis = "" }, "legal_basis"},
			{func(in *privacy.DisclosureInput) { in.RequestedAt = time.Time{} }, "requested_at"},
			{func(in *privacy.DisclosureInput) { in.RequestedAt = t0.Add(time.Hour) }, "requested_at"},
			{func(in *privacy.DisclosureInput) { in.Disclosed = "" }, "disclosed"},
			{func(in *privacy.DisclosureInput) { in.DisclosedAt = time.Time{} }, "disclosed_at"},
			{func(in *privacy.DisclosureInput) { in.Decision = privacy.DecisionRefused }, "disclosed"},
			{func(in *privacy.DisclosureInput) { in.Withheld = true }, "withheld_reason"},
			{func(in *privacy.DisclosureInput) { in.Withheld, in.WithheldReason, in.SubjectEmail = true, "order", "" }, "withheld"},
		}
		for i, b := range bad {
			in := base
			b.change(&in)
			_, err := privacy.RecordDisclosure(ctx, d, owner, in, t0)
			if rf, ok := refuse.As(err); !ok || rf.Field != b.field {
				t.Errorf("case %d: %v, want a refusal of %s", i, err, b.field)
			}
		}
		if n := auditCount(t, d); n != before {
			t.Errorf("refusals wrote %d audit entries", n-before)
		}
	})
}
