package mail_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// failingAttacher fails every attachment, as a PDF that cannot be rendered
// would.
type failingAttacher struct{}

func (failingAttacher) Attachments(context.Context, mail.Queued) ([]mail.Attachment, error) {
	return nil, errors.New("render failed")
}

// TestOnFailureKinds: each failed attempt against a real relay is reported
// to OnFailure with its kind, from the error the SMTP sender gives: a
// relay that is not there is "connection", a 451 "refused", a 550
// "permanent", a file that cannot be made "attachment", a relay slower
// than SendTimeout "timeout"; a delivery that succeeds reports nothing.
func TestOnFailureKinds(t *testing.T) {
	d := testutil.SQLite(t)
	sink := testutil.StartSMTP(t)
	clk := clock.NewFixed(start)
	// A port nothing listens on: taken, then released.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	nowhere, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "127.0.0.1", Port: closed, TLS: mail.TLSNone, Timeout: 5 * time.Second, SendTimeout: 10 * time.Second, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	// A relay that takes longer than the delivery may.
	slowSink := testutil.StartSMTP(t)
	stall := make(chan struct{})
	defer close(stall)
	slowSink.OnData(func(testutil.Received) error { <-stall; return nil })
	slow, err := mail.NewSMTPSender(mail.SMTPConfig{Host: slowSink.Host(), Port: slowSink.Port(), TLS: mail.TLSNone, Timeout: 5 * time.Second, SendTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		sender mail.Sender
		refuse int
		attach mail.Attacher
		want   []string
	}{
		{"no relay", nowhere, 0, nil, []string{mail.FailConnection}},
		{"451", smtpTo(t, sink, clk), 451, nil, []string{mail.FailRefused}},
		{"550", smtpTo(t, sink, clk), 550, nil, []string{mail.FailPermanent}},
		{"attachment", smtpTo(t, sink, clk), 0, failingAttacher{}, []string{mail.FailAttachment}},
		{"timeout", slow, 0, nil, []string{mail.FailTimeout}},
		{"sent", smtpTo(t, sink, clk), 0, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink.SetRefuse(tc.refuse)
			enqueue(t, d, message("bob@example.com"), clk.Now())
			w := newWorker(d, tc.sender, clk, "w-"+tc.name, nil)
			w.Attacher = tc.attach
			var got []string
			w.OnFailure = func(kind string) { got = append(got, kind) }
			if _, err := w.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("OnFailure got %v, want %v", got, tc.want)
			}
			for _, k := range got {
				if !slices.Contains(mail.FailureKinds, k) {
					t.Errorf("kind %q is not in FailureKinds", k)
				}
			}
			// What failed is not retried within this test: give it up.
			if _, err := d.ExecContext(context.Background(), `UPDATE outbox SET attempts = $1 WHERE sent_at IS NULL`, mail.MaxAttempts); err != nil {
				t.Fatal(err)
			}
		})
	}
}
