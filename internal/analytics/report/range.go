// Package report reads the usage-analytics aggregates (analytics_daily and
// analytics_funnel, migration 00031; analytics_monthly, 00034) for the
// staff dashboard: totals, a series per day, the top values of a
// dimension and the funnel, each for a range of days and, for comparison,
// the previous period of the same length. It reads counts only: these
// tables hold no row about a person, and no query here joins a table that
// does.
//
// Visitors are counted per day (the visitor hash's salt changes every
// day), so a range's visitors are the sum of its days' visitors:
// visitor-days, not people.
package report

import (
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/refuse"
)

// MaxDays is the longest range the dashboard reads at once: a year and a
// bit, so a year can be compared with the one before (two ranges).
const MaxDays = 400

// Presets are the ranges the dashboard offers as links, in days ending
// today.
var Presets = []int{7, 30, 90, 365}

// DefaultDays is the range shown when none is asked for.
const DefaultDays = 30

// Range is a range of whole UTC days, From and To included. Both are
// midnight UTC.
type Range struct {
	From, To time.Time
}

// Day is t's UTC day at midnight.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Last is the range of n days ending with today's (today included: its
// figures grow as the roll-up runs).
func Last(n int, now time.Time) Range {
	to := Day(now)
	return Range{From: to.AddDate(0, 0, -(n - 1)), To: to}
}

// Days is the number of days in r.
func (r Range) Days() int { return int(r.To.Sub(r.From)/(24*time.Hour)) + 1 }

// Previous is the period of the same length that ends the day before r.
func (r Range) Previous() Range {
	n := r.Days()
	return Range{From: r.From.AddDate(0, 0, -n), To: r.From.AddDate(0, 0, -1)}
}

// Dates lists r's days in order.
func (r Range) Dates() []time.Time {
	out := make([]time.Time, 0, r.Days())
	for d := r.From; !d.After(r.To); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out
}

// FromText and ToText are the days as the tables store them (YYYY-MM-DD).
func (r Range) FromText() string { return r.From.Format(time.DateOnly) }

// ToText is To as the tables store it.
func (r Range) ToText() string { return r.To.Format(time.DateOnly) }

// String names the range for people: "1 May 2026 – 30 May 2026".
func (r Range) String() string {
	if r.From.Equal(r.To) {
		return r.From.Format("2 Jan 2006")
	}
	return r.From.Format("2 Jan 2006") + " – " + r.To.Format("2 Jan 2006")
}

// The refusals of a range, told apart by code.
var (
	ErrBadDate   = refuse.New(refuse.Invalid, "analytics_bad_date", "")
	ErrReversed  = refuse.New(refuse.Invalid, "analytics_reversed_range", "")
	ErrTooLong   = refuse.New(refuse.Invalid, "analytics_range_too_long", "")
	ErrFuture    = refuse.New(refuse.Invalid, "analytics_future_range", "")
	ErrBadLength = refuse.New(refuse.Invalid, "analytics_bad_length", "")
)

// ParseRange reads a range typed as two days (YYYY-MM-DD, either may be
// empty: from defaults to DefaultDays before to, to to today). It refuses
// a day that is not a date, a start after the end, a range longer than
// MaxDays and an end after today (now's UTC day).
func ParseRange(from, to string, now time.Time) (Range, error) {
	today := Day(now)
	var r Range
	var err error
	if to == "" {
		r.To = today
	} else if r.To, err = parseDay("to", "end", to); err != nil {
		return Range{}, err
	}
	if from == "" {
		r.From = r.To.AddDate(0, 0, -(DefaultDays - 1))
	} else if r.From, err = parseDay("from", "start", from); err != nil {
		return Range{}, err
	}
	return r, r.check(today)
}

// ParseDays reads a preset's length ("30"): a whole number of days from 1
// to MaxDays, ending today.
func ParseDays(s string, now time.Time) (Range, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxDays {
		e := ErrBadLength.Withf("%q is not a number of days the dashboard can show: choose from 1 to %d days.", clip(s), MaxDays)
		e.Field = "days"
		return Range{}, e
	}
	return Last(n, now), nil
}

func (r Range) check(today time.Time) error {
	switch {
	case r.From.After(r.To):
		e := ErrReversed.Withf("The start (%s) is after the end (%s): choose a start on or before the end.",
			r.FromText(), r.ToText())
		e.Field = "from"
		return e
	case r.To.After(today):
		e := ErrFuture.Withf("The end (%s) is in the future: the last day with figures is today, %s.", r.ToText(), today.Format(time.DateOnly))
		e.Field = "to"
		return e
	case r.Days() > MaxDays:
		e := ErrTooLong.Withf("The range is %d days long; the dashboard shows at most %d days at once: choose a shorter range.", r.Days(), MaxDays)
		e.Field = "from"
		return e
	}
	return nil
}

func parseDay(field, name, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 2000 {
		e := ErrBadDate.Withf("The %s %q is not a date the dashboard can read: write it as YYYY-MM-DD, for example 2026-05-01.", name, clip(s))
		e.Field = field
		return time.Time{}, e
	}
	return t, nil
}

// clip shortens what someone typed before it goes into a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
