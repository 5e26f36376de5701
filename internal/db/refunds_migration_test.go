package db_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestRefundsMigrationKeepsDocuments runs migration 00024 over a database
// that has an invoice, its correction and a credit note: on SQLite it
// rebuilds invoices under a table that points at it. The documents keep
// their ids, the correction still refers to its invoice, foreign keys are
// on again, and afterwards an order may have several credit notes but
// still only one invoice.
func TestRefundsMigrationKeepsDocuments(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), "m.db")
			if dialect == "postgres" {
				dsn = testutil.PostgresURL(t)
			}
			d, err := db.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			src, err := db.MigrationsFS()
			if err != nil {
				t.Fatal(err)
			}
			p, err := d.ProviderFor(src, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 23); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := d.ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec(`INSERT INTO orders (id, number, status, provider, currency, subtotal_minor, total_minor, billing_email, created_at, updated_at)
				VALUES (7, 'AAAA-BBBB', 'refunded', 'manual', 'EUR', 100, 100, 'b@example.com', $1, $1)`, at)
			exec(`INSERT INTO invoices (id, number, year, seq, kind, order_id, issued_at, currency, total_minor) VALUES
				(41, '2026-000001', 2026, 1, 'invoice', 7, $1, 'EUR', 100), (42, '2026-000003', 2026, 3, 'credit_note', 7, $1, 'EUR', -100)`, at)
			exec(`INSERT INTO invoice_corrections (number, year, seq, invoice_id, issued_at, reason, billing_name, billing_address, billing_country)
				VALUES ('2026-000002', 2026, 2, 41, $1, 'name', 'B', 'Street', 'DE')`, at)
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			var corrected string
			if err := d.QueryRowContext(ctx, `SELECT i.number FROM invoice_corrections c JOIN invoices i ON i.id = c.invoice_id`).Scan(&corrected); err != nil || corrected != "2026-000001" {
				t.Fatalf("the correction's invoice after the migration: %q, %v", corrected, err)
			}
			var n int
			if err := d.QueryRowContext(ctx, `SELECT count(*) FROM invoices WHERE id IN (41, 42)`).Scan(&n); err != nil || n != 2 {
				t.Fatalf("documents after the migration: %d, %v", n, err)
			}
			exec(`INSERT INTO invoices (number, year, seq, kind, order_id, issued_at, currency, total_minor) VALUES ('2026-000004', 2026, 4, 'credit_note', 7, $1, 'EUR', -10)`, at)
			if _, err := d.ExecContext(ctx, `INSERT INTO invoices (number, year, seq, kind, order_id, issued_at, currency, total_minor) VALUES ('2026-000005', 2026, 5, 'invoice', 7, $1, 'EUR', 10)`, at); !db.IsUniqueViolation(err) {
				t.Fatalf("a second invoice of one order: %v", err)
			}
			if _, err := d.ExecContext(ctx, `INSERT INTO invoices (number, year, seq, kind, order_id, issued_at, currency, total_minor) VALUES ('2026-000006', 2026, 4, 'credit_note', 7, $1, 'EUR', -10)`, at); !db.IsUniqueViolation(err) {
				t.Fatalf("a number taken twice: %v", err)
			}
			if _, err := d.ExecContext(ctx, `INSERT INTO invoice_corrections (number, year, seq, invoice_id, issued_at, reason, billing_name, billing_address, billing_country)
				VALUES ('2026-000009', 2026, 9, 999, $1, 'x', 'B', 'S', 'DE')`, at); err == nil {
				t.Fatal("a correction of no invoice was accepted: foreign keys are off")
			}
			if dialect == "sqlite" {
				rows, err := d.QueryContext(ctx, `PRAGMA foreign_key_check`)
				if err != nil {
					t.Fatal(err)
				}
				bad := rows.Next()
				rows.Close()
				if bad {
					t.Fatal("foreign_key_check reports rows after the rebuild")
				}
			}
		})
	}
}
