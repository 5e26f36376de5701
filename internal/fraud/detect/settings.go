package detect

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// thresholdsKey is the settings row that holds the owner's thresholds, as
// JSON. Business settings live in the database (shared/DESIGN.md, style
// 5): every instance reads the same figures, and a change needs no restart.
const thresholdsKey = "fraud.thresholds"

// Field is one threshold as the console edits it: a whole number in a
// unit a person reads (minutes, hours, days), between Min and Max.
type Field struct {
	Key      string // the form field and the JSON name
	Label    string
	Unit     string // "" for a plain count
	Value    int64
	Default  int64
	Min, Max int64
	// Help says in a sentence what the figure changes.
	Help string
}

// field describes one threshold: how to read and write it in its unit.
type field struct {
	key, label, unit, help string
	unitDur                time.Duration // 0: a count
	min, max               int64
	ptrInt                 func(*Thresholds) *int
	ptrDur                 func(*Thresholds) *time.Duration
	ptr64                  func(*Thresholds) *int64
}

const oneDay = 24 * time.Hour

// fields are the thresholds in the order the console shows them. The
// bounds keep a figure sensible: a window of a minute, or a hundred
// thousand checkouts, would either flood the review or silence it. No
// figure can be 0, which Thresholds reads as "the default".
var fields = []field{
	{key: "risk_score", label: "Processor risk score", help: "A payment the processor scored at least this high opens a case even when it called the risk normal.",
		min: 1, max: 100, ptr64: func(t *Thresholds) *int64 { return &t.RiskScore }},
	{key: "checkout_window", label: "Checkout window", unit: "minutes", unitDur: time.Minute, min: 5, max: 7 * 24 * 60,
		help:   "The window in which checkouts from one network or for one address are counted.",
		ptrDur: func(t *Thresholds) *time.Duration { return &t.CheckoutWindow }},
	{key: "checkouts_per_network", label: "Checkouts per network", min: 1, max: 10000,
		help:   "More checkouts than this from one network in the window open a case.",
		ptrInt: func(t *Thresholds) *int { return &t.CheckoutsPerNetwork }},
	{key: "checkouts_per_email", label: "Checkouts per address", min: 1, max: 10000,
		help:   "More checkouts than this for one email address in the window open a case.",
		ptrInt: func(t *Thresholds) *int { return &t.CheckoutsPerEmail }},
	{key: "key_sharing_window", label: "Key sharing window", unit: "hours", unitDur: time.Hour, min: 1, max: 90 * 24,
		help:   "The window in which a license's activations and check-ins are counted.",
		ptrDur: func(t *Thresholds) *time.Duration { return &t.KeySharingWindow }},
	{key: "key_sharing_networks", label: "Networks per license", min: 1, max: 10000,
		help:   "A license used from more networks than this in the window opens a case.",
		ptrInt: func(t *Thresholds) *int { return &t.KeySharingNetworks }},
	{key: "extra_machines", label: "Machines beyond the limit", min: 1, max: 10000,
		help:   "A license seen on more machines than its limit plus this figure opens a case.",
		ptrInt: func(t *Thresholds) *int { return &t.ExtraMachines }},
	{key: "replacement_window", label: "Replacement window", unit: "days", unitDur: oneDay, min: 1, max: 366,
		help:   "The window in which a license's new machines are counted.",
		ptrDur: func(t *Thresholds) *time.Duration { return &t.ReplacementWindow }},
	{key: "replacements_allowed", label: "Replacements allowed", min: 1, max: 10000,
		help:   "More new machines than the license's limit plus this figure in the window open a case.",
		ptrInt: func(t *Thresholds) *int { return &t.ReplacementsAllowed }},
	{key: "download_window", label: "Download window", unit: "hours", unitDur: time.Hour, min: 1, max: 90 * 24,
		help:   "The window in which a license's downloads are counted.",
		ptrDur: func(t *Thresholds) *time.Duration { return &t.DownloadWindow }},
	{key: "downloads_base", label: "Downloads per license", min: 1, max: 1000000,
		help:   "Downloads a license explains before its machines count.",
		ptrInt: func(t *Thresholds) *int { return &t.DownloadsBase }},
	{key: "downloads_per_machine", label: "Downloads per machine", min: 1, max: 1000000,
		help:   "Further downloads each machine the license allows explains.",
		ptrInt: func(t *Thresholds) *int { return &t.DownloadsPerMachine }},
	{key: "repo_window", label: "Repository window", unit: "hours", unitDur: time.Hour, min: 1, max: 90 * 24,
		help:   "The window in which a repository credential's networks are counted.",
		ptrDur: func(t *Thresholds) *time.Duration { return &t.RepoWindow }},
	{key: "repo_networks", label: "Networks per repository credential", min: 1, max: 10000,
		help:   "A credential used from more networks than this in the window opens a case.",
		ptrInt: func(t *Thresholds) *int { return &t.RepoNetworks }},
}

func (f field) get(t *Thresholds) int64 {
	switch {
	case f.ptr64 != nil:
		return *f.ptr64(t)
	case f.ptrDur != nil:
		return int64(*f.ptrDur(t) / f.unitDur)
	default:
		return int64(*f.ptrInt(t))
	}
}

func (f field) set(t *Thresholds, v int64) {
	switch {
	case f.ptr64 != nil:
		*f.ptr64(t) = v
	case f.ptrDur != nil:
		*f.ptrDur(t) = time.Duration(v) * f.unitDur
	default:
		*f.ptrInt(t) = int(v)
	}
}

// Fields returns t's thresholds as the console shows them, each with its
// default and bounds. Zero fields of t show their defaults.
func (t Thresholds) Fields() []Field {
	t = t.WithDefaults()
	def := Defaults
	out := make([]Field, len(fields))
	for i, f := range fields {
		out[i] = Field{Key: f.key, Label: f.label, Unit: f.unit, Help: f.help, Value: f.get(&t), Default: f.get(&def), Min: f.min, Max: f.max}
	}
	return out
}

// ParseThresholds reads thresholds from form values by their keys. Every
// field must be there and be a whole number within its bounds; the first
// that is not is refused with a message naming it and its bounds, and
// nothing is returned.
func ParseThresholds(get func(key string) string) (Thresholds, error) {
	var t Thresholds
	for _, f := range fields {
		raw := strings.TrimSpace(get(f.key))
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < f.min || v > f.max {
			unit := ""
			if f.unit != "" {
				unit = " " + f.unit
			}
			return Thresholds{}, refuse.Field(f.key, fmt.Sprintf("%s must be a whole number from %d to %d%s.", f.label, f.min, f.max, unit))
		}
		f.set(&t, v)
	}
	return t, nil
}

// validate checks stored thresholds against the bounds the console
// enforces, so a hand-edited row cannot set a figure no form would.
func (t Thresholds) validate() error {
	for _, f := range fields {
		if v := f.get(&t); v < f.min || v > f.max {
			return fmt.Errorf("%s is %d, outside %d to %d", f.key, v, f.min, f.max)
		}
	}
	return nil
}

// thresholdsJSON is the stored form: each figure in its console unit, by
// key, so a reader of the settings row sees "checkout_window": 60.
type thresholdsJSON map[string]int64

// LoadThresholds returns the thresholds in force: the owner's, or the
// defaults where none were saved. A row that cannot be read or holds a
// figure out of bounds is an error, not silently the defaults: the
// periodic job then fails visibly and the console shows why.
func LoadThresholds(ctx context.Context, q db.Querier) (Thresholds, error) {
	var raw string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, thresholdsKey).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return Defaults, nil
	}
	if err != nil {
		return Thresholds{}, fmt.Errorf("read fraud thresholds: %w", err)
	}
	var m thresholdsJSON
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return Thresholds{}, fmt.Errorf("read fraud thresholds: %w", err)
	}
	t := Defaults
	for _, f := range fields {
		if v, ok := m[f.key]; ok {
			f.set(&t, v)
		}
	}
	if err := t.validate(); err != nil {
		return Thresholds{}, fmt.Errorf("read fraud thresholds: %w", err)
	}
	return t, nil
}

// SaveThresholds stores t (every field within its bounds) in tx.
func SaveThresholds(ctx context.Context, tx *sql.Tx, t Thresholds, now time.Time) error {
	if err := t.validate(); err != nil {
		return fmt.Errorf("save fraud thresholds: %w", err)
	}
	m := thresholdsJSON{}
	for _, f := range fields {
		m[f.key] = f.get(&t)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("save fraud thresholds: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, thresholdsKey, string(b), now)
	if err != nil {
		return fmt.Errorf("save fraud thresholds: %w", err)
	}
	return nil
}

// Changes lists, in words, the figures that differ between was and now
// ("Checkouts per network 5 → 8"), for the audit entry of a save.
func Changes(was, now Thresholds) []string {
	was, now = was.WithDefaults(), now.WithDefaults()
	var out []string
	for _, f := range fields {
		a, b := f.get(&was), f.get(&now)
		if a == b {
			continue
		}
		s := fmt.Sprintf("%s %d → %d", f.label, a, b)
		if f.unit != "" {
			s += " " + f.unit
		}
		out = append(out, s)
	}
	return out
}
