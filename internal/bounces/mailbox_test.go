package bounces_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/bounces"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/inbound"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

var (
	start  = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)
	secret = []byte("test installation secret")
)

const from = "Milterworks <shop@milterworks.example>"

// logBuffer is a log destination safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// listen runs the inbound listener with the bounces mailbox (and nothing
// else) on 127.0.0.1 until the test ends.
func listen(t *testing.T, cfg bounces.Config) (string, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	s := inbound.New(inbound.Config{Mailboxes: []inbound.Mailbox{cfg.Mailbox()}, Log: slog.New(slog.NewTextHandler(logs, nil))})
	ln, err := inbound.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		<-done
	})
	return ln.Addr().String(), logs
}

// deliver sends a report from the null sender to rcpt over SMTP and
// returns the refusal's code, 0 when accepted.
func deliver(t *testing.T, addr, rcpt, msg string) int {
	t.Helper()
	err := smtp.SendMail(addr, nil, "", []string{rcpt}, []byte(strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")))
	if err == nil {
		return 0
	}
	var te *textproto.Error
	if !errors.As(err, &te) {
		t.Fatalf("send: %v", err)
	}
	return te.Code
}

type state struct {
	BouncedAt    sql.NullTime
	Kind, Detail string
	ComplainedAt sql.NullTime
	SentAt       sql.NullTime
	SuppressedAt sql.NullTime
}

func outbox(t *testing.T, d *db.DB, id int64) state {
	t.Helper()
	var s state
	if err := d.QueryRowContext(context.Background(), `SELECT bounced_at, bounce_kind, bounce_detail, complained_at, sent_at, suppressed_at
		FROM outbox WHERE id = $1`, id).Scan(&s.BouncedAt, &s.Kind, &s.Detail, &s.ComplainedAt, &s.SentAt, &s.SuppressedAt); err != nil {
		t.Fatal(err)
	}
	return s
}

func suppressions(t *testing.T, d *db.DB) []mail.Suppression {
	t.Helper()
	l, err := mail.ListSuppressions(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func enqueue(t *testing.T, d *db.DB, kind mail.Kind, to string, now time.Time) int64 {
	t.Helper()
	m := mail.Message{Kind: kind, Template: "notice", To: to, Subject: "Release 2.0", Text: "Version 2.0 is out.",
		UnsubscribeURL: "https://shop.example.com/unsubscribe/x"}
	if kind == mail.Transactional {
		m.Template, m.Subject, m.UnsubscribeURL = "signin", "Your sign-in link", ""
	}
	var id int64
	if err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		id, err = mail.Enqueue(context.Background(), tx, m, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func worker(t *testing.T, d *db.DB, sender mail.Sender, clk clock.Clock) *mail.Worker {
	return &mail.Worker{DB: d, Sender: sender, Clock: clk, From: from, ID: "w1", Secret: secret, Batch: 10,
		Lease: 5 * time.Minute, SendTimeout: 10 * time.Second}
}

func runOnce(t *testing.T, w *mail.Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBounceOverSMTPSuppresses is the whole round: a bulk message goes
// to a real SMTP sink with its VERP return path; the remote server's DSN,
// delivered over SMTP to the inbound listener, marks it bounced and
// suppresses the address; the next bulk message to it is not sent, a
// transactional one is. A complaint (ARF) does the same. Forged, unknown,
// duplicate and malformed reports change nothing.
func TestBounceOverSMTPSuppresses(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone,
			Timeout: 5 * time.Second, SendTimeout: 10 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		w := worker(t, d, sender, clk)
		addr, logs := listen(t, bounces.Config{DB: d, Secret: secret, Clock: clk})

		first := enqueue(t, d, mail.Bulk, "carol@example.com", clk.Now())
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d", n)
		}
		got := sink.Messages()[0]
		returnPath := got.From
		if id, ok := (mail.VERP{Secret: secret, Domain: "milterworks.example"}).Parse(returnPath); !ok || id != first {
			t.Fatalf("envelope sender %q is not message %d's VERP address", returnPath, first)
		}
		if !strings.Contains(got.Header.Get("From"), "shop@milterworks.example") {
			t.Errorf("From header %q", got.Header.Get("From"))
		}
		msgID := strings.Trim(got.MessageID, "<>")

		// Forged: the right shape, another message's MAC.
		forged := strings.Replace(returnPath, "+"+itoa(first)+"-", "+"+itoa(first+1)+"-", 1)
		if code := deliver(t, addr, forged, dsn("failed", "5.1.1", msgID)); code != 550 {
			t.Errorf("forged VERP address: code %d, want 550", code)
		}
		// Malformed: to the genuine address, but no report in it.
		if code := deliver(t, addr, returnPath, "From: someone@example.org\nSubject: hello\n\nhi\n"); code != 550 {
			t.Errorf("malformed report: code %d, want 550", code)
		}
		if s := outbox(t, d, first); s.BouncedAt.Valid || len(suppressions(t, d)) != 0 {
			t.Fatalf("changed by a forged or malformed report: %+v", s)
		}
		// Unknown: a genuine tag for a message that does not exist.
		unknown := (mail.VERP{Secret: secret, Domain: "milterworks.example"}).Address(987654)
		if code := deliver(t, addr, unknown, dsn("failed", "5.1.1", "nothing@milterworks.example")); code != 0 {
			t.Errorf("unknown message: code %d, want accepted", code)
		}
		if !strings.Contains(logs.String(), "no outbox message matches") {
			t.Errorf("no clear outcome for the unknown message in the log:\n%s", logs)
		}

		// The real bounce, twice.
		report := dsn("failed", "5.1.1", msgID)
		for i := range 2 {
			if code := deliver(t, addr, returnPath, report); code != 0 {
				t.Fatalf("DSN %d: code %d", i, code)
			}
		}
		s := outbox(t, d, first)
		if !s.BouncedAt.Valid || s.Kind != "hard" || !strings.HasPrefix(s.Detail, "5.1.1") || strings.Contains(s.Detail, "@") {
			t.Fatalf("after the DSN: %+v", s)
		}
		if l := suppressions(t, d); len(l) != 1 || l[0].Reason != mail.ReasonHardBounce || l[0].OutboxID != first {
			t.Fatalf("suppressions %+v", l)
		}
		if !strings.Contains(logs.String(), "already recorded") {
			t.Errorf("the duplicate DSN's outcome is not in the log:\n%s", logs)
		}
		if strings.Contains(logs.String(), "carol") {
			t.Errorf("the log names the address:\n%s", logs)
		}

		clk.Advance(time.Hour)
		blocked := enqueue(t, d, mail.Bulk, "carol@example.com", clk.Now())
		receipt := enqueue(t, d, mail.Transactional, "carol@example.com", clk.Now())
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d, want the transactional one only", n)
		}
		if s := outbox(t, d, blocked); s.SentAt.Valid || !s.SuppressedAt.Valid {
			t.Errorf("bulk to a bounced address: %+v", s)
		}
		if s := outbox(t, d, receipt); !s.SentAt.Valid {
			t.Errorf("the receipt was held back: %+v", s)
		}

		// A complaint, to the untagged address (feedback loops report to
		// one address): found by the returned Message-ID.
		second := enqueue(t, d, mail.Bulk, "dave@example.net", clk.Now())
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("sent %d", n)
		}
		all := sink.Messages()
		arf := strings.Replace(string(corpus(t, "arf-feedback.eml")), "<invoice.2025.0042@example.com>", all[len(all)-1].MessageID, 1)
		for range 2 {
			if code := deliver(t, addr, "bounces@milterworks.example", arf); code != 0 {
				t.Fatalf("ARF: code %d", code)
			}
		}
		if s := outbox(t, d, second); !s.ComplainedAt.Valid || s.BouncedAt.Valid {
			t.Fatalf("after the complaint: %+v", s)
		}
		if l := suppressions(t, d); len(l) != 2 || l[0].Reason != mail.ReasonComplaint || l[0].OutboxID != second {
			t.Fatalf("suppressions %+v", l)
		}
		third := enqueue(t, d, mail.Bulk, "dave@example.net", clk.Now())
		if n := runOnce(t, w); n != 0 {
			t.Errorf("sent %d to a complainant", n)
		}
		if s := outbox(t, d, third); !s.SuppressedAt.Valid {
			t.Errorf("bulk to a complainant: %+v", s)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestSoftBounceThreshold: three soft bounces within 30 days with no
// delivery between suppress the address; a delivery between, or bounces
// older than the window, start the count again. The clock is injected.
func TestSoftBounceThreshold(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(start)
		w := worker(t, d, mail.DevSender{}, clk)
		cfg := bounces.Config{DB: d, Secret: secret, Clock: clk}
		soft := bounces.Report{Kind: bounces.Soft, Format: bounces.FormatDSN, Action: "failed", Status: "4.2.2", Diagnostic: "mailbox full"}
		// send queues and sends one bulk message to to, a day later than
		// the last, and returns its id; bounce records a soft bounce of it.
		send := func(to string) int64 {
			clk.Advance(24 * time.Hour)
			id := enqueue(t, d, mail.Bulk, to, clk.Now())
			if n := runOnce(t, w); n != 1 {
				t.Fatalf("sent %d", n)
			}
			return id
		}
		bounce := func(id int64) bounces.Outcome {
			clk.Advance(time.Minute)
			o, err := cfg.Record(ctx, id, soft)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		suppressed := func(addr string) bool {
			_, ok, err := mail.NewSuppressions(secret).Lookup(ctx, d, addr)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}

		// Two soft bounces, a delivery, two more: never three in a row.
		bounce(send("frank@example.com"))
		if o := bounce(send("frank@example.com")); o.SoftCount != 2 || o.Suppressed {
			t.Errorf("second: %+v", o)
		}
		send("frank@example.com") // delivered: no bounce came
		bounce(send("frank@example.com"))
		o := bounce(send("frank@example.com"))
		if o.SoftCount != 2 || o.Suppressed || suppressed("frank@example.com") {
			t.Errorf("after a delivery between: %+v", o)
		}
		// The third in a row suppresses; the same report again changes nothing.
		id := send("frank@example.com")
		if o := bounce(id); o.SoftCount != 3 || !o.Suppressed || o.Result != bounces.Recorded {
			t.Errorf("third: %+v", o)
		}
		if o := bounce(id); o.Result != bounces.Duplicate || o.Suppressed {
			t.Errorf("the same bounce again: %+v", o)
		}
		if !suppressed("frank@example.com") {
			t.Error("frank is not suppressed")
		}
		if l := suppressions(t, d); len(l) != 1 || l[0].Reason != mail.ReasonSoftBounces {
			t.Errorf("suppressions %+v", l)
		}

		// Bounces spread over more than 30 days do not add up.
		bounce(send("gina@example.com"))
		clk.Advance(20 * 24 * time.Hour)
		bounce(send("gina@example.com"))
		clk.Advance(20 * 24 * time.Hour)
		if o := bounce(send("gina@example.com")); o.SoftCount != 2 || o.Suppressed {
			t.Errorf("spread out: %+v", o)
		}
		// A hard bounce after a soft one for the same message upgrades it.
		last := send("hank@example.com")
		bounce(last)
		o, err := cfg.Record(ctx, last, bounces.Report{Kind: bounces.Hard, Status: "5.2.1", Action: "failed"})
		if err != nil || o.Result != bounces.Recorded || !o.Suppressed {
			t.Errorf("hard after soft: %+v %v", o, err)
		}
		if s := outbox(t, d, last); s.Kind != "hard" {
			t.Errorf("bounce kind %q", s.Kind)
		}
		// A delay warning changes nothing.
		if o, err := cfg.Record(ctx, last, bounces.Report{Kind: bounces.NotFailure, Action: "delayed"}); err != nil || o.Result != bounces.NothingToMark {
			t.Errorf("delayed: %+v %v", o, err)
		}
	})
}
