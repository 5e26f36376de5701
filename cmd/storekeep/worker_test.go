package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

func queueTestMail(t *testing.T, d *db.DB) int64 {
	t.Helper()
	ctx := context.Background()
	m, err := mail.Compose("signin", "bob@example.com", mail.SignInData{SiteName: "Shop", Link: "https://shop.example.com/s", ExpiresMinutes: 15})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = d.Tx(ctx, func(tx *sql.Tx) error { id, err = mail.Enqueue(ctx, tx, m, time.Now()); return err })
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestStartMailWorker(t *testing.T) {
	ctx := context.Background()

	// With a relay, mail goes out through it.
	d := testutil.SQLite(t)
	sink := testutil.StartSMTP(t)
	queueTestMail(t, d)
	cfg := &config.Config{SMTPHost: sink.Host(), SMTPPort: sink.Port(), SMTPFrom: "Shop <shop@shop.example>"}
	var logs bytes.Buffer
	_, stop, err := startMailWorker(ctx, cfg, d, slog.New(slog.NewTextHandler(&logs, nil)), true)
	if err != nil {
		t.Fatal(err)
	}
	got := sink.WaitFor(1, 10*time.Second)
	stop()
	stop() // twice is harmless
	// The envelope sender is the message's VERP return path; From stays.
	if !strings.HasPrefix(got[0].From, "bounces+") || !strings.HasSuffix(got[0].From, "@shop.example") ||
		!strings.Contains(got[0].Header.Get("From"), "shop@shop.example") || !strings.HasSuffix(got[0].MessageID, "@shop.example>") {
		t.Fatalf("%+v", got[0])
	}

	// The demo without a relay marks mail sent for the viewer.
	d = testutil.SQLite(t)
	id := queueTestMail(t, d)
	sent := make(chan struct{}, 1)
	_, stop, err = startMailWorker(ctx, &config.Config{SMTPPort: 587}, d, slog.New(signalHandler{"mail sent", sent}), true)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the demo worker sent nothing")
	}
	stop()
	e, err := mail.Get(ctx, d, id, time.Now())
	if err != nil || e.State != mail.StateSent || e.Transport != "dev" {
		t.Fatalf("%+v %v", e, err)
	}

	// A site without a relay leaves mail queued and says so.
	d = testutil.SQLite(t)
	id = queueTestMail(t, d)
	logs.Reset()
	_, stop, err = startMailWorker(ctx, &config.Config{SMTPPort: 587}, d, slog.New(slog.NewTextHandler(&logs, nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if e, _ := mail.Get(ctx, d, id, time.Now()); e.State != mail.StateQueued || !strings.Contains(logs.String(), "stay queued") {
		t.Fatalf("%+v\n%s", e, logs.String())
	}

	// A malformed sender address is refused at start-up.
	if _, _, err := startMailWorker(ctx, &config.Config{SMTPHost: "127.0.0.1", SMTPPort: 25, SMTPFrom: "not an address"}, d, slog.New(slog.DiscardHandler), false); err == nil {
		t.Fatal("bad --smtp-from accepted")
	}
}

// signalHandler signals on c when a log record with message msg arrives.
type signalHandler struct {
	msg string
	c   chan struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h signalHandler) WithGroup(string) slog.Handler            { return h }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.c <- struct{}{}:
		default:
		}
	}
	return nil
}
