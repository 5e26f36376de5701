package licensing_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKeys is a keyring from a fixed seed.
func testKeys(seed byte) *licensing.Keyring {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return licensing.NewKeyring(ed25519.NewKeyFromSeed(s))
}

// fixture is a catalog with product "milter" and editions "pro" (one-time
// EUR 490, yearly EUR 190) and "basic" (one-time), and a customer.
type fixture struct {
	d                  *db.DB
	keys               *licensing.Keyring
	pro, basic         int64 // edition ids
	proOnce, proYearly int64 // price ids
	customer           customers.Customer
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{d: d, keys: testKeys(7)}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: "milter", Name: "Milter", Editions: []catalog.NewEdition{
			{Slug: "pro", Name: "Pro", Prices: []catalog.Price{{Currency: "EUR", AmountMinor: 49000, Billing: catalog.OneTime}, {Currency: "EUR", AmountMinor: 19000, Billing: catalog.Yearly}}},
			{Slug: "basic", Name: "Basic", Prices: []catalog.Price{{Currency: "EUR", AmountMinor: 9000, Billing: catalog.OneTime}}},
		}}, t0); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM editions WHERE slug = 'pro'`).Scan(&f.pro); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM editions WHERE slug = 'basic'`).Scan(&f.basic); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM prices WHERE edition_id = $1 AND billing = 'one_time'`, f.pro).Scan(&f.proOnce); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM prices WHERE edition_id = $1 AND billing = 'yearly'`, f.pro).Scan(&f.proYearly); err != nil {
			return err
		}
		var err error
		f.customer, err = newCustomer(ctx, tx, "buyer@example.com")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newCustomer(ctx context.Context, tx *sql.Tx, email string) (customers.Customer, error) {
	raw, err := customers.RequestSignIn(ctx, tx, email, t0)
	if err != nil {
		return customers.Customer{}, err
	}
	c, _, err := customers.CompleteSignIn(ctx, tx, raw, t0)
	return c, err
}

// customer makes another customer.
func (f *fixture) newCustomer(t testing.TB, email string) customers.Customer {
	t.Helper()
	var c customers.Customer
	err := f.d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		c, err = newCustomer(context.Background(), tx, email)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// policy saves a policy for an edition.
func (f *fixture) policy(t testing.TB, p licensing.Policy) {
	t.Helper()
	if _, err := licensing.SavePolicy(context.Background(), f.d, 1, p, t0); err != nil {
		t.Fatal(err)
	}
}

// issue issues a license by hand.
func (f *fixture) issue(t testing.TB, edition int64, yearly bool, quantity int) licensing.License {
	t.Helper()
	l, err := licensing.Issue(context.Background(), f.d, f.keys, 1, licensing.ManualIssue{CustomerID: f.customer.ID, EditionID: edition, Yearly: yearly, Quantity: quantity}, "test", t0)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// must(t)(licensing.Activate(...)) fails the test on an error.
func must(t testing.TB) func(licensing.Result, error) licensing.Result {
	return func(r licensing.Result, err error) licensing.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func wantCode(t testing.TB, what string, r licensing.Result, err error, want licensing.Code) licensing.Result {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if r.Code != want {
		t.Fatalf("%s: code %s (%s), want %s", what, r.Code, r.Message, want)
	}
	return r
}

func mustDecode(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
