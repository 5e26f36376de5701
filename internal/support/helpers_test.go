package support_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/support"
)

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

const supportAddr = "support@milterworks.example"

// newDesk returns a desk on d with the vendor's support address set, a
// limiter and a clock the test moves.
func newDesk(t testing.TB, d *db.DB) (*support.Desk, *clock.Fixed) {
	t.Helper()
	ctx := context.Background()
	v := settings.Defaults()
	v.LegalName = "Milterworks GmbH"
	v.SupportEmail = supportAddr
	v.PrivacyEmail = "privacy@milterworks.example"
	if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, t0) }); err != nil {
		t.Fatal(err)
	}
	secret, err := settings.InstallSecret(ctx, d, t0)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFixed(t0)
	return &support.Desk{DB: d, Clock: clk, Limiter: ratelimit.New(d, secret), BaseURL: "https://shop.milterworks.example"}, clk
}

// mailFrom builds a plain message; extra header lines go before the body.
func mailFrom(from, subject, body string, headers ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n", from, supportAddr, subject)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")
	return []byte(b.String())
}

func receive(t *testing.T, desk *support.Desk, sender, rcpt string, raw []byte) support.Outcome {
	t.Helper()
	out, err := desk.Receive(context.Background(), support.Envelope{Sender: sender, Recipient: rcpt, Via: "lmtp"}, raw)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return out
}

func thread(t *testing.T, desk *support.Desk, id int64) []support.Message {
	t.Helper()
	ms, err := desk.Thread(context.Background(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func ticket(t *testing.T, desk *support.Desk, id int64) support.Ticket {
	t.Helper()
	tk, err := desk.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// outbox lists the queued mail of a template: to, message ID, headers.
type queued struct {
	To, MessageID, InReplyTo, Refs, ReplyTo, AutoSubmitted, Subject, Text string
}

func outbox(t *testing.T, d *db.DB, template string) []queued {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT to_addr, message_id, in_reply_to, refs, reply_to, auto_submitted, subject, text_body
		FROM outbox WHERE template = $1 ORDER BY id`, template)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		if err := rows.Scan(&q.To, &q.MessageID, &q.InReplyTo, &q.Refs, &q.ReplyTo, &q.AutoSubmitted, &q.Subject, &q.Text); err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// newCustomer makes a customer account for email.
func newCustomer(t *testing.T, d *db.DB, email string) customers.Customer {
	t.Helper()
	ctx := context.Background()
	var c customers.Customer
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, email, t0)
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

func restrict(t *testing.T, d *db.DB, customerID int64, on bool) {
	t.Helper()
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		return privacy.SetChoice(ctx, tx, privacy.Declared, customerID, privacy.ChoiceRestriction, "", on, "test", t0)
	}); err != nil {
		t.Fatal(err)
	}
}

// newStaff makes a support agent.
func newStaff(t *testing.T, d *db.DB, email string) staff.Account {
	t.Helper()
	ctx := context.Background()
	var a staff.Account
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = staff.Create(ctx, tx, email, "Agent "+email[:3], staff.Support, t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return a
}

var by = audit.Staff(1)
