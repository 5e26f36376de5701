package inbound_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/smtp"
	"net/textproto"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/inbound"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

// Debian's Postfix, configured as a vendor would (testutil.StartPostfix),
// delivers to our LMTP listener.

const domain = "milterworks.example"

// privacyBox is the privacy mailbox on d, with the privacy address set.
func privacyBox(t *testing.T, d *db.DB) inbound.Mailbox {
	t.Helper()
	start(t, d) // sets the settings; its SMTP server is not used here
	secret, err := settings.InstallSecret(t.Context(), d, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return inbound.PrivacyMailbox(inbound.PrivacyConfig{DB: d, Limiter: ratelimit.New(d, secret)})
}

// sendTo sends msg to Postfix's smtpd and returns the code of a refusal,
// 0 when accepted.
func sendTo(t *testing.T, addr, from, to, msg string) int {
	t.Helper()
	err := smtp.SendMail(addr, nil, from, []string{to}, []byte(strings.ReplaceAll(msg, "\n", "\r\n")))
	var te *textproto.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &te):
		return te.Code
	}
	t.Fatalf("send: %v", err)
	return -1
}

// TestPostfixDeliversOverLMTP: mail to the privacy address, sent to
// Postfix, reaches the store through our LMTP listener; on a Unix socket
// in Postfix's queue directory as well as on TCP.
func TestPostfixDeliversOverLMTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		var logs bytes.Buffer
		lmtp := serve(t, inbound.Config{Mailboxes: []inbound.Mailbox{privacyBox(t, d)}, LMTP: true, Log: slog.New(slog.NewTextHandler(&logs, nil))}, "127.0.0.1:0")
		pf := testutil.StartPostfix(t, testutil.PostfixOptions{Domain: domain, LMTPAddr: lmtp})
		if code := sendTo(t, pf.SMTPAddr(), "ann@example.com", privacyAddr, message("Ann <ann@example.com>", "My data", "What do you hold about me?")); code != 0 {
			t.Fatalf("postfix refused: %d", code)
		}
		pf.WaitLog(t, 20*time.Second, "to=<"+privacyAddr+">", "relay=127.0.0.1", "status=sent")
		pf.WaitQueueEmpty(t, 10*time.Second)
		if got := rows(t, d); len(got) != 1 || got[0].Email != "ann@example.com" {
			t.Fatalf("%+v", got)
		}
		if !strings.Contains(logs.String(), "mailbox=privacy via=lmtp") {
			t.Fatalf("log:\n%s", logs.String())
		}
	})
}

// TestPostfixUnixSocket: Postfix's lmtp client reaches a socket that its
// group may write.
func TestPostfixUnixSocket(t *testing.T) {
	d := testutil.SQLite(t)
	dir, err := os.MkdirTemp("", "lmtp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "lmtp.sock")
	serve(t, inbound.Config{Mailboxes: []inbound.Mailbox{privacyBox(t, d)}, LMTP: true}, sock)
	// The vendor's setup: the socket's group is postfix's.
	g, err := user.LookupGroup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(sock, -1, gid); err != nil {
		t.Fatal(err)
	}
	pf := testutil.StartPostfix(t, testutil.PostfixOptions{Domain: domain, LMTPAddr: sock})
	if code := sendTo(t, pf.SMTPAddr(), "bob@example.com", privacyAddr, message("bob@example.com", "delete", "please delete my data")); code != 0 {
		t.Fatalf("postfix refused: %d", code)
	}
	pf.WaitLog(t, 20*time.Second, "to=<"+privacyAddr+">", "status=sent")
	if got := rows(t, d); len(got) != 1 || got[0].Email != "bob@example.com" {
		t.Fatalf("%+v", got)
	}
}

// flaky is a mailbox that fails for a while with 451.
type flaky struct {
	inbound.Mailbox
	mu   sync.Mutex
	down bool
}

func (f *flaky) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *flaky) Deliver(ctx context.Context, env inbound.Envelope, raw []byte) error {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return errors.New("the database is down")
	}
	return f.Mailbox.Deliver(ctx, env, raw)
}

// TestPostfixRetries: a temporary failure on our side (451) leaves the
// message in Postfix's queue; once the mailbox is healthy a flush
// delivers it, exactly once.
func TestPostfixRetries(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		box := &flaky{Mailbox: privacyBox(t, d), down: true}
		lmtp := serve(t, inbound.Config{Mailboxes: []inbound.Mailbox{box}, LMTP: true}, "127.0.0.1:0")
		pf := testutil.StartPostfix(t, testutil.PostfixOptions{Domain: domain, LMTPAddr: lmtp})
		if code := sendTo(t, pf.SMTPAddr(), "carol@example.com", privacyAddr, message("carol@example.com", "copy", "")); code != 0 {
			t.Fatalf("postfix refused: %d", code)
		}
		pf.WaitLog(t, 20*time.Second, "to=<"+privacyAddr+">", "status=deferred", "451 4.3.0")
		if q := pf.Queue(t); len(q) != 1 || !strings.Contains(q[0], "Temporary failure; try again later") {
			t.Fatalf("queue: %q", q)
		}
		if got := rows(t, d); len(got) != 0 {
			t.Fatalf("%+v", got)
		}
		box.set(false)
		pf.Flush(t)
		pf.WaitLog(t, 20*time.Second, "to=<"+privacyAddr+">", "status=sent")
		pf.WaitQueueEmpty(t, 10*time.Second)
		pf.Flush(t) // nothing more to deliver
		time.Sleep(500 * time.Millisecond)
		if got := rows(t, d); len(got) != 1 || got[0].Email != "carol@example.com" {
			t.Fatalf("%+v", got)
		}
		if n := strings.Count(pf.Log(t), "status=sent"); n != 1 {
			t.Fatalf("%d deliveries:\n%s", n, pf.Log(t))
		}
	})
}

// TestPostfixUnknownRecipient: an address at the domain that no mailbox
// takes never reaches the store. Listed recipients only: Postfix refuses
// it at RCPT. Everything to us: our LMTP answers 550 and Postfix bounces.
func TestPostfixUnknownRecipient(t *testing.T) {
	d := testutil.SQLite(t)
	support := &box{name: "support", max: 25 << 20}
	lmtp := serve(t, inbound.Config{Mailboxes: []inbound.Mailbox{privacyBox(t, d), support}, LMTP: true}, "127.0.0.1:0")
	msg := message("dave@example.com", "hello", "delete my data")

	t.Run("refused at RCPT", func(t *testing.T) {
		t.Parallel()
		pf := testutil.StartPostfix(t, testutil.PostfixOptions{Domain: domain, LMTPAddr: lmtp, RefuseUnlisted: true})
		if code := sendTo(t, pf.SMTPAddr(), "dave@example.com", "sales@"+domain, msg); code != 550 {
			t.Fatalf("code %d", code)
		}
		pf.WaitLog(t, 10*time.Second, "NOQUEUE: reject: RCPT", "User unknown in relay recipient table")
		// support+TOKEN@ is the support@ route (recipient_delimiter).
		if code := sendTo(t, pf.SMTPAddr(), "dave@example.com", "support+T0KEN@"+domain, msg); code != 0 {
			t.Fatalf("support+TOKEN: %d", code)
		}
		pf.WaitLog(t, 20*time.Second, "to=<support+T0KEN@"+domain+">", "status=sent")
	})
	t.Run("bounced after LMTP", func(t *testing.T) {
		t.Parallel() // two instances at once
		pf := testutil.StartPostfix(t, testutil.PostfixOptions{Domain: domain, LMTPAddr: lmtp})
		if code := sendTo(t, pf.SMTPAddr(), "dave@example.com", "sales@"+domain, msg); code != 0 {
			t.Fatalf("code %d", code)
		}
		line := pf.WaitLog(t, 20*time.Second, "to=<sales@"+domain+">", "status=bounced")
		if !strings.Contains(line, "550 5.1.1") || !strings.Contains(line, "No such recipient here") {
			t.Fatalf("%s", line)
		}
		// The bounce went to the sender (discarded in the test).
		pf.WaitLog(t, 20*time.Second, "sender non-delivery notification")
		pf.WaitQueueEmpty(t, 10*time.Second)
	})
	t.Cleanup(func() {
		if got := rows(t, d); len(got) != 0 {
			t.Errorf("unknown recipients reached the store: %+v", got)
		}
		if got := support.envelopes(); len(got) != 1 || got[0].Recipient != "support+T0KEN@"+domain || got[0].Sender != "dave@example.com" {
			t.Errorf("support got %+v", got)
		}
	})
}
