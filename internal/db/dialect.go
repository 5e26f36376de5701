package db

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

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
