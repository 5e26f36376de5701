package detect_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
)

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// recorder is a Raise that keeps the signals, once per Source (as the
// case store does).
type recorder struct {
	mu      sync.Mutex
	signals []fraud.Signal
	seen    map[string]bool
}

func (r *recorder) raise(ctx context.Context, tx *sql.Tx, _ db.Dialect, s fraud.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if s.Source == "" || s.Kind == "" {
		return fmt.Errorf("signal without source or kind: %+v", s)
	}
	if s.Subject == (fraud.Subject{}) {
		return fmt.Errorf("signal about nobody: %+v", s)
	}
	if r.seen[s.Source] {
		return nil
	}
	r.seen[s.Source] = true
	r.signals = append(r.signals, s)
	return nil
}

func (r *recorder) kinds() map[fraud.Kind]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[fraud.Kind]int{}
	for _, s := range r.signals {
		out[s.Kind]++
	}
	return out
}

func testKeys() *licensing.Keyring {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = 9
	}
	return licensing.NewKeyring(ed25519.NewKeyFromSeed(s))
}

// world is a catalog with one product, edition and price, a release with
// one artifact, and customers and licenses made as tests ask.
type world struct {
	d          *db.DB
	keys       *licensing.Keyring
	edition    int64
	price      int64
	artifact   int64
	obs        *detect.Observer
	customerNo int
}

func newWorld(t *testing.T, d *db.DB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{d: d, keys: testKeys()}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		pid, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: "milter", Name: "Milter", Editions: []catalog.NewEdition{
			{Slug: "pro", Name: "Pro", Prices: []catalog.Price{{Currency: "EUR", AmountMinor: 49000, Billing: catalog.OneTime}}}}}, t0)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM editions WHERE slug = 'pro'`).Scan(&w.edition); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM prices WHERE edition_id = $1`, w.edition).Scan(&w.price); err != nil {
			return err
		}
		var rel int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO releases (product_id, version, version_core, channel, created_at, updated_at, published_at)
			VALUES ($1, '1.0.0', '1.0.0', 'stable', $2, $2, $2) RETURNING id`, pid, t0).Scan(&rel); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO release_artifacts (release_id, file_name, platform, kind, size, sha256, signature, store_key, created_at)
			VALUES ($1, 'milter.tar.gz', 'any', 'tarball', 1, 'x', 'x', 'k1', $2) RETURNING id`, rel, t0).Scan(&w.artifact)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := licensing.SavePolicy(ctx, d, 1, licensing.Policy{EditionID: w.edition, Kind: licensing.Perpetual, MaxMachines: 2}, t0); err != nil {
		t.Fatal(err)
	}
	w.obs = detect.NewObserver(d, []byte("installation secret of the test"), clock.NewFixed(t0), slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = w.obs.Close(context.Background()) })
	return w
}

func (w *world) customer(t *testing.T) customers.Customer {
	t.Helper()
	w.customerNo++
	ctx := context.Background()
	var c customers.Customer
	err := w.d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, fmt.Sprintf("buyer%d@example.com", w.customerNo), t0)
		if err != nil {
			return err
		}
		c, _, err = customers.CompleteSignIn(ctx, tx, raw, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// license issues a license for a new customer with the machine limit
// max (0: unlimited).
func (w *world) license(t *testing.T, max int) licensing.License {
	t.Helper()
	c := w.customer(t)
	l, err := licensing.Issue(context.Background(), w.d, w.keys, 1, licensing.ManualIssue{CustomerID: c.ID, EditionID: w.edition, Quantity: 1}, "test", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.d.ExecContext(context.Background(), `UPDATE licenses SET max_machines = $1 WHERE id = $2`, max, l.ID); err != nil {
		t.Fatal(err)
	}
	l.MaxMachines = max
	return l
}

func (w *world) download(t *testing.T, l licensing.License, firstByte int64, at time.Time) {
	t.Helper()
	err := downloads.Record(context.Background(), w.d, downloads.Download{ArtifactID: w.artifact, LicenseID: l.ID, CustomerID: l.CustomerID,
		Via: downloads.ViaAccount, Network: netip.MustParseAddr("198.51.100.7"), FirstByte: firstByte, At: at})
	if err != nil {
		t.Fatal(err)
	}
}

// order places a pending order for the customer with the billing email
// and country.
func (w *world) order(t *testing.T, customerID int64, email, country string, at time.Time) orders.Order {
	t.Helper()
	var o orders.Order
	err := w.d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		o, err = orders.Create(context.Background(), tx, orders.NewOrder{CustomerID: customerID, PriceID: w.price, Provider: "stripe",
			Billing: orders.Billing{Email: email, Name: "Buyer", Address: "1 Road", Country: country}}, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// net returns the i-th address of distinct /24 networks (i >= 0), or the
// i-th address within one /24 when same.
func addr(i int, same bool) netip.Addr {
	if same {
		return netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)})
	}
	return netip.AddrFrom4([4]byte{198, 18, byte(i), 10})
}

func addr6(i int, same bool) netip.Addr {
	if same {
		return netip.MustParseAddr(fmt.Sprintf("2001:db8:1:%x::1", i+1))
	}
	return netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::1", i+10))
}
