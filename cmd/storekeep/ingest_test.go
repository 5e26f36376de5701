package main

import (
	"bytes"
	"context"
	"database/sql"
	"net/smtp"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

// migrateWithPrivacyAddress makes a database whose settings name
// privacy@shop.example as the privacy address.
func migrateWithPrivacyAddress(t *testing.T, dbPath string) {
	t.Helper()
	ctx := context.Background()
	if _, err := execute(t, ctx, "migrate", "--db", dbPath); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v := settings.Defaults()
	v.LegalName = "Shop GmbH"
	v.PrivacyEmail = "privacy@shop.example"
	v.SupportEmail = "support@shop.example"
	if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, time.Now()) }); err != nil {
		t.Fatal(err)
	}
}

func privacyRequests(t *testing.T, dbPath string) int {
	t.Helper()
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM privacy_requests`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSupportIngest: the exit statuses Postfix's pipe transport reads.
func TestSupportIngest(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "sk.db")
	migrateWithPrivacyAddress(t, dbPath)
	mail := "From: Ann <ann@example.com>\nTo: privacy@shop.example\nSubject: delete my data\n\nPlease delete my data.\n"
	ingest := func(stdin string, args ...string) (int, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := runMainIn(context.Background(), append([]string{"support", "ingest"}, args...), strings.NewReader(stdin), &out, &errOut)
		if strings.Count(strings.TrimSpace(errOut.String()), "\n") > 0 {
			t.Errorf("more than one line on stderr:\n%s", errOut.String())
		}
		return code, errOut.String()
	}
	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"unknown recipient", mail, []string{"--db", dbPath, "--recipient", "sales@shop.example", "--sender", "ann@example.com"}, 67, "550 5.1.1 No such recipient here"},
		{"empty", "", []string{"--db", dbPath, "--recipient", "privacy@shop.example", "--sender", "ann@example.com"}, 65, "The message is empty"},
		{"too big", mail + strings.Repeat("x", 300<<10), []string{"--db", dbPath, "--recipient", "privacy@shop.example", "--sender", "ann@example.com"}, 65, "552 5.3.4"},
		{"no From", "Subject: hi\n\ndelete\n", []string{"--db", dbPath, "--recipient", "privacy@shop.example", "--sender", "ann@example.com"}, 65, "550 5.1.7"},
		{"no database", mail, []string{"--db", filepath.Join(dir, "typo.db"), "--recipient", "privacy@shop.example", "--sender", "ann@example.com"}, 75, "no database at"},
		{"unreachable PostgreSQL", mail, []string{"--db", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2", "--recipient", "privacy@shop.example", "--sender", "ann@example.com"}, 75, "temporary failure"},
		{"bad flag", mail, []string{"--db", dbPath, "--recipent", "privacy@shop.example"}, 75, "unknown flag"},
		{"no recipient", mail, []string{"--db", dbPath}, 75, "--recipient is required"},
		{"an argument", mail, []string{"--db", dbPath, "privacy@shop.example"}, 75, "takes no arguments"},
		{"no sender, no Return-Path", mail, []string{"--db", dbPath, "--recipient", "privacy@shop.example"}, 75, "--sender"},
	}
	for _, c := range cases {
		code, stderr := ingest(c.stdin, c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%s: exit %d, want %d; stderr %q, want %q", c.name, code, c.code, stderr, c.stderr)
		}
	}
	if n := privacyRequests(t, dbPath); n != 0 {
		t.Fatalf("%d requests from refused mail", n)
	}

	// Delivered: 0, nothing on stderr, a request recorded.
	if code, stderr := ingest(mail, "--db", dbPath, "--recipient", "Privacy@shop.example", "--sender", "ann@example.com"); code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := privacyRequests(t, dbPath); n != 1 {
		t.Fatalf("%d requests", n)
	}
	// A delivery report, null sender from Return-Path (flags=R) or as
	// Postfix's default MAILER-DAEMON: accepted, ignored.
	report := "Return-Path: <>\n" + strings.Replace(mail, "delete my data", "object", -1)
	if code, stderr := ingest(report, "--db", dbPath, "--recipient", "privacy@shop.example"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, stderr := ingest(strings.Replace(mail, "delete my data", "export", -1), "--db", dbPath, "--recipient", "privacy@shop.example", "--sender", "MAILER-DAEMON"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := privacyRequests(t, dbPath); n != 1 {
		t.Fatalf("%d requests after delivery reports", n)
	}
}

// TestSupportIngestFromPostfix: Postfix's pipe transport runs the built
// binary as nobody; it delivers to the privacy mailbox and to the support
// desk (a ticket, and an answer by its support+TOKEN address in the same
// ticket), and bounces mail for an address no mailbox takes (exit 67).
func TestSupportIngestFromPostfix(t *testing.T) {
	// A directory the pipe user (nobody) may use: SQLite writes beside
	// the database file.
	dir, err := os.MkdirTemp("", "ingest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	bin := filepath.Join(dir, "storekeep")
	dbPath := filepath.Join(dir, "data", "sk.db")
	pf := func() *testutil.Postfix {
		argv := []string{bin, "support", "ingest", "--db", dbPath, "--recipient", "${recipient}", "--sender", "${sender}"}
		return testutil.StartPostfix(t, testutil.PostfixOptions{Domain: "shop.example", LMTPAddr: "127.0.0.1:1", RefuseUnlisted: true,
			Routes: map[string]string{"privacy@shop.example": "pipe", "support@shop.example": "pipe", "sales@shop.example": "pipe"}, PipeCommand: argv})
	}()
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Mkdir(filepath.Dir(dbPath), 0o700); err != nil {
		t.Fatal(err)
	}
	migrateWithPrivacyAddress(t, dbPath)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	for _, p := range []string{dir, filepath.Dir(dbPath)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := filepath.Walk(filepath.Dir(dbPath), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	}); err != nil {
		t.Fatal(err)
	}

	mail := "From: Ann <ann@example.com>\r\nTo: privacy@shop.example\r\nSubject: delete my data\r\n\r\nPlease delete my data.\r\n"
	if err := smtp.SendMail(pf.SMTPAddr(), nil, "ann@example.com", []string{"privacy@shop.example"}, []byte(mail)); err != nil {
		t.Fatal(err)
	}
	pf.WaitLog(t, 30*time.Second, "to=<privacy@shop.example>", "relay=storekeep", "status=sent")
	if err := smtp.SendMail(pf.SMTPAddr(), nil, "ann@example.com", []string{"sales@shop.example"}, []byte(mail)); err != nil {
		t.Fatal(err)
	}
	line := pf.WaitLog(t, 30*time.Second, "to=<sales@shop.example>", "status=bounced")
	if !strings.Contains(line, "dsn=5.1.1") || !strings.Contains(line, "No such recipient here") {
		t.Fatalf("bounce: %s", line)
	}
	pf.WaitQueueEmpty(t, 20*time.Second)
	if n := privacyRequests(t, dbPath); n != 1 {
		t.Fatalf("%d requests", n)
	}

	// The support desk through the same pipe: a ticket, then the
	// customer's answer to its reply address (support+TOKEN@, which
	// recipient_delimiter routes like support@) lands in it.
	question := "From: Ann <ann@example.com>\r\nTo: support@shop.example\r\nSubject: Milter stalls\r\nMessage-ID: <q1@example.com>\r\n\r\nThe milter stalls at DATA.\r\n"
	if err := smtp.SendMail(pf.SMTPAddr(), nil, "ann@example.com", []string{"support@shop.example"}, []byte(question)); err != nil {
		t.Fatal(err)
	}
	pf.WaitLog(t, 30*time.Second, "to=<support@shop.example>", "relay=storekeep", "status=sent")
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var ticket int64
	var token string
	if err := d.QueryRowContext(context.Background(), `SELECT id, token FROM support_tickets WHERE email = 'ann@example.com'`).Scan(&ticket, &token); err != nil {
		t.Fatalf("no ticket from the pipe: %v", err)
	}
	answer := "From: Ann <ann@example.com>\r\nTo: support+" + token + "@shop.example\r\nSubject: Re: Milter stalls\r\nMessage-ID: <q2@example.com>\r\n\r\nIt is version 2.4.\r\n"
	if err := smtp.SendMail(pf.SMTPAddr(), nil, "ann@example.com", []string{"support+" + token + "@shop.example"}, []byte(answer)); err != nil {
		t.Fatal(err)
	}
	pf.WaitLog(t, 30*time.Second, "to=<support+"+token+"@shop.example>", "relay=storekeep", "status=sent")
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM support_messages WHERE ticket_id = $1 AND author = 'customer'`, ticket).Scan(&n); err != nil || n != 2 {
		t.Fatalf("the answer through the pipe: %d customer messages in the ticket (%v), want 2", n, err)
	}
}
