package fraud_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

var t0 = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// fixture inserts the rows a signal can be about: a customer, their paid
// order and a license from it.
type fixture struct {
	customer, order, license int64
}

func makeFixture(t testing.TB, d *db.DB, n int) fixture {
	t.Helper()
	var f fixture
	ctx := context.Background()
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO customers (email, name, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id`,
			fmt.Sprintf("buyer%d@example.com", n), fmt.Sprintf("Buyer %d", n), t0).Scan(&f.customer); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO orders (number, customer_id, status, provider, currency, subtotal_minor, total_minor,
			billing_email, created_at, updated_at, paid_at) VALUES ($1, $2, 'paid', 'stripe', 'EUR', 10000, 10000, $3, $4, $4, $4) RETURNING id`,
			fmt.Sprintf("SK-T-%d", n), f.customer, fmt.Sprintf("buyer%d@example.com", n), t0).Scan(&f.order); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO licenses (lic, license_key, kid, customer_id, order_id, product, edition, status, issued_at, updated_at)
			VALUES ($1, $2, 'k1', $3, $4, 'app', 'pro', 'active', $5, $5) RETURNING id`,
			fmt.Sprintf("lic_t%d", n), fmt.Sprintf("KEY-%d", n), f.customer, f.order, t0).Scan(&f.license)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// eraseCustomer leaves the customer row as erasure does: an address at
// erased.invalid and no name.
func eraseCustomer(t testing.TB, d *db.DB, id int64) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), `UPDATE customers SET email = $1, name = '' WHERE id = $2`,
		fmt.Sprintf("erased-%d@erased.invalid", id), id); err != nil {
		t.Fatal(err)
	}
}

func count(t testing.TB, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
