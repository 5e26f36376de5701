// Package db opens Storekeep's database (SQLite by default, PostgreSQL when
// the DSN is a postgres:// URL), applies the embedded migrations and offers
// the few helpers every domain package shares.
//
// One data layer serves both dialects: queries use $1-style placeholders,
// which both modernc.org/sqlite and pgx accept, and portable SQL. Where the
// dialects differ, the difference is small, named and lives here.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the SQL dialect of an open database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open Storekeep database. Writes go through one connection on
// SQLite (SQLite allows one writer at a time; queuing in Go is cheaper than
// SQLITE_BUSY retries) and reads through a pool of read-only connections. On
// PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	w       *sql.DB
	r       *sql.DB
	where   string // a description of the database without secrets, for messages

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared read queries, by text

	pgURL   string // PostgreSQL: for the connection that listens for content changes
	content contentWatch

	path    string // SQLite: the database file
	dataDir string // see DataDir
}

// Target describes which database a DSN points at.
type Target struct {
	Dialect Dialect
	// Path is the SQLite file; empty for PostgreSQL.
	Path string
	// URL is the PostgreSQL URL; empty for SQLite.
	URL string
}

// ParseDSN tells SQLite paths from PostgreSQL URLs. A DSN is either a
// postgres:// (or postgresql://) URL, or a file path, optionally prefixed
// with "sqlite:".
func ParseDSN(dsn string) (Target, error) {
	dsn = strings.TrimSpace(dsn)
	switch {
	case dsn == "":
		return Target{}, errors.New("no database given: set --db (or STOREKEEP_DB) to a file path for SQLite or a postgres:// URL")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return Target{}, fmt.Errorf("the PostgreSQL URL cannot be parsed (%v): use the form postgres://user:password@host:5432/dbname", redactErr(err))
		}
		return Target{Dialect: Postgres, URL: dsn}, nil
	case strings.Contains(dsn, "://"):
		return Target{}, fmt.Errorf("unsupported database URL scheme in %q: use a file path for SQLite or a postgres:// URL", Redact(dsn))
	default:
		p := strings.TrimPrefix(dsn, "sqlite:")
		if p == "" || strings.ContainsAny(p, "?#") {
			return Target{}, fmt.Errorf("invalid SQLite path %q: give a plain file path such as ./storekeep.db", p)
		}
		return Target{Dialect: SQLite, Path: p}, nil
	}
}

// Open opens and checks the database named by dsn. It does not migrate;
// call Migrate for that.
func Open(ctx context.Context, dsn string) (*DB, error) {
	t, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if t.Dialect == Postgres {
		return openPostgres(ctx, t.URL)
	}
	return openSQLite(ctx, t.Path)
}

func sqliteURI(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// A 16 MiB page cache per connection (SQLite's default is 2 MiB) and
	// reads through mmap over up to 2 GiB of the file (SQLite's maximum):
	// lookups in a large database then touch memory, not system calls.
	// With a 256 MiB window, exporting one person at 1M customers took
	// twice as long as at 100k; with 2 GiB, the same (docs/benchmarks.md).
	// The window is address space, not memory: pages load on demand.
	q.Add("_pragma", "cache_size(-16000)")
	q.Add("_pragma", "mmap_size(2147418112)")
	if write {
		// BEGIN IMMEDIATE takes the write lock at the start of a transaction,
		// so a transaction never fails half-way because another wrote first.
		q.Add("_txlock", "immediate")
		// Deleted and overwritten content is zeroed in the file, so that
		// erased personal data does not linger in free pages.
		q.Add("_pragma", "secure_delete(1)")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("cannot open SQLite database %s: the directory %s does not exist; create it or choose another --db path", path, dir)
	}
	w, err := sql.Open("sqlite", sqliteURI(path, true))
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := pingSQLite(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("cannot open SQLite database %s: %v; check that the file is a Storekeep database and that this user may write to it and its directory", path, err)
	}
	r, err := sql.Open("sqlite", sqliteURI(path, false))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open SQLite database %s for reading: %w", path, err)
	}
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{Dialect: SQLite, w: w, r: r, where: "SQLite " + path, path: path, dataDir: dir}, nil
}

// pingSQLite makes SQLite read the file header, so that a file that is not
// a database is reported at start-up rather than on the first query.
func pingSQLite(ctx context.Context, w *sql.DB) error {
	var n int
	return w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n)
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL %s: %v", Redact(dsn), redactErr(err))
	}
	p.SetMaxOpenConns(20)
	p.SetMaxIdleConns(10)
	p.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s: %v; check that the server runs, that the URL (--db or STOREKEEP_DB) is right and that the user may connect", Redact(dsn), redactErr(err))
	}
	return &DB{Dialect: Postgres, w: p, r: p, where: "PostgreSQL " + Redact(dsn), pgURL: dsn}, nil
}

// Redact hides the password in a database URL, for messages and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redactErr keeps errors from echoing a password back: url.Error repeats
// the whole URL, so only its cause is kept.
func redactErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	s := err.Error()
	if u, perr := url.Parse(s); perr == nil && u.User != nil {
		return Redact(s)
	}
	return s
}

// Path is the SQLite database file; "" on PostgreSQL.
func (d *DB) Path() string { return d.path }

// DataDir is the directory for files that belong with this database but
// must not be inside it, such as the key of the erasure ledger (a copy of
// the database must not carry the key to its own hashes). On SQLite it is
// the directory of the database file; on PostgreSQL the caller sets it
// (--data-dir), and it is "" until then.
func (d *DB) DataDir() string { return d.dataDir }

// SetDataDir sets DataDir; call it before the database is used.
func (d *DB) SetDataDir(dir string) { d.dataDir = dir }

// String describes the database without secrets.
func (d *DB) String() string { return d.where }

// Close closes all connections.
func (d *DB) Close() error {
	d.content.stop()
	d.stmtMu.Lock()
	var err error
	for _, st := range d.stmts {
		err = errors.Join(err, st.Close())
	}
	d.stmts = nil
	d.stmtMu.Unlock()
	err = errors.Join(err, d.w.Close())
	if d.r != d.w {
		err = errors.Join(err, d.r.Close())
	}
	return err
}

// Ping checks that the database answers; /readyz uses it.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Reader returns the pool for queries that only read.
func (d *DB) Reader() *sql.DB { return d.r }

// Writer returns the pool for statements that write. Prefer Tx.
func (d *DB) Writer() *sql.DB { return d.w }

// QueryContext runs a read-only query on the reader pool.
func (d *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := d.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.r.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a read-only single-row query on the reader pool.
func (d *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := d.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.r.QueryRowContext(ctx, q, args...)
}

// maxPrepared bounds the statement cache: the site's queries are a fixed
// set of texts; filters that build varying texts stop being cached when
// it is full, and run unprepared.
const maxPrepared = 512

// prepared returns a cached prepared statement for a read query, or nil
// when it cannot be prepared (the query then runs the ordinary way and
// reports its own error). Parsing SQL was a quarter of the cost of
// rendering a product page (BenchmarkPages in internal/web); a prepared
// statement is parsed once per connection.
func (d *DB) prepared(ctx context.Context, q string) *sql.Stmt {
	d.stmtMu.Lock()
	defer d.stmtMu.Unlock()
	if st, ok := d.stmts[q]; ok {
		return st
	}
	if len(d.stmts) >= maxPrepared {
		return nil
	}
	st, err := d.r.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if d.stmts == nil {
		d.stmts = map[string]*sql.Stmt{}
	}
	d.stmts[q] = st
	return st
}

// ExecContext runs one statement on the writer.
func (d *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := d.w.ExecContext(ctx, q, args...)
	if err == nil {
		d.content.committed()
	}
	return res, err
}

// Tx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise (also when fn panics).
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	d.content.committed()
	return nil
}

// Querier is what both *sql.DB and *sql.Tx offer; domain code that can run
// inside or outside a transaction takes one.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.Tx)(nil)
	_ Querier = (*DB)(nil)
)
