package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
	"github.com/storekeep/storekeep/sdk/go/licensetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	start = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	exp   = start.AddDate(0, 0, 10)
	grace = exp.AddDate(0, 0, 14)
)

type harness struct {
	t       *testing.T
	srv     *licensetest.Server
	key     string
	clk     *clock
	ticks   chan time.Time
	checked chan Status
	logs    *syncBuffer
	addr    string
	cancel  context.CancelFunc
	done    chan error
}

func newHarness(t *testing.T, online bool) *harness {
	h := &harness{t: t, clk: &clock{t: start}, ticks: make(chan time.Time), checked: make(chan Status), logs: &syncBuffer{}, done: make(chan error, 1)}
	h.srv = licensetest.NewTestServer(t)
	h.srv.SetClock(h.clk.Now)
	h.key = h.srv.Issue(licensetest.Spec{
		Product: "example-milter", Edition: "pro", Entitlements: []string{"malware-scan"},
		IssuedAt: start, ExpiresAt: exp, UpdatesUntil: exp, MaxMachines: 2,
	})
	h.srv.SetExpiry(h.key, exp, grace)
	dir := t.TempDir()
	c := &Checker{
		Verifier: h.srv.Issuer.Verifier(), Key: h.key, Product: "example-milter", Feature: "malware-scan",
		Fingerprint: "fp-test", Hostname: "mx1",
		FilePath: filepath.Join(dir, "license.txt"),
		LastSeen: &license.LastSeenFile{Path: filepath.Join(dir, "last-seen.json")},
	}
	if online {
		c.Client = h.srv.Client(h.clk.Now)
	}
	d := &Daemon{Log: log.New(h.logs, "", 0), Now: h.clk.Now, Ticks: h.ticks, Check: c.Check, Checked: h.checked}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- d.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		<-h.done
	})
	return h
}

// tick advances the clock to t and delivers one daily tick, returning that check's outcome.
func (h *harness) tick(t time.Time) Status {
	h.clk.Set(t)
	h.ticks <- t
	return <-h.checked
}

func (h *harness) verdict(msg string) string {
	h.t.Helper()
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintln(conn, msg)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		h.t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func TestMilterdThroughGrace(t *testing.T) {
	h := newHarness(t, true)
	if st := <-h.checked; st.Code != license.CodeValid || !st.Licensed {
		t.Fatalf("start: %+v", st)
	}
	if got := h.verdict("MAIL with EICAR inside"); got != "550 rejected: malware found" {
		t.Fatal(got)
	}
	if m := h.srv.Machines(h.key); len(m) != 1 || m[0] != "fp-test" {
		t.Fatal("the start did not activate this machine", m)
	}
	if st := h.tick(start.AddDate(0, 0, 1)); st.Code != license.CodeValid {
		t.Fatalf("day 1: %+v", st)
	}
	// Expired: in grace, the feature stays on and the log warns.
	if st := h.tick(exp.AddDate(0, 0, 1)); st.Code != license.CodeInGrace || !st.Licensed {
		t.Fatalf("in grace: %+v", st)
	}
	if got := h.verdict("MAIL clean"); got != "250 accepted, scanned: clean" {
		t.Fatal(got)
	}
	if !strings.Contains(h.logs.String(), "WARNING: license expired on "+exp.Format(time.DateOnly)+"; grace period until "+grace.Format(time.DateOnly)) {
		t.Fatalf("no warning in the log:\n%s", h.logs)
	}
	// After the grace period the feature stops; mail still flows.
	if st := h.tick(grace.AddDate(0, 0, 1)); st.Code != license.CodeExpired || st.Licensed {
		t.Fatalf("after grace: %+v", st)
	}
	if got := h.verdict("MAIL with EICAR inside"); got != "250 accepted, not scanned (malware scanning needs a license)" {
		t.Fatal(got)
	}
	if !strings.Contains(h.logs.String(), "EXPIRED") || !strings.Contains(h.logs.String(), "malware scanning OFF") {
		t.Fatalf("log:\n%s", h.logs)
	}
	// Renewed: back on at the next daily check.
	h.srv.SetExpiry(h.key, grace.AddDate(1, 0, 0), grace.AddDate(1, 0, 14))
	if st := h.tick(grace.AddDate(0, 0, 2)); st.Code != license.CodeValid || !st.Licensed {
		t.Fatalf("renewed: %+v", st)
	}
}

// TestMilterdOfflineFallback: when the API goes away, the daemon lives on the license file it
// saved, through the grace period, and stops the feature after it.
func TestMilterdOfflineFallback(t *testing.T) {
	h := newHarness(t, true)
	if st := <-h.checked; st.Code != license.CodeValid {
		t.Fatalf("start: %+v", st)
	}
	h.srv.Close() // the network is gone
	if st := h.tick(start.AddDate(0, 0, 1)); st.Code != license.CodeValid || !st.Licensed {
		t.Fatalf("offline: %+v", st)
	}
	if st := h.tick(exp.AddDate(0, 0, 1)); st.Code != license.CodeInGrace || !st.Licensed {
		t.Fatalf("offline in grace: %+v", st)
	}
	if !strings.Contains(h.logs.String(), "WARNING") {
		t.Fatalf("log:\n%s", h.logs)
	}
	if st := h.tick(grace.AddDate(0, 0, 1)); st.Licensed {
		t.Fatalf("offline after grace: %+v", st)
	}
}

// TestMilterdClockSetBack: a clock set back days stops the feature (CLOCK_SKEW).
func TestMilterdClockSetBack(t *testing.T) {
	h := newHarness(t, true)
	<-h.checked
	if st := h.tick(start.AddDate(0, 0, 5)); !st.Licensed {
		t.Fatalf("%+v", st)
	}
	if st := h.tick(start.AddDate(0, 0, 1)); st.Code != license.CodeClockSkew || st.Licensed {
		t.Fatalf("clock set back: %+v", st)
	}
}

// TestMilterdRevoked: a revoked license stops the feature at the next daily check.
func TestMilterdRevoked(t *testing.T) {
	h := newHarness(t, true)
	<-h.checked
	h.srv.SetState(h.key, license.StateRevoked)
	if st := h.tick(start.AddDate(0, 0, 1)); st.Code != license.CodeRevoked || st.Licensed {
		t.Fatalf("%+v", st)
	}
}
