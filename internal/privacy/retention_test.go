package privacy_test

import (
	"context"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestRetentionPurgeKeepsEachRecordExactlyAsLongAsDeclared walks the clock
// through the declared periods and checks what is gone at each step.
func TestRetentionPurgeKeepsEachRecordExactlyAsLongAsDeclared(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		makePerson(t, d, 1, seedPrice(t, d))
		if err := audit.Record(ctx, d, audit.Entry{At: t0, ActorType: audit.ActorSystem, Action: "test.old"}); err != nil {
			t.Fatal(err)
		}
		if err := audit.Record(ctx, d, audit.Entry{At: t0.AddDate(2, 0, 0), ActorType: audit.ActorSystem, Action: "test.newer"}); err != nil {
			t.Fatal(err)
		}
		count := func(table string) int {
			var n int
			if err := d.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, step := range []struct {
			at   time.Time
			gone []string
			kept []string
		}{
			{t0.AddDate(0, 0, 1), nil, []string{"customer_tokens", "customer_sessions", "outbox", "orders", "invoices"}},
			{t0.AddDate(0, 0, 8), []string{"customer_tokens"}, []string{"customer_sessions", "outbox"}},
			{t0.AddDate(0, 0, 91), []string{"customer_sessions", "outbox"}, []string{"payment_events", "orders"}},
			{t0.AddDate(2, 0, 1), []string{"payment_events"}, []string{"orders", "audit_log"}},
			{t0.AddDate(3, 0, 1), nil, []string{"orders", "invoices", "order_lines", "refunds", "refund_lines"}},
			{time.Date(2033, 12, 30, 0, 0, 0, 0, time.UTC), nil, []string{"orders", "invoices", "order_lines", "order_events", "refunds", "refund_lines"}},
			{time.Date(2034, 1, 2, 0, 0, 0, 0, time.UTC), []string{"orders", "invoices", "order_lines", "order_events", "refunds", "refund_lines"}, []string{"customers"}},
		} {
			if _, err := privacy.Purge(ctx, d, privacy.Declared, step.at); err != nil {
				t.Fatalf("purge at %s: %v", step.at.Format(time.DateOnly), err)
			}
			for _, tb := range step.gone {
				if n := count(tb); n != 0 {
					t.Errorf("at %s: %d rows of %s remain past their retention", step.at.Format(time.DateOnly), n, tb)
				}
			}
			for _, tb := range step.kept {
				if n := count(tb); n == 0 {
					t.Errorf("at %s: %s was purged before its retention ended", step.at.Format(time.DateOnly), tb)
				}
			}
		}
		// The audit log lost its entries older than three years, and what
		// is left still verifies.
		if n, err := audit.Verify(ctx, d, nil); err != nil || n == 0 {
			t.Fatalf("audit log after purge: %d entries, %v", n, err)
		}
		var old int
		d.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'test.old'`).Scan(&old)
		if old != 0 {
			t.Fatal("an audit entry older than three years was kept")
		}
	})
}

// TestReviewFlagsDataPastRetention: the data review counts what each table
// holds and shows data that outlived its retention until the purge runs.
func TestReviewFlagsDataPastRetention(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		makePerson(t, d, 1, seedPrice(t, d))
		later := t0.AddDate(0, 0, 100)
		find := func(rows []privacy.ReviewRow, table string) privacy.ReviewRow {
			for _, r := range rows {
				if r.Table == table {
					return r
				}
			}
			t.Fatalf("the review lacks %s", table)
			return privacy.ReviewRow{}
		}
		rows, err := privacy.Review(ctx, d, privacy.Declared, later)
		if err != nil {
			t.Fatal(err)
		}
		if r := find(rows, "outbox"); r.Rows == 0 || r.Expired != r.Rows || !r.Oldest.Equal(t0) {
			t.Fatalf("outbox in the review: %+v (want all rows past their 90 days)", r)
		}
		if r := find(rows, "orders"); r.Rows != 1 || r.Expired != 0 {
			t.Fatalf("orders in the review: %+v", r)
		}
		if _, err := privacy.Purge(ctx, d, privacy.Declared, later); err != nil {
			t.Fatal(err)
		}
		rows, _ = privacy.Review(ctx, d, privacy.Declared, later)
		if r := find(rows, "outbox"); r.Expired != 0 {
			t.Fatalf("after the purge the review still finds expired mail: %+v", r)
		}
	})
}

// TestDownloadAddressesAreShortenedThenDeleted: the download log keeps the
// full network address for a week, then only its network (both address
// families, and a value that is no address), and the row for a year.
func TestDownloadAddressesAreShortenedThenDeleted(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		makePerson(t, d, 1, seedPrice(t, d)) // one download from 198.51.100.1 at t0
		artifact := fixtureArtifact(t, d)
		for _, addr := range []string{"2001:db8:1234:5678::9", "not-an-address"} {
			if _, err := d.ExecContext(ctx, `INSERT INTO downloads (artifact_id, via, network, at) VALUES ($1, 'account', $2, $3)`, artifact, addr, t0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.ExecContext(ctx, `INSERT INTO downloads (artifact_id, via, network, at) VALUES ($1, 'apt', '203.0.113.77', $2)`, artifact, t0.AddDate(0, 0, 6)); err != nil {
			t.Fatal(err)
		}
		networks := func() map[string]bool {
			rows, err := d.QueryContext(ctx, `SELECT network FROM downloads`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]bool{}
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				out[n] = true
			}
			return out
		}
		if _, err := privacy.Purge(ctx, d, privacy.Declared, t0.AddDate(0, 0, 6)); err != nil {
			t.Fatal(err)
		}
		if got := networks(); !got["198.51.100.1"] || !got["2001:db8:1234:5678::9"] {
			t.Fatalf("addresses shortened within the week: %v", got)
		}
		var old int64
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM downloads WHERE at < $1`, t0.AddDate(0, 0, 1)).Scan(&old); err != nil {
			t.Fatal(err)
		}
		steps, err := privacy.Purge(ctx, d, privacy.Declared, t0.AddDate(0, 0, 8))
		if err != nil {
			t.Fatal(err)
		}
		got := networks()
		if !got["198.51.100.0/24"] || !got["2001:db8:1234::/48"] || !got["unknown/0"] || !got["203.0.113.77"] || got["198.51.100.1"] {
			t.Fatalf("after a week: %v", got)
		}
		var full int64
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM downloads WHERE at < $1 AND network NOT LIKE '%/%'`, t0.AddDate(0, 0, 1)).Scan(&full); err != nil || full != 0 {
			t.Fatalf("%d addresses older than a week kept in full (%v)", full, err)
		}
		var shortened int64
		for _, st := range steps {
			if st.Table == "downloads" && st.Action == "truncated network" {
				shortened = st.Rows
			}
		}
		if shortened != old || old < 3 {
			t.Fatalf("the purge reports %d addresses shortened, want %d: %+v", shortened, old, steps)
		}
		if _, err := privacy.Purge(ctx, d, privacy.Declared, t0.AddDate(1, 0, 1)); err != nil {
			t.Fatal(err)
		}
		if got := networks(); len(got) != 1 || !got["203.0.113.0/24"] || countRows(t, d, `SELECT count(*) FROM downloads`) != 1 {
			t.Fatalf("after a year only the later row remains, shortened: %v", got)
		}
	})
}
