package support

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Settings are the desk's targets and rules, edited in the console.
type Settings struct {
	// FirstResponse and Resolution are the targets a new ticket gets:
	// a first staff reply within FirstResponse, solved within Resolution.
	FirstResponse time.Duration
	Resolution    time.Duration
	// CloseAfter is how long a solved ticket stays solved (the customer's
	// reply opens it again) before it is closed for good.
	CloseAfter time.Duration
	// AutoReply sends an acknowledgement with the ticket number to the
	// sender of a new ticket by mail (at most one per sender a day).
	AutoReply bool
}

// DefaultSettings are those of a new installation.
func DefaultSettings() Settings {
	return Settings{FirstResponse: 24 * time.Hour, Resolution: 5 * 24 * time.Hour, CloseAfter: 7 * 24 * time.Hour, AutoReply: true}
}

const (
	keyFirstResponse = "support.first_response_hours"
	keyResolution    = "support.resolution_hours"
	keyCloseAfter    = "support.close_after_days"
	keyAutoReply     = "support.auto_reply"
)

// LoadSettings reads the desk's settings, with defaults for those never
// saved.
func LoadSettings(ctx context.Context, q db.Querier) (Settings, error) {
	s := DefaultSettings()
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM settings WHERE key LIKE 'support.%'`)
	if err != nil {
		return s, fmt.Errorf("support: read settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return s, fmt.Errorf("support: read settings: %w", err)
		}
		n, _ := strconv.Atoi(v)
		switch {
		case k == keyFirstResponse && n > 0:
			s.FirstResponse = time.Duration(n) * time.Hour
		case k == keyResolution && n > 0:
			s.Resolution = time.Duration(n) * time.Hour
		case k == keyCloseAfter && n > 0:
			s.CloseAfter = time.Duration(n) * 24 * time.Hour
		case k == keyAutoReply:
			s.AutoReply = v == "true"
		}
	}
	return s, rows.Err()
}

// Validate reports the first problem with s, naming the field.
func (s Settings) Validate() error {
	switch {
	case s.FirstResponse < time.Hour || s.FirstResponse > 90*24*time.Hour:
		return refuse.Field("first_response_hours", "the first-response target must be between 1 hour and 90 days (2160 hours)")
	case s.Resolution < s.FirstResponse || s.Resolution > 365*24*time.Hour:
		return refuse.Field("resolution_hours", "the resolution target must be at least the first-response target and at most a year (8760 hours)")
	case s.CloseAfter < 24*time.Hour || s.CloseAfter > 90*24*time.Hour:
		return refuse.Field("close_after_days", "solved tickets close after 1 to 90 days")
	}
	return nil
}

// SaveSettings stores s after validating it.
func SaveSettings(ctx context.Context, tx *sql.Tx, s Settings, now time.Time) error {
	if err := s.Validate(); err != nil {
		return err
	}
	auto := "false"
	if s.AutoReply {
		auto = "true"
	}
	for _, kv := range [][2]string{
		{keyFirstResponse, strconv.Itoa(int(s.FirstResponse / time.Hour))},
		{keyResolution, strconv.Itoa(int(s.Resolution / time.Hour))},
		{keyCloseAfter, strconv.Itoa(int(s.CloseAfter / (24 * time.Hour)))},
		{keyAutoReply, auto},
	} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, kv[0], kv[1], now.UTC()); err != nil {
			return fmt.Errorf("support: save settings: %w", err)
		}
	}
	return nil
}
