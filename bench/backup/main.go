// Command backup measures storekeep backup and restore on a large SQLite
// database, and the site's latency while the backup runs, in one run:
//
//	go build -o /tmp/storekeep ./cmd/storekeep
//	go run ./bench/backup -bin /tmp/storekeep -dir /var/tmp/skbench   # 1M customers, 10M log rows
//
// It builds the database once in -dir (bulk INSERT ... SELECT from a
// recursive CTE, in transactions of -batch rows) and reuses it when it
// holds the rows already. Then it starts the real `storekeep serve` on it
// (request log on, so the site writes while the backup reads), and sends
// requests from -clients closed-loop clients (/, /pricing, /healthz) in
// three phases: -quiet seconds without a backup, during `storekeep
// backup`, and -quiet seconds after; it prints the latency percentiles of
// each phase, the backup's time and rate, and the time of `storekeep
// restore` of the backup into another directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

func main() {
	bin := flag.String("bin", "", "the storekeep binary to run (go build -o /tmp/storekeep ./cmd/storekeep)")
	dir := flag.String("dir", "", "directory of the benchmark database, kept and reused (default: a new temporary directory)")
	customers := flag.Int("customers", 1_000_000, "customers")
	logRows := flag.Int("log-rows", 10_000_000, "request-log rows")
	batch := flag.Int("batch", 200_000, "rows per INSERT transaction while building")
	clients := flag.Int("clients", 4, "concurrent clients")
	quiet := flag.Duration("quiet", 20*time.Second, "length of the phases without a backup")
	buildOnly := flag.Bool("build-only", false, "build the database in -dir and stop")
	flag.Parse()
	if *buildOnly {
		if *dir == "" {
			fmt.Fprintln(os.Stderr, "backup bench: -build-only needs -dir")
			os.Exit(2)
		}
		if err := build(filepath.Join(*dir, "storekeep.db"), *customers, *logRows, *batch); err != nil {
			fmt.Fprintln(os.Stderr, "backup bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*bin, *dir, *customers, *logRows, *batch, *clients, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "backup bench:", err)
		os.Exit(1)
	}
}

func run(bin, dir string, customers, logRows, batch, clients int, quiet time.Duration) error {
	if bin == "" {
		return errors.New("give -bin, the storekeep binary")
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "skbench-")
		if err != nil {
			return err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, "storekeep.db")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := build(path, customers, logRows, batch); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("database: %s, %d customers, %d request-log rows, %.0f MiB\n", path, customers, logRows, float64(st.Size())/(1<<20))

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	serve := exec.CommandContext(ctx, bin, "serve", "--db", path, "--data-dir", dir, "--addr", addr, "--log-requests=true", "--log-level", "warn")
	serve.Stdout, serve.Stderr = os.Stderr, os.Stderr
	if err := serve.Start(); err != nil {
		return err
	}
	defer func() { cancel(); _ = serve.Wait() }()
	base := "http://" + addr
	if err := waitReady(base+"/healthz", 60*time.Second); err != nil {
		return err
	}
	load(base, clients, 3*time.Second, nil) // warm up

	before := load(base, clients, quiet, nil)
	out := filepath.Join(os.TempDir(), fmt.Sprintf("skbench-%d.skbackup", time.Now().UnixNano()))
	defer os.Remove(out)
	var backupTime time.Duration
	var backupOut []byte
	var backupErr error
	during := load(base, clients, 0, func() {
		t0 := time.Now()
		backupOut, backupErr = exec.Command(bin, "backup", "--db", path, "--out", out, "--quiet").CombinedOutput()
		backupTime = time.Since(t0)
	})
	if backupErr != nil {
		return fmt.Errorf("backup: %v\n%s", backupErr, backupOut)
	}
	after := load(base, clients, quiet, nil)
	bst, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Printf("backup: %.1f s wall (the command, start to exit), %.0f MiB written, %.1f MiB/s\n  %s",
		backupTime.Seconds(), float64(bst.Size())/(1<<20), float64(bst.Size())/(1<<20)/backupTime.Seconds(), backupOut)
	fmt.Printf("site latency, %d clients (/, /pricing, /healthz):\n", clients)
	for _, p := range []struct {
		name string
		r    result
	}{{"before the backup", before}, {"during the backup", during}, {"after the backup", after}} {
		fmt.Printf("  %-18s %6d requests in %5.1f s (%6.0f/s), %d errors: p50 %v p99 %v max %v\n", p.name, len(p.r.lat), p.r.took.Seconds(),
			float64(len(p.r.lat))/p.r.took.Seconds(), p.r.errors, pct(p.r.lat, 50), pct(p.r.lat, 99), pct(p.r.lat, 100))
	}
	cancel()
	_ = serve.Wait()

	rdir, err := os.MkdirTemp("", "skbench-restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(rdir)
	t0 := time.Now()
	rout, err := exec.Command(bin, "restore", "--from", out, "--db", filepath.Join(rdir, "storekeep.db"), "--without-ledger").CombinedOutput()
	if err != nil {
		return fmt.Errorf("restore: %v\n%s", err, rout)
	}
	took := time.Since(t0)
	fmt.Printf("restore into an empty directory: %.1f s wall, %.1f MiB/s\n", took.Seconds(), float64(bst.Size())/(1<<20)/took.Seconds())
	return nil
}

// build fills the database at path, unless it holds the rows already.
func build(path string, customers, logRows, batch int) error {
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	when := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	fill := func(table string, want int, insert string) error {
		var have int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&have); err != nil {
			return err
		}
		t0 := time.Now()
		for have < want {
			n := min(batch, want-have)
			q := `WITH RECURSIVE c(x) AS (SELECT $1 UNION ALL SELECT x + 1 FROM c WHERE x < $2) ` + insert
			if _, err := d.Writer().ExecContext(ctx, q, have+1, have+n, when); err != nil {
				return fmt.Errorf("fill %s: %w", table, err)
			}
			have += n
			fmt.Fprintf(os.Stderr, "\r%s: %d of %d rows (%.0f rows/s)", table, have, want, float64(have)/time.Since(t0).Seconds())
		}
		fmt.Fprintln(os.Stderr)
		return nil
	}
	if err := fill("customers", customers, `INSERT INTO customers (email, name, address_line1, postal_code, city, country, created_at, updated_at)
		SELECT 'customer' || x || '@example.net', 'Customer Number ' || x, x || ' Long Street', printf('%05d', x % 100000), 'Berlin', 'DE', $3, $3 FROM c`); err != nil {
		return err
	}
	if err := fill("request_log", logRows, `INSERT INTO request_log (at, route, status, browser, browser_version, device, referrer_host, network)
		SELECT $3, CASE x % 4 WHEN 0 THEN '/' WHEN 1 THEN '/pricing' WHEN 2 THEN '/products/{slug}' ELSE '/account' END,
		       CASE WHEN x % 50 = 0 THEN 404 ELSE 200 END, 'Firefox', '13' || (x % 10), 'desktop', CASE WHEN x % 3 = 0 THEN 'www.example.com' ELSE '' END,
		       '198.51.' || (x % 256) || '.0/24' FROM c`); err != nil {
		return err
	}
	// The rows are a month old, so their addresses are stored shortened to
	// the network, as the purge leaves them after --log-address-days; a
	// full address in millions of month-old rows would have the site's
	// first purge rewrite them all in one transaction during the run.
	if _, err := d.Writer().ExecContext(ctx, `UPDATE request_log SET network = '198.51.' || (id % 256) || '.0/24' WHERE network NOT LIKE '%/%'`); err != nil {
		return err
	}
	_, err = d.Writer().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

type result struct {
	lat    []time.Duration
	errors int
	took   time.Duration
}

// load runs clients closed-loop clients for d, or, when during is set,
// for as long as during runs.
func load(base string, clients int, d time.Duration, during func()) result {
	stop := make(chan struct{})
	var mu sync.Mutex
	var res result
	var wg sync.WaitGroup
	paths := []string{"/", "/pricing", "/healthz"}
	hc := &http.Client{Timeout: 30 * time.Second}
	t0 := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := time.Now()
				resp, err := hc.Get(base + paths[i%len(paths)])
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				lat := time.Since(s)
				mu.Lock()
				res.lat = append(res.lat, lat)
				if !ok {
					res.errors++
				}
				mu.Unlock()
			}
		}()
	}
	if during != nil {
		during()
	} else {
		time.Sleep(d)
	}
	close(stop)
	wg.Wait()
	res.took = time.Since(t0)
	return res
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))].Round(100 * time.Microsecond)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within %v", url, limit)
}
