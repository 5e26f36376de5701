package main

import (
	"context"
	"io"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestBackupRestoreCommands: back up, erase with the command line,
// restore: the erased customer is not back, and the commands say what
// they did.
func TestBackupRestoreCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "sk.db")
	migrateWithCustomer(t, ctx, dbPath, "ann@example.com")
	migrateWithCustomer(t, ctx, dbPath, "bob@example.com")
	backups := t.TempDir()
	out, err := execute(t, ctx, "backup", "--db", dbPath, "--out", backups, "--quiet")
	if err != nil || !strings.Contains(out, "backup written to") || !strings.Contains(out, "schema "+strconv.FormatInt(latestSchema(t), 10)) {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(backups, "*.skbackup"))
	if len(files) != 1 {
		t.Fatalf("backups: %v", files)
	}
	if out, err := execute(t, ctx, "privacy", "erase", "--db", dbPath, "--email", "ann@example.com", "--yes"); err != nil {
		t.Fatalf("erase: %v\n%s", err, out)
	}
	out, err = execute(t, ctx, "restore", "--db", dbPath, "--from", files[0])
	if err != nil || !strings.Contains(out, "1 since the backup, 1 subjects erased again") || !strings.Contains(out, "before-restore") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	for email, held := range map[string]bool{"ann@example.com": false, "bob@example.com": true} {
		out, err = execute(t, ctx, "privacy", "export", "--db", dbPath, "--email", email, "--out", filepath.Join(t.TempDir(), "x.zip"))
		if err != nil || strings.Contains(out, "Nothing is held") == held {
			t.Errorf("export of %s after the restore: %v\n%s", email, err, out)
		}
	}
	if _, err := execute(t, ctx, "backup", "--db", "postgres://u@127.0.0.1:1/x", "--out", backups); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup of PostgreSQL: %v", err)
	}
}

// TestRestoreRefusedWhileServing: a restore onto the database a running
// instance uses is refused, and the database is unchanged.
func TestRestoreRefusedWhileServing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "demo.db")
	// A backup of another database to restore.
	other := filepath.Join(t.TempDir(), "o.db")
	migrateWithCustomer(t, context.Background(), other, "ann@example.com")
	backups := t.TempDir()
	if out, err := execute(t, context.Background(), "backup", "--db", other, "--out", backups, "--quiet"); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(backups, "*.skbackup"))

	pr, pw := io.Pipe()
	root := rootCommand()
	root.SetOut(pw)
	root.SetArgs([]string{"demo", "--addr", "127.0.0.1:0", "--dir", dir})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	buf := make([]byte, 4096)
	if _, err := pr.Read(buf); err != nil { // the instance runs once it has printed its address
		t.Fatalf("demo printed nothing: %v", err)
	}
	go io.Copy(io.Discard, pr)
	_, err := execute(t, context.Background(), "restore", "--db", dbPath, "--from", files[0], "--without-ledger")
	if err == nil || !strings.Contains(err.Error(), "running Storekeep instance") || !strings.Contains(err.Error(), "stop it") {
		t.Fatalf("restore while serving: %v", err)
	}
	// The demo writes on (its jobs), so the file's bytes may move; what
	// a restore would leave is not there.
	if left, _ := filepath.Glob(filepath.Join(dir, "*restore*")); len(left) != 0 {
		t.Errorf("the refused restore left %v", left)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop")
	}
}

// TestRestoreLedgerSinceAfterPgRestore: PostgreSQL backed up with the
// real pg_dump, a customer erased, the dump restored with pg_restore: the
// customer is back until 'storekeep restore --ledger-since' erases them
// again from the ledger in the data directory.
func TestRestoreLedgerSinceAfterPgRestore(t *testing.T) {
	ctx := context.Background()
	dsn := testutil.PostgresURL(t)
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump is not installed")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	server := u.String()

	dataDir := t.TempDir()
	migrateWithCustomer(t, ctx, dsn, "ann@example.com")
	migrateWithCustomer(t, ctx, dsn, "bob@example.com")
	out, err := execute(t, ctx, "backup", "--db", dsn, "--check")
	if err != nil || !strings.Contains(out, "ok: pg_dump can back up this database") {
		t.Fatalf("backup --check: %v\n%s", err, out)
	}
	dump := filepath.Join(t.TempDir(), "sk.dump")
	taken := time.Now().UTC().Truncate(time.Second)
	if b, err := exec.Command("pg_dump", "--format=custom", "--schema="+schema, "--file="+dump, server).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, b)
	}
	if out, err := execute(t, ctx, "privacy", "erase", "--db", dsn, "--data-dir", dataDir, "--email", "ann@example.com", "--yes"); err != nil {
		t.Fatalf("erase: %v\n%s", err, out)
	}
	// The database is lost and the dump restored.
	if b, err := exec.Command("psql", server, "-c", "DROP SCHEMA "+schema+" CASCADE").CombinedOutput(); err != nil {
		t.Fatalf("drop: %v\n%s", err, b)
	}
	if b, err := exec.Command("pg_restore", "--dbname="+server, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, b)
	}
	exportSays := func(email string) string {
		out, err := execute(t, ctx, "privacy", "export", "--db", dsn, "--data-dir", dataDir, "--email", email, "--out", filepath.Join(t.TempDir(), "x.zip"))
		if err != nil {
			t.Fatalf("export: %v\n%s", err, out)
		}
		return out
	}
	if strings.Contains(exportSays("ann@example.com"), "Nothing is held") {
		t.Fatal("the dump does not hold the customer: the test proves nothing")
	}
	out, err = execute(t, ctx, "restore", "--db", dsn, "--data-dir", dataDir, "--ledger-since", taken.Add(-time.Second).Format(time.RFC3339))
	if err != nil || !strings.Contains(out, "1 since") || !strings.Contains(out, "1 subjects erased again") {
		t.Fatalf("restore --ledger-since: %v\n%s", err, out)
	}
	if !strings.Contains(exportSays("ann@example.com"), "Nothing is held") {
		t.Error("the erased customer is back after the restore")
	}
	if strings.Contains(exportSays("bob@example.com"), "Nothing is held") {
		t.Error("another customer was erased")
	}
}

// latestSchema is the newest migration this build holds: the schema a
// backup of a freshly migrated database names.
func latestSchema(t *testing.T) int64 {
	t.Helper()
	v, err := db.LatestSchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	return v
}
