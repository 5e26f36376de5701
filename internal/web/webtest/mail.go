package webtest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/storekeep/storekeep/internal/mail"
)

// QueueMail puts a message for to in the outbox and returns its id.
func QueueMail(t testing.TB, s *Site, to, subject string) int64 {
	t.Helper()
	ctx := context.Background()
	m, err := mail.Compose("signin", to, mail.SignInData{SiteName: Vendor.Name, Link: "https://shop.example.com/signin?t=" + subject, ExpiresMinutes: 15})
	if err != nil {
		t.Fatal(err)
	}
	m.Subject = subject
	var id int64
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		id, err = mail.Enqueue(ctx, tx, m, s.Clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// SenderFunc is a mail.Sender made of a function.
type SenderFunc func(context.Context, mail.Outgoing) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m mail.Outgoing) error { return f(ctx, m) }

// RunWorker sends what is due with sender.
func RunWorker(t testing.TB, s *Site, sender mail.Sender) {
	t.Helper()
	w := &mail.Worker{DB: s.DB, Sender: sender, Clock: s.Clock, From: "shop@milterworks.example", ID: "test"}
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}
