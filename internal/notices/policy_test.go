package notices_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

// significantVersion publishes a privacy policy version and marks it.
func significantVersion(t testing.TB, d *db.DB, note string) int {
	t.Helper()
	ctx := context.Background()
	if _, err := privacy.PublishContent(ctx, d, privacy.PrivacyPolicy, "h1", privacy.Content{HTML: "<p>x</p>", Text: "x"}, start); err != nil {
		t.Fatal(err)
	}
	var seq int
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		seq, err = privacy.MarkSignificant(ctx, tx, privacy.PrivacyPolicy, note)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return seq
}

func startPolicyMail(t testing.TB, d *db.DB, seq int) (int64, error) {
	t.Helper()
	ctx := context.Background()
	var n int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = notices.StartPolicyMail(ctx, tx, staffer, privacy.PrivacyPolicy, seq, start)
		return err
	})
	return n, err
}

func policyOutbox(t testing.TB, d *db.DB) []string {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT to_addr FROM outbox WHERE template = 'policy_change' ORDER BY to_addr`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestPolicyMailGoesOnceToWhomItMay: every customer hears of a significant
// change once, except those who restricted processing, objected to such
// mail or were erased; choices made after the start are honoured at
// dispatch; a second mailing of the version is refused.
func TestPolicyMailGoesOnceToWhomItMay(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		customerWith(t, d, "ada@example.com")
		notNotices := customerWith(t, d, "bob@example.com")
		choose(t, d, notNotices, "objection", "notices") // product notices only: still told of the policy
		restricted := customerWith(t, d, "cy@example.com")
		choose(t, d, restricted, "restriction", "")
		objected := customerWith(t, d, "dee@example.com")
		choose(t, d, objected, "objection", notices.PolicyPurpose)
		customerWith(t, d, "erased-7@erased.invalid")
		late := customerWith(t, d, "eve@example.com")

		seq := significantVersion(t, d, "We now keep invoices for ten years.")
		n, err := startPolicyMail(t, d, seq)
		if err != nil || n != 3 {
			t.Fatalf("start = %d, %v; want ada, bob and eve", n, err)
		}
		if _, err := startPolicyMail(t, d, seq); !errors.Is(err, notices.ErrAlreadyMailed) {
			t.Fatalf("second mailing: %v", err)
		}
		choose(t, d, late, "restriction", "") // after the start, before dispatch

		clk := clock.NewFixed(start)
		o, err := sender(d, clk, notices.Rate{PerSecond: 1, PerHour: 100}).RunOnce(ctx)
		if err != nil || o.Queued != 1 {
			t.Fatalf("first run = %+v, %v: the rate allows one", o, err)
		}
		for range 3 {
			clk.Advance(time.Second)
			if _, err := sender(d, clk, notices.Rate{PerSecond: 1, PerHour: 100}).RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := policyOutbox(t, d); strings.Join(got, ",") != "ada@example.com,bob@example.com" {
			t.Fatalf("mailed %v", got)
		}
		m, ok, err := notices.PolicyMailingOf(ctx, d, privacy.PrivacyPolicy, seq)
		if err != nil || !ok || m.Status != "sent" || m.Recipients != 3 || m.Queued != 2 || m.Skipped != 1 {
			t.Fatalf("mailing = %+v, %v, %v", m, ok, err)
		}
		var reason string
		d.QueryRowContext(ctx, `SELECT skip_reason FROM policy_mail_recipients WHERE customer_id = $1`, late).Scan(&reason)
		if !strings.Contains(reason, "restricted") {
			t.Fatalf("skip reason %q", reason)
		}
	})
}

// TestPolicyMailSharesTheNoticesRate: notices and policy mail together
// stay within the one rate, notices first.
func TestPolicyMailSharesTheNoticesRate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			customerWith(t, d, e, license{product: "mailguard", edition: "pro"})
		}
		id := newNotice(t, d, notices.Input{Kind: notices.Security, Audience: notices.Audience{Product: "mailguard"}})
		if _, err := notices.Start(ctx, d, nil, staffer, id, start); err != nil {
			t.Fatal(err)
		}
		if _, err := startPolicyMail(t, d, significantVersion(t, d, "")); err != nil {
			t.Fatal(err)
		}
		clk := clock.NewFixed(start)
		rate := notices.Rate{PerSecond: 2, PerHour: 5}
		o, err := sender(d, clk, rate).RunOnce(ctx)
		if err != nil || o.Queued != 2 || outboxCount(t, d) != 2 || len(policyOutbox(t, d)) != 0 {
			t.Fatalf("first second: %+v, %v; notices %d, policy %d", o, err, outboxCount(t, d), len(policyOutbox(t, d)))
		}
		clk.Advance(time.Second)
		if o, _ := sender(d, clk, rate).RunOnce(ctx); o.Queued != 2 || outboxCount(t, d) != 3 || len(policyOutbox(t, d)) != 1 {
			t.Fatalf("second second: %+v; notices %d, policy %d", o, outboxCount(t, d), len(policyOutbox(t, d)))
		}
		for range 5 {
			clk.Advance(time.Second)
			sender(d, clk, rate).RunOnce(ctx)
		}
		if n := outboxCount(t, d) + len(policyOutbox(t, d)); n != 5 {
			t.Fatalf("%d messages within the hour, the rate allows 5", n)
		}
	})
}

// TestARealSMTPServerReceivesThePolicyMail: delivered by the outbox
// worker to a real SMTP server, the message says what changed, links to
// the differences, and carries a one-click unsubscribe for such mail.
func TestARealSMTPServerReceivesThePolicyMail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		id := customerWith(t, d, "ada@example.com")
		seq := significantVersion(t, d, "We now use Example Cloud AB for hosting.")
		if _, err := startPolicyMail(t, d, seq); err != nil {
			t.Fatal(err)
		}
		clk := clock.NewFixed(start)
		if o, err := sender(d, clk, notices.DefaultRate).RunOnce(ctx); err != nil || o.Queued != 1 {
			t.Fatalf("dispatch = %+v, %v", o, err)
		}
		sink := testutil.StartSMTP(t)
		snd, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, Timeout: 5 * time.Second, SendTimeout: 10 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: d, Sender: snd, Clock: clk, From: "Milterworks <shop@milterworks.example>", ID: "w1", Batch: 10}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		m := sink.WaitFor(1, 10*time.Second)[0]
		if m.To[0] != "ada@example.com" || m.Subject != "Our privacy policy has changed" {
			t.Fatalf("received %v %q", m.To, m.Subject)
		}
		lu := m.Header.Get("List-Unsubscribe")
		link := strings.Trim(strings.Split(lu, ",")[0], "<> ")
		tok, err := unsubscribe.Parse(secret, strings.TrimPrefix(link, "https://shop.example/unsubscribe/"))
		if err != nil || tok.Customer != id || tok.Purpose != notices.PolicyPurpose || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("unsubscribe %q: %+v, %v", lu, tok, err)
		}
		changes := "https://shop.example/privacy/archive/privacy/1"
		for _, part := range []string{m.Text, m.HTML} {
			if !strings.Contains(part, "We now use Example Cloud AB for hosting.") || !strings.Contains(part, changes) || !strings.Contains(part, "1 December 2026") {
				t.Fatalf("part:\n%s", part)
			}
		}
		// Delivered once: another run queues nothing more.
		if o, _ := sender(d, clk, notices.DefaultRate).RunOnce(ctx); o.Queued != 0 {
			t.Fatalf("second run queued %d", o.Queued)
		}
	})
}
