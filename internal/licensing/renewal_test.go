package licensing_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

var reminderSite = licensing.ReminderSite{Name: "Milterworks", BaseURL: "https://shop.example"}

// manualShop is f's shop taking payment by invoice.
func (f *fixture) manualShop() orders.Shop {
	s := f.shop()
	s.Providers = []payments.Provider{payments.Manual{}}
	return s
}

var renewalBilling = orders.Billing{Email: "buyer@example.com", Name: "Buyer", Address: "1 Road\n10115 Berlin", Country: "DE"}

// placeRenewal places a renewal of the license row id for f's customer.
func (f *fixture) placeRenewal(t *testing.T, shop orders.Shop, licenseID int64, now time.Time) (orders.Order, bool) {
	t.Helper()
	ctx := context.Background()
	var o orders.Order
	var placed bool
	err := f.d.Tx(ctx, func(tx *sql.Tx) error {
		r, err := licensing.RenewableLicense(ctx, tx, licenseID, f.customer.ID, now)
		if err != nil {
			return err
		}
		o, placed, err = orders.PlaceRenewal(ctx, tx, orders.NewRenewal{CustomerID: f.customer.ID, License: r, Provider: "manual", Billing: renewalBilling}, now)
		if err != nil || !placed {
			return err
		}
		_, err = shop.PlaceManual(ctx, tx, o, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o, placed
}

// TestRenewableLicenseRefuses: only the customer's own term licenses that
// are neither revoked nor suspended can be renewed; each refusal says why.
func TestRenewableLicenseRefuses(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Perpetual, UpdatesMonths: 12, MaxMachines: 2})
		yearly := f.paidOrder(t, f.shop(), f.proYearly, 1)
		lic := f.orderLicenses(t, yearly.ID)[0]
		r, err := licensing.RenewableLicense(ctx, d, lic.ID, f.customer.ID, t0)
		if err != nil {
			t.Fatal(err)
		}
		if r.LicenseID != lic.ID || r.Lic != lic.LicenseID || r.Name != "Milter Pro" || r.Quantity != 1 || !r.Expires.Equal(lic.ExpiresAt) || r.EditionID != f.pro {
			t.Fatalf("renewable = %+v", r)
		}
		other := f.newCustomer(t, "other@example.com")
		if _, err := licensing.RenewableLicense(ctx, d, lic.ID, other.ID, t0); !errors.Is(err, licensing.ErrNotFound) {
			t.Errorf("another customer's license: %v, want ErrNotFound", err)
		}
		if _, err := licensing.RenewableLicense(ctx, d, lic.ID, 0, t0); !errors.Is(err, licensing.ErrNotFound) {
			t.Errorf("no customer: %v, want ErrNotFound", err)
		}
		perpetual := f.paidOrder(t, f.shop(), f.proOnce, 2)
		if _, err := licensing.RenewableLicense(ctx, d, f.orderLicenses(t, perpetual.ID)[0].ID, f.customer.ID, t0); !errors.Is(err, licensing.ErrPerpetual) {
			t.Errorf("perpetual license: %v, want ErrPerpetual", err)
		}
		if _, err := licensing.Suspend(ctx, d, 1, lic.ID, "check", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := licensing.RenewableLicense(ctx, d, lic.ID, f.customer.ID, t0); !errors.Is(err, licensing.ErrSuspendedRenewal) {
			t.Errorf("suspended license: %v, want ErrSuspendedRenewal", err)
		}
		if _, err := licensing.Revoke(ctx, d, 1, lic.ID, "fraud", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := licensing.RenewableLicense(ctx, d, lic.ID, f.customer.ID, t0); !errors.Is(err, licensing.ErrNotRenewable) {
			t.Errorf("revoked license: %v, want ErrNotRenewable", err)
		}
	})
}

// TestRenewalOrderByInvoice: a renewal order is placed at the edition's
// yearly price of today for the license's quantity, a second placement
// returns the first, its payment line is charged once (no subscription),
// and when finance marks it paid the same license (same key) runs a year
// longer and the confirmation says "renewed". Bad input places nothing.
func TestRenewalOrderByInvoice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		shop := f.manualShop()
		bought := f.paidOrder(t, shop, f.proYearly, 1)
		lic := f.orderLicenses(t, bought.ID)[0]
		// Two seats bought, and the price went up since.
		if _, err := d.ExecContext(ctx, `UPDATE order_lines SET quantity = 2 WHERE id = $1`, lic.OrderLineID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `UPDATE prices SET amount_minor = 21000 WHERE id = $1`, f.proYearly); err != nil {
			t.Fatal(err)
		}
		now := lic.ExpiresAt.AddDate(0, 0, -20)

		// Bad billing details: refused, nothing placed.
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			r, err := licensing.RenewableLicense(ctx, tx, lic.ID, f.customer.ID, now)
			if err != nil {
				return err
			}
			_, _, err = orders.PlaceRenewal(ctx, tx, orders.NewRenewal{CustomerID: f.customer.ID, License: r, Provider: "manual",
				Billing: orders.Billing{Email: f.customer.Email, Name: "Buyer", Address: "1 Road", Country: "ZZ"}}, now)
			return err
		})
		if !errors.Is(err, orders.ErrBadBilling) {
			t.Fatalf("a renewal with country ZZ: %v, want ErrBadBilling", err)
		}
		if n := count(t, d, `SELECT count(*) FROM order_lines WHERE renews_license_id IS NOT NULL`); n != 0 {
			t.Fatalf("a refused renewal left %d lines", n)
		}
		// Another customer cannot place a renewal of this license.
		other := f.newCustomer(t, "other@example.com")
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			r, err := licensing.RenewableLicense(ctx, tx, lic.ID, f.customer.ID, now)
			if err != nil {
				return err
			}
			_, _, err = orders.PlaceRenewal(ctx, tx, orders.NewRenewal{CustomerID: other.ID, License: r, Provider: "manual", Billing: renewalBilling}, now)
			return err
		})
		if !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("another customer's renewal: %v, want ErrNotFound", err)
		}

		o, placed := f.placeRenewal(t, shop, lic.ID, now)
		if !placed || o.Status != orders.Pending || len(o.Lines) != 1 {
			t.Fatalf("renewal order %+v placed=%v", o, placed)
		}
		l := o.Lines[0]
		if l.RenewsLicenseID != lic.ID || l.UnitMinor != 21000 || l.Quantity != 2 || o.TotalMinor != 42000 || o.Currency != "EUR" ||
			l.Description != "Milter Pro (yearly renewal)" || l.PriceID != f.proYearly {
			t.Fatalf("renewal line %+v, total %d", l, o.TotalMinor)
		}
		if pl := orders.PaymentLines(o); len(pl) != 1 || pl[0].Yearly || pl[0].AmountMinor != 21000 || pl[0].Quantity != 2 {
			t.Fatalf("payment lines %+v: a renewal must be charged once, never start a subscription", pl)
		}
		if pl := orders.PaymentLines(bought); !pl[0].Yearly {
			t.Fatalf("a yearly purchase's payment line %+v is not yearly", pl)
		}
		again, placed := f.placeRenewal(t, shop, lic.ID, now.Add(time.Hour))
		if placed || again.Number != o.Number {
			t.Fatalf("a second renewal placed %s (placed %v), want the pending %s", again.Number, placed, o.Number)
		}
		if n := count(t, d, `SELECT count(*) FROM orders WHERE status = 'pending'`); n != 1 {
			t.Fatalf("%d pending orders, want 1", n)
		}
		if p, err := orders.PendingRenewal(ctx, d, f.customer.ID, lic.ID); err != nil || p.Number != o.Number {
			t.Fatalf("PendingRenewal = %s, %v", p.Number, err)
		}

		paidAt := now.Add(48 * time.Hour)
		if _, err := shop.MarkPaid(ctx, o.ID, "staff:1", paidAt); err != nil {
			t.Fatal(err)
		}
		after, err := licensing.ByID(ctx, d, lic.ID, paidAt)
		if err != nil {
			t.Fatal(err)
		}
		if want := lic.ExpiresAt.AddDate(1, 0, 0); !after.ExpiresAt.Equal(want) || after.Key != lic.Key || after.LicenseID != lic.LicenseID {
			t.Fatalf("after the renewal: expires %s key same %v, want %s and the same key", after.ExpiresAt, after.Key == lic.Key, want)
		}
		if n := count(t, d, `SELECT count(*) FROM licenses`); n != 1 {
			t.Fatalf("%d licenses after a renewal, want 1", n)
		}
		paid, err := orders.ByID(ctx, d, o.ID)
		if err != nil || !paid.Lines[0].PeriodStart.Equal(lic.ExpiresAt) || !paid.Lines[0].PeriodEnd.Equal(lic.ExpiresAt.AddDate(1, 0, 0)) {
			t.Fatalf("the paid renewal's period %s – %s (%v)", paid.Lines[0].PeriodStart, paid.Lines[0].PeriodEnd, err)
		}
		var text string
		if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE dedup_key = $1`, fmt.Sprintf("order-paid:%d", o.ID)).Scan(&text); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "renewed, until "+after.ExpiresAt.Format("2 January 2006")) || !strings.Contains(text, lic.Key) {
			t.Fatalf("the confirmation does not say renewed with the key:\n%s", text)
		}
		// Paid: a new renewal may be placed again (next year).
		if _, placed := f.placeRenewal(t, shop, lic.ID, paidAt); !placed {
			t.Fatal("after the renewal was paid, a new one returned an old order")
		}
	})
}

// TestRenewalNeedsAYearlyPrice: an edition no longer sold by the year
// cannot be renewed; nothing is placed.
func TestRenewalNeedsAYearlyPrice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		lic := f.orderLicenses(t, f.paidOrder(t, f.shop(), f.proYearly, 1).ID)[0]
		if _, err := d.ExecContext(ctx, `UPDATE prices SET active = FALSE WHERE id = $1`, f.proYearly); err != nil {
			t.Fatal(err)
		}
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			r, err := licensing.RenewableLicense(ctx, tx, lic.ID, f.customer.ID, t0)
			if err != nil {
				return err
			}
			_, _, err = orders.PlaceRenewal(ctx, tx, orders.NewRenewal{CustomerID: f.customer.ID, License: r, Provider: "manual", Billing: renewalBilling}, t0)
			return err
		})
		if !errors.Is(err, orders.ErrRenewalUnavailable) {
			t.Fatalf("renewal without a yearly price: %v, want ErrRenewalUnavailable", err)
		}
		if n := count(t, d, `SELECT count(*) FROM orders`); n != 1 {
			t.Fatalf("%d orders, want the one purchase", n)
		}
	})
}

// reminders returns the renewal reminders in the outbox, oldest first, as
// "to|dedup key|subject".
func reminders(t *testing.T, d *db.DB) []string {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT to_addr, dedup_key, subject, text_body FROM outbox WHERE template = 'renewal_reminder' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var to, key, subject, text string
		if err := rows.Scan(&to, &key, &subject, &text); err != nil {
			t.Fatal(err)
		}
		out = append(out, to+"|"+key+"|"+subject+"|"+text)
	}
	return out
}

func sendReminders(t *testing.T, d *db.DB, now time.Time, want int) {
	t.Helper()
	n, err := licensing.SendRenewalReminders(context.Background(), d, reminderSite, now)
	if err != nil || n != want {
		t.Fatalf("reminders at %s: %d sent (%v), want %d", now.Format(time.DateTime), n, err, want)
	}
}

// TestRenewalReminders: a term license not renewed automatically gets a
// reminder 30 days before it expires and another 7 days before, each once
// however often the job runs (or on how many instances), with the link
// that renews it; after a renewal a new cycle starts before the new
// expiry. A license an active subscription renews, a perpetual one and
// one of an erased or restricted customer get none.
func TestRenewalReminders(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		shop := f.manualShop()
		lic := f.orderLicenses(t, f.paidOrder(t, shop, f.proYearly, 1).ID)[0]
		f.paidOrder(t, shop, f.proOnce, 2) // perpetual: never reminded
		exp := lic.ExpiresAt

		sendReminders(t, d, exp.AddDate(0, 0, -31), 0)
		sendReminders(t, d, exp.AddDate(0, 0, -30), 1)
		sendReminders(t, d, exp.AddDate(0, 0, -30).Add(time.Hour), 0)
		sendReminders(t, d, exp.AddDate(0, 0, -12), 0)
		got := reminders(t, d)
		if len(got) != 1 {
			t.Fatalf("%d reminders, want 1", len(got))
		}
		for _, want := range []string{"buyer@example.com|" + licensing.ReminderKey(lic.LicenseID, exp, 30) + "|",
			"Milterworks: your license expires in 30 days", "Milter Pro (" + lic.LicenseID + ")", exp.Format("2 January 2006"),
			"https://shop.example/account/licenses/" + lic.LicenseID + "/renew"} {
			if !strings.Contains(got[0], want) {
				t.Errorf("the 30-day reminder lacks %q:\n%s", want, got[0])
			}
		}
		sendReminders(t, d, exp.AddDate(0, 0, -7), 1)
		// Two instances at once, and later runs: nothing more.
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := licensing.SendRenewalReminders(ctx, d, reminderSite, exp.AddDate(0, 0, -6))
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		sendReminders(t, d, exp.Add(-time.Hour), 0)
		sendReminders(t, d, exp.Add(time.Hour), 0) // expired: no reminder after the date
		got = reminders(t, d)
		if len(got) != 2 || !strings.Contains(got[1], licensing.ReminderKey(lic.LicenseID, exp, 7)) || !strings.Contains(got[1], "expires in 7 days") {
			t.Fatalf("reminders after the 7-day step:\n%s", strings.Join(got, "\n\n"))
		}

		// Renewed (a day late, in its grace period): a new cycle before
		// the new expiry, none before that.
		paidAt := exp.Add(24 * time.Hour)
		o, _ := f.placeRenewal(t, shop, lic.ID, paidAt)
		if _, err := shop.MarkPaid(ctx, o.ID, "staff:1", paidAt); err != nil {
			t.Fatal(err)
		}
		next := exp.AddDate(1, 0, 0)
		sendReminders(t, d, next.AddDate(0, 0, -31), 0)
		sendReminders(t, d, next.AddDate(0, 0, -29), 1)
		sendReminders(t, d, next.AddDate(0, 0, -3), 1)
		got = reminders(t, d)
		if len(got) != 4 || !strings.Contains(got[2], licensing.ReminderKey(lic.LicenseID, next, 30)) || !strings.Contains(got[3], licensing.ReminderKey(lic.LicenseID, next, 7)) ||
			!strings.Contains(got[3], "expires in 3 days") {
			t.Fatalf("reminders after the renewal:\n%s", strings.Join(got, "\n\n"))
		}
	})
}

// TestRemindersSkipAutomaticRenewal: a license whose subscription renews
// it gets no reminder; once the customer turns automatic renewal off
// (cancel at period end) or the subscription ends, it does.
func TestRemindersSkipAutomaticRenewal(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		shop := f.shop()
		var o orders.Order
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			o, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: f.customer.ID, PriceID: f.proYearly, Provider: "stripe", Billing: renewalBilling}, t0)
			if err != nil {
				return err
			}
			return orders.SetSession(ctx, tx, o.ID, "cs_sub", t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := shop.Apply(ctx, payments.Event{ID: "evt_sub", Provider: "stripe", Type: payments.CheckoutCompleted, SessionRef: "cs_sub",
			SubscriptionRef: "sub_1", PaymentRef: "pi_sub", AmountMinor: o.TotalMinor, Currency: "EUR", Created: t0}, t0); err != nil || out != orders.Applied {
			t.Fatalf("checkout: %s, %v", out, err)
		}
		lic := f.orderLicenses(t, o.ID)[0]
		exp := lic.ExpiresAt
		sendReminders(t, d, exp.AddDate(0, 0, -30), 0)
		sendReminders(t, d, exp.AddDate(0, 0, -7), 0)

		// Turned off: the 7-day reminder goes (the 30-day step is past).
		if out, err := shop.Apply(ctx, payments.Event{ID: "evt_off", Provider: "stripe", Type: payments.SubscriptionChanged, SubscriptionRef: "sub_1",
			SubscriptionStatus: payments.SubscriptionActive, CancelAtPeriodEnd: true, PeriodEnd: exp, Created: exp.AddDate(0, 0, -6)}, exp.AddDate(0, 0, -6)); err != nil || out != orders.Applied {
			t.Fatalf("subscription changed: %s, %v", out, err)
		}
		sendReminders(t, d, exp.AddDate(0, 0, -6), 1)
		if got := reminders(t, d); len(got) != 1 || !strings.Contains(got[0], licensing.ReminderKey(lic.LicenseID, exp, 7)) {
			t.Fatalf("reminders: %v", got)
		}
	})
}

// TestRemindersRespectErasureAndRestriction: an erased customer's
// license (the link to them is gone) and a restricted customer's get no
// reminder.
func TestRemindersRespectErasureAndRestriction(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		shop := f.shop()
		lic := f.orderLicenses(t, f.paidOrder(t, shop, f.proYearly, 1).ID)[0]
		restricted := f.newCustomer(t, "quiet@example.com")
		f.customer = restricted
		f.paidOrder(t, shop, f.proYearly, 2)
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			return privacy.SetChoice(ctx, tx, privacy.Declared, restricted.ID, privacy.ChoiceRestriction, "", true, "test", t0)
		}); err != nil {
			t.Fatal(err)
		}
		buyer, err := customers.ByEmail(ctx, d, "buyer@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: privacy.SubjectRef{Kind: privacy.Customer, ID: buyer.ID, Email: buyer.Email}}, nil, t0); err != nil {
			t.Fatal(err)
		}
		sendReminders(t, d, lic.ExpiresAt.AddDate(0, 0, -30), 0)
		sendReminders(t, d, lic.ExpiresAt.AddDate(0, 0, -7), 0)
		if got := reminders(t, d); len(got) != 0 {
			t.Fatalf("reminders to an erased or restricted customer: %v", got)
		}
	})
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
