package mail_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

func bulk(to string) mail.Message {
	return mail.Message{Kind: mail.Bulk, Template: "notice", To: to, Subject: "Release 2.0",
		Text: "Version 2.0 is out.", UnsubscribeURL: "https://shop.example.com/unsubscribe/x"}
}

// TestBulkMailRespectsSuppressions: a suppressed address gets no bulk
// message (marked, never retried) but still its transactional mail; every
// message carries its VERP return path.
func TestBulkMailRespectsSuppressions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		w := newWorker(d, smtpTo(t, sink, clk), clk, "w1", nil)
		w.Secret = []byte("test installation secret")
		sup := mail.NewSuppressions(w.Secret)

		first := enqueue(t, d, bulk("carol@example.com"), clk.Now())
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d", n)
		}
		got := sink.Messages()[0]
		v := mail.VERP{Secret: w.Secret}
		if id, ok := v.Parse(got.From); !ok || id != first || !strings.HasSuffix(got.From, "@milterworks.example") {
			t.Fatalf("envelope sender %q is not message %d's return path", got.From, first)
		}
		if h := got.Header.Get("From"); h != from && !strings.Contains(h, "shop@milterworks.example") {
			t.Errorf("From header %q", h)
		}
		if got.Header.Get("EnvelopeFrom") != "" || strings.Contains(string(got.Data), "bounces+") {
			t.Error("the return path leaked into the message")
		}

		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			added, err := sup.Add(ctx, tx, " Carol@Example.com", mail.Suppression{Reason: mail.ReasonHardBounce, Detail: "5.1.1", OutboxID: first}, clk.Now())
			if !added {
				t.Error("not added")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		blocked := enqueue(t, d, bulk("carol@example.com"), clk.Now())
		receipt := enqueue(t, d, message("carol@example.com"), clk.Now())
		other := enqueue(t, d, bulk("dave@example.com"), clk.Now())
		if n := runOnce(t, w); n != 2 {
			t.Fatalf("sent %d, want the receipt and dave's", n)
		}
		var suppressedAt sql.NullTime
		var attempts int
		var lastError string
		if err := d.QueryRowContext(ctx, `SELECT suppressed_at, attempts, last_error FROM outbox WHERE id = $1`, blocked).
			Scan(&suppressedAt, &attempts, &lastError); err != nil {
			t.Fatal(err)
		}
		if !suppressedAt.Valid || attempts != mail.MaxAttempts || !strings.Contains(lastError, "suppression list (hard_bounce)") {
			t.Errorf("blocked message: suppressed_at %v, attempts %d, %q", suppressedAt, attempts, lastError)
		}
		if r := readRow(t, d, blocked); r.SentAt.Valid {
			t.Error("the suppressed message is marked sent")
		}
		for _, id := range []int64{receipt, other} {
			if r := readRow(t, d, id); !r.SentAt.Valid {
				t.Errorf("message %d not sent", id)
			}
		}
		clk.Advance(48 * time.Hour)
		if n := runOnce(t, w); n != 0 {
			t.Errorf("a later round sent %d", n)
		}
		if len(sink.Messages()) != 3 {
			t.Errorf("the sink has %d messages", len(sink.Messages()))
		}
		for _, g := range sink.Messages()[1:] {
			if g.To[0] == "carol@example.com" && g.Subject == "Release 2.0" {
				t.Error("bulk mail reached a suppressed address")
			}
		}

		// Lifting the suppression lets the next bulk message through.
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, ok, err := sup.RemoveAddress(ctx, tx, "carol@example.com")
			if !ok {
				t.Error("nothing lifted")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		enqueue(t, d, bulk("carol@example.com"), clk.Now())
		if n := runOnce(t, w); n != 1 {
			t.Errorf("after lifting: sent %d", n)
		}
		list, err := mail.ListSuppressions(ctx, d)
		if err != nil || len(list) != 0 {
			t.Errorf("list %v %v", list, err)
		}
	})
}

func TestSuppressionsStoreNoAddress(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sup := mail.NewSuppressions([]byte("s"))
		for i := range 2 {
			if err := d.Tx(ctx, func(tx *sql.Tx) error {
				added, err := sup.Add(ctx, tx, "erin@example.com", mail.Suppression{Reason: mail.ReasonComplaint}, start)
				if added != (i == 0) {
					t.Errorf("round %d: added %v", i, added)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		var hash, reason string
		if err := d.QueryRowContext(ctx, `SELECT addr_hash, reason FROM mail_suppressions`).Scan(&hash, &reason); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(hash, "erin") || len(hash) != 64 || reason != mail.ReasonComplaint {
			t.Errorf("stored %q %q", hash, reason)
		}
		if _, ok, _ := mail.NewSuppressions([]byte("other")).Lookup(ctx, d, "erin@example.com"); ok {
			t.Error("another installation's key finds the entry")
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := sup.Add(ctx, tx, "x@example.com", mail.Suppression{Reason: "whim"}, start)
			if err == nil {
				return fmt.Errorf("an unknown reason was accepted")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
