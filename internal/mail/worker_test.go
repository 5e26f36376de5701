package mail_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestWorkerDeliversWithHeaders(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		logs := &syncBuffer{}
		w := newWorker(d, smtpTo(t, sink, clk), clk, "w1", logs)
		m, err := mail.Compose("signin", "bob@example.com", mail.SignInData{SiteName: "Milterworks", Link: "https://shop.example.com/s?t=1", ExpiresMinutes: 15})
		if err != nil {
			t.Fatal(err)
		}
		id := enqueue(t, d, m, clk.Now())
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d", n)
		}
		got := sink.Messages()
		if len(got) != 1 {
			t.Fatalf("sink has %d messages", len(got))
		}
		r := readRow(t, d, id)
		g := got[0]
		if g.ParseErr != nil {
			t.Fatal(g.ParseErr)
		}
		if want := "<" + r.MessageID + "@milterworks.example>"; g.MessageID != want {
			t.Errorf("Message-ID %q, want %q", g.MessageID, want)
		}
		// The envelope sender is the message's VERP return path
		// (verp_test.go); the From header stays the shop's.
		if !strings.HasPrefix(g.From, fmt.Sprintf("bounces+%d-", id)) || !strings.HasSuffix(g.From, "@milterworks.example") ||
			len(g.To) != 1 || g.To[0] != "bob@example.com" || !strings.Contains(g.Header.Get("From"), "shop@milterworks.example") {
			t.Errorf("envelope %s -> %v", g.From, g.To)
		}
		if g.Subject != m.Subject || !strings.Contains(g.Text, "https://shop.example.com/s?t=1") || !strings.Contains(g.HTML, `href="https://shop.example.com/s?t=1"`) {
			t.Errorf("content: %q\n%s\n%s", g.Subject, g.Text, g.HTML)
		}
		ct, _, _ := mime.ParseMediaType(g.Header.Get("Content-Type"))
		if ct != "multipart/alternative" {
			t.Errorf("Content-Type %q, want multipart/alternative", g.Header.Get("Content-Type"))
		}
		if date, err := netmail.ParseDate(g.Header.Get("Date")); err != nil || !date.Equal(start) {
			t.Errorf("Date %q: %v", g.Header.Get("Date"), err)
		}
		if g.Header.Get("From") != `"Milterworks" <shop@milterworks.example>` || g.Header.Get("To") != "<bob@example.com>" {
			t.Errorf("From %q To %q", g.Header.Get("From"), g.Header.Get("To"))
		}
		if g.Header.Get("Auto-Submitted") != "auto-generated" || g.Header.Get("List-Unsubscribe") != "" || g.Header.Get("Precedence") != "" {
			t.Errorf("transactional headers: %v", g.Header)
		}
		if !r.SentAt.Valid || !r.SentAt.Time.Equal(start) || r.Transport != "smtp" || r.Attempts != 0 || r.LockedUntil.Valid {
			t.Errorf("row after sending: %+v", r)
		}
		// Logs name the message, never its recipient or content.
		log := logs.String()
		if !strings.Contains(log, "mail sent") || !strings.Contains(log, r.MessageID) || !strings.Contains(log, "template=signin") {
			t.Errorf("log lacks the message: %s", log)
		}
		if strings.Contains(log, "@") || strings.Contains(log, m.Subject) {
			t.Errorf("log contains personal data: %s", log)
		}
	})
}

// TestRelayDown: while the relay is unreachable, mail waits in the outbox
// with growing pauses, counting attempts; when the relay is back and the
// next attempt is due, it goes out, once, with the Message-ID it always
// had.
func TestRelayDown(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		w := newWorker(d, smtpTo(t, sink, clk), clk, "w1", nil)
		id := enqueue(t, d, message("bob@example.com"), clk.Now())

		sink.SetDown(true)
		for attempt := 1; attempt <= 3; attempt++ {
			if n := runOnce(t, w); n != 0 {
				t.Fatalf("sent %d while the relay is down", n)
			}
			r := readRow(t, d, id)
			wait := mail.Backoff(attempt)
			if r.Attempts != attempt || r.LastError == "" || !r.SendAfter.Equal(clk.Now().Add(wait)) || r.SentAt.Valid || r.LockedUntil.Valid {
				t.Fatalf("attempt %d: %+v", attempt, r)
			}
			e, err := mail.Get(ctx, d, id, clk.Now())
			if err != nil || e.State != mail.StateQueued {
				t.Fatalf("state %s, %v", e.State, err)
			}
			// Not due before its time.
			clk.Advance(wait - time.Second)
			if n := runOnce(t, w); n != 0 || readRow(t, d, id).Attempts != attempt {
				t.Fatal("retried before the backoff ended")
			}
			clk.Advance(time.Second)
		}
		sink.SetDown(false)
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d after the relay came back", n)
		}
		r := readRow(t, d, id)
		got := sink.Messages()
		if len(got) != 1 || got[0].MessageID != "<"+r.MessageID+"@milterworks.example>" || !r.SentAt.Valid || r.LastError != "" {
			t.Fatalf("%d messages, row %+v", len(got), r)
		}
	})
}

func TestBackoffSchedule(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := mail.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if mail.Backoff(1000) != time.Hour || mail.Backoff(0) != time.Minute {
		t.Error("Backoff out of range")
	}
	var total time.Duration
	for n := 1; n < mail.MaxAttempts; n++ {
		total += mail.Backoff(n)
	}
	if total < 12*time.Hour || total > 36*time.Hour {
		t.Errorf("a message is given up after %v; docs/mail.md says about 20 hours", total)
	}
}

// TestTemporaryAndPermanentRefusals: a 4xx answer is retried, a 5xx one
// gives the message up at once ("failed", for staff to see); staff resend
// it and it goes out.
func TestTemporaryAndPermanentRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		logs := &syncBuffer{}
		w := newWorker(d, smtpTo(t, sink, clk), clk, "w1", logs)
		id := enqueue(t, d, message("bob@example.com"), clk.Now())

		sink.SetRefuse(451)
		runOnce(t, w)
		if r := readRow(t, d, id); r.Attempts != 1 || !strings.Contains(r.LastError, "451") {
			t.Fatalf("after 451: %+v", r)
		}
		clk.Advance(time.Minute)
		sink.SetRefuse(550)
		runOnce(t, w)
		r := readRow(t, d, id)
		if r.Attempts != mail.MaxAttempts || !strings.Contains(r.LastError, "550") || strings.Contains(r.LastError, "@") {
			t.Fatalf("after 550: %+v", r)
		}
		e, err := mail.Get(ctx, d, id, clk.Now())
		if err != nil || e.State != mail.StateFailed {
			t.Fatalf("state %s, %v", e.State, err)
		}
		failed, err := mail.List(ctx, d, mail.Filter{State: mail.StateFailed}, clk.Now())
		if err != nil || len(failed) != 1 || failed[0].ID != id {
			t.Fatalf("failed list %+v, %v", failed, err)
		}
		// Given up: no more attempts, however long we wait.
		clk.Advance(24 * time.Hour)
		sink.SetRefuse(0)
		if n := runOnce(t, w); n != 0 {
			t.Fatal("a failed message was retried")
		}
		if strings.Contains(logs.String(), "bob@example.com") {
			t.Errorf("log contains the address: %s", logs.String())
		}

		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			got, err := mail.Resend(ctx, tx, id, clk.Now())
			if got != id {
				t.Errorf("resend of an unsent message returned %d, want the same id", got)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if r := readRow(t, d, id); r.Attempts != 0 || r.LastError != "" {
			t.Fatalf("after resend: %+v", r)
		}
		if n := runOnce(t, w); n != 1 || len(sink.Messages()) != 1 {
			t.Fatalf("sent %d after resend", n)
		}

		// Resending a sent message makes a new message with a new
		// Message-ID.
		var copyID int64
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			copyID, err = mail.Resend(ctx, tx, id, clk.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if copyID == id {
			t.Fatal("resending a sent message did not copy it")
		}
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d", n)
		}
		got := sink.Messages()
		if len(got) != 2 || got[0].MessageID == got[1].MessageID || got[0].Text != got[1].Text {
			t.Fatalf("copy: %+v", got)
		}
		counts, err := mail.Counts(ctx, d)
		if err != nil || counts[mail.StateSent] != 2 || counts[mail.StateQueued] != 0 || counts[mail.StateFailed] != 0 {
			t.Fatalf("counts %v, %v", counts, err)
		}
		if _, err := mail.Get(ctx, d, 9999, clk.Now()); !errors.Is(err, mail.ErrNotFound) {
			t.Fatalf("Get of a missing id: %v", err)
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := mail.Resend(ctx, tx, 9999, clk.Now()); return err }); !errors.Is(err, mail.ErrNotFound) {
			t.Fatalf("Resend of a missing id: %v", err)
		}
	})
}

// TestResendRefusesMessageInFlight: a message a worker holds is not reset
// under it, which would let a second worker send it too.
func TestResendRefusesMessageInFlight(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(start)
		id := enqueue(t, d, message("bob@example.com"), clk.Now())
		block := make(chan struct{})
		entered := make(chan struct{})
		w := newWorker(d, senderFunc(func(ctx context.Context, m mail.Outgoing) error {
			close(entered)
			<-block
			return nil
		}), clk, "w1", nil)
		done := make(chan error, 1)
		go func() { _, err := w.RunOnce(ctx); done <- err }()
		<-entered
		e, err := mail.Get(ctx, d, id, clk.Now())
		if err != nil || e.State != mail.StateSending {
			t.Fatalf("state %s, %v", e.State, err)
		}
		err = d.Tx(ctx, func(tx *sql.Tx) error { _, err := mail.Resend(ctx, tx, id, clk.Now()); return err })
		if !errors.Is(err, mail.ErrBusy) {
			t.Fatalf("resend in flight: %v", err)
		}
		close(block)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if r := readRow(t, d, id); !r.SentAt.Valid || r.Transport != "smtp" {
			t.Fatalf("%+v", r)
		}
	})
}

// senderFunc is a Sender made of a function.
type senderFunc func(ctx context.Context, m mail.Outgoing) error

func (f senderFunc) Send(ctx context.Context, m mail.Outgoing) error { return f(ctx, m) }

// TestTwoWorkersRace: two workers (as in two instances) share the outbox;
// every message is delivered exactly once.
func TestTwoWorkersRace(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		const n = 50
		for i := range n {
			enqueue(t, d, message(fmt.Sprintf("customer%d@example.com", i)), clk.Now())
		}
		var wg sync.WaitGroup
		sent := make([]int, 2)
		for i := range 2 {
			w := newWorker(d, smtpTo(t, sink, clk), clk, fmt.Sprintf("instance-%d", i), nil)
			w.Batch = 3
			wg.Go(func() {
				for {
					k, err := w.RunOnce(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if k == 0 {
						return
					}
					sent[i] += k
				}
			})
		}
		wg.Wait()
		if sent[0]+sent[1] != n {
			t.Fatalf("workers report %v sent, want %d in all", sent, n)
		}
		got := sink.Messages()
		if len(got) != n {
			t.Fatalf("sink has %d messages, want %d", len(got), n)
		}
		ids, rcpts := map[string]int{}, map[string]int{}
		for _, m := range got {
			ids[m.MessageID]++
			rcpts[m.To[0]]++
		}
		if len(ids) != n || len(rcpts) != n {
			t.Fatalf("%d distinct Message-IDs and %d recipients among %d messages", len(ids), len(rcpts), n)
		}
		var unsent int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent); err != nil || unsent != 0 {
			t.Fatalf("%d unsent, %v", unsent, err)
		}
		t.Logf("worker 0 sent %d, worker 1 sent %d", sent[0], sent[1])
	})
}

// TestTransactionalBeforeBulk: a sign-in link does not wait behind an
// announcement to every customer.
func TestTransactionalBeforeBulk(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		for i := range 5 {
			m := message(fmt.Sprintf("c%d@example.com", i))
			m.Kind, m.Template, m.UnsubscribeURL = mail.Bulk, "announcement", "https://shop.example.com/unsubscribe?t="+fmt.Sprint(i)
			enqueue(t, d, m, clk.Now())
		}
		enqueue(t, d, message("urgent@example.com"), clk.Now())
		w := newWorker(d, smtpTo(t, sink, clk), clk, "w1", nil)
		w.Batch = 2
		runOnce(t, w)
		got := sink.Messages()
		if len(got) != 2 || got[0].To[0] != "urgent@example.com" {
			t.Fatalf("first delivery went to %v", got[0].To)
		}
		b := got[1]
		if b.Header.Get("List-Unsubscribe") != "<https://shop.example.com/unsubscribe?t=0>" ||
			b.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || b.Header.Get("Precedence") != "bulk" {
			t.Errorf("bulk headers: %v", b.Header)
		}
	})
}

// TestDevSenderMarksSentWithoutSending: the demo's outbox fills and
// empties without any mail leaving.
func TestDevSenderMarksSentWithoutSending(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFixed(start)
		id := enqueue(t, d, message("bob@example.com"), clk.Now())
		w := newWorker(d, mail.DevSender{}, clk, "demo", nil)
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d", n)
		}
		if r := readRow(t, d, id); r.Transport != "dev" || !r.SentAt.Valid {
			t.Fatalf("%+v", r)
		}
	})
}

// TestSenderFromSettings: without From, mail comes from the vendor's
// support address under the vendor's name.
func TestSenderFromSettings(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		v := settings.Defaults()
		v.Name, v.SupportEmail = "Quill & Feather", "support@quill.example"
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, start) }); err != nil {
			t.Fatal(err)
		}
		enqueue(t, d, message("bob@example.com"), clk.Now())
		w := newWorker(d, smtpTo(t, sink, clk), clk, "w1", nil)
		w.From = ""
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d", n)
		}
		g := sink.Messages()[0]
		if !strings.HasPrefix(g.From, "bounces+") || !strings.HasSuffix(g.From, "@quill.example") || !strings.Contains(g.Header.Get("From"), "Quill & Feather") ||
			!strings.HasSuffix(g.MessageID, "@quill.example>") {
			t.Fatalf("from %s, header %q, id %s", g.From, g.Header.Get("From"), g.MessageID)
		}
	})
}

// TestRunWakesWithoutWaitingForThePoll: Run sends at once when woken, and
// returns when its context ends.
func TestRunWakesWithoutWaitingForThePoll(t *testing.T) {
	d := testutil.SQLite(t)
	sink := testutil.StartSMTP(t)
	w := newWorker(d, smtpTo(t, sink, nil), nil, "w1", nil)
	w.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	enqueue(t, d, message("bob@example.com"), time.Now())
	w.Wake()
	sink.WaitFor(1, 10*time.Second)
	enqueue(t, d, message("eve@example.com"), time.Now())
	w.Wake()
	sink.WaitFor(2, 10*time.Second)
	cancel()
	<-done
}
