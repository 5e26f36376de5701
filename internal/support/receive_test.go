package support_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestMailOpensTicketWithOneAcknowledgementADay(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, clk := newDesk(t, d)
		out := receive(t, desk, "ada@customer.example", supportAddr,
			mailFrom("Ada Admin <Ada@Customer.example>", "Milter drops mail", "Since 2.3 the milter drops mail.\n\nAda", "Message-ID: <m1@customer.example>"))
		if out.Kind != support.Opened || out.TicketID == 0 {
			t.Fatalf("outcome %+v", out)
		}
		tk := ticket(t, desk, out.TicketID)
		if tk.Email != "ada@customer.example" || tk.Name != "Ada Admin" || tk.Subject != "Milter drops mail" || tk.State != support.New || tk.Channel != support.Email {
			t.Fatalf("ticket %+v", tk)
		}
		if !tk.FirstResponseDue.Equal(t0.Add(24*time.Hour)) || !tk.ResolutionDue.Equal(t0.Add(120*time.Hour)) {
			t.Fatalf("targets %v %v", tk.FirstResponseDue, tk.ResolutionDue)
		}
		ms := thread(t, desk, tk.ID)
		if len(ms) != 1 || ms[0].Author != support.ByCustomer || ms[0].MailID != "m1@customer.example" || !ms[0].HasRaw ||
			!strings.Contains(ms[0].Text, "drops mail") {
			t.Fatalf("thread %+v", ms)
		}
		acks := outbox(t, d, "support-received")
		if len(acks) != 1 || acks[0].To != "ada@customer.example" || acks[0].AutoSubmitted != "auto-replied" ||
			acks[0].InReplyTo != "m1@customer.example" || acks[0].ReplyTo != "support+"+tk.Token+"@milterworks.example" ||
			!strings.Contains(acks[0].Subject, tk.Tag()) {
			t.Fatalf("acknowledgement %+v", acks)
		}
		// A second new ticket the same day: no second acknowledgement.
		clk.Advance(time.Hour)
		out2 := receive(t, desk, "ada@customer.example", supportAddr, mailFrom("ada@customer.example", "Another thing", "Also the logs.", "Message-ID: <m2@customer.example>"))
		if out2.Kind != support.Opened || out2.TicketID == tk.ID {
			t.Fatalf("second %+v", out2)
		}
		if n := len(outbox(t, d, "support-received")); n != 1 {
			t.Fatalf("%d acknowledgements the same day, want 1", n)
		}
		// The next day there is one again.
		clk.Advance(24 * time.Hour)
		receive(t, desk, "ada@customer.example", supportAddr, mailFrom("ada@customer.example", "Third", "Hello again.", "Message-ID: <m3@customer.example>"))
		if n := len(outbox(t, d, "support-received")); n != 2 {
			t.Fatalf("%d acknowledgements after a day, want 2", n)
		}
	})
}

func TestThreadingOrderAndStrangers(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, clk := newDesk(t, d)
		ctx := context.Background()
		first := receive(t, desk, "bob@customer.example", supportAddr, mailFrom("bob@customer.example", "License will not activate", "Error 17.", "Message-ID: <b1@customer.example>"))
		tk := ticket(t, desk, first.TicketID)
		reply, err := desk.Reply(ctx, tk.ID, 0, support.StaffReply{Text: "Which version?"}, by)
		if err != nil {
			t.Fatal(err)
		}
		if tk = ticket(t, desk, tk.ID); tk.State != support.Waiting || tk.FirstResponseAt.IsZero() {
			t.Fatalf("after the reply: %+v", tk)
		}
		clk.Advance(time.Minute)

		// 1. Our Message-ID in In-Reply-To: the thread, whatever the subject and recipient.
		out := receive(t, desk, "bob@customer.example", supportAddr, mailFrom("bob@customer.example", "totally different subject", "2.3.1",
			"Message-ID: <b2@customer.example>", "In-Reply-To: <"+reply.MailID+">"))
		if out.Kind != support.Added || out.TicketID != tk.ID {
			t.Fatalf("by In-Reply-To: %+v", out)
		}
		if ticket(t, desk, tk.ID).State != support.Open {
			t.Fatal("the customer's answer did not open the waiting ticket")
		}
		// ... or in References only (Outlook keeps References).
		out = receive(t, desk, "bob@customer.example", supportAddr, mailFrom("bob@customer.example", "x", "more",
			"Message-ID: <b3@customer.example>", "References: <other@x.example> <"+reply.MailID+">"))
		if out.Kind != support.Added || out.TicketID != tk.ID {
			t.Fatalf("by References: %+v", out)
		}
		// 2. The reply token of the plus address, without any headers.
		out = receive(t, desk, "bob@customer.example", "support+"+tk.Token+"@milterworks.example", mailFrom("bob@customer.example", "no headers", "token only",
			"Message-ID: <b4@customer.example>"))
		if out.Kind != support.Added || out.TicketID != tk.ID {
			t.Fatalf("by token: %+v", out)
		}
		// 3. The ticket tag in the subject, from the requester.
		out = receive(t, desk, "bob@customer.example", supportAddr, mailFrom("bob@customer.example", "Fwd: "+tk.Tag(), "tag only", "Message-ID: <b5@customer.example>"))
		if out.Kind != support.Added || out.TicketID != tk.ID {
			t.Fatalf("by subject tag: %+v", out)
		}
		if n := len(thread(t, desk, tk.ID)); n != 6 {
			t.Fatalf("thread has %d messages, want 6", n)
		}

		// A forged token: parked, with the reason; no ticket opened.
		tickets := count(t, d, `SELECT count(*) FROM support_tickets`)
		out = receive(t, desk, "bob@customer.example", "support+aaaaaaaaaaaaaaaaaaaa@milterworks.example", mailFrom("bob@customer.example", "hi", "forged", "Message-ID: <f1@customer.example>"))
		if out.Kind != support.Parked || out.Reason != support.ReasonUnknownReply {
			t.Fatalf("forged token: %+v", out)
		}
		// A stranger answering with the right token or our Message-ID: parked, the ticket named.
		out = receive(t, desk, "mallory@evil.example", "support+"+tk.Token+"@milterworks.example", mailFrom("mallory@evil.example", "Re: x", "let me in",
			"Message-ID: <e1@evil.example>"))
		if out.Kind != support.Parked || out.Reason != support.ReasonStranger || out.TicketID != tk.ID {
			t.Fatalf("stranger by token: %+v", out)
		}
		out = receive(t, desk, "mallory@evil.example", supportAddr, mailFrom("mallory@evil.example", "Re: "+tk.Tag(), "let me in", "Message-ID: <e2@evil.example>",
			"In-Reply-To: <"+reply.MailID+">"))
		if out.Kind != support.Parked || out.Reason != support.ReasonStranger {
			t.Fatalf("stranger by Message-ID: %+v", out)
		}
		// A stranger's subject tag is only a subject: parked too.
		out = receive(t, desk, "mallory@evil.example", supportAddr, mailFrom("mallory@evil.example", "Re: "+tk.Tag(), "tag", "Message-ID: <e3@evil.example>"))
		if out.Kind != support.Parked || out.Reason != support.ReasonStranger {
			t.Fatalf("stranger by tag: %+v", out)
		}
		if got := count(t, d, `SELECT count(*) FROM support_tickets`); got != tickets {
			t.Fatalf("tickets %d → %d: parked mail opened a ticket", tickets, got)
		}
		if n := len(thread(t, desk, tk.ID)); n != 6 {
			t.Fatalf("a stranger's message reached the thread: %d messages", n)
		}
		// Staff release the stranger's message into the ticket: the
		// sender is then part of it.
		if _, err := desk.Release(ctx, out.ParkedID, 0, 0, by); err != nil {
			t.Fatal(err)
		}
		if _, err := desk.Release(ctx, out.ParkedID, 0, 0, by); !errors.Is(err, support.ErrDecided) {
			t.Fatalf("second release: %v", err)
		}
		out = receive(t, desk, "mallory@evil.example", supportAddr, mailFrom("mallory@evil.example", "Re: "+tk.Tag(), "now known", "Message-ID: <e4@evil.example>"))
		if out.Kind != support.Added || out.TicketID != tk.ID {
			t.Fatalf("released sender: %+v", out)
		}

		// A closed ticket stays closed: the answer opens a follow-up.
		if err := desk.SetState(ctx, tk.ID, support.Closed, by); err != nil {
			t.Fatal(err)
		}
		out = receive(t, desk, "bob@customer.example", supportAddr, mailFrom("bob@customer.example", "Re: x", "one more thing", "Message-ID: <b6@customer.example>",
			"In-Reply-To: <"+reply.MailID+">"))
		if out.Kind != support.Opened || out.TicketID == tk.ID {
			t.Fatalf("answer to a closed ticket: %+v", out)
		}
		ms := thread(t, desk, out.TicketID)
		if len(ms) != 2 || !strings.Contains(ms[1].Text, "Follow-up to the closed ticket") || !ms[1].Internal {
			t.Fatalf("follow-up thread: %+v", ms)
		}
	})
}

func TestNoiseNeverOpensTicketsNorGetsReplies(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, _ := newDesk(t, d)
		ctx := context.Background()
		first := receive(t, desk, "carol@customer.example", supportAddr, mailFrom("carol@customer.example", "Help", "please", "Message-ID: <c1@customer.example>"))
		reply, err := desk.Reply(ctx, first.TicketID, 0, support.StaffReply{Text: "Sure."}, by)
		if err != nil {
			t.Fatal(err)
		}
		tickets := count(t, d, `SELECT count(*) FROM support_tickets`)
		mails := count(t, d, `SELECT count(*) FROM outbox`)
		bounce := "From: MAILER-DAEMON@mx.customer.example\r\nTo: " + supportAddr + "\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
			"--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n" +
			"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\nFinal-Recipient: rfc822; carol@customer.example\r\nAction: failed\r\nStatus: 5.2.2\r\n" +
			"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <" + reply.MailID + ">\r\nSubject: Re: Help\r\n--B--\r\n"
		for _, c := range []struct {
			name, sender string
			raw          []byte
			kind         support.OutcomeKind
			reason       string
		}{
			{"bounce of our reply", "", []byte(bounce), support.Ignored, support.ReasonReport},
			{"null sender", "", mailFrom("postmaster@customer.example", "hello", "x"), support.Ignored, support.ReasonReport},
			{"vacation", "carol@customer.example", mailFrom("carol@customer.example", "Out of office", "I am away", "Auto-Submitted: auto-replied"), support.Ignored, support.ReasonAutoReply},
			{"list mail", "list@lists.example", mailFrom("news@lists.example", "Digest", "news", "Precedence: bulk"), support.Ignored, support.ReasonAutoReply},
			{"our own address", "support@milterworks.example", mailFrom("Support <support@milterworks.example>", "Re: Help", "looped"), support.Ignored, support.ReasonOwn},
			{"our own message back", "x@y.example", mailFrom("relay@y.example", "Re: Help", "looped", "Message-ID: <"+reply.MailID+">"), support.Ignored, support.ReasonOwn},
			{"spam", "spammer@spam.example", mailFrom("spammer@spam.example", "Cheap", "buy", "X-Spam-Flag: YES"), support.Parked, ""},
			{"unreadable", "x@y.example", []byte("this is not a mail at all\x00\x01"), support.Parked, ""},
		} {
			out := receive(t, desk, c.sender, supportAddr, c.raw)
			if out.Kind != c.kind || (c.reason != "" && out.Reason != c.reason) || out.ParkedID == 0 {
				t.Errorf("%s: %+v", c.name, out)
			}
			// Nothing is lost: the raw message is kept as it came.
			_, raw, err := desk.ParkedRaw(ctx, out.ParkedID)
			if err != nil || string(raw) != string(c.raw) {
				t.Errorf("%s: raw kept %q, %v", c.name, raw, err)
			}
		}
		if got := count(t, d, `SELECT count(*) FROM support_tickets`); got != tickets {
			t.Fatalf("noise opened %d tickets", got-tickets)
		}
		if got := count(t, d, `SELECT count(*) FROM outbox`); got != mails {
			t.Fatalf("noise was answered: %d mails queued", got-mails)
		}
		// The bounce is noted on the ticket whose reply it reports.
		ms := thread(t, desk, first.TicketID)
		if last := ms[len(ms)-1]; last.Author != support.BySystem || !last.Internal || !strings.Contains(last.Text, "delivery report") {
			t.Fatalf("no note of the bounce: %+v", last)
		}
		if ticket(t, desk, first.TicketID).State != support.Waiting {
			t.Fatal("a bounce changed the ticket's state")
		}
	})
}

func TestDuplicateDeliveryAndFlood(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, _ := newDesk(t, d)
		raw := mailFrom("dave@customer.example", "Twice", "same message", "Message-ID: <d1@customer.example>")
		a := receive(t, desk, "dave@customer.example", supportAddr, raw)
		b := receive(t, desk, "dave@customer.example", supportAddr, raw)
		if a.Kind != support.Opened || b.Kind != support.Duplicate || b.TicketID != a.TicketID {
			t.Fatalf("redelivery: %+v then %+v", a, b)
		}
		if n := count(t, d, `SELECT count(*) FROM support_messages`); n != 1 {
			t.Fatalf("%d messages after a redelivery", n)
		}
		// A flood from one sender: beyond the limit, parked (not refused, not lost).
		old := support.FloodLimit
		support.FloodLimit.Max = 3
		t.Cleanup(func() { support.FloodLimit = old })
		var kinds []support.OutcomeKind
		for i := range 5 {
			out := receive(t, desk, "loop@robot.example", supportAddr, mailFrom("loop@robot.example", "Alert", "disk full", "Message-ID: <l"+string(rune('a'+i))+"@robot.example>"))
			kinds = append(kinds, out.Kind)
		}
		// Message 1 opens a ticket, 2 and 3 open more (no threading headers), 4 and 5 are parked.
		if kinds[3] != support.Parked || kinds[4] != support.Parked || kinds[2] == support.Parked {
			t.Fatalf("flood outcomes %v", kinds)
		}
	})
}

func TestRestrictedCustomerKeptNotProcessed(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, _ := newDesk(t, d)
		ctx := context.Background()
		c := newCustomer(t, d, "erin@customer.example")
		out := receive(t, desk, "erin@customer.example", supportAddr, mailFrom("erin@customer.example", "Q", "question", "Message-ID: <r1@customer.example>"))
		if tk := ticket(t, desk, out.TicketID); tk.CustomerID != c.ID {
			t.Fatalf("ticket not linked to the customer: %+v", tk)
		}
		restrict(t, d, c.ID, true)
		mails := count(t, d, `SELECT count(*) FROM outbox`)
		if _, err := desk.Reply(ctx, out.TicketID, 0, support.StaffReply{Text: "answer"}, by); !errors.Is(err, support.ErrRestricted) {
			t.Fatalf("reply to a restricted customer: %v", err)
		}
		if err := desk.SetState(ctx, out.TicketID, support.Solved, by); !errors.Is(err, support.ErrRestricted) {
			t.Fatalf("state change: %v", err)
		}
		if _, err := desk.CustomerMessage(ctx, out.TicketID, c.ID, "more", nil); !errors.Is(err, support.ErrRestricted) {
			t.Fatalf("customer message: %v", err)
		}
		// New mail from them is kept, parked, and opens nothing.
		in := receive(t, desk, "erin@customer.example", supportAddr, mailFrom("erin@customer.example", "Re: Q", "more", "Message-ID: <r2@customer.example>"))
		if in.Kind != support.Parked || in.Reason != support.ReasonRestricted {
			t.Fatalf("mail from a restricted customer: %+v", in)
		}
		if got := count(t, d, `SELECT count(*) FROM outbox`); got != mails {
			t.Fatal("mail was sent to a restricted customer")
		}
		// Closing stops work and is allowed.
		if err := desk.SetState(ctx, out.TicketID, support.Closed, by); err != nil {
			t.Fatal(err)
		}
		restrict(t, d, c.ID, false)
	})
}

func TestMergeMovesThreadAndMail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, clk := newDesk(t, d)
		ctx := context.Background()
		a := receive(t, desk, "fay@customer.example", supportAddr, mailFrom("fay@customer.example", "Crash", "one", "Message-ID: <y1@customer.example>"))
		clk.Advance(time.Minute)
		b := receive(t, desk, "fay@customer.example", supportAddr, mailFrom("fay@customer.example", "Crash again", "two", "Message-ID: <y2@customer.example>"))
		other := receive(t, desk, "gus@customer.example", supportAddr, mailFrom("gus@customer.example", "Other", "three", "Message-ID: <y3@customer.example>"))
		if err := desk.Merge(ctx, b.TicketID, other.TicketID, by); err == nil {
			t.Fatal("merged another customer's ticket")
		}
		if err := desk.Merge(ctx, b.TicketID, b.TicketID, by); err == nil {
			t.Fatal("merged a ticket into itself")
		}
		if err := desk.Merge(ctx, b.TicketID, a.TicketID, by); err != nil {
			t.Fatal(err)
		}
		src := ticket(t, desk, b.TicketID)
		if src.MergedInto != a.TicketID || src.State != support.Closed {
			t.Fatalf("merged ticket %+v", src)
		}
		ms := thread(t, desk, a.TicketID)
		if len(ms) != 3 || ms[1].Text != "two" {
			t.Fatalf("merged thread %+v", ms)
		}
		if err := desk.Merge(ctx, b.TicketID, a.TicketID, by); !errors.Is(err, support.ErrMerged) {
			t.Fatalf("second merge: %v", err)
		}
		// Mail to the merged ticket's token lands in the ticket it went into.
		out := receive(t, desk, "fay@customer.example", "support+"+src.Token+"@milterworks.example", mailFrom("fay@customer.example", "Re: Crash again", "four", "Message-ID: <y4@customer.example>"))
		if out.Kind != support.Added || out.TicketID != a.TicketID {
			t.Fatalf("mail to the merged ticket: %+v", out)
		}
	})
}

func TestWebFormConfirmation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, clk := newDesk(t, d)
		ctx := context.Background()
		n := support.NewTicket{Email: "Hal@Visitor.example", Name: "Hal", Subject: "Pre-sales", Text: "Does it do DKIM?", Channel: support.Web}
		if err := desk.Submit(ctx, n, "203.0.113.0/24"); err != nil {
			t.Fatal(err)
		}
		if got := count(t, d, `SELECT count(*) FROM support_tickets`); got != 0 {
			t.Fatal("a ticket opened before the address was confirmed")
		}
		mails := outbox(t, d, "support-confirm")
		if len(mails) != 1 || mails[0].To != "hal@visitor.example" {
			t.Fatalf("confirmation mail %+v", mails)
		}
		i := strings.Index(mails[0].Text, "/support/confirm?t=")
		token := strings.Fields(mails[0].Text[i+len("/support/confirm?t="):])[0]
		tk, err := desk.Confirm(ctx, token)
		if err != nil || tk.Email != "hal@visitor.example" || tk.Channel != support.Web || tk.Subject != "Pre-sales" {
			t.Fatalf("confirm: %+v, %v", tk, err)
		}
		again, err := desk.Confirm(ctx, token)
		if err != nil || again.ID != tk.ID {
			t.Fatalf("second confirm: %+v, %v", again, err)
		}
		if got := count(t, d, `SELECT count(*) FROM support_tickets`); got != 1 {
			t.Fatalf("%d tickets after two confirmations", got)
		}
		if _, err := desk.Confirm(ctx, "forged"); !errors.Is(err, support.ErrPendingUsed) {
			t.Fatalf("forged token: %v", err)
		}
		// An expired link opens nothing.
		if err := desk.Submit(ctx, n, "203.0.113.0/24"); err != nil {
			t.Fatal(err)
		}
		mails = outbox(t, d, "support-confirm")
		i = strings.Index(mails[1].Text, "/support/confirm?t=")
		token = strings.Fields(mails[1].Text[i+len("/support/confirm?t="):])[0]
		clk.Advance(support.PendingTTL + time.Minute)
		if _, err := desk.Confirm(ctx, token); !errors.Is(err, support.ErrPendingUsed) {
			t.Fatalf("expired token: %v", err)
		}
		// Bad input is refused and holds nothing.
		for _, bad := range []support.NewTicket{{Email: "not an address", Subject: "s", Text: "t"}, {Email: "a@b.example", Subject: "", Text: "t"},
			{Email: "a@b.example", Subject: "s", Text: "  \n "}} {
			if err := desk.Submit(ctx, bad, "203.0.113.0/24"); err == nil {
				t.Errorf("accepted %+v", bad)
			}
		}
		// The form sends at most PendingLimit mails per address a day.
		clk.Advance(time.Hour)
		var err2 error
		for range support.PendingLimit.Max + 1 {
			err2 = desk.Submit(ctx, support.NewTicket{Email: "ivy@visitor.example", Subject: "s", Text: "t", Channel: support.Web}, "198.51.100.0/24")
		}
		if !errors.Is(err2, support.ErrPendingLimited) {
			t.Fatalf("no limit: %v", err2)
		}
	})
}

func TestAssignOnlyToSupportStaff(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, _ := newDesk(t, d)
		ctx := context.Background()
		out := receive(t, desk, "pat@customer.example", supportAddr, mailFrom("pat@customer.example", "Q", "q"))
		agent := newStaff(t, d, "agent@milterworks.example")
		if err := desk.Assign(ctx, out.TicketID, agent.ID, by); err != nil {
			t.Fatal(err)
		}
		if tk := ticket(t, desk, out.TicketID); tk.AssigneeID != agent.ID || tk.AssigneeName != agent.Name {
			t.Fatalf("assigned %+v", tk)
		}
		if err := desk.Assign(ctx, out.TicketID, 9999, by); err == nil {
			t.Fatal("assigned to no one's account")
		}
		if err := desk.Assign(ctx, out.TicketID, 0, by); err != nil || ticket(t, desk, out.TicketID).AssigneeID != 0 {
			t.Fatalf("unassign: %v", err)
		}
		if err := desk.Assign(ctx, 424242, agent.ID, by); !errors.Is(err, support.ErrNotFound) {
			t.Fatalf("unknown ticket: %v", err)
		}
	})
}

// An extension that is not shaped like a reply token is the plain address:
// support+billing@ opens tickets like support@.
func TestPlusExtensionsThatAreNotTokens(t *testing.T) {
	d := testutil.SQLite(t)
	desk, _ := newDesk(t, d)
	out := receive(t, desk, "quinn@customer.example", "support+billing@milterworks.example", mailFrom("quinn@customer.example", "Invoice", "where is it"))
	if out.Kind != support.Opened {
		t.Fatalf("support+billing@: %+v", out)
	}
	if ok, err := desk.Accepts(context.Background(), "Support+Anything@MilterWorks.example"); err != nil || !ok {
		t.Fatalf("plus address not accepted: %v", err)
	}
	for _, rcpt := range []string{"sales@milterworks.example", "support@other.example", "supportx@milterworks.example", "x+support@milterworks.example"} {
		if ok, _ := desk.Accepts(context.Background(), rcpt); ok {
			t.Errorf("accepted %s", rcpt)
		}
	}
}

// A visitor's ticket becomes the customer's once they have an account.
func TestLinkCustomerAdoptsEarlierTickets(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		desk, _ := newDesk(t, d)
		ctx := context.Background()
		before := receive(t, desk, "uma@customer.example", supportAddr, mailFrom("uma@customer.example", "Pre-sales", "price?"))
		other := receive(t, desk, "vic@customer.example", supportAddr, mailFrom("vic@customer.example", "Other", "x"))
		c := newCustomer(t, d, "uma@customer.example")
		if err := desk.LinkCustomer(ctx, c.ID, "Uma@Customer.example"); err != nil {
			t.Fatal(err)
		}
		if got := ticket(t, desk, before.TicketID).CustomerID; got != c.ID {
			t.Fatalf("the earlier ticket's customer: %d, want %d", got, c.ID)
		}
		if got := ticket(t, desk, other.TicketID).CustomerID; got != 0 {
			t.Fatalf("another address's ticket was linked to %d", got)
		}
		p, err := desk.List(ctx, support.Filter{CustomerID: c.ID, State: "all"})
		if err != nil || len(p.Tickets) != 1 {
			t.Fatalf("the customer's tickets: %+v, %v", p, err)
		}
	})
}
