package db_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestIsUniqueViolation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx, now := context.Background(), time.Now().UTC()
		insert := func() error {
			_, err := d.ExecContext(ctx, `INSERT INTO customers (email, created_at, updated_at) VALUES ('a@example.com', $1, $1)`, now)
			return err
		}
		if err := insert(); err != nil {
			t.Fatal(err)
		}
		err := insert()
		if err == nil || !db.IsUniqueViolation(err) {
			t.Fatalf("duplicate email: %v, IsUniqueViolation false", err)
		}
		if !db.IsUniqueViolation(errors.Join(errors.New("wrapped"), err)) {
			t.Fatal("a wrapped unique violation is not recognised")
		}
		_, err = d.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', $1)`, now)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('k', 'w', $1)`, now)
		if err == nil || !db.IsUniqueViolation(err) {
			t.Fatalf("duplicate primary key: %v, IsUniqueViolation false", err)
		}
		_, err = d.ExecContext(ctx, `INSERT INTO customers (email) VALUES ('b@example.com')`) // NOT NULL fails
		if err == nil || db.IsUniqueViolation(err) || db.IsUniqueViolation(errors.New("UNIQUE constraint failed")) || db.IsUniqueViolation(nil) {
			t.Fatalf("other errors taken for unique violations: %v", err)
		}
	})
}

// TestFoldCase: fold_case folds letters beyond ASCII on both databases,
// the same way FoldCase does in Go.
func TestFoldCase(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, s := range []string{"ÖZTÜRK", "Öztürk", "ÆSIR Ångström", "ΣΊΣΥΦΟΣ", "Straße", "ASCII"} {
			var got string
			if err := d.QueryRowContext(ctx, `SELECT fold_case($1)`, s).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if want := db.FoldCase(s); got != want {
				t.Errorf("fold_case(%q) = %q, want %q", s, got, want)
			}
		}
		var null sql.NullString
		if err := d.QueryRowContext(ctx, `SELECT fold_case(NULL)`).Scan(&null); err != nil || null.Valid {
			t.Errorf("fold_case(NULL) = %v, %v", null, err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT count(*) WHERE fold_case('Hallo Öztürk_1') LIKE $1 ESCAPE '\'`, db.ContainsPattern("ÖZTÜRK_")).Scan(&n); err != nil || n != 1 {
			t.Errorf("ContainsPattern: %d, %v", n, err)
		}
		if err := d.QueryRowContext(ctx, `SELECT count(*) WHERE fold_case('Hallo Öztürkx1') LIKE $1 ESCAPE '\'`, db.ContainsPattern("ÖZTÜRK_")).Scan(&n); err != nil || n != 0 {
			t.Errorf("ContainsPattern does not escape _: %d, %v", n, err)
		}
	})
}

// TestForUpdateQueues: two transactions that read the same row with
// ForUpdate and then change it do not lose an update, on either database.
func TestForUpdateQueues(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx, now := context.Background(), time.Now().UTC()
		if _, err := d.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('n', '0', $1)`, now); err != nil {
			t.Fatal(err)
		}
		const workers, each = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					errs <- d.Tx(ctx, func(tx *sql.Tx) error {
						var v int
						if err := tx.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'n'`+d.Dialect.ForUpdate()).Scan(&v); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, `UPDATE settings SET value = $1 WHERE key = 'n'`, itoa(v+1))
						return err
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var v string
		if err := d.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'n'`).Scan(&v); err != nil || v != itoa(workers*each) {
			t.Fatalf("counter = %s, %v; want %d", v, err, workers*each)
		}
		if db.SQLite.ForUpdate() != "" || db.Postgres.ForUpdate() != " FOR UPDATE" {
			t.Fatal("ForUpdate texts changed")
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestBucket: each period's bucket of a stored timestamp is its first day
// on both databases, and the same as PeriodStart in Go, across a year's
// end, a Sunday and a Monday, the first and last moment of a day.
func TestBucket(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `CREATE TABLE bucket_test (id INTEGER PRIMARY KEY, at `+map[db.Dialect]string{db.SQLite: "TIMESTAMP", db.Postgres: "TIMESTAMPTZ"}[d.Dialect]+` NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		times := []time.Time{
			time.Date(2026, 12, 31, 23, 59, 59, 999999000, time.UTC), // a Thursday
			time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),              // a Friday
			time.Date(2027, 1, 3, 12, 0, 0, 0, time.UTC),             // a Sunday
			time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC),              // a Monday
			time.Date(2027, 2, 28, 8, 30, 0, 500000000, time.UTC),
		}
		for i, at := range times {
			if _, err := d.ExecContext(ctx, `INSERT INTO bucket_test (id, at) VALUES ($1, $2)`, i, at); err != nil {
				t.Fatal(err)
			}
		}
		want := map[db.Period][]string{
			db.Day:   {"2026-12-31", "2027-01-01", "2027-01-03", "2027-01-04", "2027-02-28"},
			db.Week:  {"2026-12-28", "2026-12-28", "2026-12-28", "2027-01-04", "2027-02-22"},
			db.Month: {"2026-12-01", "2027-01-01", "2027-01-01", "2027-01-01", "2027-02-01"},
		}
		for p, days := range want {
			for i, at := range times {
				var got string
				if err := d.QueryRowContext(ctx, `SELECT `+d.Dialect.Bucket(p, "at")+` FROM bucket_test WHERE id = $1`, i).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != days[i] {
					t.Errorf("%s of %s: database says %s, want %s", p, at, got, days[i])
				}
				if g := db.PeriodStart(p, at).Format(time.DateOnly); g != days[i] {
					t.Errorf("%s of %s: PeriodStart says %s, want %s", p, at, g, days[i])
				}
			}
		}
	})
}
