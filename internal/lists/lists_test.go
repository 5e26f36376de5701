package lists_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/lists"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

var linkRE = regexp.MustCompile(`/newsletter/confirm\?t=([A-Za-z0-9_-]+)`)

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// subscribe asks to join l as email and returns the mailed token.
func subscribe(t *testing.T, d *db.DB, l lists.List, email string, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	if err := lists.Subscribe(ctx, d, lists.Request{List: l, Email: email, Wording: lists.Wording(l, "Milterworks"), PolicySeq: 3,
		SiteName: "Milterworks", BaseURL: "https://shop.example.com"}, at); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE template = 'list-confirm' AND to_addr = $1 ORDER BY id DESC LIMIT 1`, strings.ToLower(email)).Scan(&text); err != nil {
		t.Fatal(err)
	}
	m := linkRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no confirmation link in:\n%s", text)
	}
	return m[1]
}

func audience(t *testing.T, d *db.DB, listID int64) []lists.Recipient {
	t.Helper()
	var out []lists.Recipient
	for r, err := range lists.Recipients(context.Background(), d, listID) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func newsletter(t *testing.T, d *db.DB) lists.List {
	t.Helper()
	l, err := lists.Find(context.Background(), d, lists.NewsletterKey)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func customer(t *testing.T, d *db.DB, email string) customers.Customer {
	t.Helper()
	ctx := context.Background()
	var c customers.Customer
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, email, t0)
		if err != nil {
			return err
		}
		c, _, err = customers.CompleteSignIn(ctx, tx, raw, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDoubleOptIn: a request counts only once its mailed link is used;
// the member row keeps the wording, both times and the policy version; a
// second use changes nothing; forged and expired links are refused.
func TestDoubleOptIn(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := newsletter(t, d)
		tok := subscribe(t, d, l, "Ann@Example.com", t0)
		l = newsletter(t, d)
		if l.ID == 0 {
			t.Fatal("the first subscription did not create the list")
		}
		if n := count(t, d, `SELECT count(*) FROM list_members`); n != 0 || len(audience(t, d, l.ID)) != 0 {
			t.Fatal("an unconfirmed request counts as a subscription")
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'list-confirm' AND kind = 'transactional' AND to_addr = 'ann@example.com'`); n != 1 {
			t.Fatalf("%d confirmation mails", n)
		}
		if p, err := lists.Check(ctx, d, tok, t0.Add(time.Hour)); err != nil || p.Already || p.ListName != "Newsletter" {
			t.Fatalf("check: %+v %v", p, err)
		}
		for _, bad := range []string{"", "x", tok + "x", tok[:len(tok)-1]} {
			if _, err := lists.Confirm(ctx, d, bad, t0); !errors.Is(err, lists.ErrInvalidLink) {
				t.Fatalf("forged %q: %v", bad, err)
			}
		}
		at := t0.Add(2 * time.Hour)
		p, err := lists.Confirm(ctx, d, tok, at)
		if err != nil || p.Already {
			t.Fatalf("confirm: %+v %v", p, err)
		}
		var wording string
		var seq int
		var req, conf time.Time
		if err := d.QueryRowContext(ctx, `SELECT wording, policy_seq, requested_at, confirmed_at FROM list_members WHERE email = 'ann@example.com'`).
			Scan(&wording, &seq, &req, &conf); err != nil {
			t.Fatal(err)
		}
		if wording != lists.Wording(l, "Milterworks") || seq != 3 || !req.Equal(t0) || !conf.Equal(at) {
			t.Fatalf("proof of consent: %q %d %v %v", wording, seq, req, conf)
		}
		if p, err := lists.Confirm(ctx, d, tok, at.Add(time.Hour)); err != nil || !p.Already {
			t.Fatalf("replay: %+v %v", p, err)
		}
		if n := count(t, d, `SELECT count(*) FROM list_members`); n != 1 {
			t.Fatalf("replay made %d members", n)
		}
		got := audience(t, d, l.ID)
		if len(got) != 1 || got[0].Email != "ann@example.com" || got[0].CustomerID != 0 {
			t.Fatalf("audience %+v", got)
		}
		// Subscribing again while subscribed sends nothing.
		if err := lists.Subscribe(ctx, d, lists.Request{List: l, Email: "ann@example.com", Wording: "w", SiteName: "M", BaseURL: "https://x"}, at); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE to_addr = 'ann@example.com'`); n != 1 {
			t.Fatalf("%d mails after subscribing twice", n)
		}
		// An expired link subscribes no one.
		late := subscribe(t, d, l, "bob@example.com", t0)
		if _, err := lists.Check(ctx, d, late, t0.Add(lists.ConfirmTTL)); !errors.Is(err, lists.ErrExpired) {
			t.Fatalf("check expired: %v", err)
		}
		if _, err := lists.Confirm(ctx, d, late, t0.Add(lists.ConfirmTTL)); !errors.Is(err, lists.ErrExpired) {
			t.Fatalf("confirm expired: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM list_members WHERE email = 'bob@example.com'`); n != 0 {
			t.Fatal("an expired link subscribed")
		}
		// Invalid addresses are refused before anything is written.
		if err := lists.Subscribe(ctx, d, lists.Request{List: l, Email: "not an address", Wording: "w"}, t0); err == nil {
			t.Fatal("a bad address was accepted")
		}
	})
}

// TestCustomerSubscriptionAndConsent: an address with an account
// subscribes as the customer; confirming records their consent; the
// audience follows the account's address and their choices.
func TestCustomerSubscriptionAndConsent(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := customer(t, d, "cara@example.com")
		if _, err := d.ExecContext(ctx, `INSERT INTO products (slug, name, created_at, updated_at) VALUES ('pro', 'Milter Pro', $1, $1)`, t0); err != nil {
			t.Fatal(err)
		}
		offered, err := lists.Offered(ctx, d)
		if err != nil || len(offered) != 2 || offered[1].Name != "Release announcements for Milter Pro" {
			t.Fatalf("offered %+v %v", offered, err)
		}
		pro := offered[1]
		if _, err := lists.Confirm(ctx, d, subscribe(t, d, pro, "cara@example.com", t0), t0); err != nil {
			t.Fatal(err)
		}
		if _, err := lists.Confirm(ctx, d, subscribe(t, d, newsletter(t, d), "cara@example.com", t0), t0); err != nil {
			t.Fatal(err)
		}
		ms, err := lists.OfCustomer(ctx, d, c.ID)
		if err != nil || len(ms) != 2 {
			t.Fatalf("memberships %+v %v", ms, err)
		}
		ch, _ := privacy.LoadChoices(ctx, d, c.ID)
		if ch.Consents[lists.Purpose].IsZero() {
			t.Fatal("confirming did not record the consent")
		}
		pro, _ = lists.Find(ctx, d, pro.Key)
		// The audience follows the account's address.
		if _, err := d.ExecContext(ctx, `UPDATE customers SET email = 'cara.new@example.com' WHERE id = $1`, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := audience(t, d, pro.ID); len(got) != 1 || got[0].Email != "cara.new@example.com" || got[0].CustomerID != c.ID {
			t.Fatalf("audience %+v", got)
		}
		// A restricted customer receives no marketing.
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			return privacy.SetChoice(ctx, tx, privacy.Declared, c.ID, privacy.ChoiceRestriction, "", true, "test", t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := audience(t, d, pro.ID); len(got) != 0 {
			t.Fatalf("restricted customer in the audience: %+v", got)
		}
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			return privacy.SetChoice(ctx, tx, privacy.Declared, c.ID, privacy.ChoiceRestriction, "", false, "test", t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		// Leaving one list keeps the consent for the other; leaving the
		// last withdraws it.
		out, err := lists.Leave(ctx, d, c.ID, ms[0].ID, t0.Add(time.Hour))
		if err != nil || out.Already {
			t.Fatalf("leave: %+v %v", out, err)
		}
		if ch, _ := privacy.LoadChoices(ctx, d, c.ID); ch.Consents[lists.Purpose].IsZero() {
			t.Fatal("leaving one of two lists withdrew the consent")
		}
		if out, err := lists.Leave(ctx, d, c.ID, ms[0].ID, t0.Add(time.Hour)); err != nil || !out.Already {
			t.Fatalf("leave twice: %+v %v", out, err)
		}
		if _, err := lists.Leave(ctx, d, c.ID+1, ms[1].ID, t0); err == nil {
			t.Fatal("left another customer's subscription")
		}
		if _, err := lists.Leave(ctx, d, c.ID, ms[1].ID, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ch, _ := privacy.LoadChoices(ctx, d, c.ID); !ch.Consents[lists.Purpose].IsZero() {
			t.Fatal("leaving the last list kept the consent")
		}
		if n := count(t, d, `SELECT count(*) FROM unsubscribes WHERE customer_id = $1 AND via = 'account'`, c.ID); n != 2 {
			t.Fatalf("%d unsubscribes recorded", n)
		}
		// The proof stays after the subscription ended.
		if n := count(t, d, `SELECT count(*) FROM list_members WHERE customer_id = $1 AND ended_at IS NOT NULL AND ended_via = 'account'`, c.ID); n != 2 {
			t.Fatalf("%d ended memberships kept", n)
		}
	})
}

// TestUnsubscribeTokens: each kind of token ends what it names once,
// records the processing time, and a second use changes nothing.
func TestUnsubscribeTokens(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := newsletter(t, d)
		if _, err := lists.Confirm(ctx, d, subscribe(t, d, l, "sub@example.com", t0), t0); err != nil {
			t.Fatal(err)
		}
		l = newsletter(t, d)
		rs := audience(t, d, l.ID)
		tok := rs[0].Token(l.ID, 77)
		if tok.Subscriber != rs[0].MemberID || tok.Customer != 0 {
			t.Fatalf("token %+v", tok)
		}
		at := t0.Add(5 * time.Minute)
		out, err := lists.Unsubscribe(ctx, d, tok, lists.ViaOneClick, at)
		if err != nil || out.Already || out.What != "Newsletter" {
			t.Fatalf("unsubscribe: %+v %v", out, err)
		}
		var processed time.Time
		var notice int64
		if err := d.QueryRowContext(ctx, `SELECT processed_at, notice_recipient_id FROM unsubscribes WHERE subscriber_id = $1 AND via = 'one-click' AND list_id = $2`,
			tok.Subscriber, l.ID).Scan(&processed, &notice); err != nil || !processed.Equal(at) || notice != 77 {
			t.Fatalf("record: %v %d %v", processed, notice, err)
		}
		if len(audience(t, d, l.ID)) != 0 {
			t.Fatal("still in the audience")
		}
		if out, err := lists.Unsubscribe(ctx, d, tok, lists.ViaPage, at.Add(time.Hour)); err != nil || !out.Already {
			t.Fatalf("again: %+v %v", out, err)
		}
		if n := count(t, d, `SELECT count(*) FROM unsubscribes`); n != 1 {
			t.Fatalf("%d unsubscribes after a second use", n)
		}
		// A token for a member that does not exist, or of another list.
		if _, err := lists.Unsubscribe(ctx, d, unsubscribe.Token{Subscriber: 9999, Purpose: "marketing"}, lists.ViaPage, at); !errors.Is(err, lists.ErrUnknown) {
			t.Fatalf("unknown member: %v", err)
		}
		if _, err := lists.Unsubscribe(ctx, d, unsubscribe.Token{Subscriber: tok.Subscriber, List: l.ID + 1, Purpose: "marketing"}, lists.ViaPage, at); !errors.Is(err, lists.ErrUnknown) {
			t.Fatalf("other list: %v", err)
		}

		// A customer's notice link records an objection; a marketing
		// link without a list withdraws the consent and ends the lists.
		c := customer(t, d, "dan@example.com")
		if _, err := lists.Confirm(ctx, d, subscribe(t, d, l, "dan@example.com", t0), t0); err != nil {
			t.Fatal(err)
		}
		out, err = lists.Unsubscribe(ctx, d, unsubscribe.Token{Customer: c.ID, Purpose: "notices", Notice: 5}, lists.ViaOneClick, at)
		if err != nil || out.Already {
			t.Fatalf("notices: %+v %v", out, err)
		}
		if ch, _ := privacy.LoadChoices(ctx, d, c.ID); ch.Objections["notices"].IsZero() {
			t.Fatal("no objection recorded")
		}
		if out, _ := lists.Unsubscribe(ctx, d, unsubscribe.Token{Customer: c.ID, Purpose: "notices"}, lists.ViaOneClick, at); !out.Already {
			t.Fatal("a second objection changed something")
		}
		out, err = lists.Unsubscribe(ctx, d, unsubscribe.Token{Customer: c.ID, Purpose: "marketing"}, lists.ViaPage, at)
		if err != nil || out.Already {
			t.Fatalf("marketing: %+v %v", out, err)
		}
		if ms, _ := lists.OfCustomer(ctx, d, c.ID); len(ms) != 0 {
			t.Fatalf("still subscribed: %+v", ms)
		}
		if ch, _ := privacy.LoadChoices(ctx, d, c.ID); !ch.Consents["marketing"].IsZero() {
			t.Fatal("consent not withdrawn")
		}
		if _, err := lists.Unsubscribe(ctx, d, unsubscribe.Token{Customer: c.ID, Purpose: "delivery"}, lists.ViaPage, at); !errors.Is(err, lists.ErrUnknown) {
			t.Fatalf("a contract purpose: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM unsubscribes WHERE customer_id = $1`, c.ID); n != 2 {
			t.Fatalf("%d customer unsubscribes", n)
		}
	})
}

// TestAudienceInsertSelect queues a list's audience into a caller's table
// in one statement, as the notices area does.
func TestAudienceInsertSelect(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := newsletter(t, d)
		for i := range 5 {
			if _, err := lists.Confirm(ctx, d, subscribe(t, d, l, fmt.Sprintf("p%d@example.com", i), t0), t0); err != nil {
				t.Fatal(err)
			}
		}
		c := customer(t, d, "acct@example.com")
		if _, err := lists.Confirm(ctx, d, subscribe(t, d, l, "acct@example.com", t0), t0); err != nil {
			t.Fatal(err)
		}
		l = newsletter(t, d)
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE queued (notice BIGINT, member_id BIGINT, customer_id BIGINT, email TEXT)`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO queued (notice, member_id, customer_id, email)
				SELECT $1, a.member_id, a.customer_id, a.email FROM (`+lists.AudienceSQL(2)+`) a`, 42, l.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT count(*) FROM queued WHERE notice = 42`); n != 6 {
			t.Fatalf("%d queued", n)
		}
		if n := count(t, d, `SELECT count(*) FROM queued WHERE customer_id = $1 AND email = 'acct@example.com'`, c.ID); n != 1 {
			t.Fatal("the customer is not queued by account")
		}
	})
}
