package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	if err != nil || !strings.Contains(out, "backup written to") || !strings.Contains(out, "schema 45") {
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
