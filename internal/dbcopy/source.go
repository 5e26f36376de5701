package dbcopy

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// source is the SQLite database copied from, opened read-only: the copy
// never writes to it. Every read of a run goes through one read
// transaction, so a run sees one snapshot of the file even if something
// still writes to it (it should not: see docs/db-copy.md).
type source struct {
	path        string
	db          *sql.DB
	tx          *sql.Tx
	version     int64
	fingerprint string
}

// openSource opens the SQLite file at path read-only and checks that it is
// a Storekeep database: a file that is not SQLite, or a SQLite database
// without Storekeep's migration history, is refused by name.
func openSource(ctx context.Context, path string) (*source, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: there is no file %s; give the SQLite database of the installation with --from (the file STOREKEEP_DB names)", ErrNotStorekeep, path)
	case err != nil:
		return nil, fmt.Errorf("%w: cannot read %s: %v", ErrNotStorekeep, path, err)
	case st.IsDir():
		return nil, fmt.Errorf("%w: %s is a directory; give the SQLite database file with --from", ErrNotStorekeep, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	u := url.URL{Scheme: "file", OmitHost: true, Path: abs, RawQuery: q.Encode()}
	d, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One connection: the read transaction below holds it for the run.
	d.SetMaxOpenConns(1)
	s := &source{path: path, db: d}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil {
		d.Close()
		return nil, fmt.Errorf("%w: %s is not a SQLite database (%v)", ErrNotStorekeep, path, err)
	}
	var goose int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('goose_db_version', 'settings', 'customers')`).Scan(&goose); err != nil || goose != 3 {
		d.Close()
		return nil, fmt.Errorf("%w: %s is a SQLite database but not Storekeep's (it has no Storekeep tables and migration history)", ErrNotStorekeep, path)
	}
	if s.tx, err = d.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
		d.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if s.version, s.fingerprint, err = history(ctx, s.tx); err != nil {
		s.close()
		return nil, fmt.Errorf("read the migration history of %s: %w", path, err)
	}
	return s, nil
}

func (s *source) close() {
	if s.tx != nil {
		_ = s.tx.Rollback()
	}
	_ = s.db.Close()
}

// history reads goose's record of a database: the latest migration applied,
// and a fingerprint of the whole record. The record holds the moment each
// migration ran, so two installations never share it, and it stays the
// same as long as no migration runs: the fingerprint tells a copy resumed
// from the same source from one started from another.
func history(ctx context.Context, q querier) (int64, string, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, version_id, is_applied, tstamp FROM goose_db_version ORDER BY id`)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	h := sha256.New()
	var version int64
	for rows.Next() {
		var id, v int64
		var applied bool
		var ts any
		if err := rows.Scan(&id, &v, &applied, &ts); err != nil {
			return 0, "", err
		}
		if t, ok := ts.(time.Time); ok {
			ts = t.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(h, "%d|%d|%t|%v\n", id, v, applied, ts)
		if applied && v > version {
			version = v
		}
	}
	if err := rows.Err(); err != nil {
		return 0, "", err
	}
	return version, hex.EncodeToString(h.Sum(nil))[:32], nil
}

// template is a freshly migrated SQLite database of this build: its
// latest version, and the rows its migrations insert (a row in
// content_version, audit_head, notice_dispatch), which a target that holds
// nothing else holds too.
type template struct {
	version int64
	dir     string
	d       *db.DB
}

func newTemplate(ctx context.Context) (*template, error) {
	dir, err := os.MkdirTemp("", "storekeep-dbcopy-")
	if err != nil {
		return nil, fmt.Errorf("a temporary directory for the migrated template: %w", err)
	}
	d, err := db.Open(ctx, filepath.Join(dir, "template.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	t := &template{dir: dir, d: d}
	if _, err := d.Migrate(ctx); err != nil {
		t.close()
		return nil, err
	}
	if t.version, _, err = history(ctx, d.Reader()); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

func (t *template) close() {
	t.d.Close()
	os.RemoveAll(t.dir)
}

// quote quotes an identifier the way both SQLite and PostgreSQL read it.
func quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}
