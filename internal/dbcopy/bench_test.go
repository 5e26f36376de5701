package dbcopy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/dbcopy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// BenchmarkWrite compares the two ways of writing a batch: COPY FROM and
// multi-row INSERTs, on a migrated database with ROWS (100,000) request
// log rows and a tenth as many customers, copied into a fresh schema per
// iteration; the rate is of the copy alone, without the verification.
//
//	go test -run '^$' -bench Write -benchtime 3x ./internal/dbcopy/
func BenchmarkWrite(b *testing.B) {
	rows := 100000
	if s := os.Getenv("ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	from := filepath.Join(b.TempDir(), "bench.db")
	d, err := db.Open(ctx, from)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	_, err = d.ExecContext(ctx, fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
		INSERT INTO customers (email, name, city, country, created_at, updated_at)
		SELECT 'c' || i || '@example.org', 'Customer ' || i, 'Sampletown', 'DE', '2026-11-30 11:00:00 +0000 UTC', '2026-11-30 11:00:00.5 +0000 UTC' FROM s`, rows/10))
	if err != nil {
		b.Fatal(err)
	}
	if err := checkpoint(ctx, d); err != nil {
		b.Fatal(err)
	}
	d.Close()
	addRequestLog(b, from, rows)
	total := int64(rows + rows/10)
	for _, method := range []string{"copy", "insert"} {
		b.Run(method, func(b *testing.B) {
			var copying float64
			for b.Loop() {
				to := testutil.PostgresURL(b)
				res, err := dbcopy.Copy(ctx, dbcopy.Options{From: from, To: to, Insert: method == "insert"})
				if err != nil || res.Copied < total {
					b.Fatalf("copy: %d rows, %v", res.Copied, err)
				}
				copying += res.CopyTime.Seconds()
			}
			b.ReportMetric(float64(total)*float64(b.N)/copying, "copied-rows/s")
		})
	}
}
