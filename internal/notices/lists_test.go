package notices_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

// fakeLists is a ListAudience on a table of the test's own, as
// internal/lists will be on its subscribers: confirmed members only, in
// one INSERT ... SELECT.
type fakeLists struct{}

func (fakeLists) InsertRecipients(ctx context.Context, tx *sql.Tx, noticeID, listID int64, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO notice_recipients (notice_id, customer_id, subscriber_id, email, created_at)
		SELECT CAST($1 AS BIGINT), customer_id, id, email, $3 FROM test_list_members WHERE list_id = $2 AND confirmed
		ON CONFLICT (notice_id, email) DO NOTHING`, noticeID, listID, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (fakeLists) CountSubscribers(ctx context.Context, q db.Querier, listID int64) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM test_list_members WHERE list_id = $1 AND confirmed`, listID).Scan(&n)
	return n, err
}

func (fakeLists) Lists(ctx context.Context, q db.Querier) ([]notices.MailingList, error) {
	return []notices.MailingList{{ID: 1, Name: "Mailguard news"}, {ID: 2, Name: "Empty"}}, nil
}

func TestNewsletterGoesToTheListOnly(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `CREATE TABLE test_list_members (id BIGINT PRIMARY KEY, list_id BIGINT NOT NULL, customer_id BIGINT,
			email TEXT NOT NULL, confirmed BOOLEAN NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		// A license holder who is not on the list gets nothing.
		customerWith(t, d, "holder@example.com", license{product: "mailer", edition: "pro"})
		restricted := customerWith(t, d, "restricted@example.com")
		choose(t, d, restricted, "restriction", "")
		if _, err := d.ExecContext(ctx, `INSERT INTO test_list_members (id, list_id, customer_id, email, confirmed) VALUES
			(10, 1, NULL, 'sub@example.com', TRUE), (11, 1, NULL, 'unconfirmed@example.com', FALSE),
			(12, 1, $1, 'restricted@example.com', TRUE), (13, 2, NULL, 'other@example.com', FALSE)`, restricted); err != nil {
			t.Fatal(err)
		}
		lists := fakeLists{}
		id := newNotice(t, d, notices.Input{Kind: notices.Newsletter, Subject: "December news", Body: "News.", ListID: 1})
		n, _ := notices.ByID(ctx, d, id)
		if c, err := notices.Count(ctx, d, lists, n, start); err != nil || c != 2 {
			t.Fatalf("count %d, %v; want 2 confirmed members", c, err)
		}
		if _, err := notices.Start(ctx, d, nil, staffer, id, start); err == nil {
			t.Fatal("a newsletter started without mailing lists")
		}
		if c, err := notices.Start(ctx, d, lists, staffer, id, start); err != nil || c != 2 {
			t.Fatalf("start %d, %v", c, err)
		}
		s := sender(d, clock.NewFixed(start), notices.DefaultRate)
		s.Lists = lists
		if o, err := s.RunOnce(ctx); err != nil || o.Queued != 1 || o.Skipped != 1 {
			t.Fatalf("dispatch %+v, %v; want one queued, the restricted member skipped", o, err)
		}
		var to, link, text string
		d.QueryRowContext(ctx, `SELECT to_addr, unsubscribe_url, text_body FROM outbox WHERE template = 'notice'`).Scan(&to, &link, &text)
		tok, err := unsubscribe.Parse(secret, strings.TrimPrefix(link, "https://shop.example/unsubscribe/"))
		if to != "sub@example.com" || err != nil || tok.Subscriber != 10 || tok.List != 1 || tok.Purpose != "marketing" || tok.Notice == 0 {
			t.Fatalf("sent to %s with %+v, %v", to, tok, err)
		}
		if !strings.Contains(text, "subscribed to this list") {
			t.Fatalf("footer:\n%s", text)
		}
		// A list no one confirmed: an empty audience, nothing queued.
		empty := newNotice(t, d, notices.Input{Kind: notices.Release, Subject: "2.5.0", Body: "Out.", ListID: 2})
		if _, err := notices.Start(ctx, d, lists, staffer, empty, start); err == nil || !strings.Contains(err.Error(), "nothing was queued") {
			t.Fatalf("empty list: %v", err)
		}
	})
}
