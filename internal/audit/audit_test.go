package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 11, 25, 9, 30, 0, 123456789, time.UTC)

func fill(t *testing.T, d *db.DB, n int) {
	t.Helper()
	for i := range n {
		err := audit.Record(context.Background(), d, audit.Entry{
			At: t0.Add(time.Duration(i) * time.Minute), ActorType: audit.ActorStaff, ActorID: int64(1 + i%2),
			Action: "customer.view", SubjectType: "customer", SubjectID: "c" + string(rune('a'+i)), SourceNet: "192.0.2.0/24",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifiesAndDetectsTampering(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if n, err := audit.Verify(ctx, d, nil); err != nil || n != 0 {
			t.Fatalf("empty log: %d, %v", n, err)
		}
		fill(t, d, 6)
		if n, err := audit.Verify(ctx, d, nil); err != nil || n != 6 {
			t.Fatalf("intact log: %d, %v", n, err)
		}
		for _, tc := range []struct {
			name, sql string
			seq       int64
		}{
			{"changed detail", `UPDATE audit_log SET detail = 'x' WHERE seq = 3`, 3},
			{"removed entry", `DELETE FROM audit_log WHERE seq = 4`, 4},
			{"removed newest", `DELETE FROM audit_log WHERE seq = 6`, 6},
		} {
			t.Run(tc.name, func(t *testing.T) {
				d := testutil.SQLite(t)
				fill(t, d, 6)
				if _, err := d.ExecContext(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
				_, err := audit.Verify(ctx, d, nil)
				if !audit.IsBroken(err) || !strings.Contains(err.Error(), "entry "+itoa(tc.seq)) {
					t.Fatalf("err = %v, want broken at %d", err, tc.seq)
				}
			})
		}
		// Purging the oldest entries (retention) keeps the rest verifiable.
		if _, err := d.ExecContext(ctx, `DELETE FROM audit_log WHERE seq <= 2`); err != nil {
			t.Fatal(err)
		}
		if n, err := audit.Verify(ctx, d, nil); err != nil || n != 4 {
			t.Fatalf("after purging the oldest: %d, %v", n, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestConcurrentAppendsFormOneChain(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- audit.Record(ctx, d, audit.Entry{At: t0, ActorType: audit.ActorSystem, Action: "job.run", Detail: itoa(int64(i % 10))})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, err := audit.Verify(ctx, d, nil); err != nil || n != 40 {
			t.Fatalf("verify after concurrent appends: %d, %v", n, err)
		}
	})
}

func TestListFiltersAndCSV(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fill(t, d, 5)
		if err := audit.Record(ctx, d, audit.Entry{At: t0, ActorType: audit.ActorStaff, ActorID: 1, Action: "staff_created", Detail: "=HYPERLINK(\"x\")"}); err != nil {
			t.Fatal(err)
		}
		all, err := audit.List(ctx, d, audit.Filter{})
		if err != nil || len(all) != 6 || all[0].Seq != 6 {
			t.Fatalf("List all = %d entries, %v", len(all), err)
		}
		byActor, _ := audit.List(ctx, d, audit.Filter{ActorID: 2})
		if len(byActor) != 2 {
			t.Fatalf("actor 2 has %d entries, want 2", len(byActor))
		}
		// "_" is literal in the action prefix, not a wildcard.
		if got, _ := audit.List(ctx, d, audit.Filter{Action: "staff_"}); len(got) != 1 {
			t.Fatalf("action prefix staff_ matched %d entries", len(got))
		}
		if got, _ := audit.List(ctx, d, audit.Filter{Action: "staff."}); len(got) != 0 {
			t.Fatalf("action prefix staff. matched %d entries", len(got))
		}
		window, _ := audit.List(ctx, d, audit.Filter{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)})
		if len(window) != 2 {
			t.Fatalf("time window matched %d entries, want 2", len(window))
		}
		subj, _ := audit.List(ctx, d, audit.Filter{SubjectType: "customer", SubjectID: "cb"})
		if len(subj) != 1 || !subj[0].At.Equal(t0.Add(time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("subject filter = %+v", subj)
		}
		var buf bytes.Buffer
		if err := audit.WriteCSV(&buf, all); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(recs) != 7 || recs[0][0] != "seq" {
			t.Fatalf("CSV = %v, %v", recs, err)
		}
		if !strings.HasPrefix(recs[1][7], "'=") {
			t.Fatalf("formula not defused in CSV: %q", recs[1][7])
		}
	})
}

func TestNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.77": "192.0.2.0/24", "2001:db8:1234:5678::1": "2001:db8:1234::/48", "::ffff:198.51.100.9": "198.51.100.0/24",
	} {
		if got := audit.Network(netip.MustParseAddr(in)); got != want {
			t.Errorf("Network(%s) = %s, want %s", in, got, want)
		}
	}
	if audit.Network(netip.Addr{}) != "" {
		t.Error("invalid address gave a network")
	}
}

// TestEntryBy: an entry recorded by an actor carries its type, ID and
// network, and the chain covers them.
func TestEntryBy(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, a := range []audit.Actor{audit.Staff(7).From("192.0.2.0/24"), audit.Customer(9), audit.System()} {
			if err := audit.Record(ctx, d, audit.Entry{At: t0, Action: "test.by", SubjectType: "thing", SubjectID: "1"}.By(a)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := audit.List(ctx, d, audit.Filter{Action: "test."})
		if err != nil || len(got) != 3 {
			t.Fatalf("List = %v, %v", got, err)
		}
		want := []struct {
			typ string
			id  int64
			net string
		}{{audit.ActorSystem, 0, ""}, {audit.ActorCustomer, 9, ""}, {audit.ActorStaff, 7, "192.0.2.0/24"}}
		for i, w := range want {
			if got[i].ActorType != w.typ || got[i].ActorID != w.id || got[i].SourceNet != w.net {
				t.Errorf("entry %d = %s %d %q, want %s %d %q", i, got[i].ActorType, got[i].ActorID, got[i].SourceNet, w.typ, w.id, w.net)
			}
		}
		if n, err := audit.Verify(ctx, d, nil); err != nil || n != 3 {
			t.Fatalf("Verify = %d, %v", n, err)
		}
		if err := audit.Record(ctx, d, audit.Entry{At: t0, Action: "test.nobody"}.By(audit.Actor{})); err == nil {
			t.Fatal("an entry without an actor was appended")
		}
	})
}
