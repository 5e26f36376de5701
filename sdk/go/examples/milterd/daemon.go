package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
)

// Status is the outcome of one license check.
type Status struct {
	Licensed bool         // the licensed feature runs
	Code     license.Code // VALID, IN_GRACE, EXPIRED, …
	Message  string
}

// Checker checks the license: online when it can (activating this machine once, checking in
// after), else offline with the license file it saved at the last good online check.
type Checker struct {
	Client      *license.Client // nil: offline only
	Verifier    *license.Verifier
	Key         string
	Product     string
	Feature     string // the entitlement the licensed feature needs
	Fingerprint string
	Hostname    string
	FilePath    string                // where the license file is kept ("" for none)
	LastSeen    *license.LastSeenFile // the clock guard (nil for none)

	activated bool
}

// Check decides, at now, whether the licensed feature may run.
func (c *Checker) Check(ctx context.Context, now time.Time) Status {
	if c.LastSeen != nil {
		if err := c.LastSeen.Observe(now); err != nil {
			return Status{Code: license.CodeOf(err), Message: err.Error()}
		}
	}
	if c.Client != nil {
		st, err := c.online(ctx)
		if license.CodeOf(err) != license.CodeUnavailable && license.CodeOf(err) != license.CodeUnverifiedResponse {
			return st
		}
		// No trustworthy answer: fall back to the license file.
		if c.FilePath == "" {
			return Status{Code: license.CodeOf(err), Message: err.Error()}
		}
	}
	return c.offline(now)
}

func (c *Checker) online(ctx context.Context) (Status, error) {
	var (
		r   *license.Response
		err error
	)
	if !c.activated {
		r, err = c.Client.Activate(ctx, license.ActivateRequest{Key: c.Key, Fingerprint: c.Fingerprint, Hostname: c.Hostname, Platform: "linux"})
		c.activated = err == nil || license.CodeOf(err) == license.CodeInGrace
	} else {
		r, err = c.Client.CheckIn(ctx, license.CheckInRequest{Key: c.Key, Fingerprint: c.Fingerprint, Version: "1.0.0"})
		if license.CodeOf(err) == license.CodeNotActivated {
			c.activated = false // the customer freed the seat: take it again next time
		}
	}
	if err != nil && r == nil {
		return Status{Code: license.CodeOf(err), Message: err.Error()}, err
	}
	if err == nil && r.License != nil && c.Feature != "" && !contains(r.License.Entitlements, c.Feature) {
		return Status{Code: license.CodeEntitlementsMissing, Message: "the license does not include " + c.Feature}, nil
	}
	if err == nil && c.FilePath != "" {
		// Keep a fresh license file for the days the API cannot be reached.
		if f, ferr := c.Client.File(ctx, license.FileRequest{Key: c.Key, Fingerprint: c.Fingerprint}); ferr == nil {
			_ = os.WriteFile(c.FilePath, []byte(f.File), 0o600)
		}
	}
	return statusOf(r.Code, r.Message, r.License), err
}

func (c *Checker) offline(now time.Time) Status {
	b, err := os.ReadFile(c.FilePath)
	if err != nil {
		return Status{Code: license.CodeUnavailable, Message: "no license API and no license file: " + err.Error()}
	}
	l, err := c.Verifier.VerifyFile(b, c.Fingerprint, now)
	if err != nil {
		return Status{Code: license.CodeOf(err), Message: "license file: " + err.Error()}
	}
	if c.Feature != "" && !l.Entitled(c.Feature) {
		return Status{Code: license.CodeEntitlementsMissing, Message: "the license does not include " + c.Feature}
	}
	msg := "license file valid"
	if l.Code == license.CodeInGrace {
		msg = fmt.Sprintf("license expired on %s; grace period until %s", l.ExpiresAt.Format(time.DateOnly), l.GraceUntil.Format(time.DateOnly))
	}
	return Status{Licensed: true, Code: l.Code, Message: msg}
}

func statusOf(code license.Code, msg string, l *license.LicenseState) Status {
	s := Status{Code: code, Message: msg, Licensed: code == license.CodeValid || code == license.CodeInGrace}
	if code == license.CodeInGrace && l != nil {
		s.Message = fmt.Sprintf("license expired on %s; grace period until %s", l.ExpiresAt.Format(time.DateOnly), l.GraceUntil.Format(time.DateOnly))
	}
	return s
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Daemon is a pretend milter: it accepts TCP connections and answers each line with a
// verdict. Scanning (the licensed feature) runs only while the license allows; mail always
// flows (it fails open).
type Daemon struct {
	Log     *log.Logger
	Now     func() time.Time
	Ticks   <-chan time.Time // daily re-checks (a time.Ticker's C in production)
	Check   func(ctx context.Context, now time.Time) Status
	Checked chan<- Status // optional: receives each check's outcome (tests)

	mu       sync.Mutex
	licensed bool
}

// Licensed reports whether the licensed feature runs now.
func (d *Daemon) Licensed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.licensed
}

func (d *Daemon) recheck(ctx context.Context) {
	st := d.Check(ctx, d.Now())
	d.mu.Lock()
	was := d.licensed
	d.licensed = st.Licensed
	d.mu.Unlock()
	switch {
	case st.Code == license.CodeValid:
		d.Log.Printf("license: valid; malware scanning on")
	case st.Code == license.CodeInGrace:
		d.Log.Printf("license: WARNING: %s; malware scanning stays on until then, renew the license", st.Message)
	case was || !st.Licensed:
		d.Log.Printf("license: %s: %s; malware scanning OFF, mail passes unscanned", st.Code, st.Message)
	}
	if d.Checked != nil {
		d.Checked <- st
	}
}

// Serve checks the license, then serves connections on l until ctx ends, re-checking on
// every tick.
func (d *Daemon) Serve(ctx context.Context, l net.Listener) error {
	d.recheck(ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				_ = l.Close()
				return
			case <-d.Ticks:
				d.recheck(ctx)
			}
		}
	}()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return ctx.Err()
			}
			return err
		}
		go d.handle(conn)
	}
}

func (d *Daemon) handle(conn net.Conn) {
	defer conn.Close()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		msg := strings.TrimSpace(sc.Text())
		verdict := "250 accepted, not scanned (malware scanning needs a license)"
		if d.Licensed() {
			verdict = "250 accepted, scanned: clean"
			if strings.Contains(msg, "EICAR") {
				verdict = "550 rejected: malware found"
			}
		}
		if _, err := fmt.Fprintln(conn, verdict); err != nil {
			return
		}
	}
}
