package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/smtp"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestStartInbound(t *testing.T) {
	ctx := context.Background()
	d := testutil.SQLite(t)

	// Off by default: nothing is started, nothing listens, nothing is logged.
	var logs bytes.Buffer
	stop, err := startInbound(ctx, &config.Config{}, d, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if logs.Len() != 0 {
		t.Fatalf("logged with the receiver off:\n%s", logs.String())
	}

	// On: an SMTP server answers on the address until stopped.
	logs.Reset()
	stop, err = startInbound(ctx, &config.Config{InboundSMTPAddr: "127.0.0.1:0"}, d, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no address logged:\n%s", logs.String())
	}
	c, err := smtp.Dial(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("test.example"); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	stop()
	stop() // twice is harmless
	if c, err := net.Dial("tcp", m[1]); err == nil {
		c.Close()
		t.Fatal("still listening after stop")
	}

	// The context ending stops it too.
	cctx, cancel := context.WithCancel(ctx)
	logs.Reset()
	stop, err = startInbound(cctx, &config.Config{InboundSMTPAddr: "127.0.0.1:0"}, d, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	stop() // waits for the stop that cancel began

	// A malformed address is refused with advice.
	if _, err := startInbound(ctx, &config.Config{InboundSMTPAddr: "localhost"}, d, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "--inbound-smtp-addr") {
		t.Fatalf("err = %v", err)
	}
}
