package mail

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/settings"
)

// MaxAttempts is how many times the worker tries a message before giving
// it up. With Backoff's schedule that is about 20 hours: a relay outage of
// several hours delays mail but loses none. A message with MaxAttempts
// failed attempts and no sent_at is "failed": staff see it in the outbox
// console and can send it again.
const MaxAttempts = 25

// Backoff is the wait after a message's n-th failed attempt: 1 minute,
// doubling with each attempt up to 1 hour (1m, 2m, 4m, ... 32m, 1h, 1h,
// ...). It is deterministic, so tests and staff can predict the next
// attempt; instances do not need jitter to avoid each other, because each
// message is claimed by one worker at a time.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 7 {
		return time.Hour
	}
	return min(time.Minute<<(n-1), time.Hour)
}

// Worker sends the outbox's due messages. Any number of workers, in one
// process or in several instances sharing a PostgreSQL database, can run
// at once: each message is claimed by one of them at a time (a lease) and
// marked sent once.
type Worker struct {
	DB     *db.DB
	Sender Sender
	Clock  clock.Clock  // nil: the system clock
	Log    *slog.Logger // nil: discard
	// Attacher, when set, supplies the files some messages carry (the
	// invoice's PDF with an order's confirmation). Without one, messages
	// go without attachments.
	Attacher Attacher
	// From is the sender address, "Name <address>" or bare. Empty means
	// the vendor's support address, under the vendor's name, from the
	// settings.
	From string
	// ID names this worker in locked_by; it must differ between workers
	// sharing a database (NewWorkerID makes one).
	ID string
	// Lease is how long a claim reserves a message for this worker
	// without news from it (default DefaultLease, 30 seconds). While the
	// worker works through a batch, a heartbeat extends the lease of the
	// messages it still holds every Lease/3, so a slow delivery keeps its
	// messages however long it takes (up to SendTimeout), and a message
	// whose worker died is sent by another worker about one Lease later.
	Lease time.Duration
	// Batch is how many messages one claim takes (default 20).
	Batch int
	// SendTimeout bounds one delivery (default 2 minutes).
	SendTimeout time.Duration
	// Poll is how long Run waits between looks at the outbox when nothing
	// wakes it (default 5 seconds).
	Poll time.Duration
	// BounceLocal and BounceDomain make each message's VERP return path,
	// BounceLocal+<id>-<mac>@BounceDomain (verp.go); defaults "bounces"
	// and the From address's domain.
	BounceLocal, BounceDomain string
	// Secret keys the VERP tags and the suppression list's hashes; nil
	// means the installation secret from the database.
	Secret   []byte
	secretMu sync.Mutex

	wakeOnce sync.Once
	wake     chan struct{}

	// OnFailure, when set, is called after each failed delivery attempt
	// with its kind (one of FailureKinds): for the metrics. It must not
	// block.
	OnFailure func(kind string)

	// onRenew, when set (by the tests), is called after each heartbeat
	// with its outcome, once the next heartbeat is scheduled.
	onRenew func(held int, err error)
}

// DefaultLease is the lease of a Worker that sets none: how long a
// message claimed by a worker that died waits before another worker
// sends it.
const DefaultLease = 30 * time.Second

// NewWorkerID returns an ID unique to this worker: the host name and a
// random suffix.
func NewWorkerID(host string) string {
	if host == "" {
		host = "worker"
	}
	return host + "-" + NewMessageID()[:8]
}

func (w *Worker) now() time.Time {
	if w.Clock == nil {
		return time.Now().UTC()
	}
	return w.Clock.Now().UTC()
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

func (w *Worker) lease() time.Duration {
	if w.Lease > 0 {
		return w.Lease
	}
	return DefaultLease
}

// renewEvery is the heartbeat's period: three heartbeats per lease, so
// one lost or late renewal does not lose the lease.
func (w *Worker) renewEvery() time.Duration { return w.lease() / 3 }

func (w *Worker) sendTimeout() time.Duration {
	if w.SendTimeout > 0 {
		return w.SendTimeout
	}
	return 2 * time.Minute
}

func (w *Worker) clock() clock.Clock {
	if w.Clock == nil {
		return clock.System{}
	}
	return w.Clock
}

func (w *Worker) batch() int {
	if w.Batch > 0 {
		return w.Batch
	}
	return 20
}

func (w *Worker) wakeChan() chan struct{} {
	w.wakeOnce.Do(func() { w.wake = make(chan struct{}, 1) })
	return w.wake
}

// Wake makes Run look at the outbox now instead of at its next poll, for
// code that has just queued a message. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wakeChan() <- struct{}{}:
	default:
	}
}

// Run sends due messages until ctx ends: a batch, then the next batch at
// once if the batch was full, otherwise a wait for Poll or Wake. When ctx
// ends during a delivery, that delivery is finished and recorded first, so
// a graceful stop sends nothing twice.
func (w *Worker) Run(ctx context.Context) {
	poll := w.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	wake := w.wakeChan()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		claimed, _, err := w.runBatch(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.log().LogAttrs(ctx, slog.LevelError, "mail worker", slog.String("error", err.Error()))
		}
		if err == nil && claimed == w.batch() {
			continue // more may be due
		}
		timer.Reset(poll)
		select {
		case <-ctx.Done():
			return
		case <-wake:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

// RunOnce claims one batch of due messages and sends them, and returns how
// many were sent. Tests call it directly with a fixed clock.
func (w *Worker) RunOnce(ctx context.Context) (sent int, err error) {
	_, sent, err = w.runBatch(ctx)
	return sent, err
}

// claimed is a message this worker holds the lease of.
type claimed struct {
	ID             int64
	Kind           Kind
	Template       string
	To             string
	Subject        string
	Text, HTML     string
	MessageID      string
	UnsubscribeURL string
	Attempts       int
	DedupKey       string
	CustomerID     int64
	InReplyTo      string
	Refs           string
	ReplyTo        string
	AutoSubmitted  string
}

func (w *Worker) runBatch(ctx context.Context) (n, sent int, err error) {
	if w.DB == nil || w.Sender == nil || w.ID == "" {
		return 0, 0, errors.New("mail: worker needs a database, a sender and an ID")
	}
	now := w.now()
	msgs, err := w.claim(ctx, now, now.Add(w.lease()))
	if err != nil || len(msgs) == 0 {
		return 0, 0, err
	}
	// The heartbeat keeps the batch's lease while this goroutine works
	// through it, and stops with it (also when a delivery panics: a worker
	// that dies stops renewing, and its messages go to another worker).
	hb := w.startHeartbeat(ctx, msgs, now)
	defer hb.stop()
	from, err := w.from(ctx)
	if err != nil {
		hb.stop()
		w.release(ctx, msgs)
		return len(msgs), 0, err
	}
	for i, m := range msgs {
		// Stop on shutdown, and when the lease is about to run out because
		// renewals failed (the database is unreachable, or another worker
		// took the messages over): what is left goes back to the queue.
		if ctx.Err() != nil || !hb.holds(m.ID, w.now().Add(w.renewEvery())) {
			hb.stop()
			w.release(ctx, msgs[i:])
			return len(msgs), sent, ctx.Err()
		}
		ok, err := w.deliver(ctx, from, m)
		if err != nil {
			hb.stop()
			w.release(ctx, msgs[i+1:])
			return len(msgs), sent, err
		}
		if ok {
			sent++
		}
	}
	return len(msgs), sent, nil
}

// heartbeat renews the lease of a claimed batch until stopped.
type heartbeat struct {
	w    *Worker
	ids  []int64 // the batch's outbox ids
	done chan struct{}
	exit chan struct{}
	once sync.Once

	mu       sync.Mutex
	leaseEnd time.Time      // of the last claim or renewal that succeeded
	held     map[int64]bool // the messages that renewal found still ours
}

func (w *Worker) startHeartbeat(ctx context.Context, msgs []claimed, claimedAt time.Time) *heartbeat {
	h := &heartbeat{w: w, done: make(chan struct{}), exit: make(chan struct{}),
		leaseEnd: claimedAt.Add(w.lease()), held: make(map[int64]bool, len(msgs))}
	for _, m := range msgs {
		h.ids = append(h.ids, m.ID)
		h.held[m.ID] = true
	}
	// The first wait starts before this returns, so a test that moves a
	// fixed clock once the first delivery has begun fires it.
	tick := clock.After(w.clock(), w.renewEvery())
	ctx = context.WithoutCancel(ctx) // a graceful stop finishes the delivery, lease and all
	go func() {
		defer close(h.exit)
		for {
			select {
			case <-h.done:
				return
			case <-tick:
			}
			n, err := h.renew(ctx)
			tick = clock.After(w.clock(), w.renewEvery())
			if w.onRenew != nil {
				w.onRenew(n, err)
			}
		}
	}()
	return h
}

// renew extends the lease of the batch's messages that are still this
// worker's and not yet done (sent, or given back after a failed attempt),
// and reports how many those are.
func (h *heartbeat) renew(ctx context.Context) (int, error) {
	w := h.w
	now := w.now()
	end := now.Add(w.lease())
	ctx, cancel := context.WithTimeout(ctx, w.renewEvery())
	defer cancel()
	held := map[int64]bool{}
	// One statement per message (a batch is at most Batch of them, every
	// Lease/3), in one transaction: fixed query text, no list to build.
	err := w.DB.Tx(ctx, func(tx *sql.Tx) error {
		clear(held)
		for _, id := range h.ids {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET locked_until = $1
				WHERE id = $2 AND locked_by = $3 AND sent_at IS NULL AND locked_until IS NOT NULL`, end, id, w.ID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				held[id] = true
			}
		}
		return nil
	})
	if err != nil {
		w.log().LogAttrs(ctx, slog.LevelWarn, "mail: renew the lease of claimed messages", slog.String("error", err.Error()))
		return 0, err
	}
	h.mu.Lock()
	h.leaseEnd, h.held = end, held
	h.mu.Unlock()
	return len(held), nil
}

// holds reports whether the message is still this worker's and its lease
// lasts past t.
func (h *heartbeat) holds(id int64, t time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[id] && t.Before(h.leaseEnd)
}

// stop ends the renewals and waits until the last one has finished, so
// nothing extends a lease after the worker has let go of the messages.
func (h *heartbeat) stop() {
	h.once.Do(func() { close(h.done) })
	<-h.exit
}

// claim reserves up to Batch due messages for this worker in one
// statement: no two workers get the same message while its lease runs.
// Transactional mail goes first, so a sign-in link never waits behind an
// announcement to every customer. On PostgreSQL, SKIP LOCKED lets
// concurrent claims pass each other instead of queueing; SQLite has a
// single writer, which serialises claims anyway.
func (w *Worker) claim(ctx context.Context, now, leaseEnd time.Time) ([]claimed, error) {
	lock := w.DB.Dialect.ForUpdateSkipLocked()
	q := `UPDATE outbox SET locked_until = $1, locked_by = $2
		WHERE id IN (SELECT id FROM outbox
			WHERE sent_at IS NULL AND send_after <= $3 AND attempts < $4 AND (locked_until IS NULL OR locked_until < $3)
			ORDER BY CASE WHEN kind = 'transactional' THEN 0 ELSE 1 END, id LIMIT $5` + lock + `)
		RETURNING id, kind, template, to_addr, subject, text_body, html_body, message_id, unsubscribe_url, attempts,
			COALESCE(dedup_key, ''), COALESCE(customer_id, 0), in_reply_to, refs, reply_to, auto_submitted`
	var out []claimed
	err := w.DB.Tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, q, leaseEnd, w.ID, now, MaxAttempts, w.batch())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m claimed
			var kind string
			if err := rows.Scan(&m.ID, &kind, &m.Template, &m.To, &m.Subject, &m.Text, &m.HTML, &m.MessageID, &m.UnsubscribeURL, &m.Attempts,
				&m.DedupKey, &m.CustomerID, &m.InReplyTo, &m.Refs, &m.ReplyTo, &m.AutoSubmitted); err != nil {
				return err
			}
			m.Kind = Kind(kind)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("mail: claim messages: %w", err)
	}
	slices.SortFunc(out, func(a, b claimed) int {
		if a.Kind != b.Kind {
			if a.Kind == Transactional {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// from is the sender address: w.From, or the vendor's support address.
func (w *Worker) from(ctx context.Context) (string, error) {
	if w.From != "" {
		return w.From, nil
	}
	v, err := settings.Load(ctx, w.DB)
	if err != nil {
		return "", fmt.Errorf("mail: read the sender address from the settings: %w", err)
	}
	if v.SupportEmail == "" {
		return "", errors.New("mail: no sender address: set --smtp-from, or the support address in the staff console's settings")
	}
	return (&mail.Address{Name: v.Name, Address: v.SupportEmail}).String(), nil
}

// deliver sends one claimed message and records the outcome. It reports
// whether the message was sent; an error means the outcome could not be
// recorded.
func (w *Worker) deliver(ctx context.Context, from string, m claimed) (bool, error) {
	secret, err := w.secret(ctx)
	if err != nil {
		return false, err
	}
	// Bulk mail never goes to an address on the suppression list.
	if skipped, err := w.skipSuppressed(ctx, secret, m); skipped || err != nil {
		return false, err
	}
	out := Outgoing{
		MessageID: m.MessageID, From: from, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		Kind: m.Kind, UnsubscribeURL: m.UnsubscribeURL, ReplyTo: m.ReplyTo, Headers: map[string]string{},
		EnvelopeFrom: w.returnPath(secret, from, m.ID),
	}
	// RFC 3834: no auto-replies (out-of-office) to machine mail; a
	// person's message (a staff reply) carries no such header.
	if m.AutoSubmitted != Human {
		out.Headers["Auto-Submitted"] = cmp.Or(m.AutoSubmitted, AutoGenerated)
	}
	if m.InReplyTo != "" {
		out.Headers["In-Reply-To"] = "<" + m.InReplyTo + ">"
	}
	if m.Refs != "" {
		out.Headers["References"] = "<" + strings.Join(strings.Fields(m.Refs), "> <") + ">"
	}
	// The delivery and its record finish even when ctx ends meanwhile (a
	// graceful stop): abandoning a delivery the relay may already have
	// accepted would send it twice.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.sendTimeout())
	var sendErr error
	attachErr := false
	if w.Attacher != nil {
		out.Attachments, sendErr = w.Attacher.Attachments(sendCtx, Queued{ID: m.ID, Template: m.Template, DedupKey: m.DedupKey, CustomerID: m.CustomerID})
		if sendErr != nil {
			sendErr, attachErr = fmt.Errorf("attachment: %w", sendErr), true
		}
	}
	if sendErr == nil {
		sendErr = w.Sender.Send(sendCtx, out)
	}
	// The SMTP sender closes the connection when the time is up: the
	// error then says "closed connection", the context says why.
	timedOut := sendErr != nil && errors.Is(sendCtx.Err(), context.DeadlineExceeded)
	cancel()
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	log := w.log().With(slog.Int64("outbox_id", m.ID), slog.String("message_id", m.MessageID), slog.String("template", m.Template))
	now := w.now()
	if sendErr == nil {
		res, err := w.DB.ExecContext(recCtx, `UPDATE outbox SET sent_at = $3, transport = $4, locked_until = NULL, last_error = ''
			WHERE id = $1 AND locked_by = $2 AND sent_at IS NULL`, m.ID, w.ID, now, transportOf(w.Sender))
		if err != nil {
			return true, fmt.Errorf("mail: mark message %d sent: %w", m.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Our lease ran out and another worker took the message over:
			// it may be delivered twice (docs/mail.md).
			log.LogAttrs(ctx, slog.LevelWarn, "mail sent after its lease was taken over; it may arrive twice")
			return true, nil
		}
		log.LogAttrs(ctx, slog.LevelInfo, "mail sent", slog.Int("attempt", m.Attempts+1))
		return true, nil
	}
	if w.OnFailure != nil {
		w.OnFailure(failureKind(sendErr, attachErr, timedOut))
	}
	attempts := m.Attempts + 1
	if errors.Is(sendErr, ErrPermanent) {
		attempts = MaxAttempts
	}
	reason := scrubError(sendErr.Error())
	next := now.Add(Backoff(attempts))
	_, err = w.DB.ExecContext(recCtx, `UPDATE outbox SET attempts = $3, last_error = $4, send_after = $5, locked_until = NULL
		WHERE id = $1 AND locked_by = $2 AND sent_at IS NULL`, m.ID, w.ID, attempts, reason, next)
	if err != nil {
		return false, fmt.Errorf("mail: record failed attempt of message %d: %w", m.ID, err)
	}
	attrs := []slog.Attr{slog.Int("attempt", attempts), slog.String("error", reason)}
	if attempts >= MaxAttempts {
		log.LogAttrs(ctx, slog.LevelError, "mail failed; giving up", attrs...)
	} else {
		log.LogAttrs(ctx, slog.LevelWarn, "mail not sent; will retry", append(attrs, slog.Time("retry_at", next))...)
	}
	return false, nil
}

// release gives claimed but unsent messages back to the queue.
func (w *Worker) release(ctx context.Context, msgs []claimed) {
	if len(msgs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, m := range msgs {
		_, err := w.DB.ExecContext(ctx, `UPDATE outbox SET locked_until = NULL
			WHERE id = $1 AND locked_by = $2 AND sent_at IS NULL`, m.ID, w.ID)
		if err != nil {
			// Not fatal: the lease runs out on its own.
			w.log().LogAttrs(ctx, slog.LevelWarn, "mail: release claimed messages", slog.String("error", err.Error()))
			return
		}
	}
}
