package fraud_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/testutil"
)

func raise(t testing.TB, d *db.DB, s fraud.Signal) (int64, bool, error) {
	t.Helper()
	var id int64
	var created bool
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		id, created, err = fraud.Raise(context.Background(), tx, d.Dialect, s)
		return err
	})
	return id, created, err
}

func sig(kind fraud.Kind, subj fraud.Subject, source string, at time.Time) fraud.Signal {
	return fraud.Signal{Kind: kind, Subject: subj, Summary: "seen in a test", Source: source, At: at,
		Facts: []fraud.Fact{{Name: "networks in 24 hours", Value: "9"}}}
}

func TestRaiseOpensOneCaseAndIgnoresRepeats(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := makeFixture(t, d, 1)
		id, created, err := raise(t, d, sig(fraud.KeySharing, fraud.Subject{LicenseID: f.license}, "key_sharing:license:1:2026-12-02", t0))
		if err != nil || !created || id == 0 {
			t.Fatalf("first raise: %d %v %v", id, created, err)
		}
		// The license's customer and order are found: the case is about
		// the customer.
		var cust, ord sql.NullInt64
		var key string
		if err := d.QueryRowContext(context.Background(), `SELECT customer_id, order_id, subject_key FROM fraud_cases WHERE id = $1`, id).Scan(&cust, &ord, &key); err != nil {
			t.Fatal(err)
		}
		if cust.Int64 != f.customer || ord.Int64 != f.order || key != fmt.Sprintf("customer:%d", f.customer) {
			t.Fatalf("case subject %v %v %q", cust, ord, key)
		}

		// The same source again, later: nothing changes.
		id2, created2, err := raise(t, d, sig(fraud.KeySharing, fraud.Subject{LicenseID: f.license}, "key_sharing:license:1:2026-12-02", t0.Add(time.Hour)))
		if err != nil || created2 || id2 != id {
			t.Fatalf("repeat raise: %d %v %v", id2, created2, err)
		}
		var signals int
		var last time.Time
		if err := d.QueryRowContext(context.Background(), `SELECT signals, last_at FROM fraud_cases WHERE id = $1`, id).Scan(&signals, &last); err != nil {
			t.Fatal(err)
		}
		if signals != 1 || !last.Equal(t0) {
			t.Fatalf("after a repeat: %d signals, last %v", signals, last)
		}

		// Another signal about the same customer, from the processor on
		// the order: the same case.
		id3, created3, err := raise(t, d, sig(fraud.Dispute, fraud.Subject{OrderID: f.order}, "stripe:evt_1", t0.Add(2*time.Hour)))
		if err != nil || created3 || id3 != id {
			t.Fatalf("second signal: %d %v %v", id3, created3, err)
		}
		if n := count(t, d, `SELECT signals FROM fraud_cases WHERE id = $1`, id); n != 2 {
			t.Fatalf("signals = %d, want 2", n)
		}
		if n := count(t, d, `SELECT count(*) FROM fraud_cases`); n != 1 {
			t.Fatalf("%d cases, want 1", n)
		}
		var kind string
		if err := d.QueryRowContext(context.Background(), `SELECT last_kind FROM fraud_cases WHERE id = $1`, id).Scan(&kind); err != nil || kind != string(fraud.Dispute) {
			t.Fatalf("last kind %q %v", kind, err)
		}

		// Once the case is closed, a new signal opens a new case.
		if _, err := d.ExecContext(context.Background(), `UPDATE fraud_cases SET status = 'closed', open_key = NULL, closed_at = $1 WHERE id = $2`, t0, id); err != nil {
			t.Fatal(err)
		}
		id4, created4, err := raise(t, d, sig(fraud.EarlyWarning, fraud.Subject{CustomerID: f.customer}, "stripe:evt_2", t0.Add(3*time.Hour)))
		if err != nil || !created4 || id4 == id {
			t.Fatalf("after closing: %d %v %v", id4, created4, err)
		}
	})
}

func TestRaiseForErasedOrMissingSubjects(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := makeFixture(t, d, 1)
		eraseCustomer(t, d, f.customer)

		// Only the erased customer: no case about nobody.
		_, _, err := raise(t, d, sig(fraud.CheckoutBurstEmail, fraud.Subject{CustomerID: f.customer}, "burst:1", t0))
		if !errors.Is(err, fraud.ErrNoSubject) {
			t.Fatalf("erased customer alone: %v", err)
		}
		// Rows that never existed: the same.
		_, _, err = raise(t, d, sig(fraud.Dispute, fraud.Subject{CustomerID: 999, OrderID: 998, LicenseID: 997}, "stripe:evt_x", t0))
		if !errors.Is(err, fraud.ErrNoSubject) {
			t.Fatalf("missing rows: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM fraud_cases`) + count(t, d, `SELECT count(*) FROM fraud_signals`); n != 0 {
			t.Fatalf("%d rows written for signals about nobody", n)
		}

		// The erased customer's order still exists (a dispute on money
		// received): a case about the order, naming no person.
		id, created, err := raise(t, d, sig(fraud.Dispute, fraud.Subject{CustomerID: f.customer, OrderID: f.order}, "stripe:evt_3", t0))
		if err != nil || !created {
			t.Fatalf("order of an erased customer: %v %v", created, err)
		}
		var cust sql.NullInt64
		var key string
		if err := d.QueryRowContext(context.Background(), `SELECT customer_id, subject_key FROM fraud_cases WHERE id = $1`, id).Scan(&cust, &key); err != nil {
			t.Fatal(err)
		}
		if cust.Valid || key != fmt.Sprintf("order:%d", f.order) {
			t.Fatalf("case names %v, key %q", cust, key)
		}
		if n := count(t, d, `SELECT count(*) FROM fraud_signals WHERE customer_id IS NOT NULL`); n != 0 {
			t.Fatalf("%d signals name the erased customer", n)
		}
	})
}

func TestRaiseRefusesMalformedSignalsAndPersonalEvidence(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := makeFixture(t, d, 1)
		good := sig(fraud.DisposableEmail, fraud.Subject{CustomerID: f.customer}, "disposable:1", t0)
		for name, change := range map[string]func(*fraud.Signal){
			"unknown kind":       func(s *fraud.Signal) { s.Kind = "gut_feeling" },
			"no source":          func(s *fraud.Signal) { s.Source = "" },
			"no time":            func(s *fraud.Signal) { s.At = time.Time{} },
			"no subject":         func(s *fraud.Signal) { s.Subject = fraud.Subject{} },
			"no summary":         func(s *fraud.Signal) { s.Summary = "" },
			"email in a fact":    func(s *fraud.Signal) { s.Facts = []fraud.Fact{{Name: "address", Value: "someone@example.com"}} },
			"address in a fact":  func(s *fraud.Signal) { s.Facts = []fraud.Fact{{Name: "network", Value: "203.0.113.7"}} },
			"prefix in a fact":   func(s *fraud.Signal) { s.Facts = []fraud.Fact{{Name: "network", Value: "2001:db8::/48"}} },
			"email in summary":   func(s *fraud.Signal) { s.Summary = "checkout by x@mailinator.com." },
			"too many facts":     func(s *fraud.Signal) { s.Facts = make([]fraud.Fact, 13) },
			"an empty fact name": func(s *fraud.Signal) { s.Facts = []fraud.Fact{{Value: "3"}} },
		} {
			s := good
			change(&s)
			if _, _, err := raise(t, d, s); !errors.Is(err, fraud.ErrBadSignal) {
				t.Errorf("%s: %v, want ErrBadSignal", name, err)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM fraud_signals`); n != 0 {
			t.Fatalf("%d signals recorded from malformed input", n)
		}
		// Figures that look a little like addresses are fine.
		good.Facts = []fraud.Fact{{Name: "risk score", Value: "65"}, {Name: "window", Value: "12:30"}, {Name: "ratio", Value: "1.5"}, {Name: "country", Value: "DE"}}
		if _, _, err := raise(t, d, good); err != nil {
			t.Fatalf("good signal: %v", err)
		}
	})
}

// Two instances raising the same observation at the same moment record it
// once; two different observations about one customer meet in one case.
func TestRaiseConcurrently(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := makeFixture(t, d, 1)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				src := fmt.Sprintf("stripe:evt_%d", i%4)
				err := d.Tx(context.Background(), func(tx *sql.Tx) error {
					_, _, err := fraud.Raise(context.Background(), tx, d.Dialect, sig(fraud.ProcessorRisk, fraud.Subject{CustomerID: f.customer}, src, t0))
					return err
				})
				if db.IsRetryable(err) {
					err = nil // PostgreSQL resolved a deadlock; the source retries its event
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM fraud_cases`); n != 1 {
			t.Fatalf("%d cases, want 1", n)
		}
		if n := count(t, d, `SELECT count(*) FROM fraud_signals`); n != 4 {
			t.Fatalf("%d signals, want 4", n)
		}
		if n := count(t, d, `SELECT signals FROM fraud_cases`); n != 4 {
			t.Fatalf("case counts %d signals, want 4", n)
		}
	})
}
