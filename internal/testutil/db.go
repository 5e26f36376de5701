// Package testutil gives tests real parts: a fresh database per test on
// SQLite and on PostgreSQL, a fixed clock and helpers for HTTP scenarios.
package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
)

// PostgresEnv names the environment variable that holds the PostgreSQL URL
// for tests. CI sets it; on a developer machine the PostgreSQL half of the
// suite is skipped when it is empty.
const PostgresEnv = "STOREKEEP_TEST_POSTGRES"

// Required reports whether tests must fail rather than skip when a
// prerequisite (PostgreSQL, Chromium) is missing: in CI, or when
// STOREKEEP_TEST_REQUIRE=1.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("STOREKEEP_TEST_REQUIRE") == "1"
}

// ForEachDB runs fn as a subtest on a fresh, migrated SQLite database and,
// when PostgreSQL is configured, on a fresh, migrated PostgreSQL schema.
func ForEachDB(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a fresh, migrated SQLite database in the test's temporary
// directory: a copy of the file that the first call of the test binary
// migrated (see migratedSQLite).
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	file, err := migratedSQLite()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "test.db")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// sqliteTemplate is the file of a freshly migrated SQLite database, made
// once per test binary.
var sqliteTemplate struct {
	once sync.Once
	file []byte
	err  error
}

// migratedSQLite returns the bytes of a SQLite database file that
// db.Migrate has brought to the latest version, migrating it on the first
// call. Under the race detector the pure-Go SQLite migrates a database in
// seconds, and a package's tests ask for hundreds; copying the file takes
// a millisecond and gives each test the same fresh database (db.Migrate
// writes no time or random value into it but goose's own history).
func migratedSQLite() ([]byte, error) {
	sqliteTemplate.once.Do(func() {
		sqliteTemplate.file, sqliteTemplate.err = migrateSQLiteFile()
	})
	return sqliteTemplate.file, sqliteTemplate.err
}

func migrateSQLiteFile() ([]byte, error) {
	dir, err := os.MkdirTemp("", "storekeep-test-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	// Everything into the main file, so that the file alone is the
	// database: a copy without its write-ahead log would miss the end.
	var busy, logged, moved int
	err = d.Writer().QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved)
	if err == nil && (busy != 0 || logged != moved) {
		err = fmt.Errorf("checkpoint of the migrated template incomplete: busy %d, %d of %d pages", busy, moved, logged)
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		return nil, fmt.Errorf("the migrated template still has a write-ahead log of %d bytes", st.Size())
	}
	return os.ReadFile(path)
}

// Postgres returns a fresh, migrated PostgreSQL database: a schema of its
// own, dropped when the test ends, so tests run in parallel without
// touching each other's rows. It skips the test when PostgreSQL is not
// configured, and fails it instead when Required.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	return open(t, PostgresURL(t))
}

// PostgresURL creates an empty schema of the test's own and returns the URL
// that connects to it (see Postgres).
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if Required() {
			t.Fatalf("%s is not set; PostgreSQL tests are required here (set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresEnv)
		}
		t.Skipf("%s not set: skipping the PostgreSQL half", PostgresEnv)
	}
	schema := "t_" + randHex(8)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", db.Redact(base), err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema on %s: %v", db.Redact(base), err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer a.Close()
		if _, err := a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(base, schema)
}

// WithSearchPath returns the PostgreSQL URL with its search_path set to
// schema.
func WithSearchPath(base, schema string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, dsn string) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if d.DataDir() == "" {
		// PostgreSQL: the erasure ledger's key goes in the test's own
		// directory, as it goes in --data-dir in production.
		d.SetDataDir(t.TempDir())
	}
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
