package db

import (
	"context"
	"fmt"
	"io/fs"
	"sync"
)

// latestMigration is the highest version among the embedded migrations,
// read once: the set is compiled into the binary.
var latestMigration = sync.OnceValues(func() (int64, error) {
	src, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	files, err := fs.Glob(src, "*.sql")
	if err != nil {
		return 0, err
	}
	ms, err := checkMigrations(files)
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, m := range ms {
		latest = max(latest, m.version)
	}
	return latest, nil
})

// SchemaVersion returns the highest migration version goose recorded as
// applied (0 when none is) and the highest version this binary embeds.
// current < latest means migrations are pending; current > latest means a
// newer binary migrated the database (a rolling upgrade in progress).
//
// It reads goose's history table with one query on the reader pool, and
// unlike Pending it takes no lock and never creates the table: it is made
// for readiness probes, which arrive every few seconds and must neither
// write nor wait for the writer. A database without the history table is
// one that was never migrated: current is 0.
func (d *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	latest, err = latestMigration()
	if err != nil {
		return 0, 0, fmt.Errorf("read embedded migrations: %w", err)
	}
	exists := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`
	if d.Dialect == Postgres {
		// The table as the search path finds it, like goose does.
		exists = `SELECT COUNT(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relname = 'goose_db_version' AND n.nspname = current_schema()`
	}
	var n int
	if err := d.r.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return 0, latest, fmt.Errorf("read the migration history: %w", err)
	}
	if n == 0 {
		return 0, latest, nil
	}
	if err := d.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&current); err != nil {
		return 0, latest, fmt.Errorf("read the migration history: %w", err)
	}
	return current, latest, nil
}
