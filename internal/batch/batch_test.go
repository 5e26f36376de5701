package batch_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/batch"
	"github.com/storekeep/storekeep/internal/clock"
)

var t0 = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

type sink struct {
	mu      sync.Mutex
	batches [][]int
	fail    bool
	wrote   chan struct{}
}

func (s *sink) write(_ context.Context, items []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		select {
		case s.wrote <- struct{}{}:
		default:
		}
	}()
	if s.fail {
		return errors.New("database down")
	}
	s.batches = append(s.batches, slices.Clone(items))
	return nil
}

func (s *sink) all() (out []int, batches int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out, len(s.batches)
}

// TestFullBatchAndIntervalAndClose: a full batch is written at once, a
// part batch when the interval passes on the injected clock, and Close
// writes the rest; the write function never gets more than Batch items.
func TestFullBatchAndIntervalAndClose(t *testing.T) {
	clk := clock.NewFixed(t0)
	s := &sink{wrote: make(chan struct{}, 1)}
	w := batch.New(batch.Options{Name: "test", Clock: clk, Batch: 3, Interval: time.Second}, s.write)
	timer := make(chan struct{}, 1)
	batch.SetTimerSet(w, func() { timer <- struct{}{} })
	for i := range 3 {
		if !w.Add(i) {
			t.Fatal("dropped")
		}
	}
	<-s.wrote // the full batch
	w.Add(3)
	<-timer // the part batch's timer is set
	if got, _ := s.all(); len(got) != 3 {
		t.Fatalf("the part batch was written before its time: %v", got)
	}
	clk.Advance(time.Second)
	<-s.wrote
	w.Add(4)
	w.Add(5)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, batches := s.all()
	if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) || batches != 3 {
		t.Fatalf("wrote %v in %d batches", got, batches)
	}
	if w.Add(6) || w.Written() != 6 || w.Dropped() != 1 {
		t.Fatalf("after Close: written %d, dropped %d", w.Written(), w.Dropped())
	}
}

// TestFailedBatchIsCountedAndFlushReportsIt: a batch that cannot be
// written is dropped and counted, Flush returns the error, and later
// batches are written when the database is back.
func TestFailedBatchIsCountedAndFlushReportsIt(t *testing.T) {
	s := &sink{fail: true, wrote: make(chan struct{}, 1)}
	w := batch.New(batch.Options{Name: "test", Batch: 10, Interval: time.Hour}, s.write)
	defer w.Close(context.Background())
	w.Add(1)
	w.Add(2)
	if err := w.Flush(context.Background()); err == nil {
		t.Fatal("Flush hid the failure")
	}
	if w.Dropped() != 2 || w.Written() != 0 {
		t.Fatalf("dropped %d, written %d", w.Dropped(), w.Written())
	}
	s.mu.Lock()
	s.fail = false
	s.mu.Unlock()
	w.Add(3)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.all(); !slices.Equal(got, []int{3}) {
		t.Fatalf("wrote %v", got)
	}
}

// TestAddNeverWaits: with the writer stuck, Add still returns at once,
// and drops beyond the queue's size.
func TestAddNeverWaits(t *testing.T) {
	release := make(chan struct{})
	w := batch.New(batch.Options{Name: "test", Queue: 5, Batch: 1, Interval: time.Hour}, func(context.Context, []int) error {
		<-release
		return nil
	})
	kept := 0
	for i := range 100 {
		if w.Add(i) {
			kept++
		}
	}
	close(release)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The writer takes the whole queue (five) and is stuck on its first
	// item; five more fit in the queue meanwhile: never more than twice
	// the queue in memory.
	if kept < 5 || kept > 10 || w.Dropped() != int64(100-kept) || w.Written() != int64(kept) {
		t.Fatalf("kept %d, dropped %d, written %d", kept, w.Dropped(), w.Written())
	}
}
