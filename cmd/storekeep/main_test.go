package main

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// execute runs the command line in-process and returns its output.
func execute(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	root := rootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func TestMigrateSaysWhatItApplied(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sk.db")
	out, err := execute(t, context.Background(), "migrate", "--db", dbPath)
	if err != nil || !strings.Contains(out, "applied 00001 00001_foundation.sql") {
		t.Fatalf("first migrate: %v\n%s", err, out)
	}
	out, err = execute(t, context.Background(), "migrate", "--db", dbPath)
	if err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %v\n%s", err, out)
	}
}

func TestMigratePostgres(t *testing.T) {
	url := testutil.PostgresURL(t)
	out, err := execute(t, context.Background(), "migrate", "--db", url)
	if err != nil || !strings.Contains(out, "applied 00001") {
		t.Fatalf("migrate on PostgreSQL: %v\n%s", err, out)
	}
}

func TestConfigMasksSecrets(t *testing.T) {
	t.Setenv("STOREKEEP_SMTP_PASSWORD", "hunter2")
	out, err := execute(t, context.Background(), "config", "--db", "postgres://sk:dbsecret@db:5432/sk")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "dbsecret"} {
		if strings.Contains(out, secret) {
			t.Errorf("config printed the secret %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "(set, hidden)") || !strings.Contains(out, "STOREKEEP_DB") {
		t.Errorf("config output lacks the masked password or env names:\n%s", out)
	}
}

func TestBadInputSaysWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		env   map[string]string
		want  string
		usage bool
	}{
		{args: []string{"serve", "--addr", "nonsense"}, want: "is not host:port", usage: true},
		{args: []string{"serve", "--base-url", "shop.example.com"}, want: "not an absolute http(s) URL", usage: true},
		{args: []string{"serve", "--log-format", "xml"}, want: "use text or json", usage: true},
		{args: []string{"serve", "--db", "mysql://x/y"}, want: "unsupported database URL scheme", usage: true},
		{args: []string{"serve", "--smtp-port", "eighty"}, want: "invalid argument", usage: true},
		{args: []string{"serve", "--no-such-flag"}, want: "unknown flag", usage: true},
		{args: []string{"config"}, env: map[string]string{"STOREKEEP_SMTP_PORT": "abc"}, want: `STOREKEEP_SMTP_PORT="abc" is not a number`, usage: true},
		{args: []string{"migrate", "--db", "postgres://u:pw@127.0.0.1:1/x?connect_timeout=2"}, want: "cannot reach PostgreSQL"},
		{args: []string{"migrate", "--db", "/nonexistent-dir/x.db"}, want: "does not exist"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := execute(t, context.Background(), tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			var ue usageError
			if errors.As(err, &ue) != tc.usage {
				t.Errorf("usage error = %v, want %v", !tc.usage, tc.usage)
			}
		})
	}
}

func TestInventoryCommand(t *testing.T) {
	out, err := execute(t, context.Background(), "privacy", "inventory", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Records []struct {
			Table, Column, Activity string
			Personal                bool
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("inventory --json is not JSON: %v\n%s", err, out)
	}
	var sawColumn, sawPersonal bool
	for _, r := range doc.Records {
		sawColumn = sawColumn || (r.Table == "products" && r.Column == "slug")
		sawPersonal = sawPersonal || r.Personal
	}
	if !sawColumn || !sawPersonal {
		t.Fatalf("inventory JSON lacks products.slug or any personal data: %s", out)
	}
	out, err = execute(t, context.Background(), "privacy", "inventory")
	if err != nil || !strings.Contains(out, "products.slug") || !strings.Contains(out, "RETENTION") {
		t.Fatalf("inventory table: %v\n%s", err, out)
	}
}

func TestVersion(t *testing.T) {
	out, err := execute(t, context.Background(), "version")
	if err != nil || !strings.HasPrefix(out, "storekeep ") {
		t.Fatalf("version: %v %q", err, out)
	}
}

// TestDemoServesAndShutsDown starts the demo on a free port, reads the URL
// it prints, fetches pages and stops it as SIGTERM would.
func TestDemoServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	root := rootCommand()
	root.SetOut(pw)
	demoDir := t.TempDir()
	root.SetArgs([]string{"demo", "--addr", "127.0.0.1:0", "--dir", demoDir})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()

	buf := make([]byte, 4096)
	n, err := pr.Read(buf)
	if err != nil {
		t.Fatalf("demo printed nothing: %v", err)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(string(buf[:n]))
	if m == "" {
		t.Fatalf("demo did not print its URL: %q", buf[:n])
	}
	// The repository key, made by the demo and loaded by serve, is
	// published: the repositories are on.
	for path, want := range map[string]string{"": "QuillGuard", "products/quillguard": "Professional", "healthz": "ok",
		".well-known/storekeep-repo-key.asc": "-----BEGIN PGP PUBLIC KEY BLOCK-----"} {
		resp, err := http.Get(m + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET /%s = %d, want 200 containing %q", path, resp.StatusCode, want)
		}
	}
	// The demo signs its licenses with a throwaway key of its own.
	if _, err := os.Stat(filepath.Join(demoDir, "license-keys", "active")); err != nil {
		t.Errorf("the demo made no license signing key: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo did not shut down cleanly: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop within 15s of cancellation")
	}
}

func TestServerErrorLogHasNoAddresses(t *testing.T) {
	var buf bytes.Buffer
	l := slog.NewLogLogger(redactingHandler{slog.NewTextHandler(&buf, nil)}, slog.LevelWarn)
	l.Print("http: TLS handshake error from 192.0.2.44:51234: EOF")
	l.Print("http: TLS handshake error from [2001:db8::7]:443: EOF")
	out := buf.String()
	if strings.Contains(out, "192.0.2.44") || strings.Contains(out, "2001:db8::7") || !strings.Contains(out, "TLS handshake error from [address]") {
		t.Fatalf("address left in server log: %s", out)
	}
}

func TestStaffAndAuditCommands(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "sk.db")
	run := func(args ...string) (string, error) {
		args = append(args, "--db", dbPath)
		if args[0] == "staff" && (args[1] == "create" || args[1] == "reset-link") {
			args = append(args, "--base-url", "https://shop.example.com")
		}
		return execute(t, ctx, args...)
	}
	if _, err := execute(t, ctx, "migrate", "--db", dbPath); err != nil {
		t.Fatal(err)
	}

	out, err := run("staff", "create", "--email", "Owner@Example.com", "--role", "owner")
	if err != nil || !regexp.MustCompile(`https://shop\.example\.com/staff/setup\?token=[A-Za-z0-9_-]{43}`).MatchString(out) ||
		!strings.Contains(out, "two-factor") {
		t.Fatalf("staff create: %v\n%s", err, out)
	}
	if _, err := run("staff", "create", "--email", "owner@example.com"); err == nil || !strings.Contains(err.Error(), "reset-link") {
		t.Fatalf("duplicate create: err = %v", err)
	}
	if _, err := run("staff", "create", "--email", "x@example.com", "--role", "boss"); err == nil || !strings.Contains(err.Error(), "unknown role") {
		t.Fatalf("bad role: err = %v", err)
	}
	if _, err := run("staff", "create"); err == nil || !strings.Contains(err.Error(), "--email is required") {
		t.Fatalf("missing email: err = %v", err)
	}
	out, err = run("staff", "list")
	if err != nil || !strings.Contains(out, "owner@example.com") || !strings.Contains(out, "invited") {
		t.Fatalf("staff list: %v\n%s", err, out)
	}
	out, err = run("staff", "reset-link", "--email", "owner@example.com")
	if err != nil || !strings.Contains(out, "/staff/setup?token=") {
		t.Fatalf("reset-link: %v\n%s", err, out)
	}
	if _, err := run("staff", "reset-link", "--email", "ghost@example.com"); err == nil || !strings.Contains(err.Error(), "staff list") {
		t.Fatalf("reset-link for an unknown account: err = %v", err)
	}
	if out, err = run("staff", "reset-2fa", "--email", "owner@example.com"); err != nil {
		t.Fatalf("reset-2fa: %v\n%s", err, out)
	}
	out, err = run("audit", "verify")
	if err != nil || !strings.Contains(out, "intact: 3 entries") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}

	// Change an entry behind Storekeep's back: verify must notice.
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := run("audit", "verify"); err == nil || !strings.Contains(err.Error(), "broken at entry 2") {
		t.Fatalf("verify after tampering: err = %v", err)
	}
}

// migrateWithCustomer creates a migrated database at dbPath holding one
// signed-in customer with the given address.
func migrateWithCustomer(t *testing.T, ctx context.Context, dbPath, email string) {
	t.Helper()
	if _, err := execute(t, ctx, "migrate", "--db", dbPath); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, email, time.Now())
		if err != nil {
			return err
		}
		_, _, err = customers.CompleteSignIn(ctx, tx, raw, time.Now())
		return err
	})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPrivacyExportCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "sk.db")
	migrateWithCustomer(t, ctx, dbPath, "ann@example.com")
	zipPath := filepath.Join(dir, "ann.zip")
	out, err := execute(t, ctx, "privacy", "export", "--db", dbPath, "--email", "Ann@Example.com", "--out", zipPath)
	if err != nil || !strings.Contains(out, "Wrote "+zipPath) {
		t.Fatalf("export: %v\n%s", err, out)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, "data.json") || !slices.Contains(names, "csv/customers.csv") || !slices.Contains(names, "README.txt") {
		t.Fatalf("ZIP holds %v", names)
	}
	if _, err := execute(t, ctx, "privacy", "export", "--db", dbPath, "--email", "ann@example.com", "--out", zipPath); err == nil || !strings.Contains(err.Error(), "choose another --out") {
		t.Fatalf("overwriting an export: %v", err)
	}
	out, err = execute(t, ctx, "privacy", "export", "--db", dbPath, "--email", "nobody@example.com", "--out", filepath.Join(dir, "n.zip"))
	if err != nil || !strings.Contains(out, "Nothing is held") {
		t.Fatalf("export of an unknown address: %v\n%s", err, out)
	}
	if _, err := execute(t, ctx, "privacy", "export", "--db", dbPath, "--email", "not-an-address"); err == nil || !strings.Contains(err.Error(), "--email") {
		t.Fatalf("bad address: %v", err)
	}
}

func TestPrivacyEraseCommand(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "sk.db")
	migrateWithCustomer(t, ctx, dbPath, "ann@example.com")
	if _, err := execute(t, ctx, "privacy", "erase", "--db", dbPath, "--email", "ann@example.com"); err == nil || !strings.Contains(err.Error(), "--dry-run") {
		t.Fatalf("erase without --yes: %v", err)
	}
	out, err := execute(t, ctx, "privacy", "erase", "--db", dbPath, "--email", "ann@example.com", "--dry-run")
	if err != nil || !strings.Contains(out, "customers") || !strings.Contains(out, "Dry run: nothing was changed") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = execute(t, ctx, "privacy", "erase", "--db", dbPath, "--email", "ann@example.com", "--yes")
	if err != nil || !strings.Contains(out, "anonymised") {
		t.Fatalf("erase: %v\n%s", err, out)
	}
	out, err = execute(t, ctx, "privacy", "export", "--db", dbPath, "--email", "ann@example.com", "--out", filepath.Join(t.TempDir(), "x.zip"))
	if err != nil || !strings.Contains(out, "Nothing is held") {
		t.Fatalf("export after erasure: %v\n%s", err, out)
	}
}

// TestPeriodicJobsRunAndStop: every periodic job runs at start and stop
// waits for them, so the database can close safely.
func TestPeriodicJobsRunAndStop(t *testing.T) {
	d := testutil.SQLite(t)
	// Some jobs run every second (the notices' dispatcher): the test
	// waits until each job has run once, whatever the others do meanwhile,
	// and never blocks a job.
	ran := make(chan string, 1024)
	var mu sync.Mutex
	waking := 0 // runs after which the mail worker is to be woken
	saved := periodicJobs
	t.Cleanup(func() { periodicJobs = saved })
	var jobs []periodicJob
	for _, j := range saved {
		run := j.run
		j.run = func(ctx context.Context, d *db.DB, env jobEnv, now time.Time) error {
			err := run(ctx, d, env, now)
			mu.Lock()
			if err == nil || ctx.Err() != nil {
				waking++
			}
			mu.Unlock()
			select {
			case ran <- j.name:
			default:
			}
			return err
		}
		jobs = append(jobs, j)
	}
	periodicJobs = jobs
	woken := make(chan struct{}, 1<<16)
	stop := startPeriodic(context.Background(), d, clock.System{}, slog.New(slog.DiscardHandler), jobEnv{BaseURL: "http://127.0.0.1:8080"}, func() { woken <- struct{}{} })
	seen := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < len(jobs) {
		select {
		case name := <-ran:
			seen[name] = true
		case <-deadline:
			stop()
			t.Fatalf("periodic jobs that did not run at start: %d of %d ran (%v)", len(seen), len(jobs), seen)
		}
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	if len(woken) != waking {
		t.Fatalf("the mail worker was woken %d times, want %d (once per successful run)", len(woken), waking)
	}
}

func TestPrivacyReviewCommand(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sk.db")
	if _, err := execute(t, context.Background(), "migrate", "--db", dbPath); err != nil {
		t.Fatal(err)
	}
	out, err := execute(t, context.Background(), "privacy", "review", "--db", dbPath)
	if err != nil || !strings.Contains(out, "PAST RETENTION") || !strings.Contains(out, "orders") || !strings.Contains(out, "No review recorded yet") {
		t.Fatalf("review: %v\n%s", err, out)
	}
}
