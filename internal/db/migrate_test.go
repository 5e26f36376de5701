package db_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestEmbeddedMigrationsObeyRules: every number is one shared file or a
// pair of variants, numbered without gaps, and nothing but .sql files.
func TestEmbeddedMigrationsObeyRules(t *testing.T) {
	files, err := db.EmbeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 13 {
		t.Fatalf("embedded migrations = %v", files)
	}
	if err := db.CheckMigrations(files); err != nil {
		t.Fatal(err)
	}
}

func TestMigrationSetRules(t *testing.T) {
	for _, tc := range []struct {
		files   []string
		errPart string // "" when the set is acceptable
	}{
		{[]string{"00001_a.sql", "00002_b.sql"}, ""},
		{[]string{"00001_a.sql", "00002_b.sqlite.sql", "00002_b.postgres.sql", "00003_c.sql"}, ""},
		{[]string{"00001_a.sql", "00003_c.sql"}, "00002 is missing"},
		{[]string{"00001_a.sql", "00002_b.sqlite.sql"}, "has no postgres variant"},
		{[]string{"00001_a.postgres.sql"}, "has no sqlite variant"},
		{[]string{"00001_a.sql", "00001_a.sqlite.sql", "00001_a.postgres.sql"}, "either one shared file"},
		{[]string{"00001_a.sql", "00001_b.sql"}, "either one shared file"},
		{[]string{"00001_a.sqlite.sql", "00001_b.postgres.sql"}, "either one shared file"},
		{[]string{"00001_a.sqlite.sql", "00001_a.sqlite.sql"}, "either one shared file"},
		{[]string{"00001_a.mysql.sql"}, "NNNNN_words.sql"},
		{[]string{"1_a.sql"}, "NNNNN_words.sql"},
		{[]string{"00001_a.txt"}, "must end in .sql"},
	} {
		err := db.CheckMigrations(tc.files)
		switch {
		case tc.errPart == "" && err != nil:
			t.Errorf("%v: %v, want accepted", tc.files, err)
		case tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)):
			t.Errorf("%v: err = %v, want it to mention %q", tc.files, err, tc.errPart)
		}
	}
}

// TestPerDialectMigrationChangesCheck runs a test-only migration set whose
// second step changes a CHECK constraint: a table rebuild on SQLite, ALTER
// TABLE on PostgreSQL. Rows and indexes survive, and the new rule holds.
func TestPerDialectMigrationChangesCheck(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		p, err := d.ProviderFor(os.DirFS("testdata/checkchange"), "test_migrations")
		if err != nil {
			t.Fatal(err)
		}
		insert := func(qty int) error {
			_, err := d.ExecContext(ctx, `INSERT INTO test_gadgets (name, qty) VALUES ('new', $1)`, qty)
			return err
		}
		if _, err := p.UpTo(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if err := insert(0); err == nil {
			t.Fatal("qty 0 accepted before the migration that allows it")
		}
		res, err := p.Up(ctx)
		if err != nil || len(res) != 1 {
			t.Fatalf("second step: %v, %v", res, err)
		}
		if err := insert(0); err != nil {
			t.Fatalf("qty 0 after the migration: %v", err)
		}
		if err := insert(-1); err == nil {
			t.Fatal("qty -1 accepted: the new constraint is missing")
		}
		var kept int
		if err := d.QueryRowContext(ctx, `SELECT qty FROM test_gadgets WHERE name = 'kept'`).Scan(&kept); err != nil || kept != 3 {
			t.Fatalf("the row from before the rebuild: %d, %v", kept, err)
		}
		var indexes int
		q := `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'test_gadgets_name'`
		if d.Dialect == db.Postgres {
			q = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'test_gadgets_name'`
		}
		if err := d.QueryRowContext(ctx, q).Scan(&indexes); err != nil || indexes != 1 {
			t.Fatalf("index after the rebuild: %d, %v", indexes, err)
		}
	})
}
