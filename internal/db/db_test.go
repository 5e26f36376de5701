package db_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		in      string
		dialect db.Dialect
		errPart string
	}{
		{"storekeep.db", db.SQLite, ""},
		{"sqlite:/var/lib/storekeep/sk.db", db.SQLite, ""},
		{"postgres://u:p@h/db", db.Postgres, ""},
		{"postgresql://h/db", db.Postgres, ""},
		{"", "", "no database given"},
		{"mysql://h/db", "", "unsupported database URL scheme"},
		{"x.db?mode=ro", "", "invalid SQLite path"},
	} {
		got, err := db.ParseDSN(tc.in)
		if tc.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("ParseDSN(%q) error = %v, want it to mention %q", tc.in, err, tc.errPart)
			}
			continue
		}
		if err != nil || got.Dialect != tc.dialect {
			t.Errorf("ParseDSN(%q) = %v, %v; want dialect %s", tc.in, got, err, tc.dialect)
		}
	}
}

func TestRedactHidesPassword(t *testing.T) {
	got := db.Redact("postgres://alice:s3cret@db.example:5432/sk?password=other")
	if strings.Contains(got, "s3cret") || strings.Contains(got, "other") {
		t.Fatalf("Redact left a password in %q", got)
	}
}

func TestOpenErrorsSayWhatToDo(t *testing.T) {
	ctx := context.Background()
	_, err := db.Open(ctx, filepath.Join(t.TempDir(), "missing-dir", "x.db"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing directory: err = %v", err)
	}

	notDB := filepath.Join(t.TempDir(), "not.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not sqlite ", 300)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = db.Open(ctx, notDB)
	if err == nil || !strings.Contains(err.Error(), "cannot open SQLite database") {
		t.Fatalf("file that is not a database: err = %v", err)
	}
	b, _ := os.ReadFile(notDB)
	if !strings.HasPrefix(string(b), "this is not sqlite") {
		t.Fatal("opening a non-database file changed it")
	}

	_, err = db.Open(ctx, "postgres://nobody:pw@127.0.0.1:1/none?connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "cannot reach PostgreSQL") || strings.Contains(err.Error(), ":pw@") {
		t.Fatalf("unreachable PostgreSQL: err = %v", err)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		applied, err := d.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second Migrate applied %v, want nothing", applied)
		}
		pending, err := d.Pending(ctx)
		if err != nil || pending {
			t.Fatalf("Pending = %v, %v; want false", pending, err)
		}
	})
}

func TestTxRollsBackOnError(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now()
		boom := errors.New("boom")
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)`, "k", "v", now); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx err = %v, want boom", err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, "k").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("rolled-back insert is visible (%d rows)", n)
		}
	})
}

func TestSQLiteReadersCannotWrite(t *testing.T) {
	d := testutil.SQLite(t)
	_, err := d.Reader().ExecContext(context.Background(), `INSERT INTO settings (key, value, updated_at) VALUES ('a', 'b', '2026-01-01')`)
	if err == nil {
		t.Fatal("a write through the reader pool succeeded; readers must be query-only")
	}
}

func TestSchemaListsTables(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		tables, err := d.Schema(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		found := map[string][]string{}
		for _, tb := range tables {
			found[tb.Name] = tb.Columns
		}
		cols, ok := found["products"]
		if !ok || len(cols) < 5 || cols[0] != "id" {
			t.Fatalf("products table columns = %v (tables %v)", cols, tables)
		}
		if _, ok := found["goose_db_version"]; !ok {
			t.Fatalf("migration table missing from schema: %v", tables)
		}
	})
}

// FuzzParseDSN checks that no input makes ParseDSN panic, that it accepts
// only what it can open, and that its errors never echo a password.
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"storekeep.db", "sqlite:x.db", "postgres://u:pw@h/db", "postgresql://h", "", "x://y", "a?b", "postgres://u:%zz@h", "postgres://u:secretpw@h/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := db.ParseDSN(s)
		if err != nil {
			if strings.Contains(s, ":secretpw@") && strings.Contains(err.Error(), "secretpw") {
				t.Fatalf("error echoes password: %v", err)
			}
			return
		}
		switch tg.Dialect {
		case db.SQLite:
			if tg.Path == "" || strings.ContainsAny(tg.Path, "?#") {
				t.Fatalf("accepted SQLite path %q", tg.Path)
			}
		case db.Postgres:
			if !strings.HasPrefix(tg.URL, "postgres") {
				t.Fatalf("accepted PostgreSQL URL %q", tg.URL)
			}
		default:
			t.Fatalf("no dialect for %q", s)
		}
	})
}
