package privacy_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
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

// erase erases s as the privacy center does, with procs as the
// configured processors.
func erase(t *testing.T, d *db.DB, s privacy.SubjectRef, procs privacy.Processors) privacy.ErasureReport {
	t.Helper()
	rep, err := privacy.Erase(context.Background(), d, privacy.Declared, privacy.EraseRequest{Subject: s,
		By: audit.Entry{ActorType: audit.ActorCustomer, ActorID: s.ID, Detail: "test"}}, procs, t0)
	if err != nil {
		t.Fatal(err)
	}
	return rep
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

		dry, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: refOf(a), DryRun: true}, nil, t0)
		if err != nil {
			t.Fatal(err)
		}
		if got := exportOf(t, d, a).Rows(); got != before || stepOf(dry, "customer_sessions").Action != "deleted" {
			t.Fatalf("dry run changed data (%d -> %d rows) or reported %+v", before, got, dry.Steps)
		}

		rep := erase(t, d, refOf(a), nil)
		for table, want := range map[string]string{"customers": "anonymised", "customer_sessions": "deleted", "customer_tokens": "deleted",
			"outbox": "deleted", "payment_events": "deleted", "orders": "minimised", "invoices": "minimised", "refunds": "minimised", "refund_lines": "minimised"} {
			if got := stepOf(rep, table); got.Action != want || got.Rows == 0 {
				t.Errorf("%s: %+v, want %s", table, got, want)
			}
		}
		orders := stepOf(rep, "orders")
		if orders.HeldUntil.Year() != 2033 || !strings.Contains(orders.HeldWhy, "tax") || len(orders.Held) == 0 {
			t.Fatalf("the report does not say what is kept, why and until when: %+v", orders)
		}
		if !slices.ContainsFunc(rep.AskRecipients, func(r privacy.Recipient) bool { return r.ID == "mail" }) {
			t.Errorf("the report does not name the mail relay, which delivered the erased mail: %v", rep.AskRecipients)
		}
		if len(rep.Processors) != 0 {
			// makePerson's payment carried no Stripe customer; see the
			// dedicated test below for processor references.
			t.Fatalf("unexpected processor references %v", rep.Processors)
		}
		// The erasure and its record committed together.
		var entries int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'privacy.erased' AND subject_id = $1 AND actor_type = 'customer'`,
			fmt.Sprint(a.ID)).Scan(&entries); err != nil || entries != 1 {
			t.Fatalf("%d audit entries privacy.erased (%v), want 1", entries, err)
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
		if again := erase(t, d, refOf(a), nil); stepOf(again, "customer_sessions").Action != "nothing" {
			t.Fatalf("second erasure: %+v", again.Steps)
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

// fakeProcessor deletes what it is asked to, or fails with fail.
type fakeProcessor struct {
	asked *[]string
	fail  error
}

func (f fakeProcessor) DeleteCustomer(_ context.Context, ref string) error {
	*f.asked = append(*f.asked, ref)
	return f.fail
}

// TestErasureAsksProcessors: the Stripe customer of an erased person is
// read before erasure blanks it and the configured processor is asked to
// delete it; a processor that fails, or is not configured, is reported
// for staff, and the data here is erased all the same.
func TestErasureAsksProcessors(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := seedPrice(t, d)
		for i, tc := range []struct {
			name    string
			procs   func(asked *[]string) privacy.Processors
			deleted bool
			problem string
		}{
			{"configured", func(a *[]string) privacy.Processors { return privacy.Processors{"stripe": fakeProcessor{asked: a}} }, true, ""},
			{"failing", func(a *[]string) privacy.Processors {
				return privacy.Processors{"stripe": fakeProcessor{asked: a, fail: errors.New("stripe is down")}}
			}, false, "stripe is down"},
			{"not configured", func(*[]string) privacy.Processors { return nil }, false, "not configured here"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := makePerson(t, d, 10+i, price)
				ref := fmt.Sprintf("cus_erase_me_%d", i)
				if _, err := d.ExecContext(ctx, `UPDATE orders SET processor_customer = $1 WHERE customer_id = $2`, ref, a.ID); err != nil {
					t.Fatal(err)
				}
				var asked []string
				rep := erase(t, d, refOf(a), tc.procs(&asked))
				if len(rep.Processors) != 1 || rep.Processors[0].Ref != ref || rep.Processors[0].Recipient != "stripe" ||
					rep.Processors[0].Deleted != tc.deleted || rep.Processors[0].Problem != tc.problem {
					t.Fatalf("processors = %+v", rep.Processors)
				}
				if tc.name != "not configured" && (len(asked) != 1 || asked[0] != ref) {
					t.Fatalf("the processor was asked for %v", asked)
				}
				left := rep.ProcessorsLeft()
				stripeAsked := slices.ContainsFunc(rep.AskRecipients, func(r privacy.Recipient) bool { return r.ID == "stripe" })
				if tc.deleted == (len(left) != 0) || tc.deleted == stripeAsked {
					t.Fatalf("left %+v, ask %+v", left, rep.AskRecipients)
				}
				if !tc.deleted && !strings.Contains(strings.Join(rep.StaffToDo(), "\n"), ref) {
					t.Fatalf("staff are not told to delete %s: %v", ref, rep.StaffToDo())
				}
				var n int
				d.QueryRowContext(ctx, `SELECT count(*) FROM orders WHERE processor_customer = $1`, ref).Scan(&n)
				if n != 0 {
					t.Fatal("the Stripe customer reference was kept after erasure")
				}
				if err := d.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'privacy.erased_at_processors' AND subject_id = $1`,
					fmt.Sprint(a.ID)).Scan(&n); err != nil || n != 1 {
					t.Fatalf("the processors' answers are not in the audit log (%d, %v)", n, err)
				}
			})
		}
	})
}

// TestErasureAndItsRecordCommitTogether: when the audit entry cannot be
// written, nothing is erased and no processor is asked.
func TestErasureAndItsRecordCommitTogether(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := makePerson(t, d, 4, seedPrice(t, d))
		if _, err := d.ExecContext(ctx, `UPDATE orders SET processor_customer = 'cus_keep' WHERE customer_id = $1`, a.ID); err != nil {
			t.Fatal(err)
		}
		before := exportOf(t, d, a).Rows()
		var asked []string
		_, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: refOf(a), By: audit.Entry{ActorType: "nobody"}},
			privacy.Processors{"stripe": fakeProcessor{asked: &asked}}, t0)
		if err == nil {
			t.Fatal("an erasure whose audit entry failed succeeded")
		}
		if got := exportOf(t, d, a).Rows(); got != before || len(asked) != 0 {
			t.Fatalf("the failed erasure changed %d -> %d rows, asked %v", before, got, asked)
		}
	})
}

// TestUnpaidOrdersAreNotTaxRecords: only invoiced orders keep the billing
// details under legal hold; a pending or cancelled order's name, address
// and VAT ID go with the erasure, while its amounts stay anonymous.
func TestUnpaidOrdersAreNotTaxRecords(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := seedPrice(t, d)
		a := makePerson(t, d, 5, price) // one paid, invoiced order
		var pending, cancelled string
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			for i, number := range []*string{&pending, &cancelled} {
				o, err := orders.Create(ctx, tx, orders.NewOrder{CustomerID: a.ID, PriceID: price, Provider: "stripe",
					Billing: orders.Billing{Email: a.Email, Name: "Unpaid Name", Company: "Unpaid GmbH", Address: "9 Unpaid Lane", Country: "AT", VATID: "ATU12345678"}}, t0)
				if err != nil {
					return err
				}
				*number = o.Number
				if i == 1 {
					if _, err := tx.ExecContext(ctx, `UPDATE orders SET status = 'cancelled' WHERE id = $1`, o.ID); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rep := erase(t, d, refOf(a), nil)
		var held, unheld privacy.ErasureStep
		for _, s := range rep.Steps {
			if s.Table == "orders" && s.NotHeld {
				unheld = s
			} else if s.Table == "orders" {
				held = s
			}
		}
		if held.Rows != 1 || held.Action != "minimised" || unheld.Rows != 2 || unheld.Action != "anonymised" || len(unheld.Kept) != 0 {
			t.Fatalf("orders steps: held %+v, not held %+v", held, unheld)
		}
		for _, number := range []string{pending, cancelled} {
			var name, company, addr, country, vat, email, status string
			var total int64
			if err := d.QueryRowContext(ctx, `SELECT billing_name, billing_company, billing_address, billing_country, billing_vat_id, billing_email, status, total_minor
				FROM orders WHERE number = $1`, number).Scan(&name, &company, &addr, &country, &vat, &email, &status, &total); err != nil {
				t.Fatal(err)
			}
			if name+company+addr+country+vat+email != "" {
				t.Errorf("unpaid order %s keeps billing details %q %q %q %q %q %q", number, name, company, addr, country, vat, email)
			}
			if status == "" || total == 0 {
				t.Errorf("unpaid order %s lost its anonymous record (%q, %d)", number, status, total)
			}
		}
		var name string
		if err := d.QueryRowContext(ctx, `SELECT billing_name FROM orders WHERE number = $1`, a.OrderNumber).Scan(&name); err != nil || name != a.Name {
			t.Fatalf("the invoiced order's name is %q (%v); it is a tax record", name, err)
		}
		if !strings.Contains(unheld.Sentence(), "not invoiced") || strings.Contains(unheld.Sentence(), "billing_") {
			t.Errorf("sentence: %s", unheld.Sentence())
		}
	})
}

// TestErasureSpeaksInWords: what the person is shown names kinds of data,
// never a column.
func TestErasureSpeaksInWords(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		a := makePerson(t, d, 6, seedPrice(t, d))
		rep := erase(t, d, refOf(a), nil)
		if len(rep.Kept()) == 0 || len(rep.Removed()) == 0 {
			t.Fatalf("kept %d, removed %d steps", len(rep.Kept()), len(rep.Removed()))
		}
		for _, st := range rep.Steps {
			words := st.Sentence()
			for _, tbl := range privacy.Declared.Tables {
				for _, c := range tbl.Columns {
					if strings.Contains(c.Name, "_") && strings.Contains(words, c.Name) {
						t.Errorf("%s: the sentence names the column %s: %s", st.Table, c.Name, words)
					}
				}
			}
		}
		orders := stepOf(rep, "orders").Sentence()
		for _, want := range []string{"name", "billing address", "kept until 31 December 2033", "tax and accounting records", "email address"} {
			if !strings.Contains(orders, want) {
				t.Errorf("the orders sentence lacks %q: %s", want, orders)
			}
		}
	})
}
