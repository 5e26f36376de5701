package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

func outgoing() mail.Outgoing {
	return mail.Outgoing{MessageID: "0123abcd", From: from, To: "bob@example.com", Subject: "Grüße & hello",
		Text: "Hello Bob", HTML: "<p>Hello Bob</p>", Kind: mail.Transactional}
}

func TestSMTPSenderConfig(t *testing.T) {
	if _, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "smtp.example.com", TLS: mail.TLSNone}); err == nil {
		t.Error("plain SMTP to a remote relay accepted")
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "[::1]"} {
		if _, err := mail.NewSMTPSender(mail.SMTPConfig{Host: host, TLS: mail.TLSNone}); err != nil {
			t.Errorf("plain SMTP to %s refused: %v", host, err)
		}
	}
	if _, err := mail.NewSMTPSender(mail.SMTPConfig{}); err == nil {
		t.Error("no host accepted")
	}
	if _, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "smtp.example.com", Port: 70000}); err == nil {
		t.Error("bad port accepted")
	}
	if s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "smtp.example.com"}); err != nil || s.Transport() != "smtp" {
		t.Errorf("default config: %v", err)
	}
}

func TestSMTPSenderTLS(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFixed(start)

	// Mandatory TLS refuses a relay without STARTTLS, permanently for this
	// attempt but not as a 5xx: the message is retried later.
	plain := testutil.StartSMTP(t)
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: plain.Host(), Port: plain.Port(), TLS: mail.TLSMandatory, Clock: clk, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, outgoing()); err == nil || errors.Is(err, mail.ErrPermanent) {
		t.Fatalf("mandatory TLS without STARTTLS: %v", err)
	}
	if len(plain.Messages()) != 0 {
		t.Fatal("sent in plain text despite mandatory TLS")
	}

	// With STARTTLS and a certificate the sender trusts, mail goes out
	// encrypted, under both policies, and authenticates over it.
	secure := testutil.StartSMTP(t, testutil.SMTPWithTLS(), testutil.SMTPWithAuth("shop", "s3cret"))
	for _, policy := range []mail.TLSPolicy{mail.TLSMandatory, mail.TLSOpportunistic} {
		s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: secure.Host(), Port: secure.Port(), TLS: policy, Clock: clk,
			Username: "shop", Password: "s3cret", TLSConfig: &tls.Config{RootCAs: secure.CertPool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, outgoing()); err != nil {
			t.Fatalf("%s: %v", policy, err)
		}
	}
	got := secure.Messages()
	if len(got) != 2 || !got[0].TLS || !got[1].TLS {
		t.Fatalf("%d messages; TLS %v", len(got), got)
	}
	if got[0].Subject != "Grüße & hello" {
		t.Errorf("subject %q", got[0].Subject)
	}

	// A wrong password is the relay's 5xx: permanent.
	s, err = mail.NewSMTPSender(mail.SMTPConfig{Host: secure.Host(), Port: secure.Port(), Clock: clk,
		Username: "shop", Password: "wrong", TLSConfig: &tls.Config{RootCAs: secure.CertPool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, outgoing()); err == nil {
		t.Fatal("sent with a wrong password")
	}

	// An untrusted certificate is not accepted, even opportunistically:
	// STARTTLS offered and failing is an error, not a fall-back to plain.
	s, err = mail.NewSMTPSender(mail.SMTPConfig{Host: secure.Host(), Port: secure.Port(), Clock: clk, Username: "shop", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, outgoing()); err == nil {
		t.Fatal("sent to a relay with an untrusted certificate")
	}
	if len(secure.Messages()) != 2 {
		t.Fatal("a message got through")
	}
}

func TestSMTPSenderRefusesHeaderInjection(t *testing.T) {
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "localhost", TLS: mail.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(m *mail.Outgoing){
		"subject":       func(m *mail.Outgoing) { m.Subject = "Hi\r\nBcc: eve@example.com" },
		"header value":  func(m *mail.Outgoing) { m.Headers = map[string]string{"X-Note": "a\r\nBcc: eve@example.com"} },
		"header name":   func(m *mail.Outgoing) { m.Headers = map[string]string{"X Note:": "a"} },
		"reserved":      func(m *mail.Outgoing) { m.Headers = map[string]string{"bcc": "eve@example.com"} },
		"recipient":     func(m *mail.Outgoing) { m.To = "bob@example.com\r\nBcc: eve@example.com" },
		"from":          func(m *mail.Outgoing) { m.From = "not an address" },
		"message id":    func(m *mail.Outgoing) { m.MessageID = "a>\r\nBcc: <b" },
		"no message id": func(m *mail.Outgoing) { m.MessageID = "" },
		"unsubscribe":   func(m *mail.Outgoing) { m.UnsubscribeURL = "https://x.example/>\r\nBcc: eve@example.com" },
	}
	for name, change := range bad {
		m := outgoing()
		change(&m)
		if _, err := s.Build(m); !errors.Is(err, mail.ErrPermanent) {
			t.Errorf("%s: %v, want a permanent refusal", name, err)
		}
	}
	m := outgoing()
	m.Kind, m.UnsubscribeURL = mail.Bulk, "mailto:unsubscribe@shop.example.com"
	raw, err := s.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"List-Unsubscribe: <mailto:unsubscribe@shop.example.com>", "Precedence: bulk", "Message-ID: <0123abcd@milterworks.example>"} {
		if !strings.Contains(raw, want) {
			t.Errorf("message lacks %q:\n%s", want, raw)
		}
	}
	if strings.Contains(raw, "List-Unsubscribe-Post") {
		t.Error("one-click offered for a mailto: address")
	}
}
