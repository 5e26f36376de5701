package privacy_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

func refOf(p person) privacy.SubjectRef {
	return privacy.SubjectRef{Kind: privacy.Customer, ID: p.ID, Email: p.Email}
}

func exportOf(t *testing.T, d *db.DB, p person) privacy.Export {
	t.Helper()
	e, err := privacy.Collect(context.Background(), d, privacy.Declared, settings.Defaults(), refOf(p), t0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func stepOf(rep privacy.ErasureReport, table string) privacy.ErasureStep {
	for _, s := range rep.Steps {
		if s.Table == table {
			return s
		}
	}
	return privacy.ErasureStep{}
}

// TestErasureLeavesOnlyLegalHold: after erasure nothing outside declared
// legal-hold columns refers to the person, another person's data is
// untouched, and the report says what was kept, why and until when.
func TestErasureLeavesOnlyLegalHold(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := seedPrice(t, d)
		a := makePerson(t, d, 1, price)
		b := makePerson(t, d, 2, price)
		before := exportOf(t, d, a).Rows()
		bBefore := exportOf(t, d, b).Rows()

		dry, err := privacy.Erase(ctx, d, privacy.Declared, refOf(a), t0, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := exportOf(t, d, a).Rows(); got != before || stepOf(dry, "customer_sessions").Action != "deleted" {
			t.Fatalf("dry run changed data (%d -> %d rows) or reported %+v", before, got, dry.Steps)
		}

		rep, err := privacy.Erase(ctx, d, privacy.Declared, refOf(a), t0, false)
		if err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]string{"customers": "anonymised", "customer_sessions": "deleted", "customer_tokens": "deleted",
			"outbox": "deleted", "payment_events": "deleted", "orders": "minimised", "invoices": "minimised"} {
			if got := stepOf(rep, table); got.Action != want || got.Rows == 0 {
				t.Errorf("%s: %+v, want %s", table, got, want)
			}
		}
		orders := stepOf(rep, "orders")
		if orders.HeldUntil.Year() != 2033 || !strings.Contains(orders.HeldWhy, "tax") || len(orders.Held) == 0 {
			t.Fatalf("the report does not say what is kept, why and until when: %+v", orders)
		}
		if !slices.Contains(rep.Recipients, "mail") {
			t.Errorf("the report does not name the mail relay, which delivered the erased mail: %v", rep.Recipients)
		}
		if refs := rep.ProcessorRefs["stripe"]; len(refs) != 0 {
			// makePerson's payment carried no Stripe customer; see the
			// dedicated test below for processor references.
			t.Fatalf("unexpected processor references %v", refs)
		}

		// Nothing outside legal hold still identifies the person.
		for _, q := range []string{
			`SELECT count(*) FROM customers WHERE email = $1 OR name <> '' AND id = $2`,
			`SELECT count(*) FROM customer_tokens WHERE email = $1 OR customer_id = $2`,
			`SELECT count(*) FROM customer_sessions WHERE customer_id = $2 AND $1 <> ''`,
			`SELECT count(*) FROM outbox WHERE to_addr = $1 OR customer_id = $2`,
			`SELECT count(*) FROM orders WHERE billing_email = $1 OR customer_id = $2`,
		} {
			var n int
			if err := d.QueryRowContext(ctx, q, a.Email, a.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d rows still identify the erased person: %s", n, q)
			}
		}
		var heldName string
		if err := d.QueryRowContext(ctx, `SELECT billing_name FROM orders WHERE number = $1`, a.OrderNumber).Scan(&heldName); err != nil || heldName != a.Name {
			t.Fatalf("the invoice name under legal hold is %q, %v; it must stay until the tax retention ends", heldName, err)
		}
		if got := exportOf(t, d, b).Rows(); got != bBefore {
			t.Fatalf("erasing one person changed another's data: %d -> %d rows", bBefore, got)
		}
		// Erasing again finds nothing more to do.
		again, err := privacy.Erase(ctx, d, privacy.Declared, refOf(a), t0, false)
		if err != nil || stepOf(again, "customer_sessions").Action != "nothing" {
			t.Fatalf("second erasure: %+v, %v", again.Steps, err)
		}

		if d.Dialect != db.SQLite {
			return
		}
		// The files themselves: the address is nowhere in the database or
		// its WAL; the name and city remain only in the invoice records
		// kept under legal hold.
		path := strings.TrimPrefix(d.String(), "SQLite ")
		for _, f := range []string{path, path + "-wal"} {
			raw, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte(a.Email)) {
				t.Errorf("%s still contains the erased address %s", f, a.Email)
			}
			if !bytes.Contains(raw, []byte(b.Email)) && f == path {
				t.Errorf("%s lost the other customer's address: the scan cannot be trusted", f)
			}
		}
	})
}

// TestErasureReportsProcessorReferences: the Stripe customer of an erased
// person is reported (read before erasure blanks it) so that the caller can
// have Stripe delete it too.
func TestErasureReportsProcessorReferences(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := makePerson(t, d, 3, seedPrice(t, d))
		if _, err := d.ExecContext(ctx, `UPDATE orders SET processor_customer = 'cus_erase_me' WHERE customer_id = $1`, a.ID); err != nil {
			t.Fatal(err)
		}
		rep, err := privacy.Erase(ctx, d, privacy.Declared, refOf(a), t0, false)
		if err != nil {
			t.Fatal(err)
		}
		if refs := rep.ProcessorRefs["stripe"]; len(refs) != 1 || refs[0] != "cus_erase_me" {
			t.Fatalf("processor references = %v", rep.ProcessorRefs)
		}
		var left int
		d.QueryRowContext(ctx, `SELECT count(*) FROM orders WHERE processor_customer <> ''`).Scan(&left)
		if left != 0 {
			t.Fatal("the Stripe customer reference was kept after erasure")
		}
	})
}
