package webtest

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
)

// PriceID returns the id of the seeded Mailguard Professional EUR one-time
// price (€490.00).
func PriceID(t testing.TB, d *db.DB) string {
	t.Helper()
	var id string
	err := d.QueryRowContext(context.Background(), `SELECT pr.id FROM prices pr JOIN editions e ON e.id = pr.edition_id
		WHERE e.slug = 'professional' AND pr.currency = 'EUR' AND pr.billing = 'one_time'`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// BillingForm is a valid checkout form's billing part.
var BillingForm = url.Values{"name": {"Bea Buyer"}, "company": {"Buyer GmbH"}, "address": {"Hauptstr. 5\r\n10115 Berlin"}, "country": {"de"}, "vat_id": {"DE 123456789"}}

// WithForm returns a copy of v with the key, value pairs kv set.
func WithForm(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// NewDemoProvider is the demo's test payment provider for the test site.
func NewDemoProvider(t testing.TB) *payments.Demo {
	t.Helper()
	p, err := payments.NewDemo(BaseURL, clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Itoa formats an id for a path or an expected text.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }
