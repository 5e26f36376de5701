package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/inbound"
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
	m := regexp.MustCompile(`protocol=SMTP addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(logs.String())
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
	for _, c := range []struct {
		cfg  config.Config
		want string
	}{
		{config.Config{InboundSMTPAddr: "localhost"}, `--inbound-smtp-addr "localhost" is not host:port: use e.g. 127.0.0.1:2525`},
		{config.Config{InboundSMTPAddr: "/run/x.sock"}, "for a Unix socket use --inbound-lmtp-addr"},
		{config.Config{InboundLMTPAddr: "localhost"}, "or a socket path such as /run/storekeep/lmtp.sock"},
		{config.Config{InboundLMTPAddr: "unix:run/x.sock"}, "needs an absolute path"},
	} {
		if _, err := startInbound(ctx, &c.cfg, d, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v", c.cfg, err)
		}
	}
}

// TestStartInboundBoth: SMTP on a port and LMTP on a socket answer with
// the privacy mailbox and an extra one, and both stop.
func TestStartInboundBoth(t *testing.T) {
	ctx := context.Background()
	d := testutil.SQLite(t)
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	var logs bytes.Buffer
	extra := &recordingMailbox{}
	stop, err := startInbound(ctx, &config.Config{InboundSMTPAddr: "127.0.0.1:0", InboundLMTPAddr: sock}, d, slog.New(slog.NewTextHandler(&logs, nil)), extra)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if !strings.Contains(logs.String(), "protocol=LMTP addr="+sock+" mailboxes=privacy,support") {
		t.Fatalf("log:\n%s", logs.String())
	}
	m := regexp.MustCompile(`protocol=SMTP addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no address logged:\n%s", logs.String())
	}
	msg := "From: ann@example.com\r\nSubject: help\r\n\r\nhello\r\n"
	if err := smtp.SendMail(m[1], nil, "ann@example.com", []string{"support@shop.example"}, []byte(msg)); err != nil {
		t.Fatalf("smtp: %v", err)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c := gosmtp.NewClientLMTP(conn)
	if err := c.SendMail("ann@example.com", []string{"support@shop.example"}, strings.NewReader(msg)); err != nil {
		t.Fatalf("lmtp: %v", err)
	}
	_ = c.Close()
	if got := extra.vias(); strings.Join(got, ",") != "smtp,lmtp" {
		t.Fatalf("delivered via %v", got)
	}
	stop()
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left: %v", err)
	}
	if c, err := net.Dial("tcp", m[1]); err == nil {
		c.Close()
		t.Fatal("SMTP still listening after stop")
	}
}

// recordingMailbox takes support@ and records how each message came.
type recordingMailbox struct {
	mu  sync.Mutex
	via []string
}

func (r *recordingMailbox) Name() string    { return "support" }
func (r *recordingMailbox) MaxBytes() int64 { return 1 << 20 }
func (r *recordingMailbox) Accepts(_ context.Context, rcpt string) (bool, error) {
	return strings.HasPrefix(rcpt, "support@"), nil
}
func (r *recordingMailbox) Deliver(_ context.Context, env inbound.Envelope, _ []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.via = append(r.via, env.Via)
	return nil
}
func (r *recordingMailbox) vias() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.via...)
}
