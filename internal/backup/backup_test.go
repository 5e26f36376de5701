package backup

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// base is the tests' clock: the seed, the backup, the erasure and the
// restore each get a time of their own, so the ledger's "since the backup"
// is exact.
var base = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func at(h int) func() time.Time {
	return func() time.Time { return base.Add(time.Duration(h) * time.Hour) }
}

type customer struct {
	ID    int64
	Email string
	Name  string
}

func seedPrice(t *testing.T, d *db.DB) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: "tool", Name: "Tool", Editions: []catalog.NewEdition{{Slug: "pro", Name: "Pro",
			Prices: []catalog.Price{{Currency: "EUR", AmountMinor: 9900, Billing: catalog.OneTime}}}}}, base); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT id FROM prices`).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// makeCustomer signs a customer in (account, session), fills in the
// profile, records a consent and places an order.
func makeCustomer(t *testing.T, d *db.DB, n int, price int64) customer {
	t.Helper()
	ctx := context.Background()
	c := customer{Email: fmt.Sprintf("buyer%d@example.org", n), Name: fmt.Sprintf("Memorable Buyer%d", n)}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, c.Email, base)
		if err != nil {
			return err
		}
		acct, _, err := customers.CompleteSignIn(ctx, tx, raw, base)
		if err != nil {
			return err
		}
		c.ID = acct.ID
		if _, err := customers.StartSession(ctx, tx, acct.ID, base); err != nil {
			return err
		}
		if _, err := customers.UpdateProfile(ctx, tx, acct.ID, customers.Profile{Name: c.Name, AddressLine1: "3 Lane", PostalCode: "10115",
			City: "Berlin", Country: "DE"}, base); err != nil {
			return err
		}
		if err := privacy.SetChoice(ctx, tx, privacy.Declared, acct.ID, privacy.ChoiceConsent, "marketing", true, "", base); err != nil {
			return err
		}
		_, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: acct.ID, PriceID: price, Provider: "stripe",
			Billing: orders.Billing{Email: c.Email, Name: c.Name, Address: "3 Lane\n10115 Berlin", Country: "DE"}}, base)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func eraseNow(t *testing.T, d *db.DB, c customer, now time.Time) {
	t.Helper()
	if _, err := privacy.Erase(context.Background(), d, privacy.Declared, privacy.EraseRequest{
		Subject: privacy.SubjectRef{Kind: privacy.Customer, ID: c.ID, Email: c.Email},
		By:      audit.Entry{ActorType: audit.ActorCustomer, ActorID: c.ID, Detail: "test"}}, nil, now); err != nil {
		t.Fatal(err)
	}
}

// counts is the number of rows of every table.
func counts(t *testing.T, d *db.DB) map[string]int {
	t.Helper()
	ctx := context.Background()
	tables, err := d.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM `+tb.Name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[tb.Name] = n
	}
	return out
}

// mentions lists the table.column cells that contain s, over every
// column of every table.
func mentions(t *testing.T, d *db.DB, s string) []string {
	t.Helper()
	ctx := context.Background()
	tables, err := d.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tb := range tables {
		for _, col := range tb.Columns {
			var n int
			q := fmt.Sprintf(`SELECT count(*) FROM %s WHERE lower(CAST(%s AS TEXT)) LIKE $1`, tb.Name, col)
			if err := d.QueryRowContext(ctx, q, "%"+strings.ToLower(s)+"%").Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if n > 0 {
				out = append(out, fmt.Sprintf("%s.%s (%d rows)", tb.Name, col, n))
			}
		}
	}
	return out
}

// writeLog writes request-log rows, one transaction each, until stop is
// closed, as the running site does; n counts the committed rows.
func writeLog(t *testing.T, d *db.DB, stop <-chan struct{}, running chan<- struct{}, n *atomic.Int64, wg *sync.WaitGroup) {
	defer wg.Done()
	var once sync.Once
	signal := func() { once.Do(func() { close(running) }) }
	defer signal() // also when it fails early
	for i := 0; ; i++ {
		if i == 50 {
			signal()
		}
		select {
		case <-stop:
			return
		default:
		}
		if _, err := d.ExecContext(context.Background(), `INSERT INTO request_log (at, route, status, network) VALUES ($1, '/pricing', 200, '192.0.2.7')`,
			base.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Error(err)
			return
		}
		n.Add(1)
	}
}

// TestBackupRestoreRoundTrip: a backup made while the site writes, then
// an erasure, then the database is lost and restored: the erased customer
// is nowhere in the restored database, not in any cell and not in the
// file's bytes, and everything else is back.
func TestBackupRestoreRoundTrip(t *testing.T) {
	for _, lose := range []string{"database", "ledger file"} {
		t.Run("lose the "+lose, func(t *testing.T) {
			ctx := context.Background()
			d := testutil.SQLite(t)
			path := d.Path()
			price := seedPrice(t, d)
			var people []customer
			for i := range 6 {
				people = append(people, makeCustomer(t, d, i, price))
			}
			// Erased before the backup: not in it, and the ledger's entry is
			// older than the backup.
			eraseNow(t, d, people[0], base.Add(30*time.Minute))

			var logged atomic.Int64
			var wg sync.WaitGroup
			stop := make(chan struct{})
			wg.Add(1)
			running := make(chan struct{})
			go writeLog(t, d, stop, running, &logged, &wg)
			<-running // the writer is under way
			before := logged.Load()
			res, err := Backup(ctx, path, Options{Out: filepath.Join(t.TempDir(), "b.skbackup"), Version: "test", Now: at(1)})
			if err != nil {
				t.Fatal(err)
			}
			after := logged.Load()
			close(stop)
			wg.Wait()
			if after == before {
				t.Log("no row was written during the backup")
			}

			victim := people[3]
			eraseNow(t, d, victim, base.Add(2*time.Hour))
			want := counts(t, d)
			if got := mentions(t, d, victim.Email); len(got) != 0 {
				t.Fatalf("the live erasure left %v", got)
			}
			dir := filepath.Dir(path)
			switch lose {
			case "database":
				d.Close()
				for _, s := range []string{"", "-wal", "-shm"} {
					os.Remove(path + s)
				}
			case "ledger file":
				d.Close()
				if err := os.Remove(filepath.Join(dir, privacy.LedgerFile)); err != nil {
					t.Fatal(err)
				}
			}

			var log bytes.Buffer
			r, err := Restore(ctx, RestoreOptions{From: res.Path, DB: path, Now: at(3), Log: &log})
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if r.Since != 1 || len(r.Erased) != 1 || r.Erased[0].ID != victim.ID {
				t.Errorf("restore re-applied %d of %d entries: %+v\n%s", r.Since, r.Ledger, r.Erased, log.String())
			}
			got, err := db.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			for _, p := range []customer{people[0], victim} {
				if m := mentions(t, got, p.Email); len(m) != 0 {
					t.Errorf("%s is back after the restore: %v", p.Email, m)
				}
				if m := mentions(t, got, p.Name); len(m) != 0 {
					t.Errorf("%s is back after the restore: %v", p.Name, m)
				}
			}
			gotCounts := counts(t, got)
			for name, n := range want {
				if name == "request_log" {
					continue
				}
				if gotCounts[name] != n {
					t.Errorf("%s: %d rows after the restore, %d before the loss", name, gotCounts[name], n)
				}
			}
			if n := int64(gotCounts["request_log"]); n < before || n > after {
				t.Errorf("request_log: %d rows, want the backup's moment, between %d and %d", n, before, after)
			}
			for _, p := range []customer{people[1], people[2], people[4], people[5]} {
				if m := mentions(t, got, p.Email); len(m) == 0 {
					t.Errorf("%s is missing after the restore", p.Email)
				}
			}
			got.Close()
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{victim.Email, victim.Name} {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("the restored file's bytes hold %q", s)
				}
			}
			if _, err := os.Stat(path + "-wal"); err == nil {
				if w, _ := os.ReadFile(path + "-wal"); bytes.Contains(w, []byte(victim.Email)) {
					t.Error("the restored database's WAL holds the erased address")
				}
			}
		})
	}
}
