package privacy_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestRequestLogAddressesFollowTheSetting: the request log keeps the full
// address for the declared 7 days, or for the days the operator chose
// (--log-address-days, through WithRetention), then its network, and
// every row for 90 days.
func TestRequestLogAddressesFollowTheSetting(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, addr := range []string{"198.51.100.7", "2001:db8:1234:5678::9", ""} {
			if _, err := d.ExecContext(ctx, `INSERT INTO request_log (at, route, status, browser, browser_version, device, referrer_host, network)
				VALUES ($1, '/pricing', 200, 'Firefox', '128', 'desktop', 'news.example.org', $2)`, t0, addr); err != nil {
				t.Fatal(err)
			}
		}
		networks := func() []string {
			rows, err := d.QueryContext(ctx, `SELECT network FROM request_log ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				out = append(out, n)
			}
			return out
		}
		purge := func(inv privacy.Inventory, days int) {
			t.Helper()
			if _, err := privacy.Purge(ctx, d, inv, t0.AddDate(0, 0, days)); err != nil {
				t.Fatal(err)
			}
		}
		three, err := privacy.Declared.WithRetention(privacy.LogAddressSetting, privacy.Retention{Days: 3})
		if err != nil {
			t.Fatal(err)
		}
		purge(privacy.Declared, 2)
		purge(three, 2)
		if got := strings.Join(networks(), ","); got != "198.51.100.7,2001:db8:1234:5678::9," {
			t.Fatalf("shortened within the period: %s", got)
		}
		purge(privacy.Declared, 4) // the declared week has not passed
		if got := networks(); got[0] != "198.51.100.7" {
			t.Fatalf("the declared period shortened after 4 days: %v", got)
		}
		purge(three, 4) // the operator's 3 days have
		if got := strings.Join(networks(), ","); got != "198.51.100.0/24,2001:db8:1234::/48," {
			t.Fatalf("after the chosen 3 days: %s", got)
		}
		purge(privacy.Declared, 89)
		if n := len(networks()); n != 3 {
			t.Fatalf("%d rows before 90 days, want 3", n)
		}
		purge(privacy.Declared, 91)
		if n := len(networks()); n != 0 {
			t.Fatalf("%d rows after 90 days, want none", n)
		}
	})
}

// TestLogAddressSettingIsChecked: the period must be at least a day and
// shorter than the rows' 90 days.
func TestLogAddressSettingIsChecked(t *testing.T) {
	for _, days := range []int{0, 90, 400} {
		if _, err := privacy.Declared.WithRetention(privacy.LogAddressSetting, privacy.Retention{Days: days}); err == nil {
			t.Errorf("%d days accepted", days)
		}
	}
	inv, err := privacy.Declared.WithRetention(privacy.LogAddressSetting, privacy.Retention{Days: 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	tbl, _ := inv.Table("request_log")
	for _, c := range tbl.Columns {
		if c.Name == "network" && c.TruncateAfter.Days != 30 {
			t.Fatalf("TruncateAfter %+v", c.TruncateAfter)
		}
	}
	if orig, _ := privacy.Declared.Table("request_log"); orig.Columns[len(orig.Columns)-1].TruncateAfter.Days != 7 {
		t.Fatal("WithRetention changed the declared inventory")
	}
}

// TestManyAddressesAreShortenedInBatches: more addresses than several
// batches (each committed on its own, so the writer is never held for
// the whole table) are all shortened, counted once in the purge's steps
// and in its one audit entry; a second run finds nothing left.
func TestManyAddressesAreShortenedInBatches(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const n = 1234 // two full batches of 500 and a part
		logRowsWithFullAddresses(t, d, n)
		steps, err := privacy.Purge(ctx, d, privacy.Declared, t0.AddDate(0, 0, 8))
		if err != nil {
			t.Fatal(err)
		}
		var shortened int64
		for _, s := range steps {
			if s.Table == "request_log" && s.Action == "truncated network" {
				shortened += s.Rows
			}
		}
		if shortened != n {
			t.Fatalf("the steps count %d shortened, want %d: %+v", shortened, n, steps)
		}
		var full, audits int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM request_log WHERE network NOT LIKE '%/%'`).Scan(&full); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'retention.purged' AND detail = $1`, fmt.Sprintf("%d rows past their retention", n)).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if full != 0 || audits != 1 {
			t.Fatalf("%d full addresses left, %d audit entries (want 0, 1)", full, audits)
		}
		steps, err = privacy.Purge(ctx, d, privacy.Declared, t0.AddDate(0, 0, 8))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			if s.Rows != 0 {
				t.Fatalf("a second run changed rows: %+v", s)
			}
		}
	})
}

// TestShorteningLetsOtherWritesThrough: on SQLite, with one writer, a
// write that arrives while the addresses are being shortened gets its turn
// between two batches, instead of waiting for the whole table (which, for
// millions of rows, outlasted the request log's write timeout).
func TestShorteningLetsOtherWritesThrough(t *testing.T) {
	d := testutil.SQLite(t)
	ctx := context.Background()
	const n = 5000 // ten batches
	logRowsWithFullAddresses(t, d, n)
	purged := make(chan error, 1)
	var wrote atomic.Bool
	go func() {
		_, err := privacy.Purge(ctx, d, privacy.Declared, t0.AddDate(0, 0, 8))
		purged <- err
	}()
	for {
		select {
		case err := <-purged:
			if err != nil {
				t.Fatal(err)
			}
			if !wrote.Load() {
				t.Fatal("no write got through while the purge shortened 5,000 addresses")
			}
			return
		default:
		}
		// A write as the request log makes one, counted only when it
		// went in after a batch had committed (fewer than n full
		// addresses before it) and before the last (some still after it).
		left := func() int {
			var c int
			if err := d.QueryRowContext(ctx, `SELECT count(*) FROM request_log WHERE network NOT LIKE '%/%'`).Scan(&c); err != nil {
				t.Error(err)
			}
			return c
		}
		if !wrote.Load() {
			before := left()
			if before == n || before == 0 {
				continue
			}
			if _, err := d.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('test.during_purge', 'x', $1)
				ON CONFLICT (key) DO NOTHING`, t0); err != nil {
				t.Fatal(err)
			}
			if left() > 0 {
				wrote.Store(true)
			}
		}
	}
}

// logRowsWithFullAddresses inserts n request-log rows at t0, each with a
// different full IPv4 address.
func logRowsWithFullAddresses(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			if _, err := tx.ExecContext(ctx, `INSERT INTO request_log (at, route, status, browser, browser_version, device, referrer_host, network)
				VALUES ($1, '/pricing', 200, 'Firefox', '128', 'desktop', '', $2)`, t0, fmt.Sprintf("198.51.%d.%d", i/250, i%250+1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
