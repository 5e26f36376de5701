package requests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Limiter counts hits against rate limits; *ratelimit.Limiter is one. It
// is called outside the request's transaction: on SQLite the limiter
// writes through the one writer connection.
type Limiter interface {
	Key(kind, value string) string
	Allow(ctx context.Context, bucket string, lim ratelimit.Limit, now time.Time) (bool, error)
}

// Rate limits. A person may have several rights to exercise at once, but
// not dozens a day; a repeated request of the same kind is caught earlier
// by duplicate detection and costs nothing.
var (
	// LimitPerAddress caps new requests about one address.
	LimitPerAddress = ratelimit.Limit{Max: 5, Window: 24 * time.Hour}
	// LimitCodes caps verification codes mailed for one request.
	LimitCodes = ratelimit.Limit{Max: 5, Window: 24 * time.Hour}
)

// Lengths accepted for free text.
const (
	maxNote   = 4000
	maxReason = 4000
)

// NewRequest is a request as it arrives.
type NewRequest struct {
	Kind    Kind
	Email   string // the address of the person whose data it concerns
	Channel Channel
	Note    string // what the person wrote or said, in staff's words
	// ReceivedAt is when the request reached us; zero means now. A request
	// entered days after it arrived keeps the deadline of its arrival.
	ReceivedAt time.Time
	// CustomerID is, for self-service requests, the signed-in customer
	// making it: the request must concern their own address, and their
	// session counts as verified identity.
	CustomerID int64
}

// Create records a new request and returns it. An open request of the
// same kind for the same address is returned instead, with an error
// matching ErrDuplicate; requests beyond LimitPerAddress are refused with
// ErrRateLimited, and a signed-in customer asking about another address
// with ErrNotYours. Every refusal is recorded in the audit log (and a
// duplicate in the open request's history).
func Create(ctx context.Context, d *db.DB, lim Limiter, n NewRequest, by Actor, now time.Time) (Request, error) {
	now = now.UTC()
	n, err := n.normalise(now)
	if err != nil {
		return Request{}, err
	}
	if n.CustomerID != 0 {
		c, err := customers.ByID(ctx, d, n.CustomerID)
		if err != nil && !errors.Is(err, customers.ErrNotFound) {
			return Request{}, err
		}
		if err != nil || c.Email != n.Email {
			return Request{}, recordRefusal(ctx, d, by, now, 0, "refused_not_yours", refusal(codeNotYours,
				"A request can only concern your own data: use the address of your account. Someone asking about another person's data must ask that person to contact us."))
		}
	}
	// A repeat finds the open request before it counts against the limit:
	// asking twice is not abuse, and it creates nothing.
	if r, ok, err := openRequest(ctx, d, n.Email, n.Kind); err != nil {
		return Request{}, err
	} else if ok {
		return duplicate(ctx, d, r, n, by, now)
	}
	if lim != nil {
		ok, err := lim.Allow(ctx, lim.Key("privacy-request", n.Email), LimitPerAddress, now)
		if err != nil {
			return Request{}, err
		}
		if !ok {
			return Request{}, recordRefusal(ctx, d, by, now, 0, "refused_rate_limited", refusal(codeLimited, fmt.Sprintf(
				"This address has made %d privacy requests today, the most we accept in a day. Nothing new was recorded; the open requests stand. Try again tomorrow.", LimitPerAddress.Max)))
		}
	}
	var out Request
	dup := false
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		var customer any
		if n.CustomerID != 0 {
			customer = n.CustomerID
		} else if c, err := customers.ByEmail(ctx, tx, n.Email); err == nil {
			customer = c.ID
		} else if !errors.Is(err, customers.ErrNotFound) {
			return err
		}
		var verified any
		if n.Channel == SelfService {
			verified = now
		}
		var id int64
		// The partial unique index holds one open request per address and
		// kind: of two arriving together, the second finds the first.
		err := tx.QueryRowContext(ctx, `INSERT INTO privacy_requests (kind, email, customer_id, channel, state, received_at, due_at,
			verified_at, note, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
			ON CONFLICT (email, kind) WHERE state NOT IN ('completed', 'refused') DO NOTHING RETURNING id`,
			string(n.Kind), n.Email, customer, string(n.Channel), string(Received), n.ReceivedAt, DueDate(n.ReceivedAt),
			verified, n.Note, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			dup = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("record privacy request: %w", err)
		}
		note := "arrived: " + n.Channel.Label()
		if n.Channel == SelfService {
			note += "; identity verified by the customer's session"
		}
		if err := addEvent(ctx, tx, id, "", Received, by, note, now); err != nil {
			return err
		}
		e := entry(now, "created", id)
		e.Detail = "kind=" + string(n.Kind) + " channel=" + string(n.Channel)
		if err := by.record(ctx, tx, e); err != nil {
			return err
		}
		out, err = ByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Request{}, err
	}
	if dup {
		r, ok, err := openRequest(ctx, d, n.Email, n.Kind)
		if err != nil {
			return Request{}, err
		}
		if ok {
			return duplicate(ctx, d, r, n, by, now)
		}
		return Request{}, errors.New("record privacy request: an open request conflicted and then disappeared; try again")
	}
	return out, nil
}

func (n NewRequest) normalise(now time.Time) (NewRequest, error) {
	invalid := func(msg string) error { return refusal(codeInvalid, msg) }
	if !n.Kind.Valid() {
		return n, invalid("Choose what the person asks for (access, erasure, ...).")
	}
	if !n.Channel.Valid() {
		return n, invalid("Choose how the request reached us.")
	}
	email, err := emailaddr.NormaliseEmail(n.Email)
	if err != nil {
		return n, invalid("Enter the email address of the person whose data the request concerns, such as name@example.com: the verification code goes there.")
	}
	n.Email = email
	n.Note = strings.TrimSpace(n.Note)
	if utf8.RuneCountInString(n.Note) > maxNote || !utf8.ValidString(n.Note) {
		return n, invalid(fmt.Sprintf("The note is longer than %d characters; summarise it.", maxNote))
	}
	if n.ReceivedAt.IsZero() || n.ReceivedAt.After(now) {
		if n.ReceivedAt.After(now) {
			return n, invalid("The date of receipt is in the future; enter the day the request reached us.")
		}
		n.ReceivedAt = now
	}
	if n.ReceivedAt.Before(now.AddDate(-1, 0, 0)) {
		return n, invalid("The date of receipt is more than a year ago; check it.")
	}
	n.ReceivedAt = n.ReceivedAt.UTC()
	if n.Channel == SelfService && n.CustomerID == 0 {
		return n, invalid("A self-service request needs the signed-in customer.")
	}
	if n.Channel != SelfService && n.CustomerID != 0 {
		return n, invalid("Only self-service requests name the customer; other requests find the account by its address.")
	}
	return n, nil
}

// openRequest finds the open request of kind for email.
func openRequest(ctx context.Context, q db.Querier, email string, kind Kind) (Request, bool, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM privacy_requests
		WHERE email = $1 AND kind = $2 AND state NOT IN ('completed', 'refused')`, email, string(kind)))
	if errors.Is(err, ErrNotFound) {
		return Request{}, false, nil
	}
	return r, err == nil, err
}

// duplicate records that a request arrived again and returns the open one
// with ErrDuplicate.
func duplicate(ctx context.Context, d *db.DB, r Request, n NewRequest, by Actor, now time.Time) (Request, error) {
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := addEvent(ctx, tx, r.ID, r.State, r.State, by, "the same request arrived again ("+n.Channel.Label()+"); no second request was made", now); err != nil {
			return err
		}
		e := entry(now, "duplicate", r.ID)
		e.Detail = "channel=" + string(n.Channel)
		return by.record(ctx, tx, e)
	})
	if err != nil {
		return Request{}, err
	}
	return r, refusal(codeDuplicate, fmt.Sprintf("This address already has an open %s request (No. %d, received %s); nothing new was recorded.",
		strings.ToLower(r.Kind.Label()), r.ID, r.ReceivedAt.Format("2 January 2006")))
}

// recordRefusal writes the audit entry of a request refused before it
// existed and returns rf.
func recordRefusal(ctx context.Context, d *db.DB, by Actor, now time.Time, id int64, action string, rf *refuse.Error) error {
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		e := entry(now, action, id)
		e.Detail = rf.Code
		return by.record(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	return rf
}

// itoa formats an ID.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
