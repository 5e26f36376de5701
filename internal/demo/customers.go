package demo

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
)

// SampleCustomer is a demo customer who bought a yearly license earlier.
type SampleCustomer struct {
	Email, Name, Address, Country string
	// Edition is the slug of the edition bought, by the year, in EUR.
	Edition string
	// BoughtDaysAgo dates the purchase: the license runs a year from it.
	BoughtDaysAgo int
	// AutoRenew: paid by card with automatic renewal (a subscription),
	// rather than once.
	AutoRenew bool
}

// SampleCustomers are the demo's customers: one whose license renews
// automatically, and one whose license expires within 30 days and is
// renewed by hand (the reminder mail goes out when the demo starts).
// Either signs in by the emailed link, as every customer does.
var SampleCustomers = []SampleCustomer{
	{Email: "ada@example.com", Name: "Ada Autorenew", Address: "Lindenweg 3\n20095 Hamburg", Country: "DE",
		Edition: "professional", BoughtDaysAgo: 90, AutoRenew: true},
	{Email: "eli@example.com", Name: "Eli Expiring", Address: "Rue de la Loi 16\n1000 Bruxelles", Country: "BE",
		Edition: "standard", BoughtDaysAgo: 345},
}

// SeedCustomers stores SampleCustomers with their paid orders and the
// licenses the orders issued (signed with keys), unless the database has
// customers already; it reports whether it seeded. Without keys there are
// no licenses, so it seeds nothing. The orders are paid through the same
// path as the demo's test payment, dated in the past; the confirmations
// that queued then are dropped, as they would have gone out long ago.
func SeedCustomers(ctx context.Context, d *db.DB, keys *licensing.Keyring, now time.Time) (bool, error) {
	if keys == nil {
		return false, nil
	}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&n); err != nil {
		return false, fmt.Errorf("check demo customers: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	shop := orders.Shop{DB: d, SiteName: Vendor.Name, Licenses: licensing.ForOrders(keys)}
	for i, sc := range SampleCustomers {
		if err := seedCustomer(ctx, d, shop, i, sc, now); err != nil {
			return false, fmt.Errorf("seed demo customer %s: %w", sc.Email, err)
		}
	}
	return true, nil
}

func seedCustomer(ctx context.Context, d *db.DB, shop orders.Shop, i int, sc SampleCustomer, now time.Time) error {
	bought := now.AddDate(0, 0, -sc.BoughtDaysAgo).UTC().Truncate(time.Second)
	session := fmt.Sprintf("demo_seed%08d", i)
	var o orders.Order
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, sc.Email, bought)
		if err != nil {
			return err
		}
		c, _, err := customers.CompleteSignIn(ctx, tx, raw, bought)
		if err != nil {
			return err
		}
		b := orders.Billing{Email: c.Email, Name: sc.Name, Address: sc.Address, Country: sc.Country}
		if _, err := orders.SaveToProfile(ctx, tx, c.ID, b, bought); err != nil {
			return err
		}
		var price int64
		if err := tx.QueryRowContext(ctx, `SELECT pr.id FROM prices pr JOIN editions e ON e.id = pr.edition_id
			WHERE e.slug = $1 AND pr.currency = 'EUR' AND pr.billing = 'yearly'`, sc.Edition).Scan(&price); err != nil {
			return fmt.Errorf("the demo's yearly %s price: %w", sc.Edition, err)
		}
		if o, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: c.ID, PriceID: price, Provider: "demo", Billing: b}, bought); err != nil {
			return err
		}
		return orders.SetSession(ctx, tx, o.ID, session, bought)
	})
	if err != nil {
		return err
	}
	ev := payments.Event{ID: "demo_evt_seed_" + session, Provider: "demo", Type: payments.CheckoutCompleted, Created: bought,
		SessionRef: session, PaymentRef: "demo_pi_" + session, OrderNumber: o.Number, AmountMinor: o.TotalMinor, Currency: o.Currency}
	if sc.AutoRenew {
		ev.SubscriptionRef = "sub_demo_" + session
	}
	if out, err := shop.Apply(ctx, ev, bought); err != nil || out != orders.Applied {
		return fmt.Errorf("pay the demo order: %s, %v", out, err)
	}
	_, err = d.ExecContext(ctx, `DELETE FROM outbox WHERE customer_id = $1`, o.CustomerID)
	return err
}
