package notices

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/lists"
)

// MailingLists is the ListAudience of internal/lists: a list's confirmed
// members whose consent is in force and whose processing is not
// restricted (lists.AudienceSQL). A member with an account is the
// customer (their unsubscribe link names the customer and the list); one
// without is the subscription (subscriber_id is the member row).
type MailingLists struct{}

var _ ListAudience = MailingLists{}

// InsertRecipients implements ListAudience in one INSERT ... SELECT.
func (MailingLists) InsertRecipients(ctx context.Context, tx *sql.Tx, noticeID, listID int64, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO notice_recipients (notice_id, customer_id, subscriber_id, email, created_at)
		SELECT CAST($1 AS BIGINT), a.customer_id, CASE WHEN a.customer_id IS NULL THEN a.member_id END, a.email, $3
		FROM (`+lists.AudienceSQL(2)+`) a
		WHERE true /* SQLite reads "ON" after a FROM as a join's without it */
		ON CONFLICT (notice_id, email) DO NOTHING`, noticeID, listID, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("notices: the list's recipients: %w", err)
	}
	return res.RowsAffected()
}

// CountSubscribers implements ListAudience.
func (MailingLists) CountSubscribers(ctx context.Context, q db.Querier, listID int64) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(DISTINCT a.email) FROM (`+lists.AudienceSQL(1)+`) a`, listID).Scan(&n); err != nil {
		return 0, fmt.Errorf("notices: count the list's recipients: %w", err)
	}
	return n, nil
}

// Lists implements ListAudience: the lists that exist (a list is made by
// its first subscription; one that does not exist yet has no one to
// mail).
func (MailingLists) Lists(ctx context.Context, q db.Querier) ([]MailingList, error) {
	all, err := lists.Offered(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []MailingList
	for _, l := range all {
		if l.ID != 0 {
			out = append(out, MailingList{ID: l.ID, Name: l.Name})
		}
	}
	return out, nil
}
