package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/support"
)

// SeedSupport fills the support desk with what a vendor's desk holds on an
// ordinary day, unless it has tickets already: a customer's question by
// mail answered by Sam Support and answered back (open again), a
// visitor's pre-sales question from the web form (new, unanswered, so it
// goes overdue), a solved ticket, mail parked as spam, and canned replies.
// Everything goes through the desk as real mail would, dated in the past.
func SeedSupport(ctx context.Context, d *db.DB, now time.Time) (bool, error) {
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM support_tickets`).Scan(&n); err != nil {
		return false, fmt.Errorf("check demo tickets: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	var sam int64
	if err := d.QueryRowContext(ctx, `SELECT COALESCE((SELECT id FROM staff WHERE email = $1), 0)`, "support@quillfeather.example").Scan(&sam); err != nil {
		return false, err
	}
	clk := clock.NewFixed(now.Add(-72 * time.Hour))
	desk := &support.Desk{DB: d, Clock: clk}
	by := audit.Staff(sam)
	for _, c := range []support.Canned{
		{Title: "Ask for the mail log", Body: "Hello {name},\n\nthank you for the report. Could you send us the lines of /var/log/mail.log around the time it happened, and the output of `quillmilter --version`?\n\nBest regards"},
		{Title: "Key moved to a new server", Body: "Hello {name},\n\nyou can release the old server's seat on your account's license page (Machines), then activate the new one. Ticket {ticket} stays open until it works.\n\nBest regards"},
	} {
		if _, err := desk.SaveCanned(ctx, c, by); err != nil {
			return false, err
		}
	}
	recv := func(from, subject, body string, headers ...string) (support.Outcome, error) {
		raw := "From: " + from + "\r\nTo: " + Vendor.SupportEmail + "\r\nSubject: " + subject + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
		for _, h := range headers {
			raw += h + "\r\n"
		}
		return desk.Receive(ctx, support.Envelope{Sender: "bounce@example.com", Recipient: Vendor.SupportEmail, Via: "lmtp"}, []byte(raw+"\r\n"+body+"\r\n"))
	}
	ada, err := recv("Ada Autorenew <ada@example.com>", "Milter adds two seconds per message",
		"Hello,\r\n\r\nsince the update to 2.4 every message waits about two seconds in the milter. Postfix logs\r\n"+
			"\"milter-reject: END-OF-MESSAGE\" now and then. What can I check?\r\n\r\nAda", "Message-ID: <demo-ada-1@example.com>")
	if err != nil {
		return false, err
	}
	clk.Advance(3 * time.Hour)
	r, err := desk.Reply(ctx, ada.TicketID, sam, support.StaffReply{Text: "Hello Ada,\n\nthat sounds like the DNS lookups of the new reputation check. " +
		"Could you send the output of `quillmilter --version` and the lines of /var/log/mail.log around one such message?\n\nSam"}, by)
	if err != nil {
		return false, err
	}
	clk.Advance(20 * time.Hour)
	if _, err := recv("Ada Autorenew <ada@example.com>", "Re: Milter adds two seconds per message", "Version 2.4.0, and the log says \"dns timeout\" before each delay.\r\n\r\n> Could you send the output",
		"Message-ID: <demo-ada-2@example.com>", "In-Reply-To: <"+r.MailID+">", "References: <demo-ada-1@example.com> <"+r.MailID+">"); err != nil {
		return false, err
	}
	if _, err := desk.SetTags(ctx, ada.TicketID, []string{"performance", "dns"}, by); err != nil {
		return false, err
	}
	if sam != 0 {
		if err := desk.Assign(ctx, ada.TicketID, sam, by); err != nil {
			return false, err
		}
	}
	eli, err := recv("Eli Expiring <eli@example.com>", "Where do I find my invoice?", "Hello, I need the invoice for my order for our accounts.\r\n\r\nEli",
		"Message-ID: <demo-eli-1@example.com>")
	if err != nil {
		return false, err
	}
	if _, err := desk.Reply(ctx, eli.TicketID, sam, support.StaffReply{Text: "Hello Eli,\n\nit is on your account's Orders page, as a PDF.\n\nSam", Then: support.Solved}, by); err != nil {
		return false, err
	}
	clk.Advance(24 * time.Hour)
	if _, err := desk.Open(ctx, support.NewTicket{Email: "paul@visitor.example", Name: "Paul Prospect", Subject: "Does the milter sign ARC?",
		Text: "We run Postfix with OpenDKIM. Would your milter add ARC headers for our mailing lists?", Channel: support.Web, By: audit.System()}); err != nil {
		return false, err
	}
	if _, err := recv("Winner <promo@prizes.example>", "You have won", "Claim your prize now.", "X-Spam-Flag: YES", "X-Spam-Status: Yes, score=14.2"); err != nil {
		return false, err
	}
	// The replies and acknowledgements went out when they were written,
	// days ago: marked sent, so that starting the demo mails no one.
	if _, err := d.ExecContext(ctx, `UPDATE outbox SET sent_at = created_at, transport = 'demo' WHERE template LIKE 'support-%' AND sent_at IS NULL`); err != nil {
		return false, fmt.Errorf("mark the demo's support mail sent: %w", err)
	}
	return true, nil
}
