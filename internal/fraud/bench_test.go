package fraud_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/testutil"
)

// seedCases writes n cases with one signal each, with customers, in a few
// statements: the statuses spread 60 % open, 10 % asked, 30 % closed, the
// kinds over every kind, one customer per ten cases, the last signal
// spread over a day.
func seedCases(tb testing.TB, d *db.DB, n int) {
	tb.Helper()
	ctx := context.Background()
	series := fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) `, n)
	people := n/10 + 1
	kinds := "CASE (id % 12)"
	for i, k := range fraud.Kinds {
		kinds += fmt.Sprintf(" WHEN %d THEN '%s'", i, k)
	}
	kinds += " END"
	spread := `last_at + (id % 86400) * INTERVAL '1 second'`
	if d.Dialect == db.SQLite {
		spread = "last_at" // spread in Go below: SQLite holds the driver's time text, which its date functions do not read
	}
	steps := []struct {
		q    string
		args []any
	}{
		{series + `INSERT INTO customers (email, name, created_at, updated_at)
			SELECT 'c' || CAST(i AS TEXT) || '@example.com', 'Customer ' || CAST(i AS TEXT), $1, $1 FROM s WHERE i <= ` + strconv.Itoa(people), []any{t0}},
		{series + `INSERT INTO fraud_cases (status, subject_key, open_key, customer_id, signals, last_kind, first_at, last_at, created_at, updated_at)
			SELECT CASE WHEN i % 10 < 6 THEN 'open' WHEN i % 10 = 6 THEN 'asked' ELSE 'closed' END,
				'order:' || CAST(i AS TEXT), CASE WHEN i % 10 < 7 THEN 'order:' || CAST(i AS TEXT) END,
				(SELECT min(id) FROM customers) + (i % ` + strconv.Itoa(people) + `), 1, 'k', $1, $1, $1, $1 FROM s`, []any{t0}},
		{`UPDATE fraud_cases SET last_at = ` + spread + `, last_kind = ` + kinds, nil},
		{`INSERT INTO fraud_signals (case_id, kind, source, summary, facts, customer_id, observed_at)
			SELECT id, last_kind, 'seed:' || CAST(id AS TEXT), 'seeded', '[]', customer_id, last_at FROM fraud_cases`, nil},
	}
	analyze := "ANALYZE"
	if d.Dialect == db.Postgres {
		analyze = "VACUUM ANALYZE" // as autovacuum would soon: the benchmark then measures the steady state
	}
	for i, st := range steps {
		if _, err := d.ExecContext(ctx, st.q, st.args...); err != nil {
			tb.Fatalf("seed: %v\n%s", err, st.q)
		}
		if i == 1 && d.Dialect == db.SQLite {
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				stmt, err := tx.PrepareContext(ctx, `UPDATE fraud_cases SET last_at = $1 WHERE id = $2`)
				if err != nil {
					return err
				}
				defer stmt.Close()
				var first int64
				if err := tx.QueryRowContext(ctx, `SELECT min(id) FROM fraud_cases`).Scan(&first); err != nil {
					return err
				}
				for id := first; id < first+int64(n); id++ {
					if _, err := stmt.ExecContext(ctx, t0.Add(time.Duration(id%86400)*time.Second), id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	if _, err := d.ExecContext(ctx, analyze); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkCaseList measures the console's case list (one page of 50,
// with the customer's name) at 100,000 cases, against the same list at
// 1,000 cases in the same run: the first page of open cases, a filter by
// kind, a page deep in the list, and every status.
//
//	STOREKEEP_TEST_POSTGRES=... go test -run '^$' -bench BenchmarkCaseList -benchtime 200x ./internal/fraud/
func BenchmarkCaseList(b *testing.B) {
	for _, dbName := range []string{"sqlite", "postgres"} {
		for _, n := range []int{1000, 100000} {
			if dbName == "postgres" && os.Getenv(testutil.PostgresEnv) == "" {
				continue
			}
			var d *db.DB
			if dbName == "sqlite" {
				d = testutil.SQLite(b)
			} else {
				d = testutil.Postgres(b)
			}
			seedCases(b, d, n)
			deep, err := fraud.List(context.Background(), d, fraud.Filter{Status: fraud.Open, Limit: 200})
			if err != nil || len(deep) == 0 {
				b.Fatal(err)
			}
			for _, tc := range []struct {
				name string
				f    fraud.Filter
			}{
				{"open", fraud.Filter{Status: fraud.Open}},
				{"kind", fraud.Filter{Status: fraud.Open, Kind: fraud.KeySharing}},
				{"deep", fraud.Filter{Status: fraud.Open, BeforeAt: deep[len(deep)-1].LastAt, BeforeID: deep[len(deep)-1].ID}},
				{"all", fraud.Filter{}},
			} {
				b.Run(fmt.Sprintf("%s/%d/%s", dbName, n, tc.name), func(b *testing.B) {
					// One page as the console reads it: the list and the
					// tabs' counts.
					var worst time.Duration
					for b.Loop() {
						start := time.Now()
						cs, err := fraud.List(context.Background(), d, tc.f)
						if err != nil || len(cs) != 50 {
							b.Fatalf("%d cases, %v", len(cs), err)
						}
						if _, err := fraud.Counts(context.Background(), d); err != nil {
							b.Fatal(err)
						}
						worst = max(worst, time.Since(start))
					}
					b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
				})
			}
		}
	}
}
