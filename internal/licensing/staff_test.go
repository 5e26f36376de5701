package licensing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

func auditOf(t *testing.T, d *db.DB, l licensing.License) []audit.Entry {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{SubjectType: "license", SubjectID: l.LicenseID})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestStaffActions: each action changes the license and records itself
// with its reason and its staff member; refusals change nothing and
// record nothing.
func TestStaffActions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		other := f.newCustomer(t, "other@example.com")
		const staff = 42
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Term, TermMonths: 12, MaxMachines: 2})
		l, err := licensing.Issue(ctx, d, f.keys, staff, licensing.ManualIssue{CustomerID: f.customer.ID, EditionID: f.pro}, "replacement for a lost key", t0)
		if err != nil {
			t.Fatal(err)
		}
		until := t0.AddDate(2, 0, 0)
		steps := []struct {
			action string
			do     func(why string) (licensing.License, error)
			check  func(l licensing.License) bool
		}{
			{"license.extended", func(why string) (licensing.License, error) {
				return licensing.Extend(ctx, d, staff, l.ID, until, why, t0)
			}, func(l licensing.License) bool { return l.ExpiresAt.Equal(until) }},
			{"license.suspended", func(why string) (licensing.License, error) { return licensing.Suspend(ctx, d, staff, l.ID, why, t0) },
				func(l licensing.License) bool { return l.Status == licensing.Suspended && l.SuspendedBy == "staff" }},
			{"license.reinstated", func(why string) (licensing.License, error) { return licensing.Reinstate(ctx, d, staff, l.ID, why, t0) },
				func(l licensing.License) bool { return l.Status == licensing.Active }},
			{"license.transferred", func(why string) (licensing.License, error) {
				return licensing.Transfer(ctx, d, staff, l.ID, other.ID, why, t0)
			}, func(l licensing.License) bool { return l.CustomerID == other.ID }},
			{"license.machine_limit", func(why string) (licensing.License, error) {
				return licensing.SetMachineLimit(ctx, d, staff, l.ID, 5, why, t0)
			}, func(l licensing.License) bool { return l.MaxMachines == 5 }},
			{"license.revoked", func(why string) (licensing.License, error) { return licensing.Revoke(ctx, d, staff, l.ID, why, t0) },
				func(l licensing.License) bool { return l.Status == licensing.Revoked }},
		}
		for _, s := range steps {
			before := len(auditOf(t, d, l))
			if _, err := s.do("  "); !isRefusal(err) {
				t.Fatalf("%s without a reason: %v", s.action, err)
			}
			if n := len(auditOf(t, d, l)); n != before {
				t.Fatalf("%s without a reason was recorded", s.action)
			}
			got, err := s.do("customer asked, ticket 7")
			if err != nil {
				t.Fatalf("%s: %v", s.action, err)
			}
			stored, err := licensing.ByID(ctx, d, l.ID, t0)
			if err != nil || !s.check(got) || !s.check(stored) {
				t.Fatalf("%s: returned %+v, stored %+v (%v)", s.action, got, stored, err)
			}
			es := auditOf(t, d, l)
			if len(es) != before+1 || es[0].Action != s.action || es[0].ActorID != staff || !strings.Contains(es[0].Detail, "ticket 7") {
				t.Fatalf("%s: audit %+v", s.action, es)
			}
		}
		if es := auditOf(t, d, l); es[len(es)-1].Action != "license.issued" {
			t.Errorf("the issue is not recorded: %+v", es[len(es)-1])
		}

		// Refusals.
		if _, err := licensing.Reinstate(ctx, d, staff, l.ID, "x", t0); !errors.Is(err, licensing.ErrState) {
			t.Errorf("reinstating a revoked license: %v", err)
		}
		perpetual := f.issue(t, f.basic, false, 1)
		if _, err := licensing.Extend(ctx, d, staff, perpetual.ID, until, "x", t0); !errors.Is(err, licensing.ErrState) {
			t.Errorf("extending a perpetual license: %v", err)
		}
		if _, err := licensing.Transfer(ctx, d, staff, perpetual.ID, 999999, "x", t0); err == nil || !isRefusal(err) {
			t.Errorf("transfer to nobody: %v", err)
		}
		if _, err := licensing.Suspend(ctx, d, staff, 999999, "x", t0); !errors.Is(err, licensing.ErrNotFound) {
			t.Errorf("suspending no license: %v", err)
		}
		if _, err := licensing.Issue(ctx, d, f.keys, staff, licensing.ManualIssue{CustomerID: f.customer.ID, EditionID: 999999}, "x", t0); err == nil || !isRefusal(err) {
			t.Errorf("issuing an unknown edition: %v", err)
		}
	})
}

// TestPolicies: an edition without a policy has the defaults; a saved one
// is read back, audited, and refused when it makes no sense.
func TestPolicies(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		p, err := licensing.PolicyFor(ctx, d, f.pro)
		if err != nil || !p.Default || p.Kind != licensing.Perpetual || p.MaxMachines != licensing.DefaultPolicy.MaxMachines {
			t.Fatalf("default %+v, %v", p, err)
		}
		saved, err := licensing.SavePolicy(ctx, d, 3, licensing.Policy{EditionID: f.pro, Kind: licensing.Term, TermMonths: 24, UpdatesMonths: 24,
			GraceDays: 30, MaxMachines: 0, Entitlements: []string{"dkim", " malware-scan", "dkim"}, CheckInDays: 30}, t0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := licensing.PolicyFor(ctx, d, f.pro)
		if err != nil || got.Default || got.Kind != licensing.Term || got.TermMonths != 24 || got.CheckInDays != 30 ||
			strings.Join(got.Entitlements, ",") != "dkim,malware-scan" || strings.Join(saved.Entitlements, ",") != "dkim,malware-scan" {
			t.Fatalf("saved %+v, read %+v, %v", saved, got, err)
		}
		all, err := licensing.Policies(ctx, d)
		if err != nil || len(all) != 1 {
			t.Fatalf("policies %v, %v", all, err)
		}
		es, err := audit.List(ctx, d, audit.Filter{Action: "license.policy_saved"})
		if err != nil || len(es) != 1 || es[0].ActorID != 3 {
			t.Fatalf("audit %+v, %v", es, err)
		}
		for _, bad := range []licensing.Policy{
			{EditionID: f.pro, Kind: "forever"},
			{EditionID: f.pro, Kind: licensing.Term},
			{EditionID: f.pro, Kind: licensing.Perpetual, TermMonths: 3},
			{EditionID: f.pro, Kind: licensing.Perpetual, MaxMachines: -1},
			{EditionID: f.pro, Kind: licensing.Perpetual, Entitlements: []string{"Malware Scan"}},
			{EditionID: f.pro, Kind: licensing.Perpetual, CheckInDays: 91},
		} {
			if _, err := licensing.SavePolicy(ctx, d, 3, bad, t0); !isRefusal(err) {
				t.Errorf("policy %+v: %v", bad, err)
			}
		}
		if _, err := licensing.SavePolicy(ctx, d, 3, licensing.Policy{EditionID: 999999, Kind: licensing.Perpetual}, t0); !isRefusal(err) {
			t.Errorf("policy of no edition: %v", err)
		}
		// A term license from the saved policy: 24 months, unlimited machines.
		l := f.issue(t, f.pro, false, 1)
		if !l.ExpiresAt.Equal(t0.AddDate(0, 24, 0)) || l.MaxMachines != 0 || l.CheckInDays != 30 {
			t.Fatalf("license under the policy %+v", l)
		}
	})
}

func isRefusal(err error) bool {
	_, ok := refuse.As(err)
	return ok
}
