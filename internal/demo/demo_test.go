package demo_test

import (
	"context"
	"crypto/rand"
	"github.com/storekeep/storekeep/internal/notices"
	"path/filepath"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/demo"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestSeedOnceWithMilterEditions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for i, want := range []bool{true, false} {
			seeded, err := demo.Seed(ctx, d, now)
			if err != nil || seeded != want {
				t.Fatalf("Seed #%d = %v, %v; want %v", i+1, seeded, err, want)
			}
		}
		pols, err := licensing.Policies(ctx, d)
		if err != nil || len(pols) != len(demo.Policies) {
			t.Fatalf("demo license policies: %d, %v; want %d", len(pols), err, len(demo.Policies))
		}
		ps, err := catalog.Products(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != len(demo.Products) || len(ps[0].Editions) != 3 {
			t.Fatalf("demo catalog = %d products, first with %d editions", len(ps), len(ps[0].Editions))
		}
		for range 2 {
			if err := demo.SeedStaff(ctx, d, now); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range demo.StaffAccounts {
			a, err := staff.CheckPassword(ctx, d, s.Email, demo.StaffPassword)
			if err != nil || a.Role != s.Role {
				t.Fatalf("demo account %s: %+v, %v", s.Email, a, err)
			}
		}
		v, err := settings.Load(ctx, d)
		if err != nil || v != demo.Vendor {
			t.Fatalf("demo vendor = %+v, %v", v, err)
		}
	})
}

// TestSeedCustomersWithRenewals: the demo's sample customers hold a
// yearly license that renews automatically and one that expires within
// 30 days, seeded once, with no stale mail queued; the reminder job finds
// exactly the second.
func TestSeedCustomersWithRenewals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		if _, err := demo.Seed(ctx, d, now); err != nil {
			t.Fatal(err)
		}
		if seeded, err := demo.SeedCustomers(ctx, d, nil, now); err != nil || seeded {
			t.Fatalf("without keys SeedCustomers = %v, %v; want nothing seeded", seeded, err)
		}
		dir := t.TempDir()
		if _, err := licensing.GenerateKey(dir, rand.Reader); err != nil {
			t.Fatal(err)
		}
		keys, err := licensing.LoadKeyring(dir)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{true, false} {
			seeded, err := demo.SeedCustomers(ctx, d, keys, now)
			if err != nil || seeded != want {
				t.Fatalf("SeedCustomers #%d = %v, %v; want %v", i+1, seeded, err, want)
			}
		}
		var queued int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&queued); err != nil || queued != 0 {
			t.Fatalf("%d mails queued by seeding (%v), want none", queued, err)
		}
		for _, sc := range demo.SampleCustomers {
			c, err := customers.ByEmail(ctx, d, sc.Email)
			if err != nil {
				t.Fatal(err)
			}
			ls, err := licensing.ForCustomer(ctx, d, c.ID, now)
			if err != nil || len(ls) != 1 || ls[0].Perpetual() {
				t.Fatalf("%s holds %d licenses (%v), want one yearly", sc.Email, len(ls), err)
			}
			left := ls[0].ExpiresAt.Sub(now)
			sub, ok, err := orders.SubscriptionForOrder(ctx, d, ls[0].OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if sc.AutoRenew {
				if !ok || !sub.Renews() {
					t.Errorf("%s: subscription %+v (found %v), want one that renews", sc.Email, sub, ok)
				}
			} else if ok || left <= 0 || left > 30*24*time.Hour {
				t.Errorf("%s: expires in %s, subscription found %v; want within 30 days and none", sc.Email, left, ok)
			}
		}
		n, err := licensing.SendRenewalReminders(ctx, d, licensing.ReminderSite{Name: demo.Vendor.Name, BaseURL: "http://127.0.0.1:8080"}, now)
		if err != nil || n != 1 {
			t.Fatalf("reminders for the demo customers: %d (%v), want 1", n, err)
		}
	})
}

// TestSeedReleaseOnce: the demo publishes its sample release, signed, with
// its tarball recognised as one; a second start adds nothing; without a
// signing key nothing is seeded.
func TestSeedReleaseOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		if _, err := demo.Seed(ctx, d, now); err != nil {
			t.Fatal(err)
		}
		store, err := releases.NewDirStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		signer, err := releases.GenerateSigningKey(filepath.Join(t.TempDir(), "keys"), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if seeded, err := demo.SeedRelease(ctx, &releases.Releases{DB: d, Store: store, Clock: clock.NewFixed(now)}); err != nil || seeded {
			t.Fatalf("seeded without a signing key: %v, %v", seeded, err)
		}
		rs := &releases.Releases{DB: d, Store: store, Signer: signer, Clock: clock.NewFixed(now), MaxSize: 1 << 20}
		for i, want := range []bool{true, false} {
			if seeded, err := demo.SeedRelease(ctx, rs); err != nil || seeded != want {
				t.Fatalf("start %d: seeded %v, %v", i+1, seeded, err)
			}
		}
		var n, published int
		if err := d.QueryRowContext(ctx, `SELECT count(*), count(published_at) FROM releases WHERE version = '2.4.0'`).Scan(&n, &published); err != nil {
			t.Fatal(err)
		}
		// The demo shows the trial download: the release is email-gated.
		if offer, ok, err := downloads.EmailOffer(ctx, d, "quillguard"); err != nil || !ok || offer.Version.String() != "2.4.0" {
			t.Fatalf("the demo offers no email-gated download: %+v %v %v", offer, ok, err)
		}
		var kind string
		if err := d.QueryRowContext(ctx, `SELECT kind FROM release_artifacts`).Scan(&kind); err != nil {
			t.Fatal(err)
		}
		if n != 1 || published != 1 || kind != "tarball" {
			t.Fatalf("releases %d, published %d, artifact kind %q", n, published, kind)
		}
	})
}

// TestSeedSupport: the demo's desk holds an open ticket answered back by
// the customer, a solved one, a new web-form ticket, parked spam and canned
// replies, seeded once; the customer's answer threads into their ticket.
func TestSeedSupport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		if _, err := demo.Seed(ctx, d, now); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedStaff(ctx, d, now); err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{true, false} {
			if seeded, err := demo.SeedSupport(ctx, d, now); err != nil || seeded != want {
				t.Fatalf("SeedSupport #%d = %v, %v; want %v", i+1, seeded, err, want)
			}
		}
		desk := &support.Desk{DB: d, Clock: clock.NewFixed(now)}
		c, err := desk.Count(ctx)
		if err != nil || c.New != 1 || c.Open != 1 || c.Solved != 1 || c.Parked != 1 || c.Overdue != 1 {
			t.Fatalf("counts %+v, %v", c, err)
		}
		p, err := desk.List(ctx, support.Filter{Query: "ada@example.com"})
		if err != nil || len(p.Tickets) != 1 {
			t.Fatalf("Ada's tickets: %+v, %v", p, err)
		}
		ms, err := desk.Thread(ctx, p.Tickets[0].ID, true)
		if err != nil || len(ms) != 3 || ms[1].Author != support.ByStaff || ms[2].Author != support.ByCustomer {
			t.Fatalf("Ada's thread: %+v, %v", ms, err)
		}
		if cs, err := desk.ListCanned(ctx); err != nil || len(cs) != 2 {
			t.Fatalf("canned replies %d, %v", len(cs), err)
		}
		var unsent int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent); err != nil || unsent != 0 {
			t.Fatalf("the seed leaves %d mails to send (%v): starting the demo would mail its sample customers", unsent, err)
		}
	})
}

// TestSeedAnalytics: the demo's dashboard has eight weeks of daily
// figures before today, once, and none for today (the demo's visitors
// make those).
func TestSeedAnalytics(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)
		for _, want := range []bool{true, false} {
			if seeded, err := demo.SeedAnalytics(ctx, d, now); err != nil || seeded != want {
				t.Fatalf("seeded %v, %v; want %v", seeded, err, want)
			}
		}
		var days, today, pages int
		var views int64
		if err := d.QueryRowContext(ctx, `SELECT count(*), COALESCE(SUM(views), 0) FROM analytics_daily WHERE dim = 'total'`).Scan(&days, &views); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM analytics_daily WHERE day = '2026-05-07'`).Scan(&today); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT count(DISTINCT value) FROM analytics_daily WHERE dim = 'page'`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if days != 56 || today != 0 || pages < 8 || views < 56*300 {
			t.Fatalf("%d days, %d rows today, %d pages, %d views", days, today, pages, views)
		}
	})
}

// TestSeedMailing: the demo's mailing area has confirmed subscribers and
// two drafts whose audiences are not empty, once.
// seededShop seeds the catalog and the sample customers with their
// licenses (under a fresh signing key) at a fixed time, which it returns:
// what the later areas' seeds build on.
func seededShop(t *testing.T, d *db.DB) time.Time {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if _, err := demo.Seed(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := licensing.GenerateKey(dir, rand.Reader); err != nil {
		t.Fatal(err)
	}
	keys, err := licensing.LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedCustomers(ctx, d, keys, now); err != nil {
		t.Fatal(err)
	}
	return now
}

func TestSeedMailing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx, now := context.Background(), seededShop(t, d)
		for range 2 {
			if _, err := demo.SeedMailing(ctx, d, now); err != nil {
				t.Fatal(err)
			}
		}
		var members, sending, drafts int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM list_members WHERE confirmed_at IS NOT NULL AND ended_at IS NULL`).Scan(&members); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE status = 'sending'), count(*) FILTER (WHERE status = 'draft') FROM notices`).Scan(&sending, &drafts); err != nil {
			t.Fatal(err)
		}
		if members != len(demo.Subscribers) || sending != 0 || drafts != 2 {
			t.Fatalf("%d confirmed members, %d notices sending, %d drafts", members, sending, drafts)
		}
		for _, id := range []int64{1, 2} {
			n, err := notices.ByID(ctx, d, id)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := notices.Count(ctx, d, notices.MailingLists{}, n, now); err != nil || c == 0 {
				t.Fatalf("the draft %q would go to %d, %v", n.Subject, c, err)
			}
		}
	})
}

func TestSeedFraud(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx, now := context.Background(), seededShop(t, d)
		var licenses, orders string
		snapshot := func() {
			t.Helper()
			if err := d.QueryRowContext(ctx, `SELECT COALESCE(string_agg(status, ',' ORDER BY id), '') FROM licenses`).Scan(&licenses); err != nil {
				t.Fatal(err)
			}
			if err := d.QueryRowContext(ctx, `SELECT COALESCE(string_agg(status, ',' ORDER BY id), '') FROM orders`).Scan(&orders); err != nil {
				t.Fatal(err)
			}
		}
		snapshot()
		beforeL, beforeO := licenses, orders
		for i, want := range []bool{true, false} {
			raised, err := demo.SeedFraud(ctx, d, now)
			if err != nil {
				t.Fatal(err)
			}
			if raised != want {
				t.Fatalf("seed %d raised %v, want %v", i+1, raised, want)
			}
		}
		var open, decisions int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM fraud_cases WHERE status = 'open'`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM fraud_decisions`).Scan(&decisions); err != nil {
			t.Fatal(err)
		}
		if open != 2 || decisions != 0 {
			t.Fatalf("%d open cases and %d decisions, want 2 and none", open, decisions)
		}
		snapshot()
		if licenses != beforeL || orders != beforeO {
			t.Fatalf("seeding the cases changed licenses %q -> %q or orders %q -> %q", beforeL, licenses, beforeO, orders)
		}
	})
}
