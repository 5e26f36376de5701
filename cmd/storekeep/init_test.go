package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/deploy"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
)

// runInit runs storekeep init with stdin and returns its output.
func runInit(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := rootCommand()
	var out bytes.Buffer
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"init"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	set, err := config.ReadEnvFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// setupLink finds the owner's link in init's output.
var setupLink = regexp.MustCompile(`https://shop\.example\.com/staff/setup\?token=[A-Za-z0-9_-]+`)

func TestInitWithFlags(t *testing.T) {
	sink := testutil.StartSMTP(t)
	dir := t.TempDir()
	envFile, data := filepath.Join(dir, "etc", "storekeep.env"), filepath.Join(dir, "data")
	t.Setenv("STOREKEEP_SMTP_PASSWORD", "relay-secret")
	out, err := runInit(t, "", "--yes", "--env-file", envFile, "--data-dir", data, "--domain", "Shop.Example.com",
		"--https", "proxy", "--owner-email", "Ann@Example.com", "--owner-name", "Ann Owner",
		"--smtp-relay", sink.Addr(), "--smtp-username", "mailer", "--smtp-from", "shop@example.com")
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if !setupLink.MatchString(out) || strings.Contains(out, "warning") || !strings.Contains(out, "systemctl enable --now storekeep") ||
		!strings.Contains(out, "journalctl -u storekeep") || !strings.Contains(out, "http://127.0.0.1:8080") {
		t.Errorf("init's output lacks the link or the next steps, or warns:\n%s", out)
	}
	got := readEnv(t, envFile)
	for k, want := range map[string]string{
		"STOREKEEP_BASE_URL": "https://shop.example.com", "STOREKEEP_DATA_DIR": data, "STOREKEEP_ADDR": "127.0.0.1:8080",
		"STOREKEEP_TRUSTED_PROXIES": "127.0.0.1,::1", "STOREKEEP_SMTP_HOST": sink.Host(), "STOREKEEP_SMTP_PORT": strconv.Itoa(sink.Port()),
		"STOREKEEP_SMTP_USERNAME": "mailer", "STOREKEEP_SMTP_PASSWORD": "relay-secret", "STOREKEEP_SMTP_FROM": "shop@example.com",
	} {
		if got[k] != want {
			t.Errorf("%s=%q, want %q", k, got[k], want)
		}
	}
	if _, ok := got["STOREKEEP_TLS_DOMAINS"]; ok {
		t.Error("behind a proxy, init turned on automatic certificates")
	}
	if info, err := os.Stat(envFile); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("the environment file's mode: %v %v", info.Mode(), err)
	}
	// Every setting is still in the file, commented, for the operator.
	b, _ := os.ReadFile(envFile)
	if !strings.Contains(string(b), "\n#STOREKEEP_LOG_LEVEL=info\n") {
		t.Error("the written file lacks the other settings' defaults")
	}
	// The owner exists, without a password yet.
	d, err := db.Open(context.Background(), filepath.Join(data, "storekeep.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a, err := staff.ByEmail(context.Background(), d, "ann@example.com")
	if err != nil || a.Role != staff.Owner || a.Name != "Ann Owner" || a.HasPassword {
		t.Errorf("owner: %+v %v", a, err)
	}

	// Set up already: refused, the file unchanged.
	before, _ := os.ReadFile(envFile)
	out, err = runInit(t, "", "--yes", "--env-file", envFile, "--data-dir", data, "--domain", "other.example.com", "--owner-email", "bob@example.com")
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second init: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(envFile); !bytes.Equal(before, after) {
		t.Error("a refused init changed the file")
	}
	// With --force: replaced; the existing owner is left as it is.
	out, err = runInit(t, "", "--yes", "--force", "--env-file", envFile, "--data-dir", data, "--domain", "shop.example.com", "--owner-email", "ann@example.com")
	if err != nil || !strings.Contains(out, "exists already") || setupLink.MatchString(out) {
		t.Fatalf("init --force: %v\n%s", err, out)
	}
	if got := readEnv(t, envFile); got["STOREKEEP_TLS_DOMAINS"] != "shop.example.com" || got["STOREKEEP_ACME_EMAIL"] != "ann@example.com" {
		t.Errorf("--https auto (the default) wrote %v", got)
	}
}

// TestInitReplacesThePackagesFile: the file the package installs holds
// only comments, and is not a configuration to protect.
func TestInitReplacesThePackagesFile(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "storekeep.env")
	if err := os.WriteFile(envFile, deploy.EnvFile, 0o640); err != nil {
		t.Fatal(err)
	}
	// Interactive: the answers on standard input, the relay closed
	// (a warning, not a failure).
	closed := closedPort(t)
	stdin := "shop.example.com\n\nann@example.com\nAnn\n" + closed + "\n\n\n"
	out, err := runInit(t, stdin, "--env-file", envFile, "--data-dir", filepath.Join(dir, "data"))
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Domain of the site") || !strings.Contains(out, "warning: the mail relay "+closed) || !setupLink.MatchString(out) {
		t.Errorf("output:\n%s", out)
	}
	if got := readEnv(t, envFile); got["STOREKEEP_TLS_DOMAINS"] != "shop.example.com" || got["STOREKEEP_SMTP_HOST"] != "127.0.0.1" {
		t.Errorf("wrote %v", got)
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestInitBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"no domain with --yes", []string{"--yes", "--owner-email", "ann@example.com"}, "", "--domain and --owner-email are required"},
		{"domain with a scheme", []string{"--yes", "--domain", "https://shop.example.com", "--owner-email", "ann@example.com"}, "", "not a host name"},
		{"domain without a dot", []string{"--yes", "--domain", "localhost", "--owner-email", "ann@example.com"}, "", "not a valid host name"},
		{"domain with an underscore", []string{"--yes", "--domain", "shop_1.example.com", "--owner-email", "ann@example.com"}, "", "not a valid host name"},
		{"IP address", []string{"--yes", "--domain", "192.0.2.1", "--owner-email", "ann@example.com"}, "", "IP address"},
		{"bad email", []string{"--yes", "--domain", "shop.example.com", "--owner-email", "ann@"}, "", "--owner-email"},
		{"bad sender", []string{"--yes", "--domain", "shop.example.com", "--owner-email", "ann@example.com", "--smtp-from", "shop"}, "", "--smtp-from"},
		{"bad relay port", []string{"--yes", "--domain", "shop.example.com", "--owner-email", "ann@example.com", "--smtp-relay", "mail.example.com:99999"}, "", "--smtp-port"},
		{"bad https mode", []string{"--yes", "--domain", "shop.example.com", "--owner-email", "ann@example.com", "--https", "maybe"}, "", "--https"},
		{"answers run out", nil, "shop.example.com\n", "no answer"},
		{"declined", nil, "shop.example.com\nproxy\nann@example.com\n\n\nn\n", "nothing changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			envFile, data := filepath.Join(dir, "storekeep.env"), filepath.Join(dir, "data")
			out, err := runInit(t, tc.stdin, append([]string{"--env-file", envFile, "--data-dir", data}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q\n%s", err, tc.want, out)
			}
			// Nothing written.
			for _, p := range []string{envFile, data} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

func TestHealthcheck(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := closedPort(t)
	root := rootCommand()
	root.SetOut(&bytes.Buffer{})
	root.SetArgs([]string{"demo", "--addr", addr, "--dir", t.TempDir()})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Setenv("STOREKEEP_ADDR", addr)
	var out string
	var err error
	for i := 0; i < 100; i++ {
		if out, err = execute(t, context.Background(), "healthcheck", "--timeout", "2s"); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v", err)
		case <-ctx.Done():
		default:
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("healthcheck of the running demo: %v %q", err, out)
	}
	if _, err := execute(t, context.Background(), "healthcheck", "http://"+addr+"/no-such-page"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a page that is not ok: %v", err)
	}
	cancel()
	<-done
	if _, err := execute(t, context.Background(), "healthcheck", "--timeout", "1s"); err == nil || !strings.Contains(err.Error(), "unhealthy") {
		t.Errorf("nothing listening: %v", err)
	}
	if _, err := execute(t, context.Background(), "healthcheck", "ftp://x"); err == nil {
		t.Error("an ftp URL was taken")
	}
}

// TestInitPostgres sets up an installation on PostgreSQL: the URL goes
// into the file, the owner into that database.
func TestInitPostgres(t *testing.T) {
	url := testutil.PostgresURL(t)
	envFile := filepath.Join(t.TempDir(), "storekeep.env")
	out, err := runInit(t, "", "--yes", "--env-file", envFile, "--data-dir", t.TempDir(), "--db", url,
		"--domain", "shop.example.com", "--owner-email", "ann@example.com")
	if err != nil || !setupLink.MatchString(out) {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if got := readEnv(t, envFile); got["STOREKEEP_DB"] != url {
		t.Errorf("STOREKEEP_DB=%q, want the URL", got["STOREKEEP_DB"])
	}
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if a, err := staff.ByEmail(context.Background(), d, "ann@example.com"); err != nil || a.Role != staff.Owner {
		t.Errorf("owner: %+v %v", a, err)
	}
}
