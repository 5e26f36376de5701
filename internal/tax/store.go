package tax

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// settingsKey is the settings row that holds the tax settings, as JSON:
// one row, so a save changes all of them at once and an order placed at
// the same moment reads either the old settings or the new ones.
const settingsKey = "tax.settings"

// Load reads the tax settings; Defaults (tax off) when never saved.
func Load(ctx context.Context, q db.Querier) (Settings, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, settingsKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return Defaults(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("load tax settings: %w", err)
	}
	var s Settings
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return Settings{}, fmt.Errorf("load tax settings: %w", err)
	}
	// Rates saved before a member state was added keep the default.
	rates := DefaultRates()
	for c, r := range s.Rates {
		rates[c] = r
	}
	s.Rates = rates
	return s, nil
}

// Save checks s and stores it in tx, returning what was stored. Invalid
// settings change nothing. Orders placed before keep the settings they
// were taxed under (their own columns); only new orders see the change.
func Save(ctx context.Context, tx *sql.Tx, s Settings, now time.Time) (Settings, error) {
	s, err := s.Normalised()
	if err != nil {
		return s, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return s, fmt.Errorf("save tax settings: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, settingsKey, string(b), now)
	if err != nil {
		return s, fmt.Errorf("save tax settings: %w", err)
	}
	return s, nil
}
