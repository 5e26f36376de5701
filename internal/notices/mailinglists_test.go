package notices_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/lists"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

var confirmRE = regexp.MustCompile(`/newsletter/confirm\?t=([A-Za-z0-9_-]+)`)

// TestNewsletterThroughTheRealLists: a newsletter to the real mailing
// lists (notices.MailingLists over internal/lists) reaches confirmed
// members only, a subscriber without an account and a customer alike,
// and each one's unsubscribe link ends their membership and shows as
// "unsubscribed" in the notice's totals.
func TestNewsletterThroughTheRealLists(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l, err := lists.Find(ctx, d, lists.NewsletterKey)
		if err != nil {
			t.Fatal(err)
		}
		join := func(email string, confirm bool) {
			t.Helper()
			if err := lists.Subscribe(ctx, d, lists.Request{List: l, Email: email, Wording: lists.Wording(l, "Milterworks"), PolicySeq: 1,
				SiteName: "Milterworks", BaseURL: "https://shop.example"}, start); err != nil {
				t.Fatal(err)
			}
			if !confirm {
				return
			}
			var text string
			if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE template = 'list-confirm' AND to_addr = $1 ORDER BY id DESC LIMIT 1`, email).Scan(&text); err != nil {
				t.Fatal(err)
			}
			m := confirmRE.FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("no confirmation link in:\n%s", text)
			}
			if _, err := lists.Confirm(ctx, d, m[1], start); err != nil {
				t.Fatal(err)
			}
		}
		customerWith(t, d, "member@example.com")
		join("reader@example.com", true)
		join("member@example.com", true)
		join("unconfirmed@example.com", false)
		l, _ = lists.Find(ctx, d, lists.NewsletterKey)

		audience := notices.MailingLists{}
		ls, err := audience.Lists(ctx, d)
		if err != nil || len(ls) != 1 || ls[0].ID != l.ID {
			t.Fatalf("lists %+v, %v", ls, err)
		}
		id := newNotice(t, d, notices.Input{Kind: notices.Newsletter, Subject: "December news", Body: "News.", ListID: l.ID})
		if c, err := notices.Start(ctx, d, audience, staffer, id, start); err != nil || c != 2 {
			t.Fatalf("start %d, %v; want the two confirmed members", c, err)
		}
		s := sender(d, clock.NewFixed(start), notices.DefaultRate)
		s.Lists = audience
		if o, err := s.RunOnce(ctx); err != nil || o.Queued != 2 {
			t.Fatalf("dispatch %+v, %v", o, err)
		}
		rows, err := d.QueryContext(ctx, `SELECT to_addr, unsubscribe_url FROM outbox WHERE template = 'notice' ORDER BY to_addr`)
		if err != nil {
			t.Fatal(err)
		}
		var toks []unsubscribe.Token
		for rows.Next() {
			var to, link string
			if err := rows.Scan(&to, &link); err != nil {
				t.Fatal(err)
			}
			tok, err := unsubscribe.Parse(secret, strings.TrimPrefix(link, "https://shop.example/unsubscribe/"))
			if err != nil || tok.List != l.ID || tok.Purpose != lists.Purpose || tok.Notice == 0 {
				t.Fatalf("%s: token %+v, %v", to, tok, err)
			}
			if (to == "member@example.com") != (tok.Customer != 0) {
				t.Fatalf("%s: token %+v: the customer by account, the reader by subscription", to, tok)
			}
			toks = append(toks, tok)
		}
		rows.Close()
		for _, tok := range toks {
			if o, err := lists.Unsubscribe(ctx, d, tok, "one-click", start); err != nil || o.Already {
				t.Fatalf("unsubscribe %+v: %+v, %v", tok, o, err)
			}
		}
		if c, err := audience.CountSubscribers(ctx, d, l.ID); err != nil || c != 0 {
			t.Fatalf("after both unsubscribed, %d left, %v", c, err)
		}
		tot, err := notices.TotalsOf(ctx, d, id)
		if err != nil || tot[notices.StatusUnsubscribed] != 2 {
			t.Fatalf("totals %v, %v", tot, err)
		}
	})
}
