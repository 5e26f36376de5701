package mail_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// attacherFunc is a mail.Attacher made of a function.
type attacherFunc func(context.Context, mail.Queued) ([]mail.Attachment, error)

func (f attacherFunc) Attachments(ctx context.Context, m mail.Queued) ([]mail.Attachment, error) {
	return f(ctx, m)
}

// TestAttachmentsAtSendTime: the worker asks its Attacher for a message's
// files when it sends it, naming the message as queued; the relay receives
// multipart/mixed with the text, the HTML and the file. An Attacher that
// fails fails the attempt, which is retried: the message never goes
// without its file.
func TestAttachmentsAtSendTime(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(start)
		sink := testutil.StartSMTP(t)
		file := []byte("%PDF-1.3 not really\x00\xff binary")
		var asked []mail.Queued
		fail := true
		w := newWorker(d, smtpTo(t, sink, clk), clk, "w1", nil)
		w.Attacher = attacherFunc(func(_ context.Context, q mail.Queued) ([]mail.Attachment, error) {
			asked = append(asked, q)
			if q.Template != "order_confirmation" {
				return nil, nil
			}
			if fail {
				return nil, errors.New("the invoice cannot be read")
			}
			return []mail.Attachment{{Filename: "invoice-2026-000001.pdf", ContentType: "application/pdf", Data: file}}, nil
		})
		m := message("bea@example.com")
		m.Template, m.DedupKey = "order_confirmation", "order-paid:42"
		id := enqueue(t, d, m, start)
		plain := enqueue(t, d, message("eve@example.com"), start)

		if sent, err := w.RunOnce(ctx); err != nil || sent != 1 {
			t.Fatalf("first run: sent %d, %v", sent, err)
		}
		if r := readRow(t, d, id); r.SentAt.Valid || r.Attempts != 1 || !strings.Contains(r.LastError, "attachment: the invoice cannot be read") {
			t.Fatalf("a message whose file failed: %+v", r)
		}
		if r := readRow(t, d, plain); !r.SentAt.Valid {
			t.Fatalf("the message without a file was held up: %+v", r)
		}
		if len(asked) != 2 || asked[0].ID != id || asked[0].DedupKey != "order-paid:42" || asked[0].Template != "order_confirmation" {
			t.Fatalf("the attacher was asked %+v", asked)
		}

		fail = false
		clk.Advance(mail.Backoff(1))
		if sent, err := w.RunOnce(ctx); err != nil || sent != 1 {
			t.Fatalf("retry: sent %d, %v", sent, err)
		}
		got := sink.WaitForTo("bea@example.com", 1, 5*time.Second)[0]
		if got.ParseErr != nil || got.ContentType != "multipart/mixed" || got.Text == "" || got.HTML == "" {
			t.Fatalf("received %s (%v): text %q, html %q", got.ContentType, got.ParseErr, got.Text, got.HTML)
		}
		if len(got.Attachments) != 1 {
			t.Fatalf("attachments: %+v", got.Attachments)
		}
		if a := got.Attachments[0]; a.Filename != "invoice-2026-000001.pdf" || a.ContentType != "application/pdf" || !bytes.Equal(a.Data, file) {
			t.Fatalf("attachment %q %q %q", a.Filename, a.ContentType, a.Data)
		}
		if other := sink.WaitForTo("eve@example.com", 1, 5*time.Second)[0]; len(other.Attachments) != 0 || other.ContentType == "multipart/mixed" {
			t.Fatalf("a message without a file came as %s with %d files", other.ContentType, len(other.Attachments))
		}
	})
}

// TestUnsendableAttachmentIsPermanent: a file name that could change the
// headers, or a media type that is not one, is refused before sending.
func TestUnsendableAttachmentIsPermanent(t *testing.T) {
	sink := testutil.StartSMTP(t)
	s := smtpTo(t, sink, clock.NewFixed(start))
	for _, a := range []mail.Attachment{
		{Filename: "", ContentType: "application/pdf"},
		{Filename: "a\r\nBcc: x@example.com", ContentType: "application/pdf"},
		{Filename: `x".pdf`, ContentType: "application/pdf"},
		{Filename: "../x.pdf", ContentType: "application/pdf"},
		{Filename: "x.pdf", ContentType: "application/pdf; name=y"},
		{Filename: "x.pdf", ContentType: "pdf"},
	} {
		m := outgoing()
		m.Attachments = []mail.Attachment{a}
		if err := s.Send(context.Background(), m); !errors.Is(err, mail.ErrPermanent) {
			t.Errorf("attachment %+v: %v", a, err)
		}
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d messages went out", n)
	}
}
