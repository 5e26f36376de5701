package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/settings"
)

func TestMailSuppressionsCommands(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)
	dbPath := filepath.Join(t.TempDir(), "sk.db")
	run := func(args ...string) (string, error) { return execute(t, ctx, append(args, "--db", dbPath)...) }
	if _, err := execute(t, ctx, "migrate", "--db", dbPath); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := settings.InstallSecret(ctx, d, now)
	if err != nil {
		t.Fatal(err)
	}
	sup := mail.NewSuppressions(secret)
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := sup.Add(ctx, tx, "carol@example.com", mail.Suppression{Reason: mail.ReasonHardBounce, Detail: "5.1.1 user unknown", OutboxID: 7}, now); err != nil {
			return err
		}
		_, err := sup.Add(ctx, tx, "dave@example.com", mail.Suppression{Reason: mail.ReasonComplaint, Detail: "feedback-type abuse"}, now)
		return err
	})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}

	out, err := run("mail", "suppressions", "list")
	if err != nil || !strings.Contains(out, "hard_bounce") || !strings.Contains(out, "complaint") || strings.Contains(out, "@") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = run("mail", "suppressions", "list", "--address", "Carol@Example.com")
	if err != nil || !strings.Contains(out, "hard_bounce") || strings.Contains(out, "complaint") {
		t.Fatalf("list --address: %v\n%s", err, out)
	}
	if out, err := run("mail", "suppressions", "remove", "Carol@example.com"); err != nil || !strings.Contains(out, "lifted") {
		t.Fatalf("remove: %v\n%s", err, out)
	}
	if _, err := run("mail", "suppressions", "remove", "carol@example.com"); err == nil || !strings.Contains(err.Error(), "not on the suppression list") {
		t.Fatalf("remove again: %v", err)
	}
	if _, err := run("mail", "suppressions", "remove", "not an address"); err == nil {
		t.Fatal("remove of a non-address succeeded")
	}
	out, err = run("mail", "suppressions", "list")
	if err != nil || strings.Contains(out, "hard_bounce") || !strings.Contains(out, "complaint") {
		t.Fatalf("list after remove: %v\n%s", err, out)
	}

	d, err = db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'mail.suppression_lifted'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit entries of lifting: %d, %v", n, err)
	}
}
