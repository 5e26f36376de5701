package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// runCLI runs the command line as main does and returns the exit status
// and what it printed on stdout and stderr.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMain(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestDatabaseCommandsRefuseAMissingDatabase: a mistyped --db does not
// create and migrate a new, empty database; the error names the path and
// what to do, and nothing is created.
func TestDatabaseCommandsRefuseAMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	for _, args := range [][]string{
		{"audit", "verify"},
		{"staff", "list"},
		{"staff", "create", "--email", "owner@example.com"},
		{"privacy", "review"},
		{"privacy", "records"},
		{"privacy", "requests"},
		{"privacy", "export", "--email", "bob@example.com", "--out", filepath.Join(dir, "x.zip")},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, append(args, "--db", missing)...)
			if code == 0 || strings.Contains(out, "intact") {
				t.Fatalf("exit %d\n%s", code, out)
			}
			for _, want := range []string{"no database at " + missing, "storekeep migrate", "--data-dir"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if _, err := os.Stat(missing); !os.IsNotExist(err) {
				t.Fatalf("%s was created: %v", missing, err)
			}
		})
	}
	// --data-dir pointing at a directory without the database: the same.
	if code, _, errOut := runCLI(t, "staff", "list", "--data-dir", dir); code == 0 || !strings.Contains(errOut, "no database at "+filepath.Join(dir, "storekeep.db")) {
		t.Fatalf("--data-dir without a database: exit %d\n%s", code, errOut)
	}
	// migrate creates it; then the same command works.
	if code, _, errOut := runCLI(t, "migrate", "--db", missing); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "audit", "verify", "--db", missing); code != 0 || !strings.Contains(out, "intact: 0 entries") {
		t.Fatalf("audit verify after migrate: exit %d\n%s%s", code, out, errOut)
	}
}

// TestDatabaseCommandsRefuseAnEmptyPostgres: on PostgreSQL a mistyped
// database name fails to connect; a reachable database (here a schema)
// without Storekeep's tables is refused rather than migrated.
func TestDatabaseCommandsRefuseAnEmptyPostgres(t *testing.T) {
	url := testutil.PostgresURL(t)
	code, _, errOut := runCLI(t, "audit", "verify", "--db", url)
	if code == 0 || !strings.Contains(errOut, "holds no Storekeep data") || !strings.Contains(errOut, "storekeep migrate") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "migrate", "--db", url); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	if code, out, errOut := runCLI(t, "audit", "verify", "--db", url); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("after migrate: exit %d\n%s%s", code, out, errOut)
	}
}

// TestUsageHintsNameTheCommand: the hint after a mistake names the
// command's own help, with its parents.
func TestUsageHintsNameTheCommand(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sk.db")
	if code, _, errOut := runCLI(t, "migrate", "--db", dbPath); code != 0 {
		t.Fatal(errOut)
	}
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"staff", "create", "--db", dbPath}, "Run 'storekeep staff create --help' for usage."},
		{[]string{"staff", "create", "--no-such-flag"}, "Run 'storekeep staff create --help' for usage."},
		{[]string{"privacy", "erase", "--db", dbPath, "--email", "bob@example.com"}, "Run 'storekeep privacy erase --help' for usage."},
		{[]string{"privacy", "requests", "--db", dbPath, "--state", "bogus"}, "Run 'storekeep privacy requests --help' for usage."},
		{[]string{"serve", "--addr", "nonsense"}, "Run 'storekeep serve --help' for usage."},
		{[]string{"serve", "--db", dbPath, "--shutdown-drain-seconds", "301"}, "give 0 to 300 seconds"},
		{[]string{"serve", "--db", dbPath, "--shutdown-drain-seconds", "-1"}, "give 0 to 300 seconds"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.hint) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, tc.hint, errOut)
			}
		})
	}
}

// TestUnknownSubcommandFails: 'storekeep privacy bogus' is a mistake, not
// a request for help.
func TestUnknownSubcommandFails(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"privacy", "bogus"}, `unknown command "bogus" for "storekeep privacy"`},
		{[]string{"privacy", "exprot"}, "did you mean export?"},
		{[]string{"staff", "delete"}, `unknown command "delete" for "storekeep staff"`},
		{[]string{"audit", "check"}, `unknown command "check" for "storekeep audit"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "Run 'storekeep "+tc.args[0]+" --help'") {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, tc.want, errOut)
			}
		})
	}
	// Without a subcommand, the group still shows its help.
	if code, out, _ := runCLI(t, "privacy"); code != 0 || !strings.Contains(out, "Available Commands") {
		t.Fatalf("storekeep privacy: exit %d\n%s", code, out)
	}
}

// TestDatabaseCommandsOfferOnlyTheirFlags: the help of a database command
// lists the database and log flags (and what it needs besides), not the
// server's listeners, TLS, SMTP and payment settings.
func TestDatabaseCommandsOfferOnlyTheirFlags(t *testing.T) {
	serverOnly := []string{"--addr", "--tls-cert", "--acme-email", "--smtp-host", "--smtp-password", "--manual-payments", "--metrics-addr", "--inbound-smtp-addr", "--trusted-proxies", "--migrate"}
	for _, tc := range []struct {
		args       []string
		want, omit []string
	}{
		{[]string{"audit", "verify"}, []string{"--db", "--data-dir", "--log-level", "--log-format"}, append([]string{"--base-url", "--stripe-secret-key"}, serverOnly...)},
		{[]string{"staff", "list"}, []string{"--db", "--data-dir"}, append([]string{"--base-url"}, serverOnly...)},
		{[]string{"staff", "create"}, []string{"--db", "--email", "--role", "--base-url"}, serverOnly},
		{[]string{"privacy", "review"}, []string{"--db", "--data-dir"}, serverOnly},
		{[]string{"privacy", "erase"}, []string{"--db", "--email", "--stripe-secret-key"}, serverOnly},
		{[]string{"migrate"}, []string{"--db", "--data-dir", "--log-level"}, serverOnly},
		{[]string{"serve"}, append([]string{"--db", "--base-url", "--stripe-secret-key"}, serverOnly...), nil},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, _ := runCLI(t, append(tc.args, "--help")...)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			for _, f := range tc.want {
				if !strings.Contains(out, "  "+f+" ") && !strings.Contains(out, " "+f+" ") {
					t.Errorf("help lacks %s:\n%s", f, out)
				}
			}
			for _, f := range tc.omit {
				if strings.Contains(out, f+" ") {
					t.Errorf("help offers %s:\n%s", f, out)
				}
			}
		})
	}
}

// TestUnboundSettingsStillComeFromTheEnvironment: a database command has
// no --stripe-secret-key flag, but the variable still configures it, as it
// does serve.
func TestUnboundSettingsStillComeFromTheEnvironment(t *testing.T) {
	t.Setenv("STOREKEEP_SMTP_PORT", "abc")
	dbPath := filepath.Join(t.TempDir(), "sk.db")
	code, _, errOut := runCLI(t, "staff", "list", "--db", dbPath)
	if code != 2 || !strings.Contains(errOut, `STOREKEEP_SMTP_PORT="abc" is not a number`) {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string]privacy.Retention{"24m": {Months: 24}, "2y": {Years: 2}, "400d": {Days: 400}, " 3Y ": {Years: 3}} {
		if got, err := parsePeriod(in); err != nil || got != want {
			t.Errorf("parsePeriod(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "m", "0m", "-1y", "2w", "1.5y", "y2"} {
		if _, err := parsePeriod(bad); err == nil {
			t.Errorf("parsePeriod(%q) accepted", bad)
		}
	}
	if err := configureInventory(&config.Config{SupportRetention: "11y"}); err == nil {
		t.Error("accepted 11 years")
	}
	if err := configureInventory(&config.Config{SupportRetention: "24m"}); err != nil {
		t.Errorf("the default: %v", err)
	}
}

// TestLogAddressDays: --log-address-days sets how long the request log
// keeps full addresses in the inventory the purge and the policy read;
// a period as long as the rows' is refused.
func TestLogAddressDays(t *testing.T) {
	saved := privacy.Declared
	t.Cleanup(func() { privacy.Declared = saved })
	if err := configureInventory(&config.Config{LogAddressDays: 90}); err == nil {
		t.Error("accepted 90 days, as long as the rows are kept")
	}
	if err := configureInventory(&config.Config{LogAddressDays: 3}); err != nil {
		t.Fatal(err)
	}
	if r, ok := truncateAfter(privacy.Declared, privacy.LogAddressSetting); !ok || r.Days != 3 {
		t.Fatalf("TruncateAfter %+v after --log-address-days 3", r)
	}
	var cfg config.Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cfg.Bind(fs)
	if cfg.LogAddressDays != 7 || !cfg.LogRequests {
		t.Fatalf("defaults: --log-address-days %d, --log-requests %v", cfg.LogAddressDays, cfg.LogRequests)
	}
	if err := fs.Parse([]string{"--log-address-days", "0", "--log-requests=false"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--log-address-days") {
		t.Fatalf("--log-address-days 0: %v", err)
	}
}
