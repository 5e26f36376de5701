// Command webhooks is the webhook-to-email benchmark: it seeds pending
// Stripe orders, starts one or more real `storekeep serve` instances on the
// same database, fires a burst of properly signed checkout.session.completed
// deliveries at them (a share duplicated, all shuffled, all at once), and
// measures, per order, the time from the first delivery to the SMTP
// server's acceptance of the confirmation email. It then checks exactly one
// paid order, one payment event and one email per checkout session, and
// exits non-zero otherwise.
//
//	go run ./bench/webhooks -bin /tmp/storekeep                  # SQLite, one instance
//	go run ./bench/webhooks -bin /tmp/storekeep -db postgres://postgres@127.0.0.1:5432/test -instances 2
//
// It uses loopback addresses only and stops every process it starts.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/demo"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/testutil"
)

const webhookSecret = "whsec_bench_storekeep"

func main() {
	bin := flag.String("bin", "", "the storekeep binary (required)")
	dsn := flag.String("db", "", "PostgreSQL URL (a schema of its own is created and dropped); empty for SQLite")
	instances := flag.Int("instances", 1, "storekeep serve instances sharing the database")
	deliveries := flag.Int("deliveries", 200, "webhook deliveries in the burst")
	dupShare := flag.Float64("dup", 0.2, "share of deliveries that repeat an earlier event")
	timeout := flag.Duration("timeout", 90*time.Second, "how long to wait for all emails")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "webhooks: -bin is required: build storekeep first (go build -o /tmp/storekeep ./cmd/storekeep)")
		os.Exit(2)
	}
	if err := run(*bin, *dsn, *instances, *deliveries, *dupShare, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "webhooks:", err)
		os.Exit(1)
	}
}

func run(bin, pgURL string, instances, deliveries int, dupShare float64, timeout time.Duration) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "storekeep-bench-webhooks-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	dsn := filepath.Join(tmp, "bench.db")
	if pgURL != "" {
		schema := "bench_" + randHex(6)
		admin, err := sql.Open("pgx", pgURL)
		if err != nil {
			return err
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		defer admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		dsn = testutil.WithSearchPath(pgURL, schema)
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	unique := deliveries - int(float64(deliveries)*dupShare)
	sessions, err := seed(ctx, d, unique)
	if err != nil {
		return err
	}

	sink, err := startSink()
	if err != nil {
		return err
	}
	defer sink.close()

	var urls []string
	for i := range instances {
		u, stop, err := startStorekeep(bin, dsn, sink.addr, tmp, i)
		if err != nil {
			return err
		}
		defer stop()
		urls = append(urls, u)
	}

	// The burst: every session once, a share again, shuffled.
	type delivery struct{ session, eventID string }
	var burst []delivery
	for i, s := range sessions {
		burst = append(burst, delivery{s.session, fmt.Sprintf("evt_bench_%d", i)})
	}
	for len(burst) < deliveries {
		burst = append(burst, burst[mrand.IntN(unique)])
	}
	mrand.Shuffle(len(burst), func(i, j int) { burst[i], burst[j] = burst[j], burst[i] })
	byNumber := map[string]seeded{}
	for _, s := range sessions {
		byNumber[s.number] = s
	}
	payloads := make([][2]string, len(burst))
	for i, b := range burst {
		s := sessionBy(sessions, b.session)
		p, h := signed(b.eventID, s)
		payloads[i] = [2]string{string(p), h}
	}

	var mu sync.Mutex
	firstSent := map[string]time.Time{}
	statuses := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: deliveries}}
	for i, b := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s := sessionBy(sessions, b.session)
			mu.Lock()
			if _, ok := firstSent[s.number]; !ok {
				firstSent[s.number] = time.Now()
			}
			mu.Unlock()
			req, _ := http.NewRequest(http.MethodPost, urls[i%len(urls)]+"/webhooks/stripe", strings.NewReader(payloads[i][0]))
			req.Header.Set("Stripe-Signature", payloads[i][1])
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			code := 0
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				code = res.StatusCode
			}
			mu.Lock()
			statuses[code]++
			mu.Unlock()
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	answered := time.Since(began)
	if !sink.waitFor(unique, timeout) {
		return fmt.Errorf("only %d of %d emails reached the SMTP server within %v", sink.count(), unique, timeout)
	}
	all := time.Since(began)
	time.Sleep(500 * time.Millisecond) // late duplicates, if any, would arrive now

	// Exactly one of everything per session.
	var paid, events, mails, sent int
	for _, c := range []struct {
		q string
		n *int
	}{
		{`SELECT count(*) FROM orders WHERE status = 'paid'`, &paid},
		{`SELECT count(*) FROM payment_events`, &events},
		{`SELECT count(*) FROM outbox`, &mails},
		{`SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL`, &sent},
	} {
		if err := d.QueryRowContext(ctx, c.q).Scan(c.n); err != nil {
			return fmt.Errorf("check results: %w", err)
		}
	}
	got := sink.messages()
	ids := map[string]bool{}
	var lat []time.Duration
	for _, m := range got {
		ids[m.messageID] = true
		s, ok := byNumber[m.order]
		if !ok {
			return fmt.Errorf("an email for an unknown order %q", m.order)
		}
		lat = append(lat, m.at.Sub(firstSent[s.number]))
	}
	slices.Sort(lat)
	fmt.Printf("database: %s, instances: %d\n", d.Dialect, instances)
	fmt.Printf("deliveries: %d (%d unique events, %d duplicates), HTTP statuses: %v\n", len(burst), unique, len(burst)-unique, statuses)
	fmt.Printf("orders paid: %d, payment events: %d, emails queued: %d, sent: %d, received by SMTP: %d (distinct Message-IDs: %d)\n",
		paid, events, mails, sent, len(got), len(ids))
	fmt.Printf("all webhooks answered in %v; all emails accepted after %v\n", answered.Round(time.Millisecond), all.Round(time.Millisecond))
	fmt.Printf("webhook -> SMTP acceptance: p50 %v, p99 %v, max %v\n", pct(lat, 50), pct(lat, 99), lat[len(lat)-1].Round(time.Millisecond))
	if statuses[200] != len(burst) || paid != unique || events != unique || mails != unique || sent != unique || len(got) != unique || len(ids) != unique {
		return errors.New("FAILED: not exactly one order, event and email per checkout session")
	}
	fmt.Println("OK: exactly one paid order, one payment event and one email per checkout session")
	return nil
}

func pct(xs []time.Duration, p int) time.Duration {
	i := (len(xs)*p + 99) / 100
	i = max(1, min(i, len(xs)))
	return xs[i-1].Round(time.Millisecond)
}

type seeded struct{ number, session string }

func sessionBy(ss []seeded, session string) seeded {
	for _, s := range ss {
		if s.session == session {
			return s
		}
	}
	panic("unknown session " + session)
}

// seed creates the demo catalog and n pending Stripe orders.
func seed(ctx context.Context, d *db.DB, n int) ([]seeded, error) {
	now := time.Now().UTC()
	if _, err := demo.Seed(ctx, d, now); err != nil {
		return nil, err
	}
	var price int64
	if err := d.QueryRowContext(ctx, `SELECT pr.id FROM prices pr JOIN editions e ON e.id = pr.edition_id WHERE e.slug = 'professional' AND pr.currency = 'EUR' AND pr.billing = 'one_time'`).Scan(&price); err != nil {
		return nil, err
	}
	out := make([]seeded, n)
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for i := range out {
			o, err := orders.Create(ctx, tx, orders.NewOrder{PriceID: price, Provider: "stripe", Billing: orders.Billing{
				Email: fmt.Sprintf("buyer%d@example.com", i), Name: "Buyer", Address: "1 Road", Country: "DE"}}, now)
			if err != nil {
				return err
			}
			s := fmt.Sprintf("cs_bench_%d_%s", i, randHex(4))
			if err := orders.SetSession(ctx, tx, o.ID, s, now); err != nil {
				return err
			}
			out[i] = seeded{o.Number, s}
		}
		return nil
	})
	return out, err
}

func signed(eventID string, s seeded) ([]byte, string) {
	ev := testutil.StripeCheckoutCompleted(eventID, testutil.StripeSession{ID: s.session, PaymentIntent: "pi_" + s.session,
		Customer: "cus_" + s.session, OrderNumber: s.number, AmountTotal: 49000, Currency: "eur"})
	p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: ev, Secret: webhookSecret, Timestamp: time.Now()})
	return p.Payload, p.Header
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startStorekeep runs `storekeep serve` on the database with Stripe
// webhooks and the SMTP sink configured, and waits for /healthz.
func startStorekeep(bin, dsn, smtpAddr, tmp string, i int) (string, func(), error) {
	addr, err := freePort()
	if err != nil {
		return "", nil, err
	}
	host, port, _ := net.SplitHostPort(smtpAddr)
	logf, err := os.Create(filepath.Join(tmp, fmt.Sprintf("storekeep-%d.log", i)))
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "serve", "--db", dsn, "--addr", addr, "--log-level", "warn",
		"--stripe-secret-key", "sk_test_bench", "--stripe-webhook-secret", webhookSecret,
		"--smtp-host", host, "--smtp-port", port, "--smtp-from", "shop@example.com")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		logf.Close()
	}
	u := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(u + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return u, stop, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("storekeep instance %d did not become ready; see its log", i)
}

// sink is a minimal SMTP server that records when each message arrived.
type sink struct {
	addr string
	srv  *smtp.Server
	mu   sync.Mutex
	got  []received
	cond *sync.Cond
}

type received struct {
	at        time.Time
	order     string
	messageID string
}

func startSink() (*sink, error) {
	s := &sink{}
	s.cond = sync.NewCond(&s.mu)
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.addr = l.Addr().String()
	go s.srv.Serve(l)
	return s, nil
}

func (s *sink) close() { s.srv.Close() }

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct{ s *sink }

func (*sinkSession) Reset()                               {}
func (*sinkSession) Logout() error                        { return nil }
func (*sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (ss *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	at := time.Now()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	subject := m.Header.Get("Subject")
	if dec, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		subject = dec
	}
	order := ""
	if i := strings.Index(subject, "order "); i >= 0 {
		order = strings.Fields(subject[i+len("order "):])[0]
	}
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, received{at: at, order: order, messageID: m.Header.Get("Message-Id")})
	ss.s.cond.Broadcast()
	ss.s.mu.Unlock()
	return nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func (s *sink) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// waitFor waits until n messages arrived or the timeout passed.
func (s *sink) waitFor(n int, timeout time.Duration) bool {
	timer := time.AfterFunc(timeout, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.got) < n && time.Now().Before(deadline) {
		s.cond.Wait()
	}
	return len(s.got) >= n
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
