package mail_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// start is the time every test begins at.
var start = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

const from = "Milterworks <shop@milterworks.example>"

// smtpTo returns a sender that delivers to sink without TLS (loopback).
func smtpTo(t *testing.T, sink *testutil.SMTPSink, clk clock.Clock) *mail.SMTPSender {
	t.Helper()
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone,
		Timeout: 5 * time.Second, SendTimeout: 10 * time.Second, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newWorker returns a worker named id on d that sends through sender.
func newWorker(d *db.DB, sender mail.Sender, clk clock.Clock, id string, logs *syncBuffer) *mail.Worker {
	var log *slog.Logger
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return &mail.Worker{DB: d, Sender: sender, Clock: clk, Log: log, From: from, ID: id, Lease: 5 * time.Minute, Batch: 10,
		SendTimeout: 10 * time.Second}
}

// message returns a valid transactional message to to.
func message(to string) mail.Message {
	return mail.Message{Kind: mail.Transactional, Template: "signin", To: to, Subject: "Your sign-in link",
		Text: "Open https://shop.example.com/x", HTML: "<p>Open <a href=\"https://shop.example.com/x\">the link</a></p>"}
}

// enqueue queues m in a transaction of its own and returns its id.
func enqueue(t *testing.T, d *db.DB, m mail.Message, now time.Time) int64 {
	t.Helper()
	var id int64
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		id, err = mail.Enqueue(context.Background(), tx, m, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// row is the worker's bookkeeping of one message.
type row struct {
	Attempts    int
	LastError   string
	SendAfter   time.Time
	LockedUntil sql.NullTime
	LockedBy    string
	SentAt      sql.NullTime
	Transport   string
	MessageID   string
}

func readRow(t *testing.T, d *db.DB, id int64) row {
	t.Helper()
	var r row
	err := d.QueryRowContext(context.Background(), `SELECT attempts, last_error, send_after, locked_until, locked_by, sent_at, transport, message_id
		FROM outbox WHERE id = $1`, id).Scan(&r.Attempts, &r.LastError, &r.SendAfter, &r.LockedUntil, &r.LockedBy, &r.SentAt, &r.Transport, &r.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func runOnce(t *testing.T, w *mail.Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
