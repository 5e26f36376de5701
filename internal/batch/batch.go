// Package batch writes items that arrive one by one (on requests) to the
// database in batches, off the request path: Add puts an item in a
// bounded queue and returns at once; one background writer hands the
// queued items to a write function in batches; Close writes everything
// still queued, so a clean shutdown loses nothing.
//
// When the queue is full (the database cannot keep up, or is down) an
// item is dropped and counted rather than the request made to wait.
// Drops are warned about in the log at most once a minute.
package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
)

// Options configures a Writer. Zero values take the defaults.
type Options struct {
	// Name is what the log calls the writer ("analytics").
	Name string
	// Clock times the batches and the warnings; nil is the system clock.
	Clock clock.Clock
	// Logger receives write failures and drop warnings (never an item's
	// content); nil discards them.
	Logger *slog.Logger
	// Queue is how many items wait at most (default 10,000). The writer
	// takes the whole queue at once, so up to twice as many are in memory
	// while a slow write holds them.
	Queue int
	// Batch is the most items one write gets (default 500).
	Batch int
	// Interval is how long an item waits at most before its batch is
	// written (default 1 s).
	Interval time.Duration
	// TimerSet, when set (tests), runs on the writer after it has set a
	// part batch's timer: a test then moves its clock.
	TimerSet func()
}

// Defaults of Options.
const (
	DefaultQueue    = 10000
	DefaultBatch    = 500
	DefaultInterval = time.Second
)

// warnEvery is the least time between two warnings about dropped items.
const warnEvery = time.Minute

// Writer queues items and writes them in batches.
type Writer[T any] struct {
	write    func(ctx context.Context, items []T) error
	name     string
	clock    clock.Clock
	log      *slog.Logger
	batch    int
	interval time.Duration

	// The queue is a slice under a mutex, not a channel: a channel send
	// wakes the writer for every item, and those wake-ups cost more of a
	// busy server's CPU than the writes. Add wakes the writer only when
	// the queue goes from empty to one item and when it holds a full
	// batch.
	mu     sync.Mutex
	queue  []T
	spare  []T
	limit  int
	closed bool

	kick    chan struct{}
	flushes chan chan error
	closing chan struct{}
	done    chan struct{}
	once    sync.Once

	written, droppedFull, droppedFailed atomic.Int64
	lastWarn                            atomic.Int64

	timerSet func()
}

// New starts a Writer that hands batches to write. write runs on the
// writer's goroutine only; a batch it fails is counted as dropped and not
// retried (it would hold up the batches behind it).
func New[T any](o Options, write func(ctx context.Context, items []T) error) *Writer[T] {
	w := &Writer[T]{write: write, name: o.Name, clock: o.Clock, log: o.Logger, batch: o.Batch, interval: o.Interval, timerSet: o.TimerSet,
		kick: make(chan struct{}, 1), flushes: make(chan chan error), closing: make(chan struct{}), done: make(chan struct{})}
	if w.clock == nil {
		w.clock = clock.System{}
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if w.batch <= 0 {
		w.batch = DefaultBatch
	}
	if w.interval <= 0 {
		w.interval = DefaultInterval
	}
	w.limit = o.Queue
	w.queue = make([]T, 0, min(w.batch, w.limit))
	go w.run()
	return w
}

// Add queues item without ever waiting; it reports false when the item
// was dropped (queue full, or the Writer closed).
func (w *Writer[T]) Add(item T) bool {
	w.mu.Lock()
	if w.closed || len(w.queue) >= w.limit {
		closed := w.closed
		w.mu.Unlock()
		n := w.droppedFull.Add(1)
		if !closed {
			w.warnDropped(n)
		}
		return false
	}
	w.queue = append(w.queue, item)
	n := len(w.queue)
	w.mu.Unlock()
	if n == 1 || n == w.batch {
		select {
		case w.kick <- struct{}{}:
		default: // the writer is woken already
		}
	}
	return true
}

func (w *Writer[T]) warnDropped(total int64) {
	now := w.clock.Now().UnixNano()
	last := w.lastWarn.Load()
	if last != 0 && now-last < int64(warnEvery) {
		return
	}
	if !w.lastWarn.CompareAndSwap(last, now) {
		return
	}
	w.log.Warn(w.name+": queue full, entries dropped unwritten", slog.Int64("dropped_total", total), slog.Int("queue", w.limit))
}

// Flush writes everything queued before it was called and returns the
// first write error.
func (w *Writer[T]) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case w.flushes <- reply:
	case <-w.done:
		return fmt.Errorf("%s: closed", w.name)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking items and writes everything queued, waiting until it
// is written or ctx ends.
func (w *Writer[T]) Close(ctx context.Context) error {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.closing)
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %d items still queued: %w", w.name, w.Queued(), ctx.Err())
	}
}

// Written counts items written since New.
func (w *Writer[T]) Written() int64 { return w.written.Load() }

// Dropped counts items dropped since New (queue full, closed, or lost with
// a batch that failed).
func (w *Writer[T]) Dropped() int64 { return w.droppedFull.Load() + w.droppedFailed.Load() }

// DroppedFull counts items dropped because the queue was full or the
// Writer closed; DroppedFailed those lost with a batch that failed.
func (w *Writer[T]) DroppedFull() int64 { return w.droppedFull.Load() }

// DroppedFailed: see DroppedFull.
func (w *Writer[T]) DroppedFailed() int64 { return w.droppedFailed.Load() }

// Queued is how many items wait.
func (w *Writer[T]) Queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

func (w *Writer[T]) run() {
	defer close(w.done)
	var due <-chan time.Time // set while a part batch waits
	for {
		select {
		case <-w.kick:
			if w.Queued() < w.batch {
				if due == nil {
					due = clock.After(w.clock, w.interval)
					if w.timerSet != nil {
						w.timerSet()
					}
				}
				continue
			}
		case <-due:
		case reply := <-w.flushes:
			due = nil
			reply <- w.writeQueued()
			continue
		case <-w.closing:
			_ = w.writeQueued()
			return
		}
		due = nil
		_ = w.writeQueued()
	}
}

func (w *Writer[T]) writeQueued() error {
	w.mu.Lock()
	taken := w.queue
	w.queue = w.spare[:0]
	w.mu.Unlock()
	var errs []error
	for rest := taken; len(rest) > 0; {
		n := min(len(rest), w.batch)
		if err := w.writeBatch(rest[:n]); err != nil && len(errs) == 0 {
			errs = append(errs, err)
		}
		rest = rest[n:]
	}
	clear(taken)
	w.spare = taken[:0]
	return errors.Join(errs...)
}

func (w *Writer[T]) writeBatch(items []T) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.write(ctx, items); err != nil {
		w.droppedFailed.Add(int64(len(items)))
		w.log.Error(w.name+": a batch could not be written", slog.Int("rows", len(items)), slog.String("error", err.Error()))
		return fmt.Errorf("%s: write %d items: %w", w.name, len(items), err)
	}
	w.written.Add(int64(len(items)))
	return nil
}
