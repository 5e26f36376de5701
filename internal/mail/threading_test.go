package mail_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// A reply's threading headers, its Reply-To and its Auto-Submitted value
// reach the wire as queued; a person's message carries no Auto-Submitted.
func TestThreadingHeadersReachTheWire(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFixed(start)
		sink := testutil.StartSMTP(t)
		m := message("ann@customer.example")
		m.Template, m.MessageID = "support-reply", mail.NewMessageID()+"@milterworks.example"
		m.InReplyTo, m.References = "CA1@mail.example", []string{"CA0@mail.example", "CA1@mail.example"}
		m.ReplyTo, m.AutoSubmitted = "support+tok@milterworks.example", mail.Human
		enqueue(t, d, m, start)
		auto := message("bea@customer.example")
		auto.AutoSubmitted = mail.AutoReplied
		enqueue(t, d, auto, start)
		plain := message("cy@customer.example")
		enqueue(t, d, plain, start)
		if _, err := newWorker(d, smtpTo(t, sink, clk), clk, "w", nil).RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := map[string]testutil.Received{}
		for _, r := range sink.WaitFor(3, 5*time.Second) {
			got[r.To[0]] = r
		}
		h := got["ann@customer.example"].Header
		if got["ann@customer.example"].MessageID != "<"+m.MessageID+">" || h.Get("In-Reply-To") != "<CA1@mail.example>" ||
			h.Get("References") != "<CA0@mail.example> <CA1@mail.example>" || !strings.Contains(h.Get("Reply-To"), "support+tok@milterworks.example") ||
			h.Get("Auto-Submitted") != "" {
			t.Fatalf("reply headers: %v", h)
		}
		if a := got["bea@customer.example"].Header.Get("Auto-Submitted"); a != "auto-replied" {
			t.Fatalf("automatic reply: Auto-Submitted %q", a)
		}
		if a := got["cy@customer.example"].Header.Get("Auto-Submitted"); a != "auto-generated" {
			t.Fatalf("machine mail: Auto-Submitted %q", a)
		}
	})
}

func TestThreadingFieldsRefuseHeaderInjection(t *testing.T) {
	d := testutil.SQLite(t)
	for name, edit := range map[string]func(*mail.Message){
		"message id with a line break": func(m *mail.Message) { m.MessageID = "abc@x.example\r\nBcc: all@x.example" },
		"message id without a domain":  func(m *mail.Message) { m.MessageID = "abc" },
		"in-reply-to with brackets":    func(m *mail.Message) { m.InReplyTo = "<a@b.example>" },
		"reference with a space":       func(m *mail.Message) { m.References = []string{"a@b.example c@d.example"} },
		"too many references":          func(m *mail.Message) { m.References = strings.Split(strings.Repeat("a@b.example,", 21), ",")[:21] },
		"reply-to with a name":         func(m *mail.Message) { m.ReplyTo = "Support <s@x.example>" },
		"reply-to with a line break":   func(m *mail.Message) { m.ReplyTo = "s@x.example\nBcc: a@b.example" },
		"unknown auto-submitted":       func(m *mail.Message) { m.AutoSubmitted = "auto-notified" },
	} {
		m := message("dee@customer.example")
		edit(&m)
		err := d.Tx(context.Background(), func(tx *sql.Tx) error {
			_, err := mail.Enqueue(context.Background(), tx, m, start)
			return err
		})
		if err == nil {
			t.Errorf("%s: queued", name)
		}
	}
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM outbox`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d messages queued, %v", n, err)
	}
}
