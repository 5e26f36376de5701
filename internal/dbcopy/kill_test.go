package dbcopy_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/dbcopy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestResumeAfterKill kills the real `storekeep db copy` with SIGKILL in
// the middle of the request log and runs it again: the second run says it
// continues, finishes, and the copy verifies.
func TestResumeAfterKill(t *testing.T) {
	bin := storekeep(t)
	from, to := demoSource(t), testutil.PostgresURL(t)
	addRequestLog(t, from, 40000)
	cmd := exec.Command(bin, "db", "copy", "--from", from, "--to", to, "--batch", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ctx := context.Background()
	pg, err := db.Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	deadline := time.Now().Add(2 * time.Minute)
	var rows int64
	for rows < 2000 {
		select {
		case err := <-exited:
			t.Fatalf("the copy ended before it was killed (%v): make the request log longer", err)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the copy did not reach the request log in 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
		// The table may not exist yet (migrating) or have no progress.
		_ = pg.QueryRowContext(ctx, `SELECT rows FROM db_copy_tables WHERE name = 'request_log' AND NOT done`).Scan(&rows)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	var committed int64
	if err := pg.QueryRowContext(ctx, `SELECT rows FROM db_copy_tables WHERE name = 'request_log'`).Scan(&committed); err != nil {
		t.Fatal(err)
	}
	if got := count(t, pg, "request_log"); got != committed || committed >= 40001 {
		t.Fatalf("after the kill: %d rows of request_log, its progress says %d", got, committed)
	}

	out, err := exec.Command(bin, "db", "copy", "--from", from, "--to", to, "--batch", "100").CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	for _, want := range []string{"Continuing the interrupted copy", "verified"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("second run does not say %q:\n%s", want, out)
		}
	}
	if res, err := dbcopy.Verify(ctx, dbcopy.Options{From: from, To: to}); err != nil || !res.OK() {
		t.Fatalf("verify after the resumed copy: %v", err)
	}
}
