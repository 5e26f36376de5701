package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/testutil"
)

// TestDBCopyCommand: the command copies a migrated file into PostgreSQL
// and says it verified; --verify-only compares again; mistakes in the
// command line exit 2 with the command's help named, a refused copy 1.
func TestDBCopyCommand(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sk.db")
	if code, _, errOut := runCLI(t, "migrate", "--db", file); code != 0 {
		t.Fatal(errOut)
	}
	to := testutil.PostgresURL(t)
	code, out, errOut := runCLI(t, "db", "copy", "--from", file, "--to", to)
	if code != 0 || !strings.Contains(out, "verified") || !strings.Contains(out, "customers") || !strings.Contains(out, "STOREKEEP_DB") {
		t.Fatalf("copy: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "db", "copy", "--from", file, "--to", to, "--verify-only"); code != 0 || !strings.Contains(out, "the same rows and checksums") {
		t.Fatalf("verify only: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"db", "copy", "--from", file}, 2, "Run 'storekeep db copy --help'"},
		{[]string{"db", "copy", "--from", file, "--to", "mysql://x"}, 2, "not a PostgreSQL URL"},
		{[]string{"db", "cpoy"}, 2, "did you mean copy?"},
		{[]string{"db", "copy", "--from", filepath.Join(t.TempDir(), "typo.db"), "--to", to}, 1, "there is no file"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tc.code, tc.want, errOut)
			}
		})
	}
}
