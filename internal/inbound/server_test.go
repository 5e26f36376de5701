package inbound_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/inbound"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

const privacyAddr = "privacy@milterworks.example"

// start runs a receiver on 127.0.0.1 for d, with the privacy address set,
// and returns its address and its log.
func start(t *testing.T, d *db.DB) (string, *bytes.Buffer) {
	t.Helper()
	ctx := context.Background()
	v := settings.Defaults()
	v.LegalName = "Milterworks GmbH"
	v.PrivacyEmail = "Privacy@Milterworks.example"
	if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	secret, err := settings.InstallSecret(ctx, d, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	privacy := inbound.PrivacyMailbox(inbound.PrivacyConfig{DB: d, Limiter: ratelimit.New(d, secret), Log: log, MaxBytes: 4 << 10})
	return serve(t, inbound.Config{Mailboxes: []inbound.Mailbox{privacy}, Log: log}, "127.0.0.1:0"), &logs
}

// serve runs a server for cfg on addr until the test ends and returns the
// address it listens on.
func serve(t *testing.T, cfg inbound.Config, addr string) string {
	t.Helper()
	s := inbound.New(cfg)
	ln, err := inbound.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// send delivers msg with net/smtp and returns the SMTP code of a refusal
// (0 when accepted).
func send(t *testing.T, addr, from string, to []string, msg string) int {
	t.Helper()
	err := smtp.SendMail(addr, nil, from, to, []byte(strings.ReplaceAll(msg, "\n", "\r\n")))
	if err == nil {
		return 0
	}
	var te *textproto.Error
	if !errors.As(err, &te) {
		t.Fatalf("send: %v", err)
	}
	return te.Code
}

func message(from, subject, body string) string {
	return "From: " + from + "\nTo: " + privacyAddr + "\nSubject: " + subject +
		"\nDate: Mon, 2 Mar 2026 10:00:00 +0100\nMessage-ID: <1@mail.example>\n\n" + body + "\n"
}

type row struct {
	ID      int64
	Kind    requests.Kind
	Email   string
	Channel requests.Channel
	Note    string
}

func rows(t *testing.T, d *db.DB) []row {
	t.Helper()
	rs, err := d.QueryContext(context.Background(), `SELECT id, kind, email, channel, note FROM privacy_requests ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.ID, &r.Kind, &r.Email, &r.Channel, &r.Note); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReceive(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		addr, logs := start(t, d)

		// A plain message asks for access; the address is the From header's,
		// normalised, not the envelope sender's.
		if code := send(t, addr, "bounces+x@list.example", []string{privacyAddr},
			message("Ann Example <Ann@Example.com>", "My data", "Hello,\nwhat do you know about me?\n\nAnn")); code != 0 {
			t.Fatalf("refused with %d", code)
		}
		got := rows(t, d)
		if len(got) != 1 || got[0].Kind != requests.Access || got[0].Email != "ann@example.com" || got[0].Channel != requests.Email {
			t.Fatalf("%+v", got)
		}
		if !strings.Contains(got[0].Note, "Subject: My data") || !strings.Contains(got[0].Note, "what do you know about me?") {
			t.Fatalf("note: %q", got[0].Note)
		}

		// "please delete my data" asks for erasure; the note says why.
		del := message("bob@example.org", "Request", "please delete my data")
		if code := send(t, addr, "bob@example.org", []string{privacyAddr}, del); code != 0 {
			t.Fatalf("refused with %d", code)
		}
		got = rows(t, d)
		if len(got) != 2 || got[1].Kind != requests.Erasure || got[1].Email != "bob@example.org" {
			t.Fatalf("%+v", got)
		}
		if !strings.Contains(got[1].Note, `word "delete"`) {
			t.Fatalf("note: %q", got[1].Note)
		}

		// The same mail again is accepted and makes nothing new: the open
		// request records that it arrived again.
		if code := send(t, addr, "bob@example.org", []string{privacyAddr}, del); code != 0 {
			t.Fatalf("duplicate refused with %d", code)
		}
		if again := rows(t, d); len(again) != 2 {
			t.Fatalf("duplicate made a request: %+v", again)
		}
		var events int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM request_events WHERE request_id = $1 AND note LIKE '%arrived again%'`,
			got[1].ID).Scan(&events); err != nil || events != 1 {
			t.Fatalf("duplicate events %d, %v", events, err)
		}

		// Personal data stays out of the log.
		for _, s := range []string{"ann@", "bob@", "Ann", "delete my data", "what do you know"} {
			if strings.Contains(logs.String(), s) {
				t.Fatalf("log holds %q:\n%s", s, logs.String())
			}
		}
	})
}

func TestRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		addr, _ := start(t, d)
		ok := message("carol@example.com", "Hi", "Which data do you hold?")
		cases := []struct {
			name string
			to   string
			msg  string
			code int
		}{
			{"other recipient", "sales@milterworks.example", ok, 550},
			{"oversized", privacyAddr, message("carol@example.com", "Hi", strings.Repeat("delete me please\n", 400)), 552},
			{"no From", privacyAddr, "To: " + privacyAddr + "\nSubject: hi\n\ndelete my data\n", 550},
			{"garbage From", privacyAddr, message("not an address", "hi", "delete my data"), 550},
			{"two From", privacyAddr, message("a@example.com, b@example.com", "hi", "delete my data"), 550},
			{"From without a dotted domain", privacyAddr, message("root@localhost", "hi", "delete my data"), 550},
			{"garbage", privacyAddr, "\x00\x01 this is not a message\n", 550},
		}
		for _, c := range cases {
			if code := send(t, addr, "carol@example.com", []string{c.to}, c.msg); code != c.code {
				t.Errorf("%s: code %d, want %d", c.name, code, c.code)
			}
		}
		if got := rows(t, d); len(got) != 0 {
			t.Fatalf("refused mail made requests: %+v", got)
		}

		// A message to the privacy address and another one reaches only
		// the privacy address (net/smtp gives up at the first refused
		// recipient, so speak SMTP by hand).
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Mail("carol@example.com"); err != nil {
			t.Fatal(err)
		}
		var te *textproto.Error
		if err := c.Rcpt("someone@else.example"); !errors.As(err, &te) || te.Code != 550 {
			t.Fatalf("other recipient: %v", err)
		}
		if err := c.Rcpt(privacyAddr); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(strings.ReplaceAll(ok, "\n", "\r\n"))); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Quit(); err != nil {
			t.Fatal(err)
		}
		if got := rows(t, d); len(got) != 1 || got[0].Kind != requests.Access || got[0].Email != "carol@example.com" {
			t.Fatalf("%+v", got)
		}

		// Delivery reports and auto-replies are accepted and ignored.
		if code := send(t, addr, "", []string{privacyAddr}, message("mailer-daemon@mx.example", "Undeliverable", "delete")); code != 0 {
			t.Fatalf("null sender: %d", code)
		}
		auto := strings.Replace(message("dave@example.com", "Out of office", "I am away, please delete"), "\n\n", "\nAuto-Submitted: auto-replied\n\n", 1)
		if code := send(t, addr, "dave@example.com", []string{privacyAddr}, auto); code != 0 {
			t.Fatalf("auto-reply: %d", code)
		}
		if got := rows(t, d); len(got) != 1 {
			t.Fatalf("automatic mail made requests: %+v", got)
		}
	})
}

// TestRateLimit: beyond requests.LimitPerAddress new requests a day, the
// receiver answers with a temporary failure, so the sender's server tries
// again later instead of the mail being lost.
func TestRateLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		addr, _ := start(t, d)
		subjects := []string{"copy", "erase", "export", "correct", "restrict", "object", "withdraw"}
		for i, s := range subjects[:requests.LimitPerAddress.Max+1] {
			want := 0
			if i == requests.LimitPerAddress.Max {
				want = 451
			}
			if code := send(t, addr, "eve@example.com", []string{privacyAddr}, message("eve@example.com", s, "")); code != want {
				t.Fatalf("message %d (%s): code %d, want %d", i+1, s, code, want)
			}
		}
		if got := rows(t, d); len(got) != requests.LimitPerAddress.Max {
			t.Fatalf("%d requests", len(got))
		}
	})
}

// TestAnswerDoesNotRevealAccounts: a sender with an account and one
// without get the same answer.
func TestAnswerDoesNotRevealAccounts(t *testing.T) {
	d := testutil.SQLite(t)
	addr, _ := start(t, d)
	if _, err := d.ExecContext(context.Background(), `INSERT INTO customers (email, created_at, updated_at) VALUES ($1, $2, $2)`, "known@example.com", time.Now()); err != nil {
		t.Fatal(err)
	}
	var answers []string
	for _, from := range []string{"known@example.com", "unknown@example.com"} {
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Mail(from); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt(privacyAddr); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(strings.ReplaceAll(message(from, "delete", ""), "\n", "\r\n"))); err != nil {
			t.Fatal(err)
		}
		err = w.Close()
		answers = append(answers, errString(err))
		if err := c.Quit(); err != nil {
			t.Fatal(err)
		}
	}
	if answers[0] != answers[1] {
		t.Fatalf("answers differ: %q", answers)
	}
	var linked int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM privacy_requests WHERE customer_id IS NOT NULL`).Scan(&linked); err != nil || linked != 1 {
		t.Fatalf("requests linked to an account: %d, %v", linked, err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
