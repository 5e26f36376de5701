package ratelimit_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestLimitPerWindow(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := ratelimit.New(d, []byte("secret"))
		lim := ratelimit.Limit{Max: 3, Window: time.Minute}
		now := time.Date(2026, 11, 25, 10, 0, 5, 0, time.UTC)
		b := l.Key("login:account", "alice@example.com")
		if strings.Contains(b, "alice") {
			t.Fatalf("bucket %q holds the address in the clear", b)
		}
		for i := 1; i <= 5; i++ {
			ok, err := l.Allow(ctx, b, lim, now)
			if err != nil || ok != (i <= 3) {
				t.Fatalf("hit %d: %v, %v", i, ok, err)
			}
		}
		if blocked, _ := l.Blocked(ctx, b, lim, now); !blocked {
			t.Fatal("Blocked = false after the limit")
		}
		if ok, _ := l.Allow(ctx, l.Key("login:account", "bob@example.com"), lim, now); !ok {
			t.Fatal("another bucket was limited")
		}
		if ok, _ := l.Allow(ctx, b, lim, now.Add(time.Minute)); !ok {
			t.Fatal("the next window is still limited")
		}
		// The inventory-driven retention purge removes windows a day old.
		if _, err := privacy.Purge(ctx, d, privacy.Declared, now.Add(24*time.Hour+30*time.Second)); err != nil {
			t.Fatal(err)
		}
		var left int
		d.QueryRowContext(ctx, `SELECT count(*) FROM rate_limits`).Scan(&left)
		if left != 1 {
			t.Fatalf("%d windows left, want only the one less than a day old", left)
		}
	})
}

func TestConcurrentHitsAreCountedExactly(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		l := ratelimit.New(d, []byte("k"))
		now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := l.Allow(context.Background(), "b", ratelimit.Limit{Max: 10, Window: time.Hour}, now)
				if err != nil {
					t.Error(err)
				}
				if ok {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		if allowed.Load() != 10 {
			t.Fatalf("%d of 30 concurrent hits allowed, want exactly 10", allowed.Load())
		}
	})
}
