package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/staff"
)

func TestPrivacyRequestsAndDigestCommands(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFixed(now)
	requestsClock = clk
	t.Cleanup(func() { requestsClock = clock.System{} })

	dbPath := filepath.Join(t.TempDir(), "sk.db")
	run := func(args ...string) (string, error) { return execute(t, ctx, append(args, "--db", dbPath)...) }
	if _, err := execute(t, ctx, "migrate", "--db", dbPath); err != nil {
		t.Fatal(err)
	}
	out, err := run("privacy", "digest")
	if err != nil || !strings.Contains(out, "Nothing to report") {
		t.Fatalf("digest with no requests: %v\n%s", err, out)
	}

	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind  requests.Kind
		email string
		at    time.Time
	}{
		{requests.Access, "late@example.com", now.AddDate(0, -1, -3)},
		{requests.Erasure, "soon@example.com", now.AddDate(0, -1, 4)},
		{requests.Objection, "calm@example.com", now},
	} {
		if _, err := requests.Create(ctx, d, nil, requests.NewRequest{Kind: c.kind, Email: c.email, Channel: requests.Email}, requests.System, c.at); err != nil {
			t.Fatal(err)
		}
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		_, err := staff.Create(ctx, tx, "owner@example.com", "", staff.Owner, now)
		return err
	})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}

	out, err = run("privacy", "requests")
	if err != nil {
		t.Fatalf("requests: %v\n%s", err, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^NO\s+RECEIVED\s+DUE\s+DEADLINE\s+STATE\s+KIND\s+CHANNEL\s+EMAIL$`),
		regexp.MustCompile(`(?m)^1\s+2026-02-07\s+2026-03-07\s+OVERDUE by 3d\s+received\s+access\s+email\s+late@example.com$`),
		regexp.MustCompile(`(?m)^2\s+2026-02-14\s+2026-03-14\s+DUE SOON, 4d left\s+received\s+erasure\s+email\s+soon@example.com$`),
		regexp.MustCompile(`(?m)^3\s+2026-03-10\s+2026-04-10\s+31d left\s+received\s+objection`),
		regexp.MustCompile(`1 overdue, 1 due within 7 days`),
	} {
		if !want.MatchString(out) {
			t.Errorf("requests output lacks %s:\n%s", want, out)
		}
	}
	out, err = run("privacy", "requests", "--overdue")
	if err != nil || !strings.Contains(out, "late@example.com") || strings.Contains(out, "soon@example.com") {
		t.Fatalf("--overdue: %v\n%s", err, out)
	}
	out, err = run("privacy", "requests", "--state", "completed")
	if err != nil || !strings.Contains(out, "No privacy requests match.") {
		t.Fatalf("--state completed: %v\n%s", err, out)
	}
	if _, err := run("privacy", "requests", "--state", "lost"); err == nil || !strings.Contains(err.Error(), "in_progress") {
		t.Fatalf("--state lost: %v", err)
	}

	out, err = run("privacy", "digest")
	if err != nil || !strings.Contains(out, "Queued the digest for 1 owner(s): 1 overdue, 1 due within 7 days") {
		t.Fatalf("digest: %v\n%s", err, out)
	}
	out, err = run("privacy", "digest")
	if err != nil || !strings.Contains(out, "queued already") {
		t.Fatalf("second digest the same day: %v\n%s", err, out)
	}
	clk.Advance(24 * time.Hour)
	out, err = run("privacy", "digest")
	if err != nil || !strings.Contains(out, "Queued the digest for 1 owner(s)") {
		t.Fatalf("digest the next day: %v\n%s", err, out)
	}
}
