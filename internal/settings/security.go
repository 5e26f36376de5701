package settings

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// Keys of settings that are not part of Vendor. The 2FA requirement moved
// from "security.require_2fa_all" (off unless set, and written as off by
// every save of the vendor form) to a key of its own when it became on by
// default: an old "false" was never a decision to turn it off.
const (
	keyInstallSecret    = "secret.install"
	keyRequireTwoFactor = "security.staff_2fa_required"
)

// InstallSecret returns the installation's random secret, creating it on
// first use. It keys hashes that must not be reversible by guessing (for
// example rate-limit buckets derived from addresses). All instances sharing
// the database share it.
func InstallSecret(ctx context.Context, d *db.DB, now time.Time) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("install secret: %w", err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
		keyInstallSecret, hex.EncodeToString(b), now); err != nil {
		return nil, fmt.Errorf("install secret: %w", err)
	}
	var v string
	if err := d.Writer().QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, keyInstallSecret).Scan(&v); err != nil {
		return nil, fmt.Errorf("install secret: %w", err)
	}
	return hex.DecodeString(v)
}

// RequireTwoFactor reports whether every staff account must use a second
// factor (owners always must). It is on unless an owner turned it off:
// support and finance see customers' personal data, which a password alone
// should not open.
func RequireTwoFactor(ctx context.Context, q db.Querier) (bool, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, keyRequireTwoFactor).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read 2FA setting: %w", err)
	}
	return v == "true", nil
}

// SetRequireTwoFactor stores whether every staff account must use a
// second factor.
func SetRequireTwoFactor(ctx context.Context, tx *sql.Tx, on bool, now time.Time) error {
	v := "false"
	if on {
		v = "true"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, keyRequireTwoFactor, v, now)
	if err != nil {
		return fmt.Errorf("save 2FA setting: %w", err)
	}
	return nil
}
