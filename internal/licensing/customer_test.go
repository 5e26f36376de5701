package licensing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestFreeMachine: the holder frees a seat, recorded as the customer;
// another customer's license, or a machine of another license, is
// ErrNotFound and changes nothing.
func TestFreeMachine(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		other := f.newCustomer(t, "other@example.com")
		l := f.issue(t, f.pro, false, 1)
		l2 := f.issue(t, f.basic, false, 1)
		m := must(t)(licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: "fp-1", Hostname: "a"}, t0)).Machine
		by := audit.Customer(other.ID).From("192.0.2.0/24")
		for _, c := range []struct {
			what          string
			customer, lic int64
		}{{"another customer's license", other.ID, l.ID}, {"no customer", 0, l.ID}, {"a machine of another license", f.customer.ID, l2.ID}} {
			if _, err := licensing.FreeMachine(ctx, d, by, c.customer, c.lic, m.ID, t0); !errors.Is(err, licensing.ErrNotFound) {
				t.Errorf("%s: %v", c.what, err)
			}
		}
		if ms, _ := licensing.Machines(ctx, d, l.ID); len(ms) != 1 {
			t.Fatalf("a refused free left %d machines", len(ms))
		}
		freed, err := licensing.FreeMachine(ctx, d, audit.Customer(f.customer.ID).From("192.0.2.0/24"), f.customer.ID, l.ID, m.ID, t0)
		if err != nil || freed.ID != m.ID {
			t.Fatalf("free: %+v, %v", freed, err)
		}
		if ms, _ := licensing.Machines(ctx, d, l.ID); len(ms) != 0 {
			t.Fatalf("%d machines after the free", len(ms))
		}
		es := auditOf(t, d, l)
		last := es[0] // newest first
		if last.Action != "license.machine_freed" || last.ActorType != audit.ActorCustomer || last.ActorID != f.customer.ID || last.SourceNet == "" {
			t.Fatalf("the audit log: %+v", es)
		}
		wantCode(t, "validate on the freed machine", must(t)(licensing.Validate(ctx, d, f.keys, licensing.Check{Key: l.Key, Fingerprint: "fp-1"}, t0)), nil, licensing.CodeNotActivated)
	})
}
