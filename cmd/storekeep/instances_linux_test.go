package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/demo"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/testutil"
)

// lockedBuffer collects a process's output for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// instance is one `storekeep serve` process of the test.
type instance struct {
	name          string
	cmd           *exec.Cmd
	site, metrics string
	out           *lockedBuffer
	exited        chan error
}

// startInstance runs bin serve on dsn with args, and waits until /readyz
// answers 200. The kernel kills the process if the test binary dies.
func startInstance(t *testing.T, name, bin, dsn string, args ...string) *instance {
	t.Helper()
	port, metricsPort := freeTCPPort(t), freeTCPPort(t)
	in := &instance{name: name, site: fmt.Sprintf("http://127.0.0.1:%d", port), metrics: fmt.Sprintf("http://127.0.0.1:%d", metricsPort),
		out: &lockedBuffer{}, exited: make(chan error, 1)}
	argv := append([]string{"serve", "--db", dsn, "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metricsPort), "--data-dir", t.TempDir(), "--log-format", "json"}, args...)
	in.cmd = exec.Command(bin, argv...)
	in.cmd.Env = cleanEnv()
	in.cmd.Stdout, in.cmd.Stderr = in.out, in.out
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error)
	go func() {
		// Pdeathsig follows the thread that started the child: keep it.
		runtime.LockOSThread()
		err := in.cmd.Start()
		started <- err
		if err == nil {
			in.exited <- in.cmd.Wait()
		}
	}()
	if err := <-started; err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = in.cmd.Process.Kill()
		<-in.exited
		in.exited <- nil
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, in.out)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(in.site + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return in
			}
		}
		select {
		case err := <-in.exited:
			in.exited <- err
			t.Fatalf("%s stopped: %v\n%s", name, err, in.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not ready after 60s\n%s", name, in.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would:
// no deferred function, no graceful stop.
func (in *instance) kill(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-in.exited
	in.exited <- err
	if ws, ok := in.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s did not die of SIGKILL: %v", in.name, err)
	}
}

// cleanEnv is the test's environment without STOREKEEP_ settings, which
// would change what the instances do.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STOREKEEP_") {
			env = append(env, kv)
		}
	}
	return env
}

// gauge scrapes the instance's metrics and returns the value of the
// series of name whose labels include the pairs.
func (in *instance) gauge(t *testing.T, name string, labels ...string) (float64, bool) {
	t.Helper()
	fams := scrape(t, in.metrics)
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			ok := false
			for _, l := range m.Label {
				ok = ok || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}
			if !ok {
				continue next
			}
		}
		if m.Gauge != nil {
			return m.Gauge.GetValue(), true
		}
		return m.Counter.GetValue(), true
	}
	return 0, false
}

// waitUntil polls cond every 50ms until it holds or the time is up.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func countRows(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// bySubject returns the received messages whose subject starts with
// prefix, and how many distinct Message-IDs they carry.
func bySubject(msgs []testutil.Received, prefix string) (n, distinct int) {
	seen := map[string]bool{}
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, prefix) {
			n++
			seen[m.MessageID] = true
		}
	}
	return n, len(seen)
}

// TestSeveralInstances runs real `storekeep serve` processes, built from
// this package, on one PostgreSQL database, as a deployment behind a load
// balancer does (docs/deployment.md), with a real SMTP relay (the test's
// sink) and stripe-mock.
//
//  1. Instance A alone claims the queued mail and is killed with SIGKILL
//     while the relay holds the first message's DATA: its claim (a
//     3-second lease, --mail-lease-seconds) runs out, and the instances
//     started after it send every message; the one in flight arrives
//     twice with one Message-ID (the at-least-once edge, docs/mail.md),
//     the others once.
//  2. Instances A2 and B run side by side: each Stripe webhook, delivered
//     to both at once and twice over, pays its order once and queues one
//     confirmation; twenty messages queued while both run arrive once
//     each; the periodic jobs that ran at each of the three starts
//     (retention purge, expire unpaid orders) took effect once: one purge
//     record, one expiry in the order's history.
//  3. The database facts in the metrics are the same on both instances;
//     the periodic job metrics are each instance's own.
func TestSeveralInstances(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	stripeMock := testutil.StartStripeMock(t)
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "storekeep")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := demo.Seed(ctx, d, now); err != nil {
		t.Fatal(err)
	}

	// Work for the periodic jobs: an unpaid checkout two days old, a
	// request log row past its 90 days, one whose address is due to be
	// shortened.
	var priceID int64
	if err := d.QueryRowContext(ctx, `SELECT id FROM prices WHERE billing = 'one_time' AND active ORDER BY id LIMIT 1`).Scan(&priceID); err != nil {
		t.Fatal(err)
	}
	buyer := orders.Billing{Email: "bea@example.com", Name: "Bea Buyer", Address: "1 Main St\nTown", Country: "DE"}
	place := func(at time.Time, session string) orders.Order {
		var o orders.Order
		err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
			if o, err = orders.Create(ctx, tx, orders.NewOrder{PriceID: priceID, Provider: "stripe", Billing: buyer}, at); err != nil {
				return err
			}
			return orders.SetSession(ctx, tx, o.ID, session, at)
		})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	stale := place(now.Add(-48*time.Hour), "cs_stale")
	for _, r := range []struct {
		at      time.Time
		network string
	}{{now.AddDate(0, 0, -100), "192.0.2.1"}, {now.AddDate(0, 0, -10), "192.0.2.7"}} {
		if _, err := d.ExecContext(ctx, `INSERT INTO request_log (at, route, status, network) VALUES ($1, 'GET /', 200, $2)`, r.at, r.network); err != nil {
			t.Fatal(err)
		}
	}
	queue := func(prefix string, n int) {
		for i := range n {
			m, err := mail.Compose("signin", fmt.Sprintf("%s-%d@example.com", prefix, i), mail.SignInData{SiteName: "Shop", Link: "https://shop.example/signin?t=x", ExpiresMinutes: 15})
			if err != nil {
				t.Fatal(err)
			}
			m.Subject = fmt.Sprintf("%s %d", prefix, i)
			if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := mail.Enqueue(ctx, tx, m, time.Now()); return err }); err != nil {
				t.Fatal(err)
			}
		}
	}

	sink := testutil.StartSMTP(t)
	const webhookSecret = "whsec_test_instances"
	args := []string{"--smtp-host", sink.Host(), "--smtp-port", fmt.Sprint(sink.Port()), "--smtp-from", "Shop <shop@shop.example>",
		"--mail-lease-seconds", "3", "--stripe-secret-key", "sk_test_instances", "--stripe-webhook-secret", webhookSecret,
		"--stripe-api-url", stripeMock}

	// 1. A claims the queue and dies in the middle of a delivery.
	queue("killed", 5)
	inData, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sink.OnData(func(testutil.Received) error {
		once.Do(func() { close(inData) })
		<-release
		return nil
	})
	a := startInstance(t, "A", bin, dsn, args...)
	select {
	case <-inData:
	case <-time.After(60 * time.Second):
		t.Fatalf("A sent nothing\n%s", a.out)
	}
	if n := countRows(t, d, `SELECT count(*) FROM outbox WHERE subject LIKE 'killed %' AND sent_at IS NULL AND locked_until IS NOT NULL AND locked_by <> ''`); n != 5 {
		t.Fatalf("A holds the lease of %d of the 5 messages, want all (one batch)", n)
	}
	a.kill(t)
	sink.OnData(nil)
	close(release) // the relay keeps what A sent; A never heard the 250
	sink.WaitFor(1, 10*time.Second)
	if n := countRows(t, d, `SELECT count(*) FROM outbox WHERE subject LIKE 'killed %' AND sent_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d messages marked sent by a process that died before it could", n)
	}

	// 2. Two instances share the database.
	a2 := startInstance(t, "A2", bin, dsn, args...)
	b := startInstance(t, "B", bin, dsn, args...)
	instances := []*instance{a2, b}
	waitUntil(t, 30*time.Second, "the dead instance's messages are not all sent", func() bool {
		return countRows(t, d, `SELECT count(*) FROM outbox WHERE subject LIKE 'killed %' AND sent_at IS NOT NULL`) == 5
	})
	if n, distinct := bySubject(sink.WaitFor(6, 10*time.Second), "killed "); n != 6 || distinct != 5 {
		t.Fatalf("the relay got %d messages of the dead instance's batch, %d distinct; want 6 and 5 (the one in flight twice)", n, distinct)
	}

	queue("shared", 20)
	var sessions []orders.Order
	for i := range 3 {
		sessions = append(sessions, place(time.Now(), fmt.Sprintf("cs_both_%d", i)))
	}
	var wg sync.WaitGroup
	codes := make(chan string, 64)
	for i, o := range sessions {
		ev := testutil.StripeCheckoutCompleted(fmt.Sprintf("evt_both_%d", i), testutil.StripeSession{ID: fmt.Sprintf("cs_both_%d", i),
			PaymentIntent: fmt.Sprintf("pi_both_%d", i), Customer: "cus_both", OrderNumber: o.Number, AmountTotal: o.TotalMinor, Currency: o.Currency})
		payload, sig := testutil.SignedStripeEvent(t, webhookSecret, ev)
		for range 2 {
			for _, in := range instances {
				wg.Go(func() {
					req, _ := http.NewRequest(http.MethodPost, in.site+"/webhooks/stripe", bytes.NewReader(payload))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Stripe-Signature", sig)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						codes <- err.Error()
						return
					}
					_ = res.Body.Close()
					if res.StatusCode != http.StatusOK {
						codes <- fmt.Sprintf("%s answered %d", in.name, res.StatusCode)
					}
				})
			}
		}
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		t.Errorf("webhook delivery: %s", c)
	}
	for _, o := range sessions {
		got, err := orders.ByNumber(ctx, d, o.Number)
		if err != nil || got.Status != orders.Paid {
			t.Errorf("order %s after the webhooks: %s, %v", o.Number, got.Status, err)
		}
	}
	if n := countRows(t, d, `SELECT count(*) FROM payment_events WHERE event_id LIKE 'evt_both_%'`); n != 3 {
		t.Errorf("%d payment events recorded, want 3 (each once)", n)
	}
	if n := countRows(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation'`); n != 3 {
		t.Errorf("%d confirmations queued, want 3", n)
	}

	waitUntil(t, 60*time.Second, "the shared queue and the confirmations are not all sent", func() bool {
		return countRows(t, d, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`) == 0
	})
	msgs := sink.Messages()
	if n, distinct := bySubject(msgs, "shared "); n != 20 || distinct != 20 {
		t.Errorf("the relay got %d of the 20 messages queued while both ran (%d distinct); want each once", n, distinct)
	}
	confirmations := 0
	for _, m := range msgs {
		if len(m.To) == 1 && m.To[0] == buyer.Email {
			confirmations++
		}
	}
	if confirmations != 3 {
		t.Errorf("the buyer got %d messages, want the 3 confirmations once each", confirmations)
	}

	// The periodic jobs ran at each of the three starts, in effect once.
	waitUntil(t, 30*time.Second, "the stale order is not cancelled", func() bool {
		o, err := orders.ByID(ctx, d, stale.ID)
		return err == nil && o.Status == orders.Cancelled
	})
	if n := countRows(t, d, `SELECT count(*) FROM order_events WHERE order_id = $1 AND cause = 'system:expiry'`, stale.ID); n != 1 {
		t.Errorf("the stale order expired %d times, want once", n)
	}
	waitUntil(t, 30*time.Second, "the request log is not purged", func() bool {
		return countRows(t, d, `SELECT count(*) FROM request_log WHERE network = '192.0.2.1' OR network = '192.0.2.7'`) == 0
	})
	if n := countRows(t, d, `SELECT count(*) FROM request_log`); n != 1 {
		t.Errorf("%d request log rows, want 1 (the recent one, shortened)", n)
	}
	if n := countRows(t, d, `SELECT count(*) FROM audit_log WHERE action = 'retention.purged'`); n != 1 {
		t.Errorf("%d purge records, want 1: the purge took effect once", n)
	}

	// 3. Metrics: the database's facts agree, the jobs are each
	// instance's.
	for _, in := range instances {
		if v, ok := in.gauge(t, "storekeep_outbox_queued", "kind", "transactional"); !ok || v != 0 {
			t.Errorf("%s: queued %v (present %v), want 0", in.name, v, ok)
		}
		if v, ok := in.gauge(t, "storekeep_periodic_job_last_success_timestamp_seconds", "job", "retention purge"); !ok || v < float64(now.Unix()) {
			t.Errorf("%s: the retention purge's last success %v (present %v)", in.name, v, ok)
		}
	}
}
