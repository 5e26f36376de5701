package support_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/inbound"
	"github.com/storekeep/storekeep/internal/testutil"
)

// BenchmarkLMTPIngest delivers b.N messages to the desk through the LMTP
// listener, as Postfix's lmtp client does (4 connections, one recipient a
// message): a mix of new tickets (with a small attachment in every fourth)
// and answers threaded by reply token, from 500 senders. It reports
// messages per second, the heap's peak while they stream in (sampled every
// 20 ms) and the heap in use at the end (after a GC), on SQLite and
// PostgreSQL. docs/benchmarks.md:
//
//	go test -run='^$' -bench=BenchmarkLMTPIngest -benchtime=10000x ./internal/support/
func BenchmarkLMTPIngest(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"discard", testutil.SQLite}, {"sqlite", testutil.SQLite}, {"postgres", testutil.Postgres}} {
		b.Run(c.name, func(b *testing.B) {
			d := c.open(b)
			desk, _ := newDesk(b, d)
			desk.Clock = nil // real time: the flood limit counts per real hour
			desk.Limiter = nil
			box := desk.Mailbox()
			if c.name == "discard" {
				// The baseline: the same transport and client, a mailbox that
				// parses nothing and stores nothing.
				box = discard{box}
			}
			addr := listen(b, true, box)
			var tokens sync.Map // sender -> reply token of their first ticket
			var failed atomic.Int64
			// send delivers messages from..to-1 over 4 connections.
			send := func(from, to int) {
				msgs := make(chan int, 64)
				var wg sync.WaitGroup
				for range 4 {
					wg.Go(func() {
						conn, err := net.Dial("tcp", addr)
						if err != nil {
							b.Error(err)
							return
						}
						cl := smtp.NewClientLMTP(conn)
						defer cl.Close()
						if err := cl.Hello("bench.example"); err != nil {
							b.Error(err)
							return
						}
						for i := range msgs {
							sender := fmt.Sprintf("sender%d@customer%d.example", i%500, i%37)
							rcpt := supportAddr
							if tok, ok := tokens.Load(sender); ok && i%2 == 1 {
								rcpt = "support+" + tok.(string) + "@milterworks.example"
							}
							if err := deliver(cl, sender, rcpt, benchMessage(i, sender)); err != nil {
								failed.Add(1)
							}
						}
					})
				}
				for i := from; i < to; i++ {
					msgs <- i
				}
				close(msgs)
				wg.Wait()
			}
			runtime.GC()
			// The peak of the heap while messages stream in, sampled.
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				t := time.NewTicker(20 * time.Millisecond)
				defer t.Stop()
				for {
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-t.C:
					}
				}
			}()
			b.ResetTimer()
			start := time.Now()
			// The first message of each sender opens their ticket; its
			// token threads half of their later messages.
			first := min(b.N, 500)
			send(0, first)
			rows, err := d.QueryContext(b.Context(), `SELECT email, token FROM support_tickets`)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var e, tok string
				if err := rows.Scan(&e, &tok); err != nil {
					b.Fatal(err)
				}
				tokens.Store(e, tok)
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
			send(first, b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			close(stop)
			<-sampled
			if failed.Load() > 0 {
				b.Fatalf("%d of %d deliveries failed", failed.Load(), b.N)
			}
			var stored int
			if err := d.QueryRowContext(b.Context(), `SELECT (SELECT count(*) FROM support_messages) + (SELECT count(*) FROM support_parked)`).Scan(&stored); err != nil {
				b.Fatal(err)
			}
			if c.name == "discard" {
				stored = b.N
			}
			if stored != b.N {
				b.Fatalf("%d messages stored of %d delivered", stored, b.N)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-after-MiB")
			b.ReportMetric(float64(peak.Load())/(1<<20), "heap-peak-MiB")
		})
	}
}

func deliver(cl *smtp.Client, from, rcpt string, raw []byte) error {
	if err := cl.Mail(from, nil); err != nil {
		return err
	}
	if err := cl.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	_, err = w.CloseWithLMTPResponse()
	return err
}

// benchMessage is message i from a sender: a few paragraphs of a log
// question, with an attachment in every fourth.
func benchMessage(i int, from string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Sender %d <%s>\r\nTo: %s\r\nSubject: Milter question %d\r\nMessage-ID: <bench-%d@%s>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n",
		i%500, from, supportAddr, i, i, from[strings.IndexByte(from, '@')+1:])
	body := strings.Repeat(fmt.Sprintf("Postfix logs a milter timeout on connection %d after the DATA command; the queue grows.\r\n", i), 6)
	if i%4 != 0 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n" + body)
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body +
		"\r\n--bb\r\nContent-Type: text/plain; name=\"maillog.txt\"\r\nContent-Disposition: attachment; filename=\"maillog.txt\"\r\n\r\n" +
		strings.Repeat("Dec  1 10:00:00 mx postfix/cleanup[123]: milter-reject: END-OF-MESSAGE\r\n", 40) + "--bb--\r\n")
	return []byte(b.String())
}

// discard takes the desk's recipients and drops every message.
type discard struct{ inbound.Mailbox }

func (discard) Deliver(context.Context, inbound.Envelope, []byte) error { return nil }
