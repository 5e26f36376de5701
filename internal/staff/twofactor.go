package staff

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// recoveryCodeCount is how many recovery codes an enrolment yields.
const recoveryCodeCount = 10

// recoveryAlphabet avoids letters people confuse (0/O, 1/l/I).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func newRecoveryCode() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = recoveryAlphabet[int(b[i])%len(recoveryAlphabet)]
	}
	return string(b[:5]) + "-" + string(b[5:])
}

func normaliseRecoveryCode(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// EnrolTOTP stores secret as the account's second factor once code proves
// the person's app produces it, and returns fresh recovery codes, shown
// once. Earlier recovery codes stop working.
func EnrolTOTP(ctx context.Context, tx *sql.Tx, id int64, secret, code string, now time.Time) ([]string, error) {
	step, ok := CheckTOTP(secret, code, now, 0)
	if !ok {
		return nil, ErrBadCode
	}
	if _, err := tx.ExecContext(ctx, `UPDATE staff SET totp_secret = $1, totp_last_step = $2, updated_at = $3 WHERE id = $4`, secret, step, now, id); err != nil {
		return nil, fmt.Errorf("enrol second factor: %w", err)
	}
	return newRecoveryCodes(ctx, tx, id, now)
}

func newRecoveryCodes(ctx context.Context, tx *sql.Tx, id int64, now time.Time) ([]string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_recovery_codes WHERE staff_id = $1`, id); err != nil {
		return nil, fmt.Errorf("replace recovery codes: %w", err)
	}
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		// The codes are random and long enough that a fast hash suffices.
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff_recovery_codes (staff_id, code_hash, created_at) VALUES ($1, $2, $3)`,
			id, hashToken(normaliseRecoveryCode(codes[i])), now); err != nil {
			return nil, fmt.Errorf("store recovery code: %w", err)
		}
	}
	return codes, nil
}

// ResetTwoFactor removes an account's second factor and recovery codes
// (an owner does this for a colleague who lost their phone) and ends its
// sessions; the person enrols again at the next sign-in.
func ResetTwoFactor(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE staff SET totp_secret = '', totp_last_step = 0, updated_at = $1 WHERE id = $2`, now, id); err != nil {
		return fmt.Errorf("reset second factor: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_recovery_codes WHERE staff_id = $1`, id); err != nil {
		return fmt.Errorf("reset second factor: %w", err)
	}
	return RevokeAll(ctx, tx, id, 0, now)
}

// VerifySecondFactor accepts a current TOTP code (each code once: the step
// is recorded with a conditional update, so two racing requests cannot
// both use it) or an unused recovery code. It reports whether a recovery
// code was used.
func VerifySecondFactor(ctx context.Context, tx *sql.Tx, id int64, code string, now time.Time) (bool, error) {
	a, err := ByID(ctx, tx, id)
	if err != nil {
		return false, err
	}
	if !a.HasTOTP {
		return false, ErrBadCode
	}
	if step, ok := CheckTOTP(a.totpSecret, code, now, a.totpLastStep); ok {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, id)
		if err != nil {
			return false, fmt.Errorf("record second factor: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return false, nil
		}
		return false, ErrBadCode
	}
	res, err := tx.ExecContext(ctx, `UPDATE staff_recovery_codes SET used_at = $1 WHERE staff_id = $2 AND code_hash = $3 AND used_at IS NULL`,
		now, id, hashToken(normaliseRecoveryCode(code)))
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	return false, ErrBadCode
}

// RecoveryCodesLeft counts the account's unused recovery codes.
func RecoveryCodesLeft(ctx context.Context, q db.Querier, id int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM staff_recovery_codes WHERE staff_id = $1 AND used_at IS NULL`, id).Scan(&n)
	return n, err
}
