// Package customers is the customer's side of the shop: accounts with a
// billing profile, passwordless sign-in by emailed one-time links, sessions,
// and email changes that take effect only when the new address confirms.
//
// Links and sessions are random tokens of which only SHA-256 hashes are
// stored, so a copy of the database gives no working link or session. A
// sign-in works the same whether or not the address has an account: the
// account is created when a link is first used, so neither the request nor
// its answer reveals who is a customer.
package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/token"
)

// Refusals callers tell apart (errors.Is matches by code). None of the
// messages says whether an account exists for an address.
var (
	ErrNotFound     = refuse.New(refuse.NotFound, "customer_not_found", "no such customer")
	ErrInvalidToken = refuse.New(refuse.Gone, "customer_invalid_token", "this link is unknown, expired or used already; ask for a new one")
	ErrNoSession    = refuse.New(refuse.Forbidden, "customer_no_session", "your session has ended; please sign in again")
	// ErrEmailTaken is returned when confirming a change to an address
	// another account has. Only the owner of that address (who opened the
	// link) should be told.
	ErrEmailTaken = refuse.New(refuse.Conflict, "customer_email_taken", "another account uses this email address")
	ErrSameEmail  = refuse.New(refuse.Invalid, "customer_same_email", "this is the account's email address already")
	// ErrInvalidProfile is what a *ValidationError unwraps to.
	ErrInvalidProfile = refuse.New(refuse.Invalid, "customer_invalid_profile", "the profile is not valid")
)

// Customer is a customer account.
type Customer struct {
	ID    int64
	Email string
	Profile
	CreatedAt time.Time
	UpdatedAt time.Time
	// LastSeenAt is the last sign-in or request in a session (recorded at
	// most once a minute).
	LastSeenAt time.Time
}

// Label is how pages address the customer: their name, else the address.
func (c Customer) Label() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Email
}

// customerColumns lists the columns scanCustomer reads, each prefixed with
// p (a table alias and dot, or "").
func customerColumns(p string) string {
	cols := []string{"id", "email", "name", "company", "address_line1", "address_line2", "postal_code", "city", "region",
		"country", "vat_id", "created_at", "updated_at", "last_seen_at"}
	for i, c := range cols {
		cols[i] = p + c
	}
	return strings.Join(cols, ", ")
}

func customerDest(c *Customer, lastSeen *sql.NullTime) []any {
	return []any{&c.ID, &c.Email, &c.Name, &c.Company, &c.AddressLine1, &c.AddressLine2, &c.PostalCode, &c.City, &c.Region,
		&c.Country, &c.VATID, &c.CreatedAt, &c.UpdatedAt, lastSeen}
}

func scanCustomer(row interface{ Scan(...any) error }) (Customer, error) {
	var c Customer
	var seen sql.NullTime
	err := row.Scan(customerDest(&c, &seen)...)
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, ErrNotFound
	}
	if err != nil {
		return Customer{}, fmt.Errorf("read customer: %w", err)
	}
	c.LastSeenAt = seen.Time
	return c, nil
}

// ByID returns the customer with id.
func ByID(ctx context.Context, q db.Querier, id int64) (Customer, error) {
	return scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerColumns("")+` FROM customers WHERE id = $1`, id))
}

// ByEmail returns the customer whose address is email (in any case).
func ByEmail(ctx context.Context, q db.Querier, email string) (Customer, error) {
	email, err := emailaddr.NormaliseEmail(email)
	if err != nil {
		return Customer{}, ErrNotFound
	}
	return scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerColumns("")+` FROM customers WHERE email = $1`, email))
}

// UpdateProfile validates p and stores it as the customer's profile. On a
// *ValidationError nothing is saved.
func UpdateProfile(ctx context.Context, tx *sql.Tx, id int64, p Profile, now time.Time) (Customer, error) {
	p, err := p.Normalise()
	if err != nil {
		return Customer{}, err
	}
	row := tx.QueryRowContext(ctx, `UPDATE customers SET name = $1, company = $2, address_line1 = $3, address_line2 = $4,
		postal_code = $5, city = $6, region = $7, country = $8, vat_id = $9, updated_at = $10 WHERE id = $11
		RETURNING `+customerColumns(""),
		p.Name, p.Company, p.AddressLine1, p.AddressLine2, p.PostalCode, p.City, p.Region, p.Country, p.VATID, now.UTC(), id)
	c, err := scanCustomer(row)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Customer{}, fmt.Errorf("update profile: %w", err)
	}
	return c, err
}

// newToken and hashToken: see package token.
var (
	newToken  = token.New
	hashToken = token.Hash
)

// plausibleToken rejects values that cannot be one of our tokens before
// any query is made.
func plausibleToken(raw string) bool { return raw != "" && len(raw) <= 100 }

func itoa(n int) string { return strconv.Itoa(n) }

// Search finds customers whose address or name contains q (case-
// insensitive, for every alphabet: db.FoldCase), for staff helping a
// person; at most limit, newest first. Addresses are stored lower-case
// already. A search for a part of a name cannot use an index on either
// database; it reads the table newest first and stops at limit.
func Search(ctx context.Context, q db.Querier, text string, limit int) ([]Customer, error) {
	return queryCustomers(ctx, q, "search customers", `SELECT `+customerColumns("")+` FROM customers
		WHERE email LIKE $1 ESCAPE '\' OR fold_case(name) LIKE $1 ESCAPE '\' ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(limit), db.ContainsPattern(text))
}

// queryCustomers runs a query of customerColumns and scans its rows; what
// names the query in its error.
func queryCustomers(ctx context.Context, q db.Querier, what, text string, args ...any) ([]Customer, error) {
	rows, err := q.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []Customer
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
