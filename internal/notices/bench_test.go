package notices_test

import (
	"context"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/testutil"
)

// countingSink is an in-process go-smtp server that reads every message
// and keeps nothing but a count, so the heap this benchmark reports is
// the sending side's (testutil.StartSMTP keeps each message parsed).
type countingSink struct{ n atomic.Int64 }

type countingSession struct{ s *countingSink }

func (c countingSession) Reset()                               {}
func (c countingSession) Logout() error                        { return nil }
func (c countingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (c countingSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (c countingSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	c.s.n.Add(1)
	return err
}
func (s *countingSink) NewSession(*smtp.Conn) (smtp.Session, error) { return countingSession{s}, nil }

func startCountingSink(b *testing.B) (*countingSink, string, int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sink := &countingSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "sink.test"
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	a := ln.Addr().(*net.TCPAddr)
	return sink, a.IP.String(), a.Port
}

func heapMB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// BenchmarkNotice100k is a security notice to 100,000 license holders
// (STOREKEEP_BENCH_NOTICE_N to change): the time to queue its recipients
// (one INSERT ... SELECT), the rate at which the dispatcher moves them
// into the outbox, and the rate at which one mail worker delivers them to
// a local SMTP sink over real connections, with the heap in use sampled
// every tenth of the way. Run with -benchtime=1x:
//
//	go test ./internal/notices -run '^$' -bench Notice100k -benchtime=1x
func BenchmarkNotice100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("STOREKEEP_BENCH_NOTICE_N")); err == nil && v > 0 {
		n = v
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			for range b.N {
				var d *db.DB
				if dialect == "sqlite" {
					d = testutil.SQLite(b)
				} else {
					d = testutil.Postgres(b)
				}
				benchNotice(b, d, n)
			}
		})
	}
}

func benchNotice(b *testing.B, d *db.DB, n int) {
	ctx := context.Background()
	holders(b, d, n)
	id := newNotice(b, d, notices.Input{Kind: notices.Security, Audience: notices.Audience{Product: "mailer"}})
	runtime.GC()
	b.Logf("heap in use before: %.1f MB", heapMB())

	t0 := time.Now()
	count, err := notices.Start(ctx, d, nil, staffer, id, time.Now())
	if err != nil || count != int64(n) {
		b.Fatalf("start: %d, %v", count, err)
	}
	queue := time.Since(t0)
	b.ReportMetric(queue.Seconds(), "s-to-queue")

	// The dispatcher at a rate that does not hold it back, its clock a
	// second on per run.
	clk := clock.NewFixed(time.Now())
	s := sender(d, clk, notices.Rate{PerSecond: 10_000, PerHour: 10_000_000})
	t0 = time.Now()
	for moved := 0; moved < n; {
		o, err := s.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		moved += o.Queued
		clk.Advance(time.Second)
	}
	dispatch := time.Since(t0)
	b.ReportMetric(float64(n)/dispatch.Seconds(), "outbox-msgs/s")
	b.Logf("heap in use after dispatch: %.1f MB", heapMB())

	sink, host, port := startCountingSink(b)
	snd, err := mail.NewSMTPSender(mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSNone, Timeout: 10 * time.Second, SendTimeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	w := &mail.Worker{DB: d, Sender: snd, From: "Milterworks <shop@milterworks.example>", ID: mail.NewWorkerID("bench"), Batch: 100}
	t0 = time.Now()
	var peak float64
	next := n / 10
	for int(sink.n.Load()) < n {
		if _, err := w.RunOnce(ctx); err != nil {
			b.Fatal(err)
		}
		if sent := int(sink.n.Load()); sent >= next {
			h := heapMB()
			peak = max(peak, h)
			b.Logf("sent %6d in %5.1f s, heap in use %.1f MB", sent, time.Since(t0).Seconds(), h)
			next += n / 10
		}
	}
	send := time.Since(t0)
	b.ReportMetric(float64(n)/send.Seconds(), "smtp-msgs/s")
	b.ReportMetric(peak, "peak-heap-MB")
	b.Logf("%d recipients: queued in %s, into the outbox in %s (%.0f/s), delivered in %s (%.0f/s)",
		n, queue.Round(time.Millisecond), dispatch.Round(time.Millisecond), float64(n)/dispatch.Seconds(), send.Round(time.Millisecond), float64(n)/send.Seconds())
}
