// Command privacy measures the access export and the erasure of one person
// at two database sizes in the same run, to show that ten times more data
// costs (nearly) no more time: the work must follow indexes, never scan.
//
//	go run ./bench/privacy -customers 100000                   # SQLite: 100k and 1M customers
//	go run ./bench/privacy -db postgres://postgres@127.0.0.1:5432/test -customers 10000
//
// Each customer gets -rows rows of mail in the outbox (the largest
// per-person table today, standing in for log data) and every tenth an
// order with its line and history. The small database has -customers
// customers, the large one ten times as many. It then exports and erases
// -samples random customers on each and prints the median and p95 times
// and the ratio large/small.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

func main() {
	pg := flag.String("db", "", "PostgreSQL URL (a schema per size is created and dropped); empty for SQLite files")
	n := flag.Int("customers", 100000, "customers in the small database; the large one has ten times as many")
	rows := flag.Int("rows", 10, "outbox rows per customer")
	samples := flag.Int("samples", 30, "customers exported and erased per size")
	flag.Parse()
	var results [2][2][]time.Duration // size, op
	for i, size := range []int{*n, *n * 10} {
		exp, era, err := measure(*pg, size, *rows, *samples)
		if err != nil {
			fmt.Fprintln(os.Stderr, "privacy bench:", err)
			os.Exit(1)
		}
		results[i] = [2][]time.Duration{exp, era}
	}
	for op, name := range []string{"export", "erasure"} {
		small, large := median(results[0][op]), median(results[1][op])
		fmt.Printf("%-8s %9d customers: median %v p95 %v | %9d customers: median %v p95 %v | ratio %.2f\n", name,
			*n, small, pct(results[0][op], 95), *n*10, large, pct(results[1][op], 95), float64(large)/float64(small))
	}
}

func median(d []time.Duration) time.Duration { return pct(d, 50) }

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := max(0, min(len(s)-1, (len(s)*p+99)/100-1))
	return s[i].Round(10 * time.Microsecond)
}

func measure(pgURL string, customers, rows, samples int) (exp, era []time.Duration, err error) {
	ctx := context.Background()
	dsn := ""
	if pgURL == "" {
		dir, err := os.MkdirTemp("", "storekeep-bench-privacy-")
		if err != nil {
			return nil, nil, err
		}
		defer os.RemoveAll(dir)
		dsn = filepath.Join(dir, "bench.db")
	} else {
		schema := "bench_privacy_" + randHex(4)
		admin, err := sql.Open("pgx", pgURL)
		if err != nil {
			return nil, nil, err
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			return nil, nil, err
		}
		defer admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		dsn = testutil.WithSearchPath(pgURL, schema)
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	if err := seed(ctx, d, customers, rows); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(os.Stderr, "seeded %d customers, %d outbox rows, %d orders on %s in %v\n",
		customers, customers*rows, customers/10, d.Dialect, time.Since(start).Round(time.Second))
	if d.Dialect == db.Postgres {
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			return nil, nil, err
		}
	}
	v := settings.Defaults()
	now := time.Now().UTC()
	picked := map[int]bool{}
	for len(picked) < 2*samples {
		picked[1+mrand.IntN(customers)] = true
	}
	ids := make([]int, 0, len(picked))
	for id := range picked {
		ids = append(ids, id)
	}
	for i, id := range ids {
		ref := privacy.SubjectRef{Kind: privacy.Customer, ID: int64(id), Email: fmt.Sprintf("person%d@example.com", id)}
		t := time.Now()
		if i < samples {
			e, err := privacy.Collect(ctx, d, privacy.Declared, v, ref, now)
			if err != nil {
				return nil, nil, err
			}
			if e.Rows() < rows {
				return nil, nil, fmt.Errorf("export of customer %d found %d rows, want at least %d", id, e.Rows(), rows)
			}
			exp = append(exp, time.Since(t))
			continue
		}
		if _, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: ref}, nil, now); err != nil {
			return nil, nil, err
		}
		era = append(era, time.Since(t))
	}
	return exp, era, nil
}

// seed generates the data inside the database (INSERT ... SELECT over a
// number series), which is far faster than sending millions of rows.
func seed(ctx context.Context, d *db.DB, customers, rows int) error {
	now := time.Now().UTC()
	series := func(n string) string { // a table "s(i)" of 1..n
		if d.Dialect == db.Postgres {
			return "generate_series(1, " + n + ") AS s(i)"
		}
		return "(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < " + n + ") SELECT i FROM r) AS s"
	}
	stmts := []string{
		`INSERT INTO customers (id, email, name, city, country, created_at, updated_at)
		 SELECT i, 'person' || i || '@example.com', 'Person ' || i, 'Town', 'DE', $1, $1 FROM ` + series(fmt.Sprint(customers)),
		`INSERT INTO outbox (kind, template, to_addr, subject, text_body, message_id, customer_id, created_at, send_after, sent_at)
		 SELECT 'transactional', 'signin', c.email, 'Your sign-in link',
		        'Hello, here is your link: https://shop.example.com/account/verify?token=abcdef', 'm' || c.id || '-' || s.i, c.id, $1, $1, $1
		 FROM customers c CROSS JOIN ` + series(fmt.Sprint(rows)),
		`INSERT INTO orders (id, number, customer_id, status, provider, currency, subtotal_minor, total_minor, billing_email, billing_name,
		        billing_address, billing_country, created_at, updated_at)
		 SELECT id / 10 + 1, 'ORD-' || id, id, 'paid', 'stripe', 'EUR', 49000, 49000, email, name, '1 Road', 'DE', $1, $1
		 FROM customers WHERE id % 10 = 1`,
		`INSERT INTO order_lines (order_id, description, billing, unit_minor, quantity) SELECT id, 'Milter Pro', 'one_time', 49000, 1 FROM orders`,
		`INSERT INTO order_events (order_id, at, from_status, to_status, cause) SELECT id, $1, 'pending', 'paid', 'stripe:evt' FROM orders`,
	}
	for _, q := range stmts {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, now)
		}
		if _, err := d.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if d.Dialect == db.Postgres {
		// Explicit ids above: move the identity sequences past them.
		for _, t := range []string{"customers", "orders"} {
			if _, err := d.ExecContext(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))`, t, t)); err != nil {
				return err
			}
		}
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
