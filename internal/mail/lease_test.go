package mail_test

import (
	"context"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// diesInSend is a sender whose worker dies (panics, as a killed process
// stops) before it delivers.
type diesInSend struct{}

func (diesInSend) Send(context.Context, mail.Outgoing) error { panic(killed{}) }

// TestDeadWorkerTakenOverAfterShortLease: with the default lease, a
// message claimed by a worker that died is sent by another worker about
// 30 seconds later, not after minutes.
func TestDeadWorkerTakenOverAfterShortLease(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		id := enqueue(t, d, message("bob@example.com"), clk.Now())

		a := newWorker(d, diesInSend{}, clk, "instance-a", nil)
		a.Lease = 0 // the default
		func() {
			defer func() {
				if _, ok := recover().(killed); !ok {
					t.Fatal("the worker did not die")
				}
			}()
			_, _ = a.RunOnce(context.Background())
		}()
		if r := readRow(t, d, id); r.LockedBy != "instance-a" || !r.LockedUntil.Valid || !r.LockedUntil.Time.Equal(start.Add(mail.DefaultLease)) {
			t.Fatalf("after the claim: %+v", r)
		}
		if mail.DefaultLease > 30*time.Second {
			t.Fatalf("default lease %v, want at most 30 s", mail.DefaultLease)
		}

		b := newWorker(d, smtpTo(t, sink, clk), clk, "instance-b", nil)
		clk.Advance(mail.DefaultLease - time.Second)
		if n := runOnce(t, b); n != 0 {
			t.Fatalf("sent %d while the dead worker's lease ran", n)
		}
		clk.Advance(2 * time.Second)
		if n := runOnce(t, b); n != 1 {
			t.Fatalf("sent %d after the lease, want 1", n)
		}
		if r := readRow(t, d, id); !r.SentAt.Valid || r.LockedBy != "instance-b" {
			t.Fatalf("not sent by the survivor: %+v", r)
		}
		if n := len(sink.Messages()); n != 1 {
			t.Fatalf("sink has %d messages, want 1", n)
		}
	})
}

// TestSlowSendKeepsItsLease: a delivery that takes longer than the lease
// is not taken over, because the worker renews the lease while it sends;
// once it is done, renewals stop and the message is marked sent once.
func TestSlowSendKeepsItsLease(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		slowID := enqueue(t, d, message("slow@example.com"), clk.Now())
		nextID := enqueue(t, d, message("next@example.com"), clk.Now())

		entered := make(chan struct{}, 2)
		unblock := make(chan struct{})
		relay := smtpTo(t, sink, clk)
		a := newWorker(d, senderFunc(func(ctx context.Context, m mail.Outgoing) error {
			entered <- struct{}{}
			if m.To == "slow@example.com" {
				<-unblock
			}
			return relay.Send(ctx, m)
		}), clk, "instance-a", nil)
		a.Lease = 30 * time.Second
		renewed := make(chan int, 10)
		mail.OnRenew(a, func(held int, err error) {
			if err != nil {
				t.Errorf("renew: %v", err)
			}
			renewed <- held
		})
		done := make(chan error, 1)
		go func() { _, err := a.RunOnce(ctx); done <- err }()
		wait := func(c <-chan struct{}) {
			t.Helper()
			select {
			case <-c:
			case <-time.After(10 * time.Second):
				t.Fatal("timed out")
			}
		}
		wait(entered)
		heartbeat := func() int {
			t.Helper()
			select {
			case n := <-renewed:
				return n
			case <-time.After(10 * time.Second):
				t.Fatal("no heartbeat")
				return 0
			}
		}

		b := newWorker(d, smtpTo(t, sink, clk), clk, "instance-b", nil)
		// Two minutes of a slow relay, four lease lengths: every 10 s
		// the lease is renewed, and the other worker finds nothing to do.
		for range 12 {
			clk.Advance(10 * time.Second)
			if n := heartbeat(); n != 2 {
				t.Fatalf("the heartbeat holds %d messages, want 2", n)
			}
			if n := runOnce(t, b); n != 0 {
				t.Fatalf("another worker sent %d while the lease was renewed", n)
			}
		}
		r := readRow(t, d, slowID)
		if r.LockedBy != "instance-a" || !r.LockedUntil.Time.Equal(clk.Now().Add(30*time.Second)) {
			t.Fatalf("lease not renewed: %+v (now %v)", r, clk.Now())
		}
		close(unblock)
		wait(entered) // the next message of the batch, still under a's lease
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{slowID, nextID} {
			if r := readRow(t, d, id); !r.SentAt.Valid || r.LockedBy != "instance-a" || r.LockedUntil.Valid {
				t.Fatalf("message %d: %+v", id, r)
			}
		}
		// Done: the heartbeat has stopped (RunOnce waits for it): its
		// last timer fires into the void.
		clk.Advance(time.Hour)
		select {
		case n := <-renewed:
			t.Fatalf("renewed (%d) after the batch ended", n)
		default:
		}
		if n := runOnce(t, b); n != 0 {
			t.Fatalf("sent %d more", n)
		}
		if got := sink.Messages(); len(got) != 2 {
			t.Fatalf("sink has %d messages, want 2", len(got))
		}
	})
}
