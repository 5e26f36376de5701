package mail_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestEnqueueRefusesBadInput(t *testing.T) {
	ok := message("bob@example.com")
	bulk := ok
	bulk.Kind = mail.Bulk
	cases := map[string]func(m *mail.Message){
		"kind":                   func(m *mail.Message) { m.Kind = "spam" },
		"empty address":          func(m *mail.Message) { m.To = "" },
		"no at":                  func(m *mail.Message) { m.To = "bob" },
		"display name":           func(m *mail.Message) { m.To = "Bob <bob@example.com>" },
		"two addresses":          func(m *mail.Message) { m.To = "bob@example.com, eve@example.com" },
		"header in address":      func(m *mail.Message) { m.To = "bob@example.com\r\nBcc: eve@example.com" },
		"newline in address":     func(m *mail.Message) { m.To = "bob@example.com\nBcc: eve@example.com" },
		"header in subject":      func(m *mail.Message) { m.Subject = "Hello\r\nBcc: eve@example.com" },
		"lf in subject":          func(m *mail.Message) { m.Subject = "Hello\nBcc: eve@example.com" },
		"no subject":             func(m *mail.Message) { m.Subject = "" },
		"no text":                func(m *mail.Message) { m.Text = "" },
		"no template":            func(m *mail.Message) { m.Template = "" },
		"invalid utf-8":          func(m *mail.Message) { m.Text = "\xff" },
		"long address":           func(m *mail.Message) { m.To = strings.Repeat("a", 250) + "@example.com" },
		"bulk without unsub":     func(m *mail.Message) { m.Kind = mail.Bulk },
		"bulk with script unsub": func(m *mail.Message) { m.Kind, m.UnsubscribeURL = mail.Bulk, "javascript:alert(1)" },
		"bulk with http unsub":   func(m *mail.Message) { m.Kind, m.UnsubscribeURL = mail.Bulk, "http://shop.example.com/u" },
		"http unsub posing as loopback": func(m *mail.Message) {
			m.Kind, m.UnsubscribeURL = mail.Bulk, "http://127.0.0.1.evil.example/u"
		},
		"unsub with header": func(m *mail.Message) {
			m.Kind, m.UnsubscribeURL = mail.Bulk, "https://x.example/u\r\nBcc: eve@example.com"
		},
		"unsub with bracket": func(m *mail.Message) {
			m.Kind, m.UnsubscribeURL = mail.Bulk, "https://x.example/u>, <mailto:eve@example.com"
		},
	}
	for name, change := range cases {
		m := ok
		change(&m)
		if _, err := m.Validate(); err == nil {
			t.Errorf("%s: accepted %+v", name, m)
		}
	}
	for _, m := range []mail.Message{ok, func() mail.Message {
		m := bulk
		m.UnsubscribeURL = "https://shop.example.com/unsubscribe?t=abc"
		return m
	}(),
		func() mail.Message {
			m := bulk
			m.UnsubscribeURL = "mailto:unsubscribe@shop.example.com?subject=stop"
			return m
		}(),
		func() mail.Message {
			m := bulk
			m.UnsubscribeURL = "http://127.0.0.1:8080/unsubscribe/abc" // the demo's
			return m
		}()} {
		if _, err := m.Validate(); err != nil {
			t.Errorf("refused %+v: %v", m, err)
		}
	}
	// Through Enqueue, on the database, a refused message leaves no row.
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := ok
		m.To = "bob@example.com\r\nBcc: eve@example.com"
		err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := mail.Enqueue(ctx, tx, m, start); return err })
		if err == nil {
			t.Fatal("header injection queued")
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d rows, %v", n, err)
		}
		// A surrounding space is trimmed, as before.
		m.To = " bob@example.com "
		id := enqueue(t, d, m, start)
		e, err := mail.Get(ctx, d, id, start)
		if err != nil || e.To != "bob@example.com" {
			t.Fatalf("%+v %v", e, err)
		}
	})
}

// TestEnqueueInRolledBackTransactionSendsNothing: the outbox is written in
// the caller's transaction, so a change that is rolled back sends no mail,
// and one that commits sends it once.
func TestEnqueueInRolledBackTransactionSendsNothing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		w := newWorker(d, smtpTo(t, sink, clk), clk, "w1", nil)
		boom := errors.New("the order failed")
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := mail.Enqueue(ctx, tx, message("bob@example.com"), clk.Now()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n := runOnce(t, w); n != 0 || len(sink.Messages()) != 0 {
			t.Fatalf("sent %d after a rollback; sink has %d", n, len(sink.Messages()))
		}
		enqueue(t, d, message("bob@example.com"), clk.Now())
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d, want 1", n)
		}
		if n := runOnce(t, w); n != 0 {
			t.Fatalf("sent %d more", n)
		}
		if got := sink.Messages(); len(got) != 1 {
			t.Fatalf("sink has %d messages, want 1", len(got))
		}
	})
}

func TestDedupKeyPreventsDoubleQueueing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := message("bob@example.com")
		m.DedupKey = "order-paid:42"
		first := enqueue(t, d, m, start)
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := mail.Enqueue(ctx, tx, m, start); !errors.Is(err, mail.ErrDuplicate) {
				t.Errorf("second enqueue: %v, want ErrDuplicate", err)
			}
			// The transaction is still usable after the duplicate.
			other := m
			other.DedupKey = "order-paid:43"
			_, err := mail.Enqueue(ctx, tx, other, start)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		// Two transactions queueing one key at once: one message, and the
		// loser's transaction commits the rest of its work.
		tx1, err := d.Writer().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.DedupKey = "order-paid:44"
		if _, err := mail.Enqueue(ctx, tx1, m, start); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			done <- d.Tx(ctx, func(tx *sql.Tx) error {
				if _, err := mail.Enqueue(ctx, tx, m, start); !errors.Is(err, mail.ErrDuplicate) {
					return errors.Join(errors.New("racing enqueue was not a duplicate"), err)
				}
				other := m
				other.DedupKey = "order-paid:45"
				_, err := mail.Enqueue(ctx, tx, other, start)
				return err
			})
		}()
		if err := tx1.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil || n != 4 {
			t.Fatalf("%d messages, want 4 (42, 43, 44, 45); %v", n, err)
		}
		if e, err := mail.Get(ctx, d, first, start); err != nil || e.DedupKey != "order-paid:42" {
			t.Fatalf("%+v %v", e, err)
		}
	})
}
