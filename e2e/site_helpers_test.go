package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/testutil"
)

// demoPrefix starts the line `storekeep demo` prints on stdout once it
// serves; the URL follows it.
const demoPrefix = "Storekeep demo running at "

// demoSite is the one `storekeep demo` process of this package run. It is
// started by the first test that needs it and stopped by TestMain, so the
// binary is built once and the tests share one server.
var demoSite siteProcess

func TestMain(m *testing.M) {
	code := m.Run()
	if err := demoSite.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// siteProcess is a running `storekeep demo`.
type siteProcess struct {
	once sync.Once
	err  error

	url  string // the site's root, without the trailing slash
	tmp  string // holds the binary (unless prebuilt) and the demo database
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	logs lockedBuffer  // its stderr: the structured log
}

// startSite returns the URL of the demo site (without a trailing slash),
// building the binary and starting the server on first use.
func startSite(t *testing.T) string {
	t.Helper()
	demoSite.once.Do(func() { demoSite.err = demoSite.start() })
	if demoSite.err != nil {
		t.Fatalf("start storekeep demo: %v", demoSite.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("storekeep log so far:\n%s", demoSite.logs.String())
		}
	})
	return demoSite.url
}

// startDemo starts a demo process of the test's own, with extra flags
// (an SMTP relay, Stripe test keys), and stops it when the test ends.
func startDemo(t *testing.T, extra ...string) string {
	t.Helper()
	p := &siteProcess{}
	if err := p.start(extra...); err != nil {
		t.Fatalf("start storekeep demo: %v", err)
	}
	demoDatabases.Store(p.url, filepath.Join(p.tmp, "demo", "demo.db"))
	t.Cleanup(func() {
		demoDatabases.Delete(p.url)
		if t.Failed() {
			t.Logf("storekeep log:\n%s", p.logs.String())
		}
		if err := p.stop(); err != nil {
			t.Error(err)
		}
	})
	return p.url
}

// demoDatabases maps the URL of each demo process of startDemo to its
// SQLite file, for tests that read the outbox.
var demoDatabases sync.Map

// outboxMessageIDs returns the Message-ID of every message to the address
// in the outbox of the demo at site (started by startDemo), whether sent
// or not, leaving out the demo's seeded history (the support desk's old
// replies, recorded as sent by transport "demo"), which is never
// delivered.
func outboxMessageIDs(t *testing.T, site, to string) []string {
	t.Helper()
	rows, err := demoDB(t, site).QueryContext(context.Background(), `SELECT message_id FROM outbox WHERE to_addr = $1 AND transport <> 'demo' ORDER BY id`, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// built is the binary of this test run, built once for all processes.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func (s *siteProcess) start(extra ...string) error {
	tmp, err := os.MkdirTemp("", "storekeep-e2e-")
	if err != nil {
		return err
	}
	s.tmp = tmp
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "storekeep-e2e-bin-"); built.err == nil {
			built.bin, built.err = storekeepBinary(built.dir)
		}
	})
	if built.err != nil {
		return built.err
	}
	bin := built.bin

	args := append([]string{"demo", "--addr", "127.0.0.1:0", "--dir", filepath.Join(tmp, "demo")}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stderr = &s.logs
	// An io.Pipe rather than StdoutPipe: Wait then returns only after all
	// output was copied, and the reader below never races with it.
	stdout, stdoutW := io.Pipe()
	s.cmd.Stdout = stdoutW
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", bin, err)
	}
	s.done = make(chan struct{})
	go func() {
		s.cmd.Wait()
		stdoutW.Close()
		close(s.done)
	}()

	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), demoPrefix); ok {
				select {
				case urls <- strings.TrimSuffix(strings.TrimSpace(rest), "/"):
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout) // never block the server on a full pipe
	}()

	select {
	case s.url = <-urls:
		return nil
	case <-s.done:
		return fmt.Errorf("storekeep demo exited before serving (%v); its log:\n%s", s.cmd.ProcessState, s.logs.String())
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("storekeep demo printed no %q line within 30s; its log:\n%s", demoPrefix, s.logs.String())
	}
}

// storekeepBinary returns the binary to test: STOREKEEP_BIN when set (CI can
// build once and share it), otherwise a fresh build of ./cmd/storekeep in dir.
func storekeepBinary(dir string) (string, error) {
	if bin := os.Getenv("STOREKEEP_BIN"); bin != "" {
		return bin, nil
	}
	root, err := filepath.Abs("..") // `go test` runs in the package directory
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "storekeep")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/storekeep")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/storekeep: %v\n%s", err, out)
	}
	return bin, nil
}

// stop ends the demo with SIGTERM, as a service manager would, and reports
// an unclean exit: the server must shut down gracefully within its 10 s
// drain time.
func (s *siteProcess) stop() error {
	if s.tmp != "" {
		defer os.RemoveAll(s.tmp)
	}
	if s.url == "" {
		return nil // never started, or start already reported its failure
	}
	select {
	case <-s.done:
		return fmt.Errorf("storekeep demo stopped during the tests (%v); its log:\n%s", s.cmd.ProcessState, s.logs.String())
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("storekeep demo did not stop within 15s of SIGTERM")
	}
	if !s.cmd.ProcessState.Success() {
		return fmt.Errorf("storekeep demo exited with %v after SIGTERM; its log:\n%s", s.cmd.ProcessState, s.logs.String())
	}
	return nil
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutine of exec.Cmd
// and a reading test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stripeWebhookSecret signs the Stripe webhooks of startStripeDemo's site.
const stripeWebhookSecret = "whsec_e2e_storekeep"

// startStripeDemo starts the demo with its mail sent to sink and card
// payments through stripe-mock, its webhook signed with
// stripeWebhookSecret (deliverStripeEvent).
func startStripeDemo(t *testing.T, sink *testutil.SMTPSink) string {
	t.Helper()
	mock := testutil.StartStripeMock(t)
	return startMailingDemo(t, sink, "--stripe-secret-key", "sk_test_e2e", "--stripe-webhook-secret", stripeWebhookSecret, "--stripe-api-url", mock)
}

// startMailingDemo is startDemo with the demo's mail sent through sink
// instead of shown at /dev/mail.
func startMailingDemo(t *testing.T, sink *testutil.SMTPSink, extra ...string) string {
	t.Helper()
	return startDemo(t, append([]string{"--smtp-host", sink.Host(), "--smtp-port", strconv.Itoa(sink.Port())}, extra...)...)
}

// deliverStripeEvent posts the event to site's Stripe webhook, signed as
// Stripe signs it, and fails the test unless it was answered with 200.
func deliverStripeEvent(t *testing.T, site string, ev []byte) {
	t.Helper()
	payload, sig := testutil.SignedStripeEvent(t, stripeWebhookSecret, ev)
	req, _ := http.NewRequest(http.MethodPost, site+"/webhooks/stripe", strings.NewReader(string(payload)))
	req.Header.Set("Stripe-Signature", sig)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("webhook delivery: %v %v", res, err)
	}
	res.Body.Close()
}
