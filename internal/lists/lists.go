// Package lists is the mailing lists: a general newsletter and one
// release-announcement list per product, which people join only by double
// opt-in, and leave in one click.
//
// # Joining
//
// Subscribe records a request (list_requests) and queues, in the same
// transaction, a transactional mail with a confirmation link: a random
// token, stored as its hash (internal/token), valid for ConfirmTTL.
// Nothing counts until Confirm is called with that token; then a member
// row (list_members) is written with the proof of the consent: the exact
// wording the person was shown, when they asked, when they confirmed and
// the version of the privacy policy in force. A second use of the link
// changes nothing (Confirmed.Already). Someone with a customer account
// under the address becomes a member as that customer (customer_id), so
// their account's privacy page shows the subscription; their consent to
// the "marketing" purpose is recorded with their other choices
// (privacy.SetChoice) and withdrawn when their last subscription ends.
//
// # Leaving
//
// Unsubscribe applies a signed link of internal/unsubscribe: it ends the
// subscription (or withdraws the consent, or records the objection, for a
// customer's link that names no list), and records the unsubscribe with
// the time it was processed (table unsubscribes). A second use changes
// nothing and says so (Outcome.Already).
//
// # Audience: queuing a notice to a list
//
// AudienceSQL(n) is a SELECT of the list's recipients with the list's id
// as the placeholder $n, for an INSERT … SELECT that queues every recipient
// in one statement:
//
//	INSERT INTO notice_recipients (notice_id, member_id, customer_id, email)
//	SELECT $1, a.member_id, a.customer_id, a.email FROM (`+lists.AudienceSQL(2)+`) a
//
// Its columns: member_id (list_members.id), customer_id (NULL for a
// subscriber without an account) and email (the customer's current
// address, or the subscriber's). A customer whose processing is
// restricted, or whose consent to "marketing" is not in force, is left
// out. The unsubscribe link of a recipient is RecipientToken: for a
// customer unsubscribe.Token{Customer: customer_id, ...}, for a subscriber
// unsubscribe.Token{Subscriber: member_id, ...}. Recipients is the same
// query read row by row, for callers that want Go values.
package lists

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

// Purpose is the inventory purpose every list serves: consent-based.
const Purpose = "marketing"

// NewsletterKey is the general newsletter's key; a product's release
// announcements are "releases:" and the product's id.
const NewsletterKey = "newsletter"

// ConfirmTTL is how long a confirmation link works.
const ConfirmTTL = 72 * time.Hour

// List is one mailing list, or one that is offered and not created yet
// (ID 0: it is created by the first subscription).
type List struct {
	ID        int64
	Key       string
	ProductID int64
	// Name is what the list is called ("Newsletter", "Release
	// announcements for Milter Pro").
	Name        string
	Description string
}

// ProductKey is the key of a product's release-announcement list.
func ProductKey(productID int64) string { return "releases:" + strconv.FormatInt(productID, 10) }

// Wording is the exact text of the consent a subscription form shows for
// list l on site siteName; the member row keeps it.
func Wording(l List, siteName string) string {
	what := "the " + siteName + " newsletter: news about our products, a few times a year"
	if l.ProductID != 0 {
		what = "announcements of new releases of " + strings.TrimPrefix(l.Name, "Release announcements for ")
	}
	return "Yes, send me " + what + " by email. I can unsubscribe at any time with the link in every message or on my account's privacy page."
}

// Refusals.
var (
	ErrNoList      = refuse.New(refuse.NotFound, "list_unknown", "This mailing list does not exist. Choose one of the lists on the newsletter page.")
	ErrInvalidLink = refuse.New(refuse.NotFound, "list_link_invalid", "This confirmation link is not valid. Copy the whole link from the message, or subscribe again on the newsletter page.")
	ErrExpired     = refuse.New(refuse.Gone, "list_link_expired", "This confirmation link has expired, and you were not subscribed. Subscribe again on the newsletter page to get a new link.")
)

// Offered returns the lists a visitor may join: the newsletter, then the
// release announcements of each active product, in the catalog's order.
func Offered(ctx context.Context, q db.Querier) ([]List, error) {
	out := []List{{Key: NewsletterKey, Name: "Newsletter", Description: "News about our products, a few times a year."}}
	if err := q.QueryRowContext(ctx, `SELECT id FROM mailing_lists WHERE key = $1`, NewsletterKey).Scan(&out[0].ID); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("lists: read the newsletter: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.name, COALESCE(l.id, 0) FROM products p
		LEFT JOIN mailing_lists l ON l.product_id = p.id
		WHERE p.active ORDER BY p.position, p.id`)
	if err != nil {
		return nil, fmt.Errorf("lists: read the products: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l List
		var name string
		if err := rows.Scan(&l.ProductID, &name, &l.ID); err != nil {
			return nil, fmt.Errorf("lists: read the products: %w", err)
		}
		l.Key, l.Name = ProductKey(l.ProductID), "Release announcements for "+name
		l.Description = "An email when a new version of " + name + " is released."
		out = append(out, l)
	}
	return out, rows.Err()
}

// Find returns the offered list with key.
func Find(ctx context.Context, q db.Querier, key string) (List, error) {
	all, err := Offered(ctx, q)
	if err != nil {
		return List{}, err
	}
	for _, l := range all {
		if l.Key == key {
			return l, nil
		}
	}
	return List{}, ErrNoList
}

// ensure creates the list l if it does not exist yet and returns its id.
// Two transactions creating it at once make one list.
func ensure(ctx context.Context, tx *sql.Tx, l List, now time.Time) (int64, error) {
	var product any
	if l.ProductID != 0 {
		product = l.ProductID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mailing_lists (key, product_id, name, description, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING`, l.Key, product, l.Name, l.Description, now.UTC()); err != nil {
		return 0, fmt.Errorf("lists: create %s: %w", l.Key, err)
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM mailing_lists WHERE key = $1`, l.Key).Scan(&id); err != nil {
		return 0, fmt.Errorf("lists: read %s: %w", l.Key, err)
	}
	return id, nil
}

// Recipient is one recipient of a list's audience.
type Recipient struct {
	MemberID   int64
	CustomerID int64 // 0 for a subscriber without an account
	Email      string
}

// Token is the unsubscribe link's content for r's mail from list listID,
// for a notice recipient row notice (0 when none).
func (r Recipient) Token(listID, notice int64) unsubscribe.Token {
	t := unsubscribe.Token{Purpose: Purpose, List: listID, Notice: notice}
	if r.CustomerID != 0 {
		t.Customer = r.CustomerID
	} else {
		t.Subscriber = r.MemberID
	}
	return t
}

// AudienceSQL is the SELECT of a list's recipients (member_id,
// customer_id, email) with the list's id as placeholder $n; see the
// package documentation.
func AudienceSQL(n int) string {
	return `SELECT m.id AS member_id, m.customer_id AS customer_id,
		CASE WHEN m.customer_id IS NULL THEN m.email ELSE c.email END AS email
	FROM list_members m LEFT JOIN customers c ON c.id = m.customer_id
	WHERE m.list_id = $` + strconv.Itoa(n) + ` AND m.ended_at IS NULL
	  AND (m.customer_id IS NULL OR (
	    EXISTS (SELECT 1 FROM subject_choices k WHERE k.customer_id = m.customer_id
	            AND k.choice = 'consent' AND k.purpose = '` + Purpose + `' AND k.active)
	    AND NOT EXISTS (SELECT 1 FROM subject_choices k WHERE k.customer_id = m.customer_id
	            AND k.choice = 'restriction' AND k.active)))`
}

// Recipients reads the audience of list listID row by row, in member
// order. Stop early by breaking out of the loop.
func Recipients(ctx context.Context, q db.Querier, listID int64) iter.Seq2[Recipient, error] {
	return func(yield func(Recipient, error) bool) {
		rows, err := q.QueryContext(ctx, AudienceSQL(1)+` ORDER BY m.id`, listID)
		if err != nil {
			yield(Recipient{}, fmt.Errorf("lists: read the audience: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var r Recipient
			var cust sql.NullInt64
			if err := rows.Scan(&r.MemberID, &cust, &r.Email); err != nil {
				yield(Recipient{}, fmt.Errorf("lists: read the audience: %w", err))
				return
			}
			r.CustomerID = cust.Int64
			if !yield(r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(Recipient{}, fmt.Errorf("lists: read the audience: %w", err))
		}
	}
}
