package inbound_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/storekeep/storekeep/internal/inbound"
)

// box is a Mailbox for tests: it takes the addresses whose local part
// (before any +) is name, at any domain, and keeps what it gets.
type box struct {
	name string
	max  int64

	mu     sync.Mutex
	got    []inbound.Envelope
	raw    [][]byte
	fail   error // what Deliver returns
	refuse error // what Accepts returns
}

func (b *box) Name() string    { return b.name }
func (b *box) MaxBytes() int64 { return b.max }

func (b *box) Accepts(_ context.Context, rcpt string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refuse != nil {
		return false, b.refuse
	}
	local, _, _ := strings.Cut(strings.ToLower(rcpt), "@")
	local, _, _ = strings.Cut(local, "+")
	return local == b.name, nil
}

func (b *box) Deliver(ctx context.Context, env inbound.Envelope, raw []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	inbound.LogAttrs(ctx, "ticket", 7)
	b.got = append(b.got, env)
	b.raw = append(b.raw, bytes.Clone(raw))
	return nil
}

func (b *box) setFail(err error) {
	b.mu.Lock()
	b.fail = err
	b.mu.Unlock()
}

func (b *box) envelopes() []inbound.Envelope {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]inbound.Envelope(nil), b.got...)
}

// dial opens a go-smtp client, LMTP or SMTP, on addr (host:port or a
// socket path).
func dial(t *testing.T, addr string, lmtp bool) *smtp.Client {
	t.Helper()
	network := "tcp"
	if p, ok := inbound.SocketPath(addr); ok {
		network, addr = "unix", p
	}
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	var c *smtp.Client
	if lmtp {
		c = smtp.NewClientLMTP(conn)
	} else {
		c = smtp.NewClient(conn)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Hello("mx.test.example"); err != nil {
		t.Fatal(err)
	}
	return c
}

// transact sends one message from from to rcpts and returns the answer to
// each RCPT (nil when accepted) and the error from closing DATA.
func transact(t *testing.T, c *smtp.Client, from string, rcpts []string, body io.Reader) (rcptErrs []error, dataErr error) {
	t.Helper()
	if err := c.Mail(from, nil); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, r := range rcpts {
		err := c.Rcpt(r, nil)
		rcptErrs = append(rcptErrs, err)
		if err == nil {
			ok++
		}
	}
	if ok == 0 {
		_ = c.Reset()
		return rcptErrs, nil
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, body); err != nil {
		t.Fatal(err)
	}
	return rcptErrs, w.Close()
}

func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	if err != nil {
		return -1
	}
	return 0
}

func msg(size int) io.Reader {
	head := "From: ann@example.com\r\nTo: support@shop.example\r\nSubject: help\r\n\r\n"
	line := strings.Repeat("x", 76) + "\r\n"
	var b strings.Builder
	b.WriteString(head)
	for b.Len() < size {
		b.WriteString(line)
	}
	return strings.NewReader(b.String())
}

// TestMailboxes: each recipient goes to the mailbox that takes it, each
// mailbox checks its own size limit, and any other recipient is refused.
func TestMailboxes(t *testing.T) {
	small := &box{name: "privacy", max: 1 << 10}
	big := &box{name: "support", max: 64 << 10}
	var logs bytes.Buffer
	addr := serve(t, inbound.Config{Mailboxes: []inbound.Mailbox{small, big}, Log: slog.New(slog.NewTextHandler(&logs, nil))}, "127.0.0.1:0")
	c := dial(t, addr, false)

	// Unknown recipient: 550 5.1.1 at RCPT.
	rerrs, _ := transact(t, c, "ann@example.com", []string{"sales@shop.example"}, msg(100))
	var se *smtp.SMTPError
	if !errors.As(rerrs[0], &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) || se.Message != "No such recipient here" {
		t.Fatalf("unknown recipient: %v", rerrs[0])
	}

	// 4 KiB: too big for privacy (552 5.3.4), fine for support.
	if _, err := transact(t, c, "ann@example.com", []string{"privacy@shop.example"}, msg(4<<10)); !errors.As(err, &se) || se.Code != 552 || se.EnhancedCode != (smtp.EnhancedCode{5, 3, 4}) {
		t.Fatalf("too big for privacy: %v", err)
	}
	if _, err := transact(t, c, "ann@example.com", []string{"Support+Tok3n@shop.example"}, msg(4<<10)); err != nil {
		t.Fatalf("support: %v", err)
	}
	if got := big.envelopes(); len(got) != 1 || got[0] != (inbound.Envelope{Sender: "ann@example.com", Recipient: "Support+Tok3n@shop.example", Via: "smtp"}) {
		t.Fatalf("support got %+v", got)
	}
	if len(small.envelopes()) != 0 {
		t.Fatal("privacy got the big message")
	}

	// The null sender reaches the mailbox as "".
	if _, err := transact(t, c, "", []string{"support@shop.example"}, msg(100)); err != nil {
		t.Fatal(err)
	}
	if got := big.envelopes(); got[len(got)-1].Sender != "" {
		t.Fatalf("%+v", got)
	}

	// Logs: one line per message and mailbox, with the mailbox's own
	// attributes, and never an address.
	for _, want := range []string{`msg="inbound mail: delivered" mailbox=support via=smtp ticket=7`, `msg="inbound mail: refused" mailbox=privacy via=smtp code=552`,
		`msg="inbound mail: refused a recipient no mailbox takes"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "@") {
		t.Errorf("log holds an address:\n%s", logs.String())
	}
}

// TestSeveralRecipients: SMTP has one answer per message, a temporary
// failure first; LMTP answers each recipient.
func TestSeveralRecipients(t *testing.T) {
	for _, lmtp := range []bool{false, true} {
		t.Run(fmt.Sprintf("lmtp=%v", lmtp), func(t *testing.T) {
			a := &box{name: "privacy", max: 1 << 20}
			b := &box{name: "support", max: 1 << 20}
			c3 := &box{name: "sales", max: 1 << 20}
			var logs bytes.Buffer
			addr := serve(t, inbound.Config{Mailboxes: []inbound.Mailbox{a, b, c3}, LMTP: lmtp, Log: slog.New(slog.NewTextHandler(&logs, nil))}, "127.0.0.1:0")
			c := dial(t, addr, lmtp)

			b.setFail(inbound.Permanent([3]int{5, 7, 1}, "Not for us"))
			c3.setFail(errors.New("database is down"))
			// privacy twice (in other case): one delivery, two answers.
			rcpts := []string{"privacy@shop.example", "support@shop.example", "sales@shop.example", "PRIVACY@shop.example"}
			_, err := transact(t, c, "ann@example.com", rcpts, msg(100))
			if len(a.envelopes()) != 1 {
				t.Fatalf("privacy got %d deliveries", len(a.envelopes()))
			}
			if !lmtp {
				// The temporary failure wins: the sender retries all.
				if code(err) != 451 || !strings.Contains(err.Error(), "Temporary failure; try again later") {
					t.Fatalf("smtp answer: %v", err)
				}
			} else {
				var le smtp.LMTPDataError
				if !errors.As(err, &le) || len(le) != 2 {
					t.Fatalf("lmtp answers: %v", err)
				}
				if s := le["support@shop.example"]; s == nil || s.Code != 554 || s.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
					t.Fatalf("support: %v", s)
				}
				if s := le["sales@shop.example"]; s == nil || s.Code != 451 || s.EnhancedCode != (smtp.EnhancedCode{4, 3, 0}) {
					t.Fatalf("sales: %v", s)
				}
			}
			if !strings.Contains(logs.String(), `level=ERROR msg="inbound mail: cannot deliver; the sender will retry" mailbox=sales`) ||
				!strings.Contains(logs.String(), "database is down") {
				t.Fatalf("log:\n%s", logs.String())
			}

			// A permanent failure alone is the SMTP answer.
			c3.setFail(nil)
			_, err = transact(t, c, "ann@example.com", []string{"privacy@shop.example", "support@shop.example"}, msg(100))
			if code(err) != 554 {
				t.Fatalf("answer %v", err)
			}
		})
	}
}

// TestAcceptsFailure: a mailbox that cannot tell answers 451 at RCPT; one
// that returns a Reply chooses the answer.
func TestAcceptsFailure(t *testing.T) {
	a := &box{name: "privacy", max: 1 << 10, refuse: errors.New("no database")}
	addr := serve(t, inbound.Config{Mailboxes: []inbound.Mailbox{a}}, "127.0.0.1:0")
	c := dial(t, addr, false)
	rerrs, _ := transact(t, c, "ann@example.com", []string{"privacy@shop.example"}, msg(10))
	if code(rerrs[0]) != 451 {
		t.Fatalf("%v", rerrs[0])
	}
	a.mu.Lock()
	a.refuse = inbound.Permanent([3]int{5, 7, 1}, "Forged token")
	a.mu.Unlock()
	rerrs, _ = transact(t, c, "ann@example.com", []string{"privacy@shop.example"}, msg(10))
	if code(rerrs[0]) != 554 || !strings.Contains(rerrs[0].Error(), "Forged token") {
		t.Fatalf("%v", rerrs[0])
	}
}

func TestReplies(t *testing.T) {
	for _, c := range []struct {
		r    *inbound.Reply
		code int
	}{
		{inbound.Permanent([3]int{5, 1, 1}, ""), 550},
		{inbound.Permanent([3]int{5, 3, 4}, ""), 552},
		{inbound.Permanent([3]int{5, 2, 2}, ""), 552},
		{inbound.Permanent([3]int{5, 6, 0}, ""), 554},
		{inbound.Permanent([3]int{4, 7, 1}, ""), 554}, // the class follows
		{inbound.Temporary([3]int{4, 3, 0}, ""), 451},
		{inbound.Temporary([3]int{4, 2, 2}, ""), 452},
		{inbound.Temporary([3]int{5, 5, 3}, ""), 452},
	} {
		if c.r.Code != c.code || c.r.Enhanced[0] != c.code/100 {
			t.Errorf("%v: want %d", c.r, c.code)
		}
	}
	if r := inbound.ReplyOf(fmt.Errorf("wrapped: %w", inbound.ErrNoRecipient)); r != inbound.ErrNoRecipient {
		t.Errorf("%v", r)
	}
	if r := inbound.ReplyOf(errors.New("x")); r != inbound.ErrTemporary {
		t.Errorf("%v", r)
	}
}

// TestHugeMessage: a message above every mailbox's limit is refused with
// 552 while it streams in, and never held whole: 50 MiB go through with
// far less memory allocated than that.
func TestHugeMessage(t *testing.T) {
	for _, lmtp := range []bool{false, true} {
		t.Run(fmt.Sprintf("lmtp=%v", lmtp), func(t *testing.T) {
			b := &box{name: "support", max: 1 << 20}
			addr := serve(t, inbound.Config{Mailboxes: []inbound.Mailbox{b}, LMTP: lmtp}, "127.0.0.1:0")
			c := dial(t, addr, lmtp)
			const size = 50 << 20
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := transact(t, c, "ann@example.com", []string{"support@shop.example"}, &lines{left: size})
			runtime.ReadMemStats(&after)
			var se *smtp.SMTPError
			if lmtp {
				var le smtp.LMTPDataError
				if errors.As(err, &le) {
					se = le["support@shop.example"]
				}
			} else {
				errors.As(err, &se)
			}
			if se == nil || se.Code != 552 || se.EnhancedCode != (smtp.EnhancedCode{5, 3, 4}) {
				t.Fatalf("answer: %v", err)
			}
			// Client and server together; the message alone would be 50 MiB.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
				t.Fatalf("allocated %d MiB for a %d MiB message", grew>>20, size>>20)
			}
			if len(b.envelopes()) != 0 {
				t.Fatal("delivered")
			}
			// The connection still works.
			if _, err := transact(t, c, "ann@example.com", []string{"support@shop.example"}, msg(100)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// lines is a message of left bytes made on the fly, so that the test's
// client holds none of it.
type lines struct{ left int }

func (l *lines) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	const line = "0123456789012345678901234567890123456789012345678901234567890123456789012345\r\n"
	n := 0
	for n+len(line) <= len(p) && l.left > 0 {
		n += copy(p[n:], line)
		l.left -= len(line)
	}
	if n == 0 { // p shorter than a line
		n = copy(p, "x")
		l.left--
	}
	return n, nil
}

// TestUnixSocket: LMTP on a socket path, created 0660, a stale socket
// replaced, one in use or a regular file refused, removed on Close.
func TestUnixSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lmtp.sock")

	// A stale socket: its listener closed without removing it.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	_ = stale.Close()

	b := &box{name: "support", max: 1 << 20}
	s := inbound.New(inbound.Config{Mailboxes: []inbound.Mailbox{b}, LMTP: true})
	ln, err := inbound.Listen("unix:" + path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o660 || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("%v %v", fi.Mode(), err)
	}
	// In use: not taken over.
	if _, err := inbound.Listen(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("in use: %v", err)
	}
	c := dial(t, path, true)
	if _, err := transact(t, c, "ann@example.com", []string{"support@shop.example"}, msg(100)); err != nil {
		t.Fatal(err)
	}
	if got := b.envelopes(); len(got) != 1 || got[0].Via != "lmtp" {
		t.Fatalf("%+v", got)
	}
	// SMTP on the LMTP server is refused.
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := smtp.NewClient(conn).Hello("mx.test.example"); code(err) != 500 {
		t.Fatalf("EHLO on LMTP: %v", err)
	}
	_ = conn.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket left behind: %v", err)
	}

	// A regular file is not removed.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := inbound.Listen(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("regular file: %v", err)
	}
	if _, err := inbound.Listen("unix:relative.sock"); err == nil {
		t.Fatal("relative path accepted")
	}
}

// TestDeliver: the function behind "support ingest" answers as the server.
func TestDeliver(t *testing.T) {
	a := &box{name: "privacy", max: 10}
	b := &box{name: "support", max: 1 << 10}
	mbs := []inbound.Mailbox{a, b}
	ctx := context.Background()
	if err := inbound.Deliver(ctx, mbs, nil, inbound.Envelope{Recipient: "x@shop.example", Via: "pipe"}, []byte("hi")); !errors.Is(err, inbound.ErrNoRecipient) {
		t.Fatal(err)
	}
	if err := inbound.Deliver(ctx, mbs, nil, inbound.Envelope{Recipient: "privacy@shop.example", Via: "pipe"}, make([]byte, 11)); !errors.Is(err, inbound.ErrTooBig) {
		t.Fatal(err)
	}
	if err := inbound.Deliver(ctx, mbs, nil, inbound.Envelope{Recipient: "support@shop.example", Via: "pipe"}, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if got := b.envelopes(); len(got) != 1 || got[0].Via != "pipe" {
		t.Fatalf("%+v", got)
	}
	if inbound.MaxBytes(mbs) != 1<<10 {
		t.Fatal(inbound.MaxBytes(mbs))
	}
}
