package dbcopy_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
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
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
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
	// The migrated template is removed before the copy begins.
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the killed copy left %s in its temporary directory", left[0].Name())
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

	// The site runs on the copy: storekeep serve on the PostgreSQL URL
	// shows the demo's catalog.
	serve := exec.Command(bin, "serve", "--db", to, "--addr", "127.0.0.1:0", "--base-url", "http://127.0.0.1")
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "msg=listening addr="); ok {
				addr <- strings.Fields(rest)[0]
			}
		}
		close(addr)
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(time.Minute):
	}
	if a == "" {
		t.Fatal("storekeep serve on the copy did not start")
	}
	for _, path := range []string{"/", "/products/quillguard"} {
		resp, err := http.Get("http://" + a + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "QuillGuard") {
			t.Errorf("GET %s on the copy: %d\n%.300s", path, resp.StatusCode, body)
		}
	}
}
