package documents_test

import (
	"context"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/documents"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestConfirmationCarriesTheInvoice: the mails about an invoiced order (the
// invoice to pay by transfer, then the confirmation once paid; and a card
// payment's confirmation) reach the relay with the invoice's PDF attached,
// rendered at send time from the stored record: the same bytes as the
// download. A mail about anything else carries nothing.
func TestConfirmationCarriesTheInvoice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		clk := clock.NewFixed(t0.Add(time.Hour)) // when the last mail is queued
		sink := testutil.StartSMTP(t)
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: d, Sender: sender, Clock: clk, From: "shop@milterworks.example", ID: "test",
			Attacher: documents.MailAttacher{Source: f.src}}

		o, inv := f.byTransfer(t, f.once, domesticBuyer, domestic)
		if _, err := f.shop.MarkPaid(ctx, o.ID, "staff:1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		_, card := f.paidByCard(t, f.once, polishBuyer, reverseCharge)
		if sent, err := w.RunOnce(ctx); err != nil || sent != 3 {
			t.Fatalf("sent %d, %v", sent, err)
		}

		got := sink.WaitForTo("zeynep@example.com", 2, 10*time.Second)
		got = append(got, sink.WaitForTo("lukasz@example.com", 1, 10*time.Second)...)
		want := []struct {
			subject, number string
			text            []string
		}{
			{"invoice " + inv.Number, inv.Number, []string{"Invoice " + inv.Number, "Zeynep Öztürk", "Payment reference: " + inv.Number, "IBAN: DE89 3704 0044 0532 0130 00"}},
			{"thank you for your order", inv.Number, []string{"Invoice " + inv.Number, "Total (gross) €583.10"}},
			{"thank you for your order", card.Number, []string{"Invoice " + card.Number, "Łukasz Wójcik", documents.ReverseChargeNote}},
		}
		for i, m := range got {
			w := want[i]
			if m.ParseErr != nil || m.ContentType != "multipart/mixed" || len(m.Attachments) != 1 {
				t.Fatalf("mail %q: %s, %d attachments, %v", m.Subject, m.ContentType, len(m.Attachments), m.ParseErr)
			}
			a := m.Attachments[0]
			if a.Filename != "invoice-"+w.number+".pdf" || a.ContentType != "application/pdf" {
				t.Errorf("mail %q attaches %q (%s)", m.Subject, a.Filename, a.ContentType)
			}
			has(t, "the PDF attached to "+m.Subject, testutil.PDFText(t, a.Data), w.text)
			if string(a.Data) != string(f.pdf(t, w.number)) {
				t.Errorf("the PDF attached to %q differs from the download", m.Subject)
			}
			has(t, "the mail", m.Subject+" "+m.Text, []string{w.subject, "attached to this email as a PDF"})
		}

		// A message about something else goes without a file.
		files, err := documents.MailAttacher{Source: f.src}.Attachments(ctx, mail.Queued{Template: "signin"})
		if err != nil || len(files) != 0 {
			t.Fatalf("a sign-in mail gets %d files, %v", len(files), err)
		}
		if _, err := (documents.MailAttacher{Source: f.src}).Attachments(ctx, mail.Queued{Template: "order_confirmation", DedupKey: "order-paid:99999"}); err == nil {
			t.Fatal("a confirmation of an order without an invoice went without its file")
		}
	})
}
