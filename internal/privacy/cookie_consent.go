package privacy

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// ConsentAction is what the person did to make a cookie choice.
type ConsentAction string

// The ways a cookie choice is made.
const (
	AcceptAll ConsentAction = "accept_all"
	RejectAll ConsentAction = "reject_all"
	Choose    ConsentAction = "choose" // a choice per category ("Save choices")
)

// CookieConsent is one record of a browser's choice about optional
// cookies (table cookie_consents).
type CookieConsent struct {
	// ID is random; the browser's consent cookie carries it.
	ID      string
	GivenAt time.Time
	// PolicySeq is the version of the cookie policy that described the
	// cookies when the choice was made.
	PolicySeq int
	Action    ConsentAction
	// Choices are the categories offered, each with whether it was
	// accepted; a category not offered is absent.
	Choices map[CookieCategory]bool
}

// NewConsentID returns a random id for a consent record: 128 bits,
// unguessable, so a cookie cannot be made to point at another's record.
func NewConsentID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// RecordCookieConsent writes c. It refuses a choice for a category that
// is not one needing consent.
func RecordCookieConsent(ctx context.Context, d *db.DB, c CookieConsent) error {
	cols := map[CookieCategory]sql.NullBool{}
	for k, on := range c.Choices {
		if k == Necessary || !k.Known() {
			return fmt.Errorf("record cookie consent: %q is not a category that needs consent", k)
		}
		cols[k] = sql.NullBool{Bool: on, Valid: true}
	}
	_, err := d.ExecContext(ctx, `INSERT INTO cookie_consents (consent_id, given_at, policy_seq, action, preferences, statistics, marketing)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.ID, c.GivenAt.UTC(), c.PolicySeq, string(c.Action), cols[Preferences], cols[Statistics], cols[Marketing])
	if err != nil {
		return fmt.Errorf("record cookie consent: %w", err)
	}
	return nil
}

// ErrNoConsentRecord is returned for an id no record has.
var ErrNoConsentRecord = errors.New("no such cookie consent record")

// LoadCookieConsent reads the record with id.
func LoadCookieConsent(ctx context.Context, q db.Querier, id string) (CookieConsent, error) {
	c := CookieConsent{ID: id, Choices: map[CookieCategory]bool{}}
	var action string
	var pref, stat, mark sql.NullBool
	err := q.QueryRowContext(ctx, `SELECT given_at, policy_seq, action, preferences, statistics, marketing
		FROM cookie_consents WHERE consent_id = $1`, id).Scan(&c.GivenAt, &c.PolicySeq, &action, &pref, &stat, &mark)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNoConsentRecord
	}
	if err != nil {
		return c, fmt.Errorf("read cookie consent: %w", err)
	}
	c.Action = ConsentAction(action)
	for k, v := range map[CookieCategory]sql.NullBool{Preferences: pref, Statistics: stat, Marketing: mark} {
		if v.Valid {
			c.Choices[k] = v.Bool
		}
	}
	return c, nil
}
