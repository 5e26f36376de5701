package privacy_test

import (
	"context"
	"database/sql"
	"runtime"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
)

// series is a recursive CTE "n(i)" counting 1..count, which both
// databases run; rows are made inside the database, in one statement.
const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) `

func mustExec(t *testing.T, d *db.DB, q string, args ...any) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
}

// erasureAllocs runs fn and returns the bytes it allocated.
func erasureAllocs(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestErasureAtScale: a customer with 200,000 linked rows (mails queued to
// them, the history of their order; 80,000 on SQLite under -race) erases
// on both databases, and the
// erasure's memory does not grow with the rows: they are found by
// conditions on the subject, never listed.
func TestErasureAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 rows")
	}
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := seedPrice(t, d)
		a := makePerson(t, d, 7, price)
		b := makePerson(t, d, 8, price)
		half := int64(100_000)
		if raceDetector && d.Dialect == db.SQLite {
			// Under -race the pure-Go SQLite takes a minute for 200,000
			// rows; 40,000 per table still exceed SQLite's limit of
			// 32,766 parameters, which a list of keys hits.
			half = 40_000
		}
		mustExec(t, d, series+`INSERT INTO outbox (kind, template, to_addr, subject, text_body, message_id, customer_id, created_at, send_after)
			SELECT 'transactional', 'scale', $2, 'Scale', 'body', 'scale-' || CAST(i AS TEXT), $3, $4, $4 FROM n`, half, a.Email, a.ID, t0)
		mustExec(t, d, series+`INSERT INTO order_events (order_id, at, from_status, to_status, cause, detail)
			SELECT (SELECT id FROM orders WHERE number = $2), $3, 'pending', 'pending', 'scale', '' FROM n`, half, a.OrderNumber, t0)
		var alloc uint64
		var rep privacy.ErasureReport
		alloc = erasureAllocs(func() { rep = erase(t, d, refOf(a), nil) })
		if st := stepOf(rep, "outbox"); st.Action != "deleted" || st.Rows < half {
			t.Fatalf("outbox: %+v", st)
		}
		if st := stepOf(rep, "order_events"); st.Action != "minimised" || st.Rows < half {
			t.Fatalf("order_events: %+v", st)
		}
		var left int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE customer_id = $1 OR to_addr = $2`, a.ID, a.Email).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d mails left (%v)", left, err)
		}
		if got := exportOf(t, d, b).Rows(); got == 0 {
			t.Fatal("the other customer lost their data")
		}
		// A list of 200,000 keys alone takes several megabytes.
		if alloc > 4<<20 {
			t.Errorf("erasing 200,000 rows allocated %d bytes: memory grows with the rows", alloc)
		}
	})
}

// TestErasingStaffWithManyAuditEntries: a staff member with 40,000 audit
// entries (kept under legal hold) erases; before, every entry's key went
// into one IN list and SQLite refused it ("too many SQL variables").
func TestErasingStaffWithManyAuditEntries(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var acct staff.Account
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			acct, err = staff.Create(ctx, tx, "busy@milterworks.example", "Busy Bee", staff.Support, t0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		const n = 40_000
		mustExec(t, d, series+`INSERT INTO audit_log (seq, at, actor_type, actor_id, action, prev_hash, hash)
			SELECT 1000000 + i, $2, 'staff', $3, 'customer.viewed', '', '' FROM n`, n, t0, acct.ID)
		rep := erase(t, d, privacy.SubjectRef{Kind: privacy.Staff, ID: acct.ID, Email: acct.Email}, nil)
		if st := stepOf(rep, "audit_log"); st.Action != "minimised" || st.Rows < n {
			t.Fatalf("audit_log: %+v", st)
		}
		if st := stepOf(rep, "staff"); st.Action != "anonymised" || st.Rows != 1 {
			t.Fatalf("staff: %+v", st)
		}
		var name, email, role string
		var disabled sql.NullTime
		if err := d.QueryRowContext(ctx, `SELECT name, email, role, disabled_at FROM staff WHERE id = $1`, acct.ID).Scan(&name, &email, &role, &disabled); err != nil ||
			name != "" || email == acct.Email || role != string(staff.Support) || !disabled.Valid {
			t.Fatalf("staff after erasure: %q %q %q %v, %v", name, email, role, disabled, err)
		}
	})
}
