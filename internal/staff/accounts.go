package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/token"
)

// Refusals callers tell apart (errors.Is matches by code). Messages shown
// to people never say whether an account exists: sign-in failures all
// read the same.
var (
	ErrNotFound       = refuse.New(refuse.NotFound, "staff_not_found", "no such staff account")
	ErrExists         = refuse.New(refuse.Conflict, "staff_exists", "a staff account with this email address exists already")
	ErrBadCredentials = refuse.New(refuse.Forbidden, "staff_bad_credentials", "the email address or password is wrong")
	ErrBadCode        = refuse.New(refuse.Forbidden, "staff_bad_code", "the code is wrong or was used already")
	ErrInvalidToken   = refuse.New(refuse.Gone, "staff_invalid_token", "this link is unknown, expired or used already; ask for a new one")
	ErrLastOwner      = refuse.New(refuse.Conflict, "staff_last_owner", "this is the last active owner; make someone else owner first")
	// ErrUnknownRole is refused for a role that is not one of Roles.
	ErrUnknownRole = &refuse.Error{Kind: refuse.Invalid, Code: "staff_unknown_role", Field: "role",
		Msg: "unknown role: use one of owner, support, finance, analyst"}
)

// Account is a staff member's account.
type Account struct {
	ID          int64
	Email       string
	Name        string
	Role        Role
	HasPassword bool
	HasTOTP     bool
	Disabled    bool
	CreatedAt   time.Time

	passwordHash string
	totpSecret   string
	totpLastStep int64
}

// Label is how the console names the account.
func (a Account) Label() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}

// NormaliseEmail checks an address and returns it in the form we store
// (see emailaddr.NormaliseEmail, shared with customer accounts).
func NormaliseEmail(s string) (string, error) { return emailaddr.NormaliseEmail(s) }

const accountColumns = `id, email, name, role, password_hash, totp_secret, totp_last_step, disabled_at IS NOT NULL, created_at`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.Role, &a.passwordHash, &a.totpSecret, &a.totpLastStep, &a.Disabled, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("read staff account: %w", err)
	}
	a.HasPassword = a.passwordHash != ""
	a.HasTOTP = a.totpSecret != ""
	return a, nil
}

// Create adds an account without password; the person sets one through a
// setup link (IssueToken).
func Create(ctx context.Context, tx *sql.Tx, email, name string, role Role, now time.Time) (Account, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return Account{}, err
	}
	if !role.Valid() {
		return Account{}, ErrUnknownRole.Withf("unknown role %q: use one of owner, support, finance, analyst", role)
	}
	// The console and the CLI alike: no control, line-break or
	// direction-changing characters in a name the staff list shows.
	name, err = input.Line("name", "The name", 200, name)
	if err != nil {
		return Account{}, err
	}
	// The unique address decides: checking first and inserting second
	// lets two creations at once both pass the check (on PostgreSQL; on
	// SQLite the writer lock serialises them).
	row := tx.QueryRowContext(ctx, `INSERT INTO staff (email, name, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
		RETURNING `+accountColumns, email, name, string(role), now)
	a, err := scanAccount(row)
	if db.IsUniqueViolation(err) {
		return Account{}, ErrExists
	}
	return a, err
}

// ByID returns the account with id.
func ByID(ctx context.Context, q db.Querier, id int64) (Account, error) {
	return scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM staff WHERE id = $1`, id))
}

// ByEmail returns the account with the address email.
func ByEmail(ctx context.Context, q db.Querier, email string) (Account, error) {
	return scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM staff WHERE email = $1`, strings.ToLower(strings.TrimSpace(email))))
}

// List returns all accounts, active ones first.
func List(ctx context.Context, q db.Querier) ([]Account, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+accountColumns+` FROM staff ORDER BY disabled_at IS NOT NULL, email`)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// activeOwners counts owners that are not disabled, locking their rows
// until tx ends: two owners disabling (or demoting) each other at once
// would otherwise both count two owners and leave none. The count is an
// UPDATE that changes nothing, so it takes the same row locks as SELECT
// ... FOR UPDATE (db.Dialect.ForUpdate) on PostgreSQL, where the second
// transaction waits for the first and then counts what it left, with one
// text for both databases and no dialect to pass in; on SQLite the writer
// lock serialises the two anyway. (FOR UPDATE does not go with count(*).)
func activeOwners(ctx context.Context, tx *sql.Tx) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE staff SET updated_at = updated_at WHERE role = 'owner' AND disabled_at IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("count owners: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// SetRole changes an account's role, refusing to demote the last owner.
func SetRole(ctx context.Context, tx *sql.Tx, id int64, role Role, now time.Time) error {
	if !role.Valid() {
		return ErrUnknownRole.Withf("unknown role %q: use one of owner, support, finance, analyst", role)
	}
	a, err := ByID(ctx, tx, id)
	if err != nil {
		return err
	}
	if a.Role == Owner && role != Owner && !a.Disabled {
		if n, err := activeOwners(ctx, tx); err != nil {
			return err
		} else if n <= 1 {
			return ErrLastOwner
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE staff SET role = $1, updated_at = $2 WHERE id = $3`, string(role), now, id)
	return err
}

// Disable stops an account from signing in and ends its sessions. The
// account stays, so the audit log keeps naming who did what.
func Disable(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	a, err := ByID(ctx, tx, id)
	if err != nil {
		return err
	}
	if a.Disabled {
		return nil
	}
	if a.Role == Owner {
		if n, err := activeOwners(ctx, tx); err != nil {
			return err
		} else if n <= 1 {
			return ErrLastOwner
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE staff SET disabled_at = $1, updated_at = $1 WHERE id = $2`, now, id); err != nil {
		return fmt.Errorf("disable staff account: %w", err)
	}
	return RevokeAll(ctx, tx, id, 0, now)
}

// Enable lets a disabled account sign in again.
func Enable(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE staff SET disabled_at = NULL, updated_at = $1 WHERE id = $2`, now, id)
	return err
}

// CheckPassword returns the account for email when pw is its password. It
// takes as long for an unknown address as for a known one, and fails the
// same way for unknown, disabled and password-less accounts.
func CheckPassword(ctx context.Context, q db.Querier, email, pw string) (Account, error) {
	a, err := ByEmail(ctx, q, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Account{}, err
	}
	hash := a.passwordHash
	if hash == "" {
		hash = dummyHash()
	}
	ok, verr := VerifyPassword(pw, hash)
	if err != nil || verr != nil || !ok || a.passwordHash == "" || a.Disabled {
		return Account{}, ErrBadCredentials
	}
	return a, nil
}

// SetPassword sets a new password and signs the account out everywhere.
func SetPassword(ctx context.Context, tx *sql.Tx, id int64, pw string, now time.Time) error {
	if err := CheckPasswordPolicy(pw); err != nil {
		return err
	}
	h, err := HashPassword(pw, DefaultArgon2)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = $1, updated_at = $2 WHERE id = $3`, h, now, id)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return RevokeAll(ctx, tx, id, 0, now)
}

// newToken and hashToken: see package token.
var (
	newToken  = token.New
	hashToken = token.Hash
)

// TokenPurpose says what a one-time link is for.
type TokenPurpose string

// The one-time link purposes and how long each stays valid.
const (
	SetupToken TokenPurpose = "setup" // first password of a new account
	ResetToken TokenPurpose = "reset" // forgotten password
)

func (p TokenPurpose) ttl() time.Duration {
	if p == SetupToken {
		return 72 * time.Hour
	}
	return time.Hour
}

// IssueToken creates a one-time link token for the account, replacing any
// unused one of the same purpose.
func IssueToken(ctx context.Context, tx *sql.Tx, staffID int64, p TokenPurpose, now time.Time) (string, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE staff_tokens SET used_at = $1 WHERE staff_id = $2 AND purpose = $3 AND used_at IS NULL`, now, staffID, string(p)); err != nil {
		return "", fmt.Errorf("issue %s link: %w", p, err)
	}
	raw, hash := newToken()
	_, err := tx.ExecContext(ctx, `INSERT INTO staff_tokens (token_hash, staff_id, purpose, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		hash, staffID, string(p), now.Add(p.ttl()), now)
	if err != nil {
		return "", fmt.Errorf("issue %s link: %w", p, err)
	}
	return raw, nil
}

// PeekToken returns the account a valid token belongs to without using it
// (to show the form the link leads to).
func PeekToken(ctx context.Context, q db.Querier, raw string, p TokenPurpose, now time.Time) (Account, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT staff_id FROM staff_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`,
		hashToken(raw), string(p), now).Scan(&id)
	if err != nil {
		return Account{}, ErrInvalidToken
	}
	a, err := ByID(ctx, q, id)
	if err != nil || a.Disabled {
		return Account{}, ErrInvalidToken
	}
	return a, nil
}

// UseToken marks a valid token used and returns its account. A token works
// once: of two requests racing with the same link, one wins.
func UseToken(ctx context.Context, tx *sql.Tx, raw string, p TokenPurpose, now time.Time) (Account, error) {
	a, err := PeekToken(ctx, tx, raw, p, now)
	if err != nil {
		return a, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE staff_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL`, now, hashToken(raw))
	if err != nil {
		return Account{}, fmt.Errorf("use %s link: %w", p, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Account{}, ErrInvalidToken
	}
	return a, nil
}
