package notices_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

// holders inserts n license holders of "mailer" in one statement per
// thousand.
func holders(t testing.TB, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i += 1000 {
		var q strings.Builder
		var a []any
		q.WriteString(`INSERT INTO customers (email, created_at, updated_at) VALUES `)
		for j := i; j < min(n, i+1000); j++ {
			if j > i {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "($%d, $%d, $%d)", len(a)+1, len(a)+2, len(a)+2)
			a = append(a, fmt.Sprintf("holder%06d@example.com", j), start)
		}
		if _, err := d.ExecContext(ctx, q.String(), a...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO licenses (lic, license_key, kid, customer_id, product, edition, status, issued_at, grace_days, updated_at)
		SELECT 'L-' || CAST(id AS TEXT), 'k', 'kid', id, 'mailer', 'pro', 'active', $1, 0, $1 FROM customers WHERE email LIKE 'holder%'`, start); err != nil {
		t.Fatal(err)
	}
}

func started(t testing.TB, d *db.DB, kind notices.Kind) int64 {
	t.Helper()
	id := newNotice(t, d, notices.Input{Kind: kind, Audience: notices.Audience{Product: "mailer"}})
	if _, err := notices.Start(context.Background(), d, nil, staffer, id, start); err != nil {
		t.Fatal(err)
	}
	return id
}

// perSecond reads how many recipients were queued in each second since
// from, and the largest count in any window of one second.
func maxInAnySecond(t testing.TB, d *db.DB) int {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT dispatched_at FROM notice_recipients WHERE dispatched_at IS NOT NULL ORDER BY dispatched_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ts []time.Time
	for rows.Next() {
		var at time.Time
		rows.Scan(&at)
		ts = append(ts, at)
	}
	best := 0
	for i, j := 0, 0; i < len(ts); i++ {
		for ts[i].Sub(ts[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// TestThrottleHoldsRate simulates an hour and a minute with the injected
// clock: ten runs a second for the first ten seconds (several instances
// ticking out of step), then one a second. No second holds more than
// PerSecond messages, the hour holds exactly PerHour, and the next hour's
// budget opens when the first messages leave the window.
func TestThrottleHoldsRate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		holders(t, d, 1200)
		id := started(t, d, notices.Security)
		clk := clock.NewFixed(start)
		s := sender(d, clk, notices.Rate{PerSecond: 5, PerHour: 1000})
		run := func() int {
			o, err := s.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return o.Queued
		}
		total := 0
		for range 100 { // ten seconds at 100 ms
			total += run()
			clk.Advance(100 * time.Millisecond)
		}
		if total != 50 {
			t.Fatalf("in the first 10 s %d queued, want 50 (5 a second)", total)
		}
		for clk.Now().Before(start.Add(time.Hour)) {
			total += run()
			// Once the hour's budget is spent, a run every 30 s shows
			// that it stays spent (a run a second only costs time).
			step := time.Second
			if total >= 1000 {
				step = 30 * time.Second
			}
			clk.Advance(step)
		}
		if total != 1000 {
			t.Fatalf("in the first hour %d queued, want 1000 (the hourly limit)", total)
		}
		if got := maxInAnySecond(t, d); got != 5 {
			t.Fatalf("%d messages in one second, want at most (and at full speed) 5", got)
		}
		// The first messages leave the hour's window a second at a time.
		for range 60 {
			clk.Advance(time.Second)
			total += run()
		}
		if total <= 1000 || total > 1000+60*5 {
			t.Fatalf("after the hour %d queued in all", total)
		}
		if outboxCount(t, d) != total {
			t.Fatalf("outbox holds %d, recipients queued %d", outboxCount(t, d), total)
		}
		tot, err := notices.TotalsOf(ctx, d, id)
		if err != nil || tot[notices.StatusQueued] != total || tot[notices.StatusWaiting] != 1200-total {
			t.Fatalf("totals %v, %v", tot, err)
		}
	})
}

func TestPauseStopsAndResumeContinues(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		holders(t, d, 30)
		id := started(t, d, notices.ProductUpdate)
		clk := clock.NewFixed(start)
		s := sender(d, clk, notices.Rate{PerSecond: 10, PerHour: 1000})
		if o, err := s.RunOnce(ctx); err != nil || o.Queued != 10 {
			t.Fatalf("first run %+v, %v", o, err)
		}
		if err := notices.Pause(ctx, d, staffer, id, clk.Now()); err != nil {
			t.Fatal(err)
		}
		if err := notices.Pause(ctx, d, staffer, id, clk.Now()); err == nil {
			t.Fatal("a paused notice paused again")
		}
		for range 10 {
			clk.Advance(time.Second)
			if o, err := s.RunOnce(ctx); err != nil || o.Queued != 0 {
				t.Fatalf("paused run %+v, %v", o, err)
			}
		}
		if err := notices.Resume(ctx, d, staffer, id, clk.Now()); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			clk.Advance(time.Second)
			if _, err := s.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		n, _ := notices.ByID(ctx, d, id)
		if n.Status != notices.Sent || n.FinishedAt.IsZero() {
			t.Fatalf("after resuming: %s", n.Status)
		}
		var rows, distinct int
		d.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT to_addr) FROM outbox WHERE template = 'notice'`).Scan(&rows, &distinct)
		if rows != 30 || distinct != 30 {
			t.Fatalf("%d messages to %d addresses, want 30 to 30", rows, distinct)
		}
		for _, a := range []string{"paused", "resumed", "started"} {
			var c int
			d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1`, "notice."+a).Scan(&c)
			if c != 1 {
				t.Errorf("audit notice.%s: %d entries", a, c)
			}
		}
	})
}

// TestTwoDispatchersSendEachOnce runs two senders side by side on
// PostgreSQL, as two instances would, with their clock moving: every
// recipient gets one message and the rate holds across both.
func TestTwoDispatchersSendEachOnce(t *testing.T) {
	d := testutil.Postgres(t)
	ctx := context.Background()
	holders(t, d, 300)
	started(t, d, notices.Security)
	clk := clock.NewFixed(start)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		s := sender(d, clk, notices.Rate{PerSecond: 20, PerHour: 10_000})
		wg.Go(func() {
			for range 200 {
				if _, err := s.RunOnce(ctx); err != nil {
					errs <- err
					return
				}
				clk.Advance(50 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var rows, distinct, queued int
	d.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT to_addr) FROM outbox WHERE template = 'notice'`).Scan(&rows, &distinct)
	d.QueryRowContext(ctx, `SELECT COUNT(*) FROM notice_recipients WHERE state = 'queued'`).Scan(&queued)
	if rows != 300 || distinct != 300 || queued != 300 {
		t.Fatalf("%d messages to %d addresses, %d recipients queued; want 300 each", rows, distinct, queued)
	}
	if got := maxInAnySecond(t, d); got > 20 {
		t.Fatalf("%d messages in one second across two dispatchers, limit 20", got)
	}
}

func TestChoicesAtDispatch(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := customerWith(t, d, "a@example.com", license{product: "mailer", edition: "pro"})
		b := customerWith(t, d, "b@example.com", license{product: "mailer", edition: "pro"})
		customerWith(t, d, "c@example.com", license{product: "mailer", edition: "pro"})
		sec := started(t, d, notices.Security)
		upd := started(t, d, notices.ProductUpdate)
		// After the notices started: a objects to notices, b restricts.
		choose(t, d, a, "objection", "notices")
		choose(t, d, b, "restriction", "")
		s := sender(d, clock.NewFixed(start), notices.DefaultRate)
		if _, err := s.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[int64]map[string]notices.MessageStatus{
			sec: {"a@example.com": notices.StatusQueued, "b@example.com": notices.StatusSkipped, "c@example.com": notices.StatusQueued},
			upd: {"a@example.com": notices.StatusSkipped, "b@example.com": notices.StatusSkipped, "c@example.com": notices.StatusQueued},
		}
		for id, w := range want {
			ms, err := notices.Messages(ctx, d, id, "", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.Status != w[m.Email] {
					t.Errorf("notice %d to %s: %s (%s), want %s", id, m.Email, m.Status, m.Reason, w[m.Email])
				}
			}
		}
		// Each message carries its own signed link to its recipient row.
		var to, link, text string
		var rid int64
		d.QueryRowContext(ctx, `SELECT o.to_addr, o.unsubscribe_url, o.text_body, r.id FROM outbox o JOIN notice_recipients r ON r.outbox_id = o.id
			WHERE r.notice_id = $1 AND o.to_addr = 'c@example.com'`, upd).Scan(&to, &link, &text, &rid)
		tok, err := unsubscribe.Parse(secret, strings.TrimPrefix(link, "https://shop.example/unsubscribe/"))
		if err != nil || tok.Notice != rid || tok.Purpose != "notices" || tok.Customer == 0 {
			t.Fatalf("link %s: %+v, %v", link, tok, err)
		}
		if !strings.Contains(text, link) {
			t.Fatalf("text part lacks the link:\n%s", text)
		}
	})
}

func TestScheduledNoticeStartsAtItsTime(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		customerWith(t, d, "a@example.com", license{product: "mailer", edition: "pro"})
		id := newNotice(t, d, notices.Input{Kind: notices.Security, Audience: notices.Audience{Product: "mailer"}})
		empty := newNotice(t, d, notices.Input{Kind: notices.Security, Audience: notices.Audience{Product: "none"}})
		if err := notices.Schedule(ctx, d, staffer, id, start.Add(-time.Minute), start); err == nil {
			t.Fatal("scheduled in the past")
		}
		for _, n := range []int64{id, empty} {
			if err := notices.Schedule(ctx, d, staffer, n, start.Add(time.Hour), start); err != nil {
				t.Fatal(err)
			}
		}
		clk := clock.NewFixed(start.Add(59 * time.Minute))
		s := sender(d, clk, notices.DefaultRate)
		if o, err := s.RunOnce(ctx); err != nil || o.Started != 0 || o.Queued != 0 {
			t.Fatalf("before its time: %+v, %v", o, err)
		}
		clk.Advance(time.Minute)
		if o, err := s.RunOnce(ctx); err != nil || o.Started != 1 || o.Queued != 1 {
			t.Fatalf("at its time: %+v, %v", o, err)
		}
		n, _ := notices.ByID(ctx, d, empty)
		if n.Status != notices.Draft || !strings.Contains(n.Note, "no one") {
			t.Fatalf("the empty scheduled notice: %s, %q", n.Status, n.Note)
		}
	})
}

func TestStatusesFromOutboxAndUnsubscribes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		holders(t, d, 7)
		id := started(t, d, notices.Security)
		if _, err := sender(d, clock.NewFixed(start), notices.Rate{PerSecond: 7, PerHour: 100}).RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		set := func(email, q string, a ...any) {
			if _, err := d.ExecContext(ctx, q, append([]any{email}, a...)...); err != nil {
				t.Fatal(err)
			}
		}
		later := start.Add(time.Minute)
		for _, e := range []string{"holder000000", "holder000001", "holder000002", "holder000003"} {
			set(e+"@example.com", `UPDATE outbox SET sent_at = $2 WHERE to_addr = $1`, later)
		}
		set("holder000001@example.com", `UPDATE outbox SET bounced_at = $2, bounce_kind = 'hard' WHERE to_addr = $1`, later)
		set("holder000002@example.com", `UPDATE outbox SET complained_at = $2 WHERE to_addr = $1`, later)
		set("holder000003@example.com", `INSERT INTO unsubscribes (processed_at, customer_id, purpose, notice_recipient_id, via)
			SELECT $2, customer_id, 'notices', id, 'one-click' FROM notice_recipients WHERE email = $1`, later)
		set("holder000004@example.com", `UPDATE outbox SET attempts = 25 WHERE to_addr = $1`)
		// The outbox worker's mark of an address on the suppression list.
		set("holder000006@example.com", `UPDATE outbox SET suppressed_at = $2, attempts = 25 WHERE to_addr = $1`, later)
		tot, err := notices.TotalsOf(ctx, d, id)
		if err != nil {
			t.Fatal(err)
		}
		want := notices.Totals{notices.StatusSent: 1, notices.StatusBounced: 1, notices.StatusComplained: 1, notices.StatusUnsubscribed: 1,
			notices.StatusFailed: 1, notices.StatusQueued: 1, notices.StatusSuppressed: 1}
		if fmt.Sprint(tot) != fmt.Sprint(want) {
			t.Fatalf("totals %v, want %v", tot, want)
		}
		ms, err := notices.Messages(ctx, d, id, notices.StatusBounced, 0, 10)
		if err != nil || len(ms) != 1 || ms[0].Email != "holder000001@example.com" {
			t.Fatalf("bounced: %+v, %v", ms, err)
		}
	})
}

func TestTestSendGoesToTheStaffMember(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		id := newNotice(t, d, notices.Input{Kind: notices.Security, Audience: notices.Audience{Product: "mailer"}, Body: "Hello <script>x</script>"})
		if err := notices.TestSend(ctx, d, staffer, id, 0, "me@vendor.example", "Milterworks", start); err != nil {
			t.Fatal(err)
		}
		var to, subject, kind, h string
		d.QueryRowContext(ctx, `SELECT to_addr, subject, kind, html_body FROM outbox`).Scan(&to, &subject, &kind, &h)
		if to != "me@vendor.example" || subject != "[Test] Security fix in 2.4.1" || kind != "transactional" || strings.Contains(h, "<script") {
			t.Fatalf("test message: %s %q %s", to, subject, kind)
		}
		n, _ := notices.ByID(ctx, d, id)
		if n.Status != notices.Draft {
			t.Fatalf("a test send changed the notice to %s", n.Status)
		}
	})
}

// TestARunQueuesTheRateInBatches: a rate above the batch size is reached
// in one run, in transactions of at most Batch recipients.
func TestARunQueuesTheRateInBatches(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		holders(t, d, 1300)
		started(t, d, notices.Security)
		clk := clock.NewFixed(start)
		s := sender(d, clk, notices.Rate{PerSecond: 1200, PerHour: 100_000})
		s.Batch = 500
		if o, err := s.RunOnce(ctx); err != nil || o.Queued != 1200 {
			t.Fatalf("one run at 1200/s: %+v, %v", o, err)
		}
		clk.Advance(time.Second)
		if o, err := s.RunOnce(ctx); err != nil || o.Queued != 100 {
			t.Fatalf("the rest: %+v, %v", o, err)
		}
	})
}
