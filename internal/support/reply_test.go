package support_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
)

// A staff reply reaches a real SMTP server with the headers that thread it
// in Outlook and Gmail alike, and the customer's answer to it, as their
// client writes it, lands in the same ticket.
func TestStaffReplyThreadsThroughRealSMTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, clk := newDesk(t, d)
		ctx := context.Background()
		sink := testutil.StartSMTP(t)
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, Timeout: 5 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: d, Sender: sender, From: "Milterworks Support <" + supportAddr + ">", ID: "t", Lease: time.Minute, Batch: 10, Clock: clk}
		first := receive(t, desk, "jo@customer.example", supportAddr, mailFrom("Jo <jo@customer.example>", "Re: AW: Milter timeout", "It times out.", "Message-ID: <CAJo1@mail.gmail.example>"))
		agent := newStaff(t, d, "agent@milterworks.example")
		r1, err := desk.Reply(ctx, first.TicketID, agent.ID, support.StaffReply{Text: "Set milter_timeout to 60s."}, by)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got := sink.WaitForTo("jo@customer.example", 2, 5*time.Second) // the acknowledgement and the reply
		var reply testutil.Received
		for _, m := range got {
			if strings.Contains(m.Text, "milter_timeout") {
				reply = m
			}
		}
		tk := ticket(t, desk, first.TicketID)
		h := reply.Header
		if reply.MessageID != "<"+r1.MailID+">" || !strings.HasSuffix(r1.MailID, "@milterworks.example") {
			t.Fatalf("Message-ID %q, stored %q", reply.MessageID, r1.MailID)
		}
		if h.Get("In-Reply-To") != "<CAJo1@mail.gmail.example>" || h.Get("References") != "<CAJo1@mail.gmail.example>" {
			t.Fatalf("threading headers: In-Reply-To %q References %q", h.Get("In-Reply-To"), h.Get("References"))
		}
		if h.Get("Reply-To") != "<support+"+tk.Token+"@milterworks.example>" && h.Get("Reply-To") != "support+"+tk.Token+"@milterworks.example" {
			t.Fatalf("Reply-To %q", h.Get("Reply-To"))
		}
		if h.Get("Auto-Submitted") != "" {
			t.Fatalf("a person's reply is marked Auto-Submitted: %q", h.Get("Auto-Submitted"))
		}
		if reply.Subject != "Re: Milter timeout "+tk.Tag() {
			t.Fatalf("subject %q", reply.Subject)
		}
		// The customer answers as Gmail does: to the Reply-To address, In-Reply-To our reply, References the thread.
		clk.Advance(time.Hour)
		answer := mailFrom("Jo <jo@customer.example>", reply.Subject, "That fixed it, thanks!\n\nOn Mon, 30 Nov 2026 at 10:00, Milterworks Support wrote:\n> Set milter_timeout to 60s.",
			"Message-ID: <CAJo2@mail.gmail.example>", "In-Reply-To: "+reply.MessageID, "References: <CAJo1@mail.gmail.example> "+reply.MessageID)
		out := receive(t, desk, "jo@customer.example", "support+"+tk.Token+"@milterworks.example", answer)
		if out.Kind != support.Added || out.TicketID != tk.ID {
			t.Fatalf("answer: %+v", out)
		}
		// A second reply threads to the customer's latest message and keeps the whole chain.
		r2, err := desk.Reply(ctx, tk.ID, agent.ID, support.StaffReply{Text: "Glad to hear.", Then: support.Solved}, by)
		if err != nil {
			t.Fatal(err)
		}
		q := outbox(t, d, "support-reply")
		if len(q) != 2 || q[1].InReplyTo != "CAJo2@mail.gmail.example" || q[1].Refs != "CAJo1@mail.gmail.example "+r1.MailID+" CAJo2@mail.gmail.example" ||
			q[1].MessageID != r2.MailID {
			t.Fatalf("second reply %+v", q)
		}
		if tk = ticket(t, desk, tk.ID); tk.State != support.Solved || tk.SolvedAt.IsZero() {
			t.Fatalf("after solving: %+v", tk)
		}
		// Solved tickets close after the settings' period; the purge counts from then.
		clk.Advance(8 * 24 * time.Hour)
		if n, err := desk.CloseSolved(ctx); err != nil || n != 1 {
			t.Fatalf("close solved: %d, %v", n, err)
		}
		if tk = ticket(t, desk, tk.ID); tk.State != support.Closed || tk.ClosedAt.IsZero() {
			t.Fatalf("after closing: %+v", tk)
		}
	})
}

func TestSearchAndList(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, clk := newDesk(t, d)
		ctx := context.Background()
		a := receive(t, desk, "kim@customer.example", supportAddr, mailFrom("kim@customer.example", "Postfix smtpd rejects", "The milter answers tempfail on every connection.", "Message-ID: <k1@x.example>"))
		clk.Advance(time.Minute)
		b := receive(t, desk, "lee@customer.example", supportAddr, mailFrom("lee@customer.example", "Invoice question", "Where is my invoice for Überlingen office?", "Message-ID: <l1@x.example>"))
		clk.Advance(time.Minute)
		if _, err := desk.SetTags(ctx, b.TicketID, []string{"billing, urgent"}, by); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			q    string
			want []int64
		}{
			{"tempfail", []int64{a.TicketID}},
			{"temp", []int64{a.TicketID}}, // words match as prefixes
			{"postfix milter", []int64{a.TicketID}},
			{"postfix invoice", nil}, // every word must match
			{"INVOICE", []int64{b.TicketID}},
			{"überlingen", []int64{b.TicketID}},
			{"#" + itoa(b.TicketID), []int64{b.TicketID}},
			{"kim@customer.example", []int64{a.TicketID}},
			{`") OR 1=1 --`, nil}, // nothing of the query reaches SQL or the full-text syntax
			{"*", nil},
		} {
			p, err := desk.List(ctx, support.Filter{Query: c.q})
			if err != nil {
				t.Fatalf("%q: %v", c.q, err)
			}
			if got := ids(p.Tickets); !equal(got, c.want) {
				t.Errorf("search %q = %v, want %v", c.q, got, c.want)
			}
		}
		p, err := desk.List(ctx, support.Filter{Tag: "urgent"})
		if err != nil || !equal(ids(p.Tickets), []int64{b.TicketID}) || strings.Join(p.Tickets[0].Tags, ",") != "billing,urgent" {
			t.Fatalf("tag filter: %+v, %v", p, err)
		}
		// Paging: newest update first, one at a time, without repeats.
		p1, _ := desk.List(ctx, support.Filter{Limit: 1})
		p2, _ := desk.List(ctx, support.Filter{Limit: 1, Before: p1.Next})
		if len(p1.Tickets) != 1 || p1.Tickets[0].ID != b.TicketID || len(p2.Tickets) != 1 || p2.Tickets[0].ID != a.TicketID || p2.Next != (support.Cursor{}) {
			t.Fatalf("paging: %+v / %+v", p1, p2)
		}
		// Overdue: past the first-response target without a reply.
		clk.Advance(25 * time.Hour)
		if _, err := desk.Reply(ctx, a.TicketID, 0, support.StaffReply{Text: "Looking into it.", Then: support.Open}, by); err != nil {
			t.Fatal(err)
		}
		p, _ = desk.List(ctx, support.Filter{Overdue: true})
		if !equal(ids(p.Tickets), []int64{b.TicketID}) {
			t.Fatalf("overdue = %v, want only the unanswered ticket", ids(p.Tickets))
		}
		c, err := desk.Count(ctx)
		if err != nil || c.New != 1 || c.Open != 1 || c.Overdue != 1 {
			t.Fatalf("counts %+v, %v", c, err)
		}
	})
}

// The retention purge removes a ticket closed longer ago than the support
// retention, with its thread, attachments and search index, and keeps a
// ticket closed recently; erasure removes a person's tickets at once.
func TestPurgeAndErasureRemoveTicketsAndTheirIndex(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, clk := newDesk(t, d)
		ctx := context.Background()
		old := receive(t, desk, "max@customer.example", supportAddr, mailFrom("max@customer.example", "Zanzibarian question", "quixotic words", "Message-ID: <o1@x.example>"))
		if err := desk.SetState(ctx, old.TicketID, support.Closed, by); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2*365*24*time.Hour - 48*time.Hour)
		recent := receive(t, desk, "ned@customer.example", supportAddr, mailFrom("ned@customer.example", "Recent", "recent words", "Message-ID: <o2@x.example>"))
		if err := desk.SetState(ctx, recent.TicketID, support.Closed, by); err != nil {
			t.Fatal(err)
		}
		open := receive(t, desk, "ned@customer.example", supportAddr, mailFrom("ned@customer.example", "Still open", "open words", "Message-ID: <o3@x.example>"))
		clk.Advance(5 * 24 * time.Hour) // old is now past two years after closing (730 days + 3; 2028 is a leap year)
		if _, err := privacy.Purge(ctx, d, privacy.Declared, clk.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := desk.Ticket(ctx, old.TicketID); err == nil {
			t.Fatal("the purge kept a ticket past its retention")
		}
		for _, id := range []int64{recent.TicketID, open.TicketID} {
			if _, err := desk.Ticket(ctx, id); err != nil {
				t.Fatalf("the purge removed ticket %d: %v", id, err)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM support_messages WHERE ticket_id = $1`, old.TicketID); n != 0 {
			t.Fatalf("%d messages of the purged ticket remain", n)
		}
		if p, _ := desk.List(ctx, support.Filter{State: "all", Query: "quixotic"}); len(p.Tickets) != 0 {
			t.Fatal("the search still finds the purged ticket")
		}
		if d.Dialect == db.SQLite {
			if n := count(t, d, `SELECT count(*) FROM support_messages_fts WHERE support_messages_fts MATCH 'quixotic'`); n != 0 {
				t.Fatal("the full-text index still holds the purged message's words")
			}
		}
		// A shorter retention chosen by the operator applies at once.
		short, err := privacy.Declared.WithRetention("support", privacy.Retention{Days: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := privacy.Purge(ctx, d, short, clk.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := desk.Ticket(ctx, recent.TicketID); err == nil {
			t.Fatal("the operator's shorter retention kept the ticket")
		}
		if _, err := privacy.Declared.WithRetention("support", privacy.Retention{}); err == nil {
			t.Fatal("accepted a retention of nothing")
		}
		// Erasure takes the person's tickets, whatever their state.
		if _, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: privacy.SubjectRef{Kind: privacy.Customer, Email: "ned@customer.example"},
			By: audit.Entry{ActorType: audit.ActorSystem}}, nil, clk.Now()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT count(*) FROM support_tickets WHERE email = 'ned@customer.example'`); n != 0 {
			t.Fatalf("%d tickets left after erasure", n)
		}
		if p, _ := desk.List(ctx, support.Filter{State: "all", Query: "open words"}); len(p.Tickets) != 0 {
			t.Fatal("the search finds an erased person's ticket")
		}
	})
}

func ids(ts []support.Ticket) []int64 {
	var out []int64
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
