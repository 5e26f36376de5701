package dbcopy_test

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

//go:embed testdata/fixtures.sql
var fixtures string

var shared struct {
	dir string // removed by TestMain

	binOnce sync.Once
	bin     string
	binErr  error

	demoOnce sync.Once
	demo     []byte
	demoErr  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dbcopy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// storekeep builds the real binary once per test run.
func storekeep(t testing.TB) string {
	t.Helper()
	shared.binOnce.Do(func() {
		shared.bin = filepath.Join(shared.dir, "storekeep")
		out, err := exec.Command("go", "build", "-o", shared.bin, "github.com/storekeep/storekeep/cmd/storekeep").CombinedOutput()
		if err != nil {
			shared.binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if shared.binErr != nil {
		t.Fatal(shared.binErr)
	}
	return shared.bin
}

// demoSource returns the path of a SQLite database filled the way an
// operator's is: by `storekeep demo`, which seeds every area of the demo,
// then by testdata/fixtures.sql for the tables the demo leaves empty. The
// database is made once per test run; each caller gets a copy of its own.
func demoSource(t testing.TB) string {
	t.Helper()
	shared.demoOnce.Do(func() { shared.demo, shared.demoErr = makeDemo(storekeep(t)) })
	if shared.demoErr != nil {
		t.Fatal(shared.demoErr)
	}
	path := filepath.Join(t.TempDir(), "storekeep.db")
	if err := os.WriteFile(path, shared.demo, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func makeDemo(bin string) ([]byte, error) {
	dir := filepath.Join(shared.dir, "demo")
	cmd := exec.Command(bin, "demo", "--dir", dir, "--addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	listening := make(chan bool, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "msg=listening") {
				listening <- true
			}
		}
		close(listening)
	}()
	select {
	case ok := <-listening:
		if !ok {
			cmd.Wait()
			return nil, fmt.Errorf("storekeep demo ended before it listened:\n%s", log.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("storekeep demo did not start in 2 minutes")
	}
	// Stopped the way an operator stops it, so it closes the database.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("storekeep demo after SIGTERM: %v", err)
	}
	path := filepath.Join(dir, "demo.db")
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := d.ExecContext(ctx, fixtures); err != nil {
		d.Close()
		return nil, fmt.Errorf("fixtures: %w", err)
	}
	if err := checkpoint(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// checkpoint moves the write-ahead log into the file, so that the file
// alone is the database.
func checkpoint(ctx context.Context, d *db.DB) error {
	var busy, logged, moved int
	if err := d.Writer().QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved); err != nil {
		return err
	}
	if busy != 0 {
		return fmt.Errorf("checkpoint busy")
	}
	return nil
}

// openWrite opens a SQLite test source for changes in the test.
func openWrite(t testing.TB, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// addRequestLog adds n rows to the source's request log, for copies with
// many batches.
func addRequestLog(t testing.TB, path string, n int) {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.ExecContext(context.Background(), fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
		INSERT INTO request_log (at, route, status, browser, browser_version, device, referrer_host, network)
		SELECT '2026-11-30 11:00:00.' || printf('%%06d', i) || ' +0000 UTC', 'GET /p/' || i, 200 + i %% 3, 'Firefox', '140', 'desktop', '', '192.0.2.0/24' FROM s`, n))
	if err != nil {
		t.Fatal(err)
	}
}
