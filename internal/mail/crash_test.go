package mail_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// dedupe is what a careful receiver does with the at-least-once edge:
// messages with a Message-ID already seen are dropped.
func dedupe(msgs []testutil.Received) []testutil.Received {
	seen := map[string]bool{}
	var out []testutil.Received
	for _, m := range msgs {
		if !seen[m.MessageID] {
			seen[m.MessageID] = true
			out = append(out, m)
		}
	}
	return out
}

// crashAfterSend delivers for real, then "dies" before the worker can
// record the delivery, as a process killed at that instant would.
type crashAfterSend struct{ mail.Sender }

type killed struct{}

func (c crashAfterSend) Send(ctx context.Context, m mail.Outgoing) error {
	if err := c.Sender.Send(ctx, m); err != nil {
		return err
	}
	panic(killed{})
}

// TestCrashBetweenSendAndMark is the at-least-once edge in process: the
// relay accepted the message, the worker died before marking it sent. The
// message is not lost: once the lease runs out, another worker sends it
// again, with the same Message-ID, so the receiver can drop the copy.
func TestCrashBetweenSendAndMark(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(start)
		id := enqueue(t, d, message("bob@example.com"), clk.Now())
		other := enqueue(t, d, message("eve@example.com"), clk.Now())

		a := newWorker(d, crashAfterSend{smtpTo(t, sink, clk)}, clk, "instance-a", nil)
		func() {
			defer func() {
				if _, ok := recover().(killed); !ok {
					t.Fatal("the worker did not die")
				}
			}()
			_, _ = a.RunOnce(context.Background())
		}()
		if got := sink.Messages(); len(got) != 1 {
			t.Fatalf("sink has %d messages before the takeover", len(got))
		}
		r := readRow(t, d, id)
		if r.SentAt.Valid || r.LockedBy != "instance-a" || !r.LockedUntil.Valid {
			t.Fatalf("after the crash: %+v", r)
		}

		// While the dead worker's lease runs, nobody touches its messages.
		b := newWorker(d, smtpTo(t, sink, clk), clk, "instance-b", nil)
		if n := runOnce(t, b); n != 0 {
			t.Fatalf("sent %d during the lease", n)
		}
		clk.Advance(a.Lease + time.Second)
		if n := runOnce(t, b); n != 2 {
			t.Fatalf("sent %d after the lease, want 2 (the delivered one again, and the untouched one)", n)
		}
		got := sink.Messages()
		if len(got) != 3 {
			t.Fatalf("sink has %d messages, want 3", len(got))
		}
		r = readRow(t, d, id)
		want := "<" + r.MessageID + "@milterworks.example>"
		if got[0].MessageID != want || got[1].MessageID != want || got[0].Text != got[1].Text {
			t.Fatalf("the copy differs: %s / %s, want %s", got[0].MessageID, got[1].MessageID, want)
		}
		if !r.SentAt.Valid || r.LockedBy != "instance-b" || !readRow(t, d, other).SentAt.Valid {
			t.Fatalf("not marked: %+v", r)
		}
		if n := len(dedupe(got)); n != 2 {
			t.Fatalf("%d distinct messages, want 2", n)
		}
		// And it stays at that: a late mark by the dead worker would not
		// match (locked_by is b's), and no one sends again.
		clk.Advance(time.Hour)
		if n := runOnce(t, b); n != 0 {
			t.Fatalf("sent %d more", n)
		}
	})
}

// Environment of the child process in TestWorkerKilledMidDATA.
const (
	childDSN  = "STOREKEEP_MAIL_CHILD_DSN"
	childSMTP = "STOREKEEP_MAIL_CHILD_SMTP"
)

// TestWorkerKilledMidDATA kills a real worker process while the relay has
// its message's DATA but has not answered: the relay keeps the message,
// the worker never learns of it. Another worker sends it (and the other
// messages the dead one had claimed) after the lease: nothing is lost, the
// one message in flight arrives twice with one Message-ID.
func TestWorkerKilledMidDATA(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var dsn string
			if dialect == "sqlite" {
				dsn = filepath.Join(t.TempDir(), "crash.db")
			} else {
				dsn = testutil.PostgresURL(t)
			}
			ctx := context.Background()
			d, err := db.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := d.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			var ids []int64
			for _, to := range []string{"a@example.com", "b@example.com", "c@example.com"} {
				ids = append(ids, enqueue(t, d, message(to), now))
			}

			sink := testutil.StartSMTP(t)
			inData := make(chan struct{})
			release := make(chan struct{})
			sink.OnData(func(testutil.Received) error {
				close(inData)
				<-release
				return nil
			})

			cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerChildProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), childDSN+"="+dsn, childSMTP+"="+sink.Addr())
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case <-inData:
			case err := <-exited:
				t.Fatalf("the worker process ended before sending: %v\n%s", err, out)
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("the worker process sent nothing\n%s", out)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-exited
			// The relay keeps what it received; the dead worker never
			// heard the 250.
			sink.OnData(nil)
			close(release)
			sink.WaitFor(1, 10*time.Second)

			for _, id := range ids {
				if r := readRow(t, d, id); r.SentAt.Valid || r.LockedBy != "child" {
					t.Fatalf("message %d after the kill: %+v", id, r)
				}
			}
			// After the lease, another instance takes over.
			clk := clock.NewFixed(now.Add(2 * time.Minute))
			w := newWorker(d, smtpTo(t, sink, clk), clk, "survivor", nil)
			if n := runOnce(t, w); n != 3 {
				t.Fatalf("sent %d, want 3", n)
			}
			got := sink.Messages()
			if len(got) != 4 {
				t.Fatalf("sink has %d messages, want 4 (one twice)", len(got))
			}
			first := readRow(t, d, ids[0])
			if got[0].MessageID != "<"+first.MessageID+"@milterworks.example>" || got[1].MessageID != got[0].MessageID {
				t.Fatalf("the message in flight was not resent with its Message-ID: %s, %s", got[0].MessageID, got[1].MessageID)
			}
			if n := len(dedupe(got)); n != 3 {
				t.Fatalf("%d distinct messages, want 3", n)
			}
			for _, id := range ids {
				if r := readRow(t, d, id); !r.SentAt.Valid || r.LockedBy != "survivor" {
					t.Fatalf("message %d: %+v", id, r)
				}
			}
		})
	}
}

// TestWorkerChildProcess is the worker process TestWorkerKilledMidDATA
// starts and kills; run on its own it does nothing.
func TestWorkerChildProcess(t *testing.T) {
	dsn, addr := os.Getenv(childDSN), os.Getenv(childSMTP)
	if dsn == "" {
		t.Skip("only run as TestWorkerKilledMidDATA's child process")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	w := &mail.Worker{DB: d, Sender: s, From: from, ID: "child", Lease: time.Minute, Batch: 10}
	_, err = w.RunOnce(ctx)
	t.Fatalf("the worker was not killed: %v", errors.Join(err, errors.New("expected to die in DATA")))
}
