package support_test

import (
	"context"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/inbound"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
)

// listen serves mailboxes over LMTP (lmtp) or SMTP on loopback.
func listen(t testing.TB, lmtp bool, mbs ...inbound.Mailbox) string {
	t.Helper()
	s := inbound.New(inbound.Config{Mailboxes: mbs, LMTP: lmtp})
	ln, err := inbound.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// smtpSend sends raw with a real SMTP client and returns the code of a
// refusal, 0 when accepted.
func smtpSend(t *testing.T, addr, from, to string, raw []byte) int {
	t.Helper()
	err := smtp.SendMail(addr, nil, from, []string{to}, raw)
	var te *textproto.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &te):
		return te.Code
	}
	t.Fatalf("send: %v", err)
	return -1
}

// TestPostfixToTheDeskAndBack: the vendor's Postfix (Debian's, configured
// as docs/inbound-mail.md says) hands the support address to the desk over
// LMTP; the ticket opens; a staff reply reaches a real SMTP server with its
// threading headers; the customer's answer to the reply address goes back
// through Postfix into the same ticket. Unknown recipients are refused by
// our listener and bounced by Postfix, with nothing stored.
func TestPostfixToTheDeskAndBack(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		desk, clk := newDesk(t, d)
		lmtp := listen(t, true, desk.Mailbox())
		pf := testutil.StartPostfix(t, testutil.PostfixOptions{Domain: "milterworks.example", LMTPAddr: lmtp,
			Routes: map[string]string{supportAddr: "lmtp", "sales@milterworks.example": "lmtp"}})
		first := mailFrom("Rita Relay <rita@customer.example>", "Milter refuses TLS", "smtpd says: milter-reject 4.7.1", "Message-ID: <rita-1@customer.example>")
		if code := smtpSend(t, pf.SMTPAddr(), "rita@customer.example", supportAddr, first); code != 0 {
			t.Fatalf("postfix refused: %d", code)
		}
		pf.WaitLog(t, 30*time.Second, "to=<"+supportAddr+">", "relay=127.0.0.1", "status=sent")
		p, err := desk.List(ctx, support.Filter{Query: "rita@customer.example"})
		if err != nil || len(p.Tickets) != 1 {
			t.Fatalf("tickets after delivery: %+v, %v", p, err)
		}
		tk := p.Tickets[0]

		sink := testutil.StartSMTP(t)
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, Timeout: 5 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: d, Sender: sender, From: "Milterworks Support <" + supportAddr + ">", ID: "t", Lease: time.Minute, Batch: 10, Clock: clk}
		r, err := desk.Reply(ctx, tk.ID, 0, support.StaffReply{Text: "Which TLS library does the milter use?"}, by)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		var reply testutil.Received
		for _, m := range sink.WaitForTo("rita@customer.example", 2, 10*time.Second) {
			if strings.Contains(m.Text, "TLS library") {
				reply = m
			}
		}
		if reply.MessageID != "<"+r.MailID+">" || reply.Header.Get("In-Reply-To") != "<rita-1@customer.example>" {
			t.Fatalf("the reply's headers: %v", reply.Header)
		}
		replyTo := strings.Trim(reply.Header.Get("Reply-To"), "<>")
		// The customer's client answers to Reply-To, in the thread.
		answer := mailFrom("Rita Relay <rita@customer.example>", "Re: "+reply.Subject, "OpenSSL 3.0.\n\n> Which TLS library",
			"Message-ID: <rita-2@customer.example>", "In-Reply-To: "+reply.MessageID, "References: <rita-1@customer.example> "+reply.MessageID)
		if code := smtpSend(t, pf.SMTPAddr(), "rita@customer.example", replyTo, answer); code != 0 {
			t.Fatalf("postfix refused the answer: %d", code)
		}
		pf.WaitLog(t, 30*time.Second, "to=<"+replyTo+">", "status=sent")
		ms := thread(t, desk, tk.ID)
		if len(ms) != 3 || ms[2].Author != support.ByCustomer || !strings.Contains(ms[2].Text, "OpenSSL 3.0") {
			t.Fatalf("thread after the answer: %+v", ms)
		}
		if got := ticket(t, desk, tk.ID).State; got != support.Open {
			t.Fatalf("state after the answer: %s", got)
		}
		// An address of our domain that no mailbox takes: our 550, Postfix's bounce, nothing stored.
		tickets := count(t, d, `SELECT count(*) FROM support_tickets`)
		if code := smtpSend(t, pf.SMTPAddr(), "rita@customer.example", "sales@milterworks.example", mailFrom("rita@customer.example", "x", "y")); code != 0 {
			t.Fatalf("postfix refused at RCPT: %d", code)
		}
		pf.WaitLog(t, 30*time.Second, "to=<sales@milterworks.example>", "status=bounced", "5.1.1")
		if got := count(t, d, `SELECT count(*) FROM support_tickets`) + count(t, d, `SELECT count(*) FROM support_parked`); got != tickets {
			t.Fatal("mail to an unknown recipient was stored")
		}
	})
}

// TestSMTPListenerTakesSupportMail: a real SMTP client delivers to the
// SMTP listener on a private address: accepted, refused for unknown
// recipients, and refused with 552 above the desk's size limit.
func TestSMTPListenerTakesSupportMail(t *testing.T) {
	d := testutil.SQLite(t)
	desk, _ := newDesk(t, d)
	desk.MaxBytes = 64 << 10
	addr := listen(t, false, desk.Mailbox())
	if code := smtpSend(t, addr, "sam@customer.example", supportAddr, mailFrom("sam@customer.example", "Hello", "over SMTP")); code != 0 {
		t.Fatalf("refused: %d", code)
	}
	if n := count(t, d, `SELECT count(*) FROM support_tickets`); n != 1 {
		t.Fatalf("%d tickets", n)
	}
	if code := smtpSend(t, addr, "sam@customer.example", "nobody@milterworks.example", mailFrom("sam@customer.example", "x", "y")); code != 550 {
		t.Fatalf("unknown recipient: %d, want 550", code)
	}
	big := mailFrom("sam@customer.example", "Big", strings.Repeat("log line of a very chatty milter\n", 4000))
	if code := smtpSend(t, addr, "sam@customer.example", supportAddr, big); code != 552 {
		t.Fatalf("too big: %d, want 552", code)
	}
	if n := count(t, d, `SELECT count(*) FROM support_tickets`); n != 1 {
		t.Fatalf("%d tickets after refusals", n)
	}
}
