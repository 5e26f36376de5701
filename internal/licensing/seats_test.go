package licensing_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
)

// lapsedEntries is the license's history of seats freed for want of a
// check-in.
func lapsedEntries(t *testing.T, d *db.DB, lic string) []audit.Entry {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{SubjectType: "license", SubjectID: lic, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range es {
		if e.Action == licensing.ActionSeatLapsed {
			out = append(out, e)
		}
	}
	return out
}

func hostnames(t *testing.T, d *db.DB, licenseID int64) []string {
	t.Helper()
	ms, err := licensing.Machines(context.Background(), d, licenseID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Hostname)
	}
	return out
}

// TestFreeLapsedSeats: the scheduled job frees a seat whose machine did
// not check in for the license's interval (to the second), keeps the
// fresh ones and leaves a license without a check-in policy alone; the
// license's history says which machine and why; a second run frees
// nothing.
func TestFreeLapsedSeats(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Perpetual, MaxMachines: 5, CheckInDays: 7})
		f.policy(t, licensing.Policy{EditionID: f.basic, Kind: licensing.Perpetual, MaxMachines: 5})
		checked := f.issue(t, f.pro, false, 1)
		free := f.issue(t, f.basic, false, 1)
		act := func(l licensing.License, fp string) {
			t.Helper()
			wantCode(t, "activate "+fp, must(t)(licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: fp, Hostname: "h-" + fp}, clk.Now())), nil, licensing.CodeValid)
		}
		act(checked, "silent") // never checks in: lapses on day 7
		act(checked, "busy")   // checks in on day 5: lapses on day 12
		act(free, "nocheck")   // no check-in required: never lapses
		clk.Advance(3 * 24 * time.Hour)
		act(checked, "late") // activated on day 3: lapses on day 10
		clk.Set(t0.AddDate(0, 0, 5))
		wantCode(t, "busy checks in", must(t)(licensing.CheckIn(ctx, d, f.keys, checked.Key, "busy", "1.0", clk.Now())), nil, licensing.CodeValid)

		clk.Set(t0.AddDate(0, 0, 7).Add(-time.Second))
		if n, err := licensing.FreeLapsedSeats(ctx, d, clk.Now()); err != nil || n != 0 {
			t.Fatalf("a second before the interval ends: freed %d, %v", n, err)
		}
		clk.Set(t0.AddDate(0, 0, 7))
		n, err := licensing.FreeLapsedSeats(ctx, d, clk.Now())
		if err != nil || n != 1 {
			t.Fatalf("on day 7: freed %d, %v; want 1", n, err)
		}
		if got := strings.Join(hostnames(t, d, checked.ID), ","); got != "h-busy,h-late" {
			t.Fatalf("machines after day 7: %s, want h-busy,h-late", got)
		}
		if n, err := licensing.FreeLapsedSeats(ctx, d, clk.Now()); err != nil || n != 0 {
			t.Fatalf("a second run freed %d, %v", n, err)
		}
		es := lapsedEntries(t, d, checked.LicenseID)
		if len(es) != 1 {
			t.Fatalf("history has %d lapsed seats, want 1: %+v", len(es), es)
		}
		e := es[0]
		if e.ActorType != audit.ActorSystem || !e.At.Equal(clk.Now()) ||
			!strings.Contains(e.Detail, "h-silent") || !strings.Contains(e.Detail, "never checked in") || !strings.Contains(e.Detail, "every 7 days") {
			t.Fatalf("history entry %+v does not say which machine and why", e)
		}

		// Two years on, nothing frees the seat of a license without a
		// check-in policy; the day-10 and day-12 seats go.
		clk.Set(t0.AddDate(2, 0, 0))
		if n, err := licensing.FreeLapsedSeats(ctx, d, clk.Now()); err != nil || n != 2 {
			t.Fatalf("two years on: freed %d, %v; want 2", n, err)
		}
		if got := hostnames(t, d, free.ID); len(got) != 1 {
			t.Fatalf("the license without check-ins lost its machine: %v", got)
		}
		if es := lapsedEntries(t, d, free.LicenseID); len(es) != 0 {
			t.Fatalf("the license without check-ins has lapsed seats in its history: %+v", es)
		}
		es = lapsedEntries(t, d, checked.LicenseID)
		if len(es) != 3 || !strings.Contains(es[0].Detail+es[1].Detail, "last check-in "+t0.AddDate(0, 0, 5).Format(time.DateOnly)) {
			t.Fatalf("history after two years: %+v", es)
		}
	})
}

// TestFreeLapsedSeatsConcurrently: two runs at once (two instances) and
// the lazy path of an activation free each lapsed seat once, and each is
// recorded once.
func TestFreeLapsedSeatsConcurrently(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Perpetual, MaxMachines: 3, CheckInDays: 1})
		const licenses, seats = 6, 3
		var ls []licensing.License
		for range licenses {
			l := f.issue(t, f.pro, false, 1)
			for _, fp := range []string{"a", "b", "c"}[:seats] {
				wantCode(t, "activate", must(t)(licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: fp}, t0)), nil, licensing.CodeValid)
			}
			ls = append(ls, l)
		}
		later := t0.AddDate(0, 0, 2)
		var wg sync.WaitGroup
		counts := make([]int, 2)
		errs := make([]error, 3)
		for i := range counts {
			wg.Go(func() { counts[i], errs[i] = licensing.FreeLapsedSeats(ctx, d, later) })
		}
		// The lazy path frees the first license's seats as it activates.
		wg.Go(func() {
			_, errs[2] = licensing.Activate(ctx, d, f.keys, ls[0].Key, licensing.MachineInfo{Fingerprint: "new"}, later)
		})
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		recorded := 0
		for _, l := range ls {
			n := len(lapsedEntries(t, d, l.LicenseID))
			if n != seats {
				t.Errorf("license %s: %d seats recorded as lapsed, want %d", l.LicenseID, n, seats)
			}
			recorded += n
		}
		lazy := recorded - counts[0] - counts[1]
		if lazy != 0 && lazy != seats {
			t.Fatalf("the runs freed %d and %d, the activation %d: a seat counted twice or not at all", counts[0], counts[1], lazy)
		}
		if got := hostnames(t, d, ls[0].ID); len(got) != 1 {
			t.Fatalf("the first license holds %d machines, want the new one only", len(got))
		}
		if n, err := licensing.FreeLapsedSeats(ctx, d, later); err != nil || n != 0 {
			t.Fatalf("a run after them freed %d, %v", n, err)
		}
	})
}

// TestLazyFreeingIsRecorded: a seat freed on the way by an activation is
// in the history as the scheduled job records it, and the job does not
// free it again.
func TestLazyFreeingIsRecorded(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Perpetual, MaxMachines: 1, CheckInDays: 7})
		l := f.issue(t, f.pro, false, 1)
		wantCode(t, "a", must(t)(licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: "a", Hostname: "mx-a"}, t0)), nil, licensing.CodeValid)
		day8 := t0.AddDate(0, 0, 8)
		wantCode(t, "b takes a's lapsed seat", must(t)(licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: "b"}, day8)), nil, licensing.CodeValid)
		es := lapsedEntries(t, d, l.LicenseID)
		if len(es) != 1 || !strings.Contains(es[0].Detail, "mx-a") || es[0].ActorType != audit.ActorSystem {
			t.Fatalf("history after the lazy path: %+v", es)
		}
		if n, err := licensing.FreeLapsedSeats(ctx, d, day8); err != nil || n != 0 {
			t.Fatalf("the job freed %d, %v after the lazy path", n, err)
		}
	})
}
