// Package dbcopy moves a Storekeep installation from its SQLite file to
// PostgreSQL: `storekeep db copy --from FILE --to postgres://...`.
//
// The target is migrated to the source's schema version by the project's
// own migrations; then every application table is copied, in an order the
// foreign keys of the schema decide, in batches of rows paged by the
// source's rowid (the primary key of Storekeep's tables), each batch
// committed together with the table's progress in the target's db_copy
// tables, so an interrupted copy continues from the last committed batch.
// Values are converted where the two databases differ (booleans, timestamps,
// bytes), sequences are set past the copied IDs, and at the end both sides
// are counted and checksummed table by table, the same way.
package dbcopy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/storekeep/storekeep/internal/db"
)

// The errors a copy is refused with, wrapped with what to do about it.
var (
	// ErrNotStorekeep: the source is missing, not SQLite, or not Storekeep's.
	ErrNotStorekeep = errors.New("the source is not a Storekeep database")
	// ErrBadTarget: the target URL is not a PostgreSQL URL that parses.
	ErrBadTarget = errors.New("the target is not a PostgreSQL URL")
	// ErrUnreachable: PostgreSQL did not answer or refused the connection.
	ErrUnreachable = errors.New("cannot reach PostgreSQL")
	// ErrNotEmpty: the target holds data that is not a resumable copy of
	// this source.
	ErrNotEmpty = errors.New("the target database is not empty")
	// ErrVersionMismatch: source and target (or this build) are at
	// different schema versions.
	ErrVersionMismatch = errors.New("the schema versions differ")
	// ErrMismatch: the verification found a table whose rows differ.
	ErrMismatch = errors.New("the copy does not match the source")
)

// Options are a copy's inputs.
type Options struct {
	// From is the SQLite file; To the PostgreSQL URL.
	From, To string
	// BatchRows is the number of rows per committed batch (DefaultBatch
	// when 0).
	BatchRows int
	// Insert writes batches with multi-row INSERT statements instead of
	// COPY FROM (for comparison: COPY is faster, docs/benchmarks.md).
	Insert bool
	// Out receives the per-table lines and the verification table; Progress
	// the progress bar. Either may be nil.
	Out, Progress io.Writer
	// OnBatch, when set, is called after each committed batch with the
	// table and the rows of it copied so far.
	OnBatch func(table string, rows int64)
	// Now is the clock for the state's timestamps (time.Now when nil).
	Now func() time.Time
}

// DefaultBatch is the default number of rows per batch: large enough that
// a commit is a small part of a batch's cost, small enough that an
// interruption loses little and memory stays low.
const DefaultBatch = 5000

// Result is what a run did and found.
type Result struct {
	// Resumed: an earlier, interrupted run of the same copy was continued.
	Resumed bool
	// Copied is the number of rows this run copied; Elapsed its duration,
	// of which CopyTime went to copying and VerifyTime to verifying.
	Copied                        int64
	Elapsed, CopyTime, VerifyTime time.Duration
	// Tables are the verification's results, one per application table,
	// with the checksums in hex.
	Tables []TableResult
}

// TableResult is one table's verification.
type TableResult struct {
	Table                  string
	SourceRows, TargetRows int64
	SourceSum, TargetSum   string
}

// OK reports whether source and target agree.
func (r TableResult) OK() bool {
	return r.SourceRows == r.TargetRows && r.SourceSum == r.TargetSum
}

// OK reports whether every table agrees.
func (r *Result) OK() bool {
	for _, t := range r.Tables {
		if !t.OK() {
			return false
		}
	}
	return len(r.Tables) > 0
}

// WriteTable prints the verification as a table.
func (r *Result) WriteTable(w io.Writer) {
	width := len("table")
	for _, t := range r.Tables {
		width = max(width, len(t.Table))
	}
	fmt.Fprintf(w, "%-*s  %12s  %12s  %-16s  %s\n", width, "table", "source rows", "target rows", "checksum", "result")
	for _, t := range r.Tables {
		// The first 16 hex digits of the checksums are shown; the whole
		// are compared.
		res, sum := "ok", short(t.SourceSum)
		if !t.OK() {
			res = "DIFFERS"
			if t.SourceSum != t.TargetSum {
				sum = short(t.SourceSum) + " / " + short(t.TargetSum)
			}
		}
		fmt.Fprintf(w, "%-*s  %12d  %12d  %-16s  %s\n", width, t.Table, t.SourceRows, t.TargetRows, sum, res)
	}
}

func short(sum string) string { return sum[:min(16, len(sum))] }

// copier holds a run's connections and plan.
type copier struct {
	opt    Options
	src    *source
	tmpl   *template
	conn   *pgx.Conn
	order  []*table
	all    map[string]*table
	out    io.Writer
	prog   *progress
	copied int64
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// Copy copies the source into the target and verifies the copy. A target
// that holds a copy of the same source that was interrupted is continued;
// one that was completed is verified again.
func Copy(ctx context.Context, opt Options) (*Result, error) {
	return run(ctx, opt, false)
}

// Verify compares source and target table by table without copying.
func Verify(ctx context.Context, opt Options) (*Result, error) {
	return run(ctx, opt, true)
}

func run(ctx context.Context, opt Options, verifyOnly bool) (*Result, error) {
	start := time.Now()
	if opt.BatchRows <= 0 {
		opt.BatchRows = DefaultBatch
	}
	c := &copier{opt: opt, out: opt.Out}
	if c.out == nil {
		c.out = io.Discard
	}
	defer c.close()
	pgcfg, err := parseTarget(opt.To)
	if err != nil {
		return nil, err
	}
	if c.src, err = openSource(ctx, opt.From); err != nil {
		return nil, err
	}
	if c.tmpl, err = newTemplate(ctx); err != nil {
		return nil, fmt.Errorf("migrate a template database: %w", err)
	}
	if v, want := c.src.version, c.tmpl.version; v != want {
		if v < want {
			return nil, fmt.Errorf("%w: %s is at schema version %d, this storekeep at %d; with the site stopped, run 'storekeep migrate --db %s' with this binary first, then copy", ErrVersionMismatch, opt.From, v, want, opt.From)
		}
		return nil, fmt.Errorf("%w: %s is at schema version %d, newer than this storekeep (%d); copy with the storekeep release that wrote it", ErrVersionMismatch, opt.From, v, want)
	}
	if c.conn, err = connect(ctx, pgcfg, opt.To); err != nil {
		return nil, err
	}

	res := &Result{}
	var st *copyState
	if verifyOnly {
		c.closeTemplate()
		names, err := targetTables(ctx, c.conn)
		if err != nil {
			return nil, err
		}
		if !names["goose_db_version"] {
			return nil, fmt.Errorf("%w: %s holds no Storekeep database to verify; copy into it first", ErrVersionMismatch, db.Redact(opt.To))
		}
		if v, err := targetVersion(ctx, c.conn); err != nil {
			return nil, err
		} else if v != c.src.version {
			return nil, fmt.Errorf("%w: the target is at schema version %d, the source at %d", ErrVersionMismatch, v, c.src.version)
		}
		if err := c.loadSchema(ctx); err != nil {
			return nil, err
		}
	} else {
		if st, err = c.prepareTarget(ctx); err != nil {
			return nil, err
		}
		// The template's work is done: removed now, not at the end, so a
		// copy killed later leaves no temporary directory behind.
		c.closeTemplate()
		res.Resumed = st.resumed
		if err := c.loadSchema(ctx); err != nil {
			return nil, err
		}
		if !st.resumed {
			if err := c.startState(ctx); err != nil {
				return nil, err
			}
		}
		if st.copiedAt.IsZero() {
			t0 := time.Now()
			if err := c.copyAll(ctx, st); err != nil {
				return nil, err
			}
			res.CopyTime = time.Since(t0)
		} else {
			fmt.Fprintf(c.out, "The copy into %s was completed on %s; verifying it again.\n", db.Redact(opt.To), st.copiedAt.Format(time.RFC3339))
		}
	}
	res.Copied = c.copied
	t0 := time.Now()
	if res.Tables, err = c.verify(ctx); err != nil {
		return nil, err
	}
	res.VerifyTime = time.Since(t0)
	res.Elapsed = time.Since(start)
	res.WriteTable(c.out)
	if !res.OK() {
		var bad []string
		for _, t := range res.Tables {
			if !t.OK() {
				bad = append(bad, t.Table)
			}
		}
		return res, fmt.Errorf("%w: %s differ; was the source written to during the copy? Stop the site, drop the target's tables (or create a new database) and copy again", ErrMismatch, strings.Join(bad, ", "))
	}
	if !verifyOnly {
		if _, err := c.conn.Exec(ctx, `UPDATE db_copy SET verified_at = $1 WHERE id = 1`, opt.now()); err != nil {
			return res, fmt.Errorf("record the verification: %w", err)
		}
	}
	return res, nil
}

func (c *copier) closeTemplate() {
	if c.tmpl != nil {
		c.tmpl.close()
		c.tmpl = nil
	}
}

func (c *copier) close() {
	if c.conn != nil {
		c.conn.Close(context.Background())
	}
	c.closeTemplate()
	if c.src != nil {
		c.src.close()
	}
}

// parseTarget checks the target URL without connecting.
func parseTarget(to string) (*pgx.ConnConfig, error) {
	t, err := db.ParseDSN(to)
	if err != nil {
		return nil, fmt.Errorf("%w: --to: %v", ErrBadTarget, err)
	}
	if t.Dialect != db.Postgres {
		return nil, fmt.Errorf("%w: --to %q is not a postgres:// URL; give the PostgreSQL database to copy into, e.g. postgres://storekeep:PASSWORD@localhost:5432/storekeep", ErrBadTarget, db.Redact(to))
	}
	cfg, err := pgx.ParseConfig(to)
	if err != nil {
		msg := err.Error()
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) && pe.Unwrap() != nil {
			msg = pe.Unwrap().Error()
		}
		return nil, fmt.Errorf("%w: --to %s cannot be parsed (%s); use the form postgres://user:password@host:5432/dbname", ErrBadTarget, db.Redact(to), msg)
	}
	return cfg, nil
}

func connect(ctx context.Context, cfg *pgx.ConnConfig, to string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		hint := "check that the server runs and that host and port in the URL are right"
		var pg *pgconn.PgError
		var ne net.Error
		switch {
		case errors.As(err, &pg) && pg.Code == "3D000":
			hint = "the database does not exist: create it (createdb) or fix the URL"
		case errors.As(err, &pg) && (pg.Code == "28P01" || pg.Code == "28000"):
			hint = "check the user and password in the URL"
		case errors.As(err, &ne) && ne.Timeout():
			hint = "the server did not answer within 10 seconds; check host, port and firewall"
		}
		return nil, fmt.Errorf("%w at %s: %v; %s", ErrUnreachable, db.Redact(to), redact(err, cfg), hint)
	}
	return conn, nil
}

// redact keeps a password out of a connection error.
func redact(err error, cfg *pgx.ConnConfig) string {
	s := err.Error()
	if cfg.Password != "" {
		s = strings.ReplaceAll(s, cfg.Password, "xxxxx")
	}
	return s
}

// copyState is the target's record of a copy (table db_copy, migration
// 00046) and its tables' progress.
type copyState struct {
	resumed  bool
	copiedAt time.Time
	tables   map[string]tableState
}

type tableState struct {
	lastKey, rows int64
	done          bool
}

// prepareTarget decides whether the target may be copied into: an empty
// database (nothing but the rows the migrations insert), or a copy of this
// same source that was interrupted. Nothing is changed before that is
// decided; then the target is migrated to this build's version, which the
// source has too.
func (c *copier) prepareTarget(ctx context.Context) (*copyState, error) {
	names, err := targetTables(ctx, c.conn)
	if err != nil {
		return nil, err
	}
	st := &copyState{tables: map[string]tableState{}}
	switch {
	case len(names) == 0:
	case !names["goose_db_version"]:
		return nil, fmt.Errorf("%w: %s holds tables that are not Storekeep's (%s); copy into a new, empty database", ErrNotEmpty, db.Redact(c.opt.To), listNames(names, 5))
	default:
		v, err := targetVersion(ctx, c.conn)
		if err != nil {
			return nil, err
		}
		if v > c.tmpl.version {
			return nil, fmt.Errorf("%w: the target is at schema version %d, the source and this storekeep at %d; copy into a new, empty database", ErrVersionMismatch, v, c.tmpl.version)
		}
		if names["db_copy"] {
			var fp, path string
			var started time.Time
			var copied *time.Time
			err := c.conn.QueryRow(ctx, `SELECT source, source_path, started_at, copied_at FROM db_copy WHERE id = 1`).Scan(&fp, &path, &started, &copied)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
			case err != nil:
				return nil, fmt.Errorf("read the target's copy state: %w", err)
			case fp != c.src.fingerprint:
				return nil, fmt.Errorf("%w: the target holds a copy of another database (%s, started %s), not of %s (or of the same file, migrated since); copy into a new, empty database", ErrNotEmpty, path, started.UTC().Format(time.RFC3339), c.opt.From)
			default:
				if v != c.tmpl.version {
					return nil, fmt.Errorf("%w: the interrupted copy in the target is at schema version %d, the source at %d; copy into a new, empty database", ErrVersionMismatch, v, c.tmpl.version)
				}
				st.resumed = true
				if copied != nil {
					st.copiedAt = *copied
				}
				if err := c.loadProgress(ctx, st); err != nil {
					return nil, err
				}
				return st, nil
			}
		}
		if err := c.checkEmpty(ctx, names); err != nil {
			return nil, err
		}
	}
	d, err := db.Open(ctx, c.opt.To)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return nil, err
	}
	if v, err := targetVersion(ctx, c.conn); err != nil {
		return nil, err
	} else if v != c.src.version {
		return nil, fmt.Errorf("%w: after migrating, the target is at schema version %d, the source at %d", ErrVersionMismatch, v, c.src.version)
	}
	return st, nil
}

func listNames(names map[string]bool, n int) string {
	var l []string
	for k := range names {
		l = append(l, k)
	}
	slices.Sort(l)
	if len(l) > n {
		return strings.Join(l[:n], ", ") + ", ..."
	}
	return strings.Join(l, ", ")
}

func targetTables(ctx context.Context, conn *pgx.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, `SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')`)
	if err != nil {
		return nil, fmt.Errorf("list the target's tables: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list the target's tables: %w", err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}

func targetVersion(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var v int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the target's schema version: %w", err)
	}
	return v, nil
}

// checkEmpty refuses a target with any row in an application table beyond
// the rows a fresh migration inserts (compared with the template by count
// and checksum).
func (c *copier) checkEmpty(ctx context.Context, names map[string]bool) error {
	tables, _, err := targetSchema(ctx, c.conn)
	if err != nil {
		return err
	}
	var full []string
	var list []string
	for n := range names {
		list = append(list, n)
	}
	slices.Sort(list)
	for _, name := range list {
		t := tables[name]
		if notCopied[name] || t == nil {
			continue
		}
		var fresh int64
		if err := c.tmpl.d.Reader().QueryRowContext(ctx, `SELECT count(*) FROM `+quote(name)).Scan(&fresh); err != nil {
			fresh = 0 // a table this build does not have: any row is data
		}
		var n int64
		if err := c.conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM %s LIMIT %d) x`, quote(name), fresh+1)).Scan(&n); err != nil {
			return fmt.Errorf("count the target's table %s: %w", name, err)
		}
		if n != fresh {
			more := ""
			if n > fresh {
				more = "+"
			}
			full = append(full, fmt.Sprintf("%s (%d%s rows)", name, n, more))
			continue
		}
		if n == 0 {
			continue
		}
		want, err := sourceSum(ctx, c.tmpl.d.Reader(), t)
		if err != nil {
			return err
		}
		got, err := c.targetSum(ctx, t)
		if err != nil {
			return err
		}
		if want != got {
			full = append(full, fmt.Sprintf("%s (%d rows, changed since it was migrated)", name, n))
		}
	}
	if len(full) > 0 {
		more := ""
		if len(full) > 5 {
			more = fmt.Sprintf(" and %d more", len(full)-5)
			full = full[:5]
		}
		return fmt.Errorf("%w: %s holds data in %s%s; the copy goes into a new, empty database only (create one, or drop this one's tables), so that nothing there is overwritten or mixed with the source", ErrNotEmpty, db.Redact(c.opt.To), strings.Join(full, ", "), more)
	}
	return nil
}

func (c *copier) loadProgress(ctx context.Context, st *copyState) error {
	rows, err := c.conn.Query(ctx, `SELECT name, last_key, rows, done FROM db_copy_tables`)
	if err != nil {
		return fmt.Errorf("read the copy's progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var ts tableState
		if err := rows.Scan(&name, &ts.lastKey, &ts.rows, &ts.done); err != nil {
			return fmt.Errorf("read the copy's progress: %w", err)
		}
		st.tables[name] = ts
	}
	return rows.Err()
}

// loadSchema reads both schemas, checks they agree and plans the order.
func (c *copier) loadSchema(ctx context.Context) error {
	tables, fks, err := targetSchema(ctx, c.conn)
	if err != nil {
		return err
	}
	srcCols, noRowid, err := sourceSchema(ctx, c.src.tx)
	if err != nil {
		return err
	}
	if len(noRowid) > 0 {
		return fmt.Errorf("the source's tables %s are WITHOUT ROWID, which the copy cannot page through", strings.Join(noRowid, ", "))
	}
	if err := compareSchemas(srcCols, tables); err != nil {
		return err
	}
	for name, t := range tables {
		if !notCopied[name] && len(t.pk) == 0 {
			return fmt.Errorf("table %s has no primary key: the copy verifies tables by key; give it one in a migration", name)
		}
	}
	c.all = tables
	c.order, err = plan(tables, fks)
	return err
}

func (c *copier) startState(ctx context.Context) error {
	_, err := c.conn.Exec(ctx, `INSERT INTO db_copy (id, source, source_path, version, started_at) VALUES (1, $1, $2, $3, $4)`,
		c.src.fingerprint, c.opt.From, c.src.version, c.opt.now())
	if err != nil {
		return fmt.Errorf("record the copy in the target: %w", err)
	}
	return nil
}
