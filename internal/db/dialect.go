package db

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The few things the two databases do differently, named once. Query texts
// stay the same on both; where a dialect has no equivalent, the helper says
// what takes its place.

// ForUpdate is the suffix of a SELECT that reads rows a transaction is
// about to change: " FOR UPDATE" on PostgreSQL, so concurrent transactions
// on the same rows queue; nothing on SQLite, which has no row locks and
// needs none: a write transaction takes the database's one write lock at
// BEGIN (_txlock=immediate), so it is serialised already.
func (d Dialect) ForUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// Rows writes the parameter lists of a multi-row INSERT's VALUES: rows
// lists of cols parameters, "(?, ?), (?, ?)" on SQLite and "($1, $2),
// ($3, $4)" on PostgreSQL. Anonymous on SQLite because modernc.org/sqlite
// looks each numbered parameter up by name in a list as long as the
// statement's parameters: a 500-row batch of 8 columns cost 4,000²
// comparisons (docs/benchmarks.md, the request log).
func (d Dialect) Rows(q *strings.Builder, rows, cols int) {
	arg := 0
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for j := range cols {
			if j > 0 {
				q.WriteString(", ")
			}
			if d == SQLite {
				q.WriteByte('?')
			} else {
				arg++
				q.WriteByte('$')
				q.WriteString(strconv.Itoa(arg))
			}
		}
		q.WriteByte(')')
	}
}

// ForUpdateSkipLocked is ForUpdate for a queue: on PostgreSQL concurrent
// claimers pass over the rows another holds instead of waiting for them;
// on SQLite, whose one writer serialises claims, it is empty.
func (d Dialect) ForUpdateSkipLocked() string {
	if d == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// IsUniqueViolation reports whether err is a unique (or primary key)
// constraint failure on either database: the way to learn that a row
// exists already when two transactions each checked it did not and then
// both inserted it. Checking first and inserting second is a race; the
// constraint is the only arbiter.
func IsUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505" // unique_violation
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || lite.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsRetryable reports whether err is PostgreSQL ending a transaction so
// that another can go on: a deadlock (40P01) or a serialization failure
// (40001). The transaction changed nothing and may be run again.
func IsRetryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

// FoldCase is how text is compared without regard to case: Unicode
// lower-casing, the same on both databases. In SQL, write
// fold_case(column) LIKE $1 with the pattern made by ContainsPattern.
//
// SQLite's own lower() and LIKE fold ASCII letters only ("Ö" stays "Ö"),
// so Storekeep registers fold_case as a deterministic Go function on every
// SQLite connection (this package's init). On PostgreSQL, migration 00013
// defines fold_case as lower(), which folds every letter the database's
// character type (LC_CTYPE, a UTF-8 locale such as C.UTF-8 or en_US.UTF-8)
// knows; the test TestFoldCase fails on a database that does not.
func FoldCase(s string) string { return strings.ToLower(s) }

// ContainsPattern returns a LIKE pattern (with ESCAPE '\') that matches
// text containing s, case folded by FoldCase.
func ContainsPattern(s string) string {
	return "%" + EscapeLike(FoldCase(s)) + "%"
}

// EscapeLike makes s match literally in a LIKE pattern with ESCAPE '\'.
// Mind that LIKE itself differs: SQLite's ignores the case of ASCII
// letters, PostgreSQL's does not; compare folded text (FoldCase) or text
// stored in one case.
func EscapeLike(s string) string { return likeEscaper.Replace(s) }

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

func init() {
	sqlite.MustRegisterDeterministicScalarFunction("fold_case", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return FoldCase(v), nil
		case []byte:
			return FoldCase(string(v)), nil
		default:
			return nil, fmt.Errorf("fold_case: want text, got %T", v)
		}
	})
}

// Period is a length of calendar time the console's figures are grouped
// by.
type Period string

// The periods. Weeks start on Monday (ISO 8601); all of them are in UTC.
const (
	Day   Period = "day"
	Week  Period = "week"
	Month Period = "month"
)

// Bucket is a SQL expression for the first day of the period col (a
// timestamp column, stored in UTC) falls in, as text "YYYY-MM-DD": the
// same text on both databases, so one query groups by it and Go parses
// it. It panics on a period not listed above: the callers name constants.
//
// SQLite keeps timestamps as the text Go's time.Time.String writes
// ("2026-03-01 09:30:00.5 +0000 UTC"), which its date functions do not
// read; its first ten characters are the UTC date (clock.Clock and the
// drivers write UTC). PostgreSQL truncates the timestamptz at UTC.
func (d Dialect) Bucket(p Period, col string) string {
	if d == Postgres {
		switch p {
		case Day, Week, Month:
			return "to_char(date_trunc('" + string(p) + "', " + col + " AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
		}
	} else {
		switch p {
		case Day:
			return "substr(" + col + ", 1, 10)"
		case Week:
			// weekday 0 moves to the next Sunday (or stays on one); six days
			// back is that week's Monday.
			return "date(substr(" + col + ", 1, 10), 'weekday 0', '-6 days')"
		case Month:
			return "substr(" + col + ", 1, 7) || '-01'"
		}
	}
	panic("db: unknown period " + string(p))
}

// PeriodStart is the first moment of the period t falls in, in UTC: the
// Go side of Bucket, for the range a query asks for and the empty periods
// a chart still shows.
func PeriodStart(p Period, t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch p {
	case Week:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

// NextPeriod is the start of the period after the one starting at start.
func NextPeriod(p Period, start time.Time) time.Time {
	switch p {
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}
