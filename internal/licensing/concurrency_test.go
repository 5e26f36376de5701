package licensing_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
)

// activateAll starts n activations of distinct machines at once, spread
// over the handles, and counts the answers.
func activateAll(t *testing.T, handles []*db.DB, keys *licensing.Keyring, key string, n int) map[licensing.Code]int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[licensing.Code]int{}
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := licensing.Activate(context.Background(), handles[i%len(handles)], keys, key,
				licensing.MachineInfo{Fingerprint: fmt.Sprintf("machine-%d", i)}, t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("activation %d: %v", i, err)
				return
			}
			codes[r.Code]++
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

func checkLimitHeld(t *testing.T, d *db.DB, l licensing.License, codes map[licensing.Code]int, n, k int) {
	t.Helper()
	if codes[licensing.CodeValid] != k || codes[licensing.CodeTooManyMachines] != n-k {
		t.Errorf("answers %v, want %d VALID and %d TOO_MANY_MACHINES", codes, k, n-k)
	}
	ms, err := licensing.Machines(context.Background(), d, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != k {
		t.Errorf("%d machines hold seats of a license limited to %d", len(ms), k)
	}
}

// TestActivationLimitUnderConcurrency: n parallel activations of a license
// limited to k leave exactly k machines, on both databases.
func TestActivationLimitUnderConcurrency(t *testing.T) {
	const n, k = 24, 3
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Perpetual, MaxMachines: k})
		l := f.issue(t, f.pro, false, 1)
		codes := activateAll(t, []*db.DB{d}, f.keys, l.Key, n)
		checkLimitHeld(t, d, l, codes, n, k)
	})
}

// TestActivationLimitAcrossInstances: the same with two database handles
// on one PostgreSQL schema, as two instances of Storekeep.
func TestActivationLimitAcrossInstances(t *testing.T) {
	const n, k = 24, 5
	url := testutil.PostgresURL(t)
	ctx := context.Background()
	var handles []*db.DB
	for range 2 {
		h, err := db.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		handles = append(handles, h)
	}
	if _, err := handles[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, handles[0])
	f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Perpetual, MaxMachines: k})
	l := f.issue(t, f.pro, false, 1)
	codes := activateAll(t, handles, f.keys, l.Key, n)
	checkLimitHeld(t, handles[1], l, codes, n, k)

	// The same machine activating on both instances at once takes one seat.
	var wg sync.WaitGroup
	l2 := f.issue(t, f.pro, false, 1)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := licensing.Activate(ctx, handles[i%2], f.keys, l2.Key, licensing.MachineInfo{Fingerprint: "same"}, t0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ms, err := licensing.Machines(ctx, handles[1], l2.ID); err != nil || len(ms) != 1 {
		t.Fatalf("one machine activating 8 times at once holds %d seats (%v)", len(ms), err)
	}
}
