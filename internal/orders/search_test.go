package orders_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/testutil"
)

// seedSearch stores n orders, three at each moment (so pages end inside a
// group of equal times), alternating two products and states, and
// returns their numbers newest first (created_at DESC, id DESC).
func seedSearch(t *testing.T, d *db.DB, n int) (numbers []string, products [2]int64) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for i, slug := range []string{"quillguard", "mailguard"} {
			var edition, price int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO products (slug, name, created_at, updated_at) VALUES ($1, $1, $2, $2) RETURNING id`, "s-"+slug, base).Scan(&products[i]); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO editions (product_id, slug, name, created_at, updated_at) VALUES ($1, 'pro', 'Pro', $2, $2) RETURNING id`, products[i], base).Scan(&edition); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO prices (edition_id, currency, amount_minor, billing, created_at) VALUES ($1, 'EUR', 1000, 'one_time', $2) RETURNING id`, edition, base).Scan(&price); err != nil {
				return err
			}
			products[i] = products[i]<<32 | price // unpacked below
		}
		for i := range n {
			status := []string{"paid", "pending", "cancelled"}[i%3]
			name := fmt.Sprintf("Buyer %03d", i)
			if i == 7 {
				name = "Ada Lovelace"
			}
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO orders (number, status, provider, currency, subtotal_minor, total_minor, billing_email, billing_name,
					created_at, updated_at) VALUES ($1, $2, 'manual', 'EUR', 1000, 1000, $3, $4, $5, $5) RETURNING id`,
				fmt.Sprintf("T%03d-%04d", i/1000, i%1000), status, fmt.Sprintf("b%d@example.com", i), name, base.Add(time.Duration(i/3)*time.Hour)).Scan(&id)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_lines (order_id, price_id, description, billing, unit_minor, quantity, net_minor)
				VALUES ($1, $2, 'x', 'one_time', 1000, 1, 1000)`, id, products[i%2]&0xffffffff); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range products {
		products[i] >>= 32
	}
	for i := n - 1; i >= 0; i-- {
		numbers = append(numbers, fmt.Sprintf("T%03d-%04d", i/1000, i%1000))
	}
	return numbers, products
}

// pages reads every page of q and returns the numbers in order.
func pages(t *testing.T, d *db.DB, q orders.Query) (numbers []string, count int) {
	t.Helper()
	for {
		list, next, err := orders.Search(context.Background(), d, q)
		if err != nil {
			t.Fatal(err)
		}
		count++
		for _, o := range list {
			numbers = append(numbers, o.Number)
			if len(o.Lines) != 1 {
				t.Fatalf("order %s has %d lines, want 1", o.Number, len(o.Lines))
			}
		}
		if next.IsZero() {
			return numbers, count
		}
		// The link's text is what the next request reads.
		if q.After, err = orders.ParseCursor(next.String()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSearchPagesLoseAndRepeatNothing: reading every page of a search,
// seven orders a page over groups of three orders placed at the same
// moment, gives each matching order exactly once, newest first; and each
// filter selects what it says.
func TestSearchPagesLoseAndRepeatNothing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		all, products := seedSearch(t, d, 40)
		got, n := pages(t, d, orders.Query{Limit: 7})
		if fmt.Sprint(got) != fmt.Sprint(all) {
			t.Fatalf("all pages:\n got %v\nwant %v", got, all)
		}
		if n != 6 {
			t.Errorf("%d pages of 7 for 40 orders, want 6", n)
		}
		var paid, firstProduct []string
		for _, num := range all {
			var i int
			fmt.Sscanf(num[5:], "%d", &i)
			if i%3 == 0 {
				paid = append(paid, num)
			}
			if i%2 == 0 {
				firstProduct = append(firstProduct, num)
			}
		}
		if got, _ := pages(t, d, orders.Query{Status: orders.Paid, Limit: 4}); fmt.Sprint(got) != fmt.Sprint(paid) {
			t.Errorf("paid:\n got %v\nwant %v", got, paid)
		}
		if got, _ := pages(t, d, orders.Query{ProductID: products[0], Limit: 5}); fmt.Sprint(got) != fmt.Sprint(firstProduct) {
			t.Errorf("product:\n got %v\nwant %v", got, firstProduct)
		}
		// Orders 3..8 were placed at 01:00 and 02:00; To is exclusive.
		from := time.Date(2027, 1, 1, 1, 0, 0, 0, time.UTC)
		if got, _ := pages(t, d, orders.Query{From: from, To: from.Add(2 * time.Hour), Limit: 4}); fmt.Sprint(got) != "[T000-0008 T000-0007 T000-0006 T000-0005 T000-0004 T000-0003]" {
			t.Errorf("dates: %v", got)
		}
		for _, c := range []struct {
			q    orders.Query
			want string
		}{
			{orders.Query{Number: "t000 0012"}, "[]"}, // not a number's shape
			{orders.Query{Number: "t0000012"}, "[T000-0012]"},
			{orders.Query{Customer: "B12@Example.com"}, "[T000-0012]"},
			{orders.Query{Customer: "lovel"}, "[T000-0007]"},
			{orders.Query{Customer: "ADA LOVE"}, "[T000-0007]"},
			{orders.Query{Customer: "100%"}, "[]"},
			{orders.Query{Customer: "lovel", Status: orders.Paid}, "[]"},
		} {
			if got, _ := pages(t, d, c.q); fmt.Sprint(got) != c.want {
				t.Errorf("%+v: %v, want %s", c.q, got, c.want)
			}
		}
		for _, bad := range []string{"x", "1.", ".5", "12.-3", "12.0"} {
			if _, err := orders.ParseCursor(bad); err == nil {
				t.Errorf("cursor %q accepted", bad)
			}
		}
		// The export's walk gives the same orders as the pages.
		var each []string
		err := orders.Each(context.Background(), d, orders.Query{Status: orders.Paid}, func(list []orders.Order) error {
			for _, o := range list {
				each = append(each, o.Number)
			}
			return nil
		})
		if err != nil || fmt.Sprint(each) != fmt.Sprint(paid) {
			t.Errorf("Each: %v %v", each, err)
		}
	})
}

func TestTotalsByCustomer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			for i, o := range []struct {
				customer    int64
				status, cur string
				total       int64
			}{{1, "paid", "EUR", 1000}, {1, "paid", "USD", 500}, {1, "refunded", "EUR", 700}, {1, "pending", "EUR", 300}, {2, "paid", "EUR", 50}} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO customers (email, created_at, updated_at) VALUES ($1, $2, $2) ON CONFLICT DO NOTHING`,
					fmt.Sprintf("c%d@example.com", o.customer), now); err != nil {
					return err
				}
				var cid int64
				if err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE email = $1`, fmt.Sprintf("c%d@example.com", o.customer)).Scan(&cid); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO orders (number, customer_id, status, provider, currency, subtotal_minor, total_minor, billing_email,
					created_at, updated_at) VALUES ($1, $2, $3, 'manual', $4, $5, $5, 'x@example.com', $6, $6)`, fmt.Sprintf("C%d", i), cid, o.status, o.cur, o.total, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var one, two int64
		d.QueryRowContext(ctx, `SELECT id FROM customers WHERE email = 'c1@example.com'`).Scan(&one)
		d.QueryRowContext(ctx, `SELECT id FROM customers WHERE email = 'c2@example.com'`).Scan(&two)
		got, err := orders.TotalsByCustomer(ctx, d, []int64{one, two, 999})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got[one]) != "{4 map[EUR:1000 USD:500]}" || fmt.Sprint(got[two]) != "{1 map[EUR:50]}" || got[999].Orders != 0 {
			t.Errorf("totals: %v", got)
		}
	})
}
