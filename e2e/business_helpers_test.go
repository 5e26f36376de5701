package e2e

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/demo"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
)

// seededBuyer is who seedOrders places orders for.
type seededBuyer struct {
	Email, Name, Country string
}

// seedOrders places n pending orders of the demo's one-time QuillGuard
// Standard (EUR) for a new customer in the database of the demo at site
// (started by startDemo), each placed at the time given, a second apart,
// and returns their numbers, oldest first. With paid, each is paid through
// the demo provider's path, as the demo's sample customers are.
func seedOrders(t *testing.T, site string, buyer seededBuyer, n int, at time.Time, paid bool) []string {
	t.Helper()
	ctx := context.Background()
	d := demoDB(t, site)
	var price int64
	if err := d.QueryRowContext(ctx, `SELECT pr.id FROM prices pr JOIN editions e ON e.id = pr.edition_id JOIN products p ON p.id = e.product_id
		WHERE p.slug = 'quillguard' AND e.slug = 'standard' AND pr.currency = 'EUR' AND pr.amount_minor = $1`, quillguardStandardEUR).Scan(&price); err != nil {
		t.Fatalf("the demo's QuillGuard Standard price: %v", err)
	}
	var placed []orders.Order
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, buyer.Email, at)
		if err != nil {
			return err
		}
		c, _, err := customers.CompleteSignIn(ctx, tx, raw, at)
		if err != nil {
			return err
		}
		b := orders.Billing{Email: buyer.Email, Name: buyer.Name, Address: "Testweg 1\n12345 Teststadt", Country: buyer.Country}
		for i := range n {
			when := at.Add(time.Duration(i) * time.Second)
			o, err := orders.Create(ctx, tx, orders.NewOrder{CustomerID: c.ID, PriceID: price, Provider: "demo", Billing: b}, when)
			if err != nil {
				return err
			}
			if err := orders.SetSession(ctx, tx, o.ID, fmt.Sprintf("demo_e2e_%s_%d", o.Number, i), when); err != nil {
				return err
			}
			placed = append(placed, o)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed orders for %s: %v", buyer.Email, err)
	}
	if paid {
		shop := orders.Shop{DB: d, SiteName: demo.Vendor.Name, Licenses: licensing.ForOrders(demoKeys(t, site))}
		for i, o := range placed {
			when := at.Add(time.Duration(i) * time.Second)
			session := fmt.Sprintf("demo_e2e_%s_%d", o.Number, i)
			ev := payments.Event{ID: "demo_evt_" + session, Provider: "demo", Type: payments.CheckoutCompleted, Created: when,
				SessionRef: session, PaymentRef: "demo_pi_" + session, OrderNumber: o.Number, AmountMinor: o.TotalMinor, Currency: o.Currency}
			if out, err := shop.Apply(ctx, ev, when); err != nil || out != orders.Applied {
				t.Fatalf("pay seeded order %s: %s, %v", o.Number, out, err)
			}
		}
	}
	numbers := make([]string, len(placed))
	for i, o := range placed {
		numbers[i] = o.Number
	}
	return numbers
}

// fetched is what fetchInPage got.
type fetched struct {
	Status      int    `json:"status"`
	ContentType string `json:"type"`
	Disposition string `json:"disposition"`
	Body        []byte `json:"-"`
	Base64      string `json:"body"`
}

// fetchInPage fetches url from the page the tab is at, with the tab's
// cookies (a download link followed as the browser would), and returns
// the answer.
func fetchInPage(t *testing.T, b *browser, url string) fetched {
	t.Helper()
	js := fmt.Sprintf(`fetch(%q, {credentials: "same-origin"}).then(async r => {
	const bytes = new Uint8Array(await r.arrayBuffer());
	let s = "";
	for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return {status: r.status, type: r.headers.get("Content-Type") || "", disposition: r.headers.get("Content-Disposition") || "", body: btoa(s)};
})`, url)
	f, err := chromedp.Run(b.ctx, chromedp.Evaluate[fetched](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s in the page: %v", url, err)
	}
	if f.Body, err = base64.StdEncoding.DecodeString(f.Base64); err != nil {
		t.Fatalf("fetch %s: %v", url, err)
	}
	return f
}

// attribute returns an attribute of the first element matching css.
func attribute(t *testing.T, b *browser, css, name string) string {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => ""}).getAttribute(%q) || ""`, css, name)))
	if err != nil {
		t.Fatalf("attribute %s of %s: %v", name, css, err)
	}
	return v
}

// expectRefused checks that the page answered a refused form with the
// HTTP status given, and takes that answer (and the browser's log line
// for it) off the page's problems: it is what the form must do, not a
// fault. It fails the test when no such answer was seen.
func (b *browser) expectRefused(t *testing.T, status int) {
	t.Helper()
	b.events.mu.Lock()
	defer b.events.mu.Unlock()
	var kept []string
	seen := false
	for _, p := range b.events.problems {
		if strings.HasPrefix(p, fmt.Sprintf("HTTP %d for ", status)) {
			seen = true
			continue
		}
		if strings.Contains(p, fmt.Sprintf("status of %d ", status)) {
			continue
		}
		kept = append(kept, p)
	}
	if !seen {
		t.Errorf("the refusal was not answered with HTTP %d; problems: %q", status, b.events.problems)
	}
	b.events.problems = kept
}
