package licensing_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
)

// order places an order for price and pays it through Apply.
func (f *fixture) paidOrder(t *testing.T, shop orders.Shop, price int64, n int) orders.Order {
	t.Helper()
	ctx := context.Background()
	var o orders.Order
	err := f.d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: f.customer.ID, PriceID: price, Provider: "stripe",
			Billing: orders.Billing{Email: f.customer.Email, Name: "Buyer", Address: "1 Road", Country: "DE"}}, t0)
		if err != nil {
			return err
		}
		return orders.SetSession(ctx, tx, o.ID, fmt.Sprintf("cs_%d", n), t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.event(t, shop, payments.CheckoutCompleted, n, o.TotalMinor)
	o, err = orders.ByID(ctx, f.d, o.ID)
	if err != nil || o.Status != orders.Paid {
		t.Fatalf("order %+v, %v", o, err)
	}
	return o
}

func (f *fixture) event(t *testing.T, shop orders.Shop, typ payments.EventType, n int, amount int64) {
	t.Helper()
	out, err := shop.Apply(context.Background(), payments.Event{ID: fmt.Sprintf("evt_%s_%d", typ, n), Provider: "stripe", Type: typ,
		SessionRef: fmt.Sprintf("cs_%d", n), PaymentRef: fmt.Sprintf("pi_%d", n), AmountMinor: amount, Currency: "EUR"}, t0)
	if err != nil || out != orders.Applied {
		t.Fatalf("%s: %s, %v", typ, out, err)
	}
}

func (f *fixture) shop() orders.Shop {
	return orders.Shop{DB: f.d, SiteName: "Milterworks", BaseURL: "https://shop.example", Licenses: licensing.ForOrders(f.keys)}
}

func (f *fixture) orderLicenses(t *testing.T, orderID int64) []licensing.License {
	t.Helper()
	ls, err := licensing.ForOrder(context.Background(), f.d, orderID, t0)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// TestPaidOrderIssuesLicenses: the payment issues one license per line in
// its transaction, under the edition's policy (a yearly price buys a
// year), the confirmation carries the key and how to activate, and a
// second delivery of the event issues nothing more.
func TestPaidOrderIssuesLicenses(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Perpetual, UpdatesMonths: 12, MaxMachines: 2, Entitlements: []string{"dkim"}})
		shop := f.shop()
		o := f.paidOrder(t, shop, f.proOnce, 1)
		ls := f.orderLicenses(t, o.ID)
		if len(ls) != 1 {
			t.Fatalf("%d licenses for a one-line order", len(ls))
		}
		l := ls[0]
		if l.CustomerID != f.customer.ID || l.OrderLineID == 0 || !l.Perpetual() || l.MaxMachines != 2 ||
			!l.UpdatesUntil.Equal(t0.AddDate(1, 0, 0)) || strings.Join(l.Entitlements, ",") != "dkim" || l.Product != "milter" || l.Edition != "pro" {
			t.Fatalf("license %+v", l)
		}
		p, err := licensing.ParseKey(f.keys, l.Key)
		if err != nil || p.License != l.LicenseID || p.MaxMachines != 2 || p.Expires != 0 {
			t.Fatalf("key %+v, %v", p, err)
		}
		var text, html string
		if err := d.QueryRowContext(ctx, `SELECT text_body, html_body FROM outbox WHERE template = 'order_confirmation'`).Scan(&text, &html); err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{text, html} {
			if !strings.Contains(body, l.Key) || !strings.Contains(body, "To activate") || !strings.Contains(body, "up to 2 machines") {
				t.Errorf("the confirmation lacks the key or how to activate it:\n%s", body)
			}
			// Servers offline get their file from the account, which offers it.
			if !strings.Contains(body, "page in your account") || strings.Contains(body, "we will send you one") {
				t.Errorf("the confirmation does not point to the account's license file:\n%s", body)
			}
		}
		// The same event again (another instance, a redelivery) issues nothing.
		if out, err := shop.Apply(ctx, payments.Event{ID: "evt_checkout.completed_1", Provider: "stripe", Type: payments.CheckoutCompleted,
			SessionRef: "cs_1", PaymentRef: "pi_1", AmountMinor: o.TotalMinor, Currency: "EUR"}, t0); err != nil || out != orders.Duplicate {
			t.Fatalf("redelivery: %s, %v", out, err)
		}
		if n := len(f.orderLicenses(t, o.ID)); n != 1 {
			t.Fatalf("%d licenses after a redelivery", n)
		}

		// A yearly price buys a year, whatever the policy's kind.
		y := f.paidOrder(t, shop, f.proYearly, 2)
		yl := f.orderLicenses(t, y.ID)
		if len(yl) != 1 || !yl[0].ExpiresAt.Equal(t0.AddDate(1, 0, 0)) {
			t.Fatalf("yearly license %+v", yl)
		}
		// No policy: the defaults.
		var basicPrice int64
		if err := d.QueryRowContext(ctx, `SELECT id FROM prices WHERE edition_id = $1`, f.basic).Scan(&basicPrice); err != nil {
			t.Fatal(err)
		}
		b := f.paidOrder(t, shop, basicPrice, 3)
		bl := f.orderLicenses(t, b.ID)
		if len(bl) != 1 || bl[0].MaxMachines != licensing.DefaultPolicy.MaxMachines || !bl[0].Perpetual() {
			t.Errorf("default-policy license %+v", bl)
		}
	})
}

// TestQuantityMultipliesMachines: a line of quantity 3 issues one license
// with three times the policy's machines.
func TestQuantityMultipliesMachines(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Perpetual, MaxMachines: 2})
		var o orders.Order
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			o, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: f.customer.ID, PriceID: f.proOnce, Provider: "stripe",
				Billing: orders.Billing{Email: f.customer.Email, Name: "Buyer", Address: "1 Road", Country: "DE"}}, t0)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE order_lines SET quantity = 3 WHERE order_id = $1`, o.ID); err != nil {
				return err
			}
			ls, err := licensing.ForOrders(f.keys).IssueForOrder(ctx, tx, o, t0)
			if err != nil {
				return err
			}
			if len(ls) != 1 || ls[0].MaxMachines != 6 {
				t.Errorf("issued %+v, want one license for 6 machines", ls)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestOrderStateMovesLicenses: a refund in full suspends the order's
// licenses (a person's decision, here or in the processor's dashboard); a
// dispute, opened, won or lost, leaves them as they are (issue 16: it
// raises a fraud signal, a person decides), and staff's suspension stays.
func TestOrderStateMovesLicenses(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		shop := f.shop()
		status := func(orderID int64) licensing.Status {
			t.Helper()
			ls := f.orderLicenses(t, orderID)
			if len(ls) != 1 {
				t.Fatalf("%d licenses", len(ls))
			}
			return ls[0].Status
		}
		refunded := f.paidOrder(t, shop, f.proOnce, 1)
		f.event(t, shop, payments.PaymentRefunded, 1, refunded.TotalMinor)
		if s := status(refunded.ID); s != licensing.Suspended {
			t.Fatalf("after a refund: %s", s)
		}

		disputed := f.paidOrder(t, shop, f.proOnce, 2)
		f.event(t, shop, payments.DisputeOpened, 2, disputed.TotalMinor)
		if s := status(disputed.ID); s != licensing.Active {
			t.Fatalf("during a dispute: %s, want active until a person decides", s)
		}
		f.event(t, shop, payments.DisputeWon, 2, disputed.TotalMinor)
		if s := status(disputed.ID); s != licensing.Active {
			t.Fatalf("after the dispute was won: %s", s)
		}

		lost := f.paidOrder(t, shop, f.proOnce, 3)
		f.event(t, shop, payments.DisputeOpened, 3, lost.TotalMinor)
		f.event(t, shop, payments.DisputeLost, 3, lost.TotalMinor)
		if s := status(lost.ID); s != licensing.Active {
			t.Fatalf("after a lost dispute: %s, want active until a person decides", s)
		}

		// Staff suspended it before the dispute: winning it does not lift that.
		held := f.paidOrder(t, shop, f.proOnce, 4)
		l := f.orderLicenses(t, held.ID)[0]
		if _, err := licensing.Suspend(ctx, d, 1, l.ID, "abuse report", t0); err != nil {
			t.Fatal(err)
		}
		f.event(t, shop, payments.DisputeOpened, 4, held.TotalMinor)
		f.event(t, shop, payments.DisputeWon, 4, held.TotalMinor)
		if s := status(held.ID); s != licensing.Suspended {
			t.Fatalf("a staff suspension was lifted by the dispute: %s", s)
		}
	})
}

// TestLineWithoutCatalogPrice: a line whose price left the catalog issues
// no license, the payment is still recorded, and the order's history says
// to issue one by hand.
func TestLineWithoutCatalogPrice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		shop := f.shop()
		var o orders.Order
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			o, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: f.customer.ID, PriceID: f.proOnce, Provider: "stripe",
				Billing: orders.Billing{Email: f.customer.Email, Name: "Buyer", Address: "1 Road", Country: "DE"}}, t0)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE order_lines SET price_id = NULL WHERE order_id = $1`, o.ID); err != nil {
				return err
			}
			return orders.SetSession(ctx, tx, o.ID, "cs_9", t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		f.event(t, shop, payments.CheckoutCompleted, 9, o.TotalMinor)
		if ls := f.orderLicenses(t, o.ID); len(ls) != 0 {
			t.Fatalf("%d licenses for a line without a price", len(ls))
		}
		evs, err := orders.Events(ctx, d, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range evs {
			found = found || strings.Contains(e.Detail, "no license issued")
		}
		if !found {
			t.Fatalf("the order's history does not say that no license was issued: %+v", evs)
		}
	})
}
