package licensing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestValidateCodes: each code of the format, with the injected clock.
func TestValidateCodes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Term, TermMonths: 12, UpdatesMonths: 12, GraceDays: 10,
			MaxMachines: 1, Entitlements: []string{"malware-scan", "dkim"}})
		l := f.issue(t, f.pro, false, 1)
		if l.Perpetual() || !l.ExpiresAt.Equal(t0.AddDate(1, 0, 0)) || l.MaxMachines != 1 {
			t.Fatalf("issued %+v", l)
		}
		check := func(what string, c licensing.Check, now time.Time, want licensing.Code) licensing.Result {
			t.Helper()
			r, err := licensing.Validate(ctx, d, f.keys, c, now)
			return wantCode(t, what, r, err, want)
		}
		r := check("plain", licensing.Check{Key: l.Key}, t0, licensing.CodeValid)
		if r.License == nil || r.License.LicenseID != l.LicenseID || r.License.State != licensing.StateActive || r.Message == "" {
			t.Fatalf("result %+v", r)
		}
		check("product", licensing.Check{Key: l.Key, Product: "milter"}, t0, licensing.CodeValid)
		check("wrong product", licensing.Check{Key: l.Key, Product: "other"}, t0, licensing.CodeWrongProduct)
		check("entitlements held", licensing.Check{Key: l.Key, Entitlements: []string{"dkim"}}, t0, licensing.CodeValid)
		check("entitlements missing", licensing.Check{Key: l.Key, Entitlements: []string{"dkim", "spf"}}, t0, licensing.CodeEntitlementsMissed)
		check("garbage", licensing.Check{Key: "SK1.nonsense"}, t0, licensing.CodeInvalidKey)
		check("truncated", licensing.Check{Key: l.Key[:len(l.Key)-3]}, t0, licensing.CodeInvalidKey)
		other := testKeys(9)
		foreign, err := licensing.MakeKey(other.Signer(), licensing.Payload{License: "lic_x", Product: "milter"})
		if err != nil {
			t.Fatal(err)
		}
		check("unknown kid", licensing.Check{Key: foreign}, t0, licensing.CodeUnknownKeyID)
		unknownLic, err := licensing.MakeKey(f.keys.Signer(), licensing.Payload{License: "lic_nosuch", Product: "milter"})
		if err != nil {
			t.Fatal(err)
		}
		check("not found", licensing.Check{Key: unknownLic}, t0, licensing.CodeNotFound)

		check("not activated", licensing.Check{Key: l.Key, Fingerprint: "m1"}, t0, licensing.CodeNotActivated)
		wantCode(t, "activate", must(t)(licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: "m1", Hostname: "mx1"}, t0)), nil, licensing.CodeValid)
		r = check("activated", licensing.Check{Key: l.Key, Fingerprint: "m1"}, t0, licensing.CodeValid)
		if r.Machine == nil || r.Machine.Hostname != "mx1" || r.Machine.Fingerprint != licensing.FingerprintHash("m1") {
			t.Fatalf("machine %+v", r.Machine)
		}
		check("seats taken", licensing.Check{Key: l.Key, Fingerprint: "m2"}, t0, licensing.CodeFingerprintScope)

		exp := l.ExpiresAt
		check("last second", licensing.Check{Key: l.Key}, exp.Add(-time.Second), licensing.CodeValid)
		r = check("in grace", licensing.Check{Key: l.Key}, exp, licensing.CodeInGrace)
		if !r.License.GraceEndsAt.Equal(exp.AddDate(0, 0, 10)) {
			t.Fatalf("grace ends %v", r.License.GraceEndsAt)
		}
		check("expired", licensing.Check{Key: l.Key}, exp.AddDate(0, 0, 10), licensing.CodeExpired)

		if _, err := licensing.Suspend(ctx, d, 1, l.ID, "chargeback", t0); err != nil {
			t.Fatal(err)
		}
		check("suspended", licensing.Check{Key: l.Key}, t0, licensing.CodeSuspended)
		check("wrong product wins", licensing.Check{Key: l.Key, Product: "other"}, t0, licensing.CodeWrongProduct)
		if _, err := licensing.Revoke(ctx, d, 1, l.ID, "fraud", t0); err != nil {
			t.Fatal(err)
		}
		check("revoked", licensing.Check{Key: l.Key}, t0, licensing.CodeRevoked)
	})
}

// TestMachines: activation is idempotent per fingerprint, the limit holds,
// deactivation frees a seat, check-in records time and version, and a
// seat of a license requiring check-ins frees itself after the time.
func TestMachines(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Perpetual, MaxMachines: 2, CheckInDays: 7})
		l := f.issue(t, f.pro, false, 1)
		act := func(fp string, now time.Time) licensing.Result {
			t.Helper()
			return must(t)(licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: fp, Hostname: "h-" + fp, Platform: "linux/amd64"}, now))
		}
		a := wantCode(t, "a", act("a", t0), nil, licensing.CodeValid)
		again := wantCode(t, "a again", act("a", t0.Add(time.Hour)), nil, licensing.CodeValid)
		if again.Machine.ID != a.Machine.ID {
			t.Fatalf("re-activation made a new machine %d, had %d", again.Machine.ID, a.Machine.ID)
		}
		wantCode(t, "b", act("b", t0), nil, licensing.CodeValid)
		wantCode(t, "c over the limit", act("c", t0), nil, licensing.CodeTooManyMachines)
		wantCode(t, "deactivate b", must(t)(licensing.Deactivate(ctx, d, f.keys, l.Key, "b", t0)), nil, licensing.CodeValid)
		wantCode(t, "deactivate b again", must(t)(licensing.Deactivate(ctx, d, f.keys, l.Key, "b", t0)), nil, licensing.CodeNotActivated)
		wantCode(t, "c after b left", act("c", t0), nil, licensing.CodeValid)

		// a checks in on day 6; c never does.
		ci := wantCode(t, "check in", must(t)(licensing.CheckIn(ctx, d, f.keys, l.Key, "a", "2.4.1", t0.AddDate(0, 0, 6))), nil, licensing.CodeValid)
		if ci.Machine.Version != "2.4.1" || !ci.Machine.LastCheckIn.Equal(t0.AddDate(0, 0, 6)) {
			t.Fatalf("check-in recorded %+v", ci.Machine)
		}
		day7 := t0.AddDate(0, 0, 7)
		r := must(t)(licensing.Validate(ctx, d, f.keys, licensing.Check{Key: l.Key, Fingerprint: "c"}, day7))
		if r.Code != licensing.CodeNotActivated {
			t.Fatalf("c after 7 days without a check-in: %s, want NOT_ACTIVATED", r.Code)
		}
		wantCode(t, "c's check-in after its seat lapsed", must(t)(licensing.CheckIn(ctx, d, f.keys, l.Key, "c", "", day7)), nil, licensing.CodeNotActivated)
		// The same moment in another time zone gives the same answers.
		east := day7.In(time.FixedZone("UTC+5", 5*3600))
		wantCode(t, "a, clock in another zone", must(t)(licensing.Validate(ctx, d, f.keys, licensing.Check{Key: l.Key, Fingerprint: "a"}, east)), nil, licensing.CodeValid)
		wantCode(t, "c, clock in another zone", must(t)(licensing.Validate(ctx, d, f.keys, licensing.Check{Key: l.Key, Fingerprint: "c"}, east)), nil, licensing.CodeNotActivated)
		wantCode(t, "d takes the lapsed seat", act("d", day7), nil, licensing.CodeValid)
		wantCode(t, "a still holds its seat", must(t)(licensing.Validate(ctx, d, f.keys, licensing.Check{Key: l.Key, Fingerprint: "a"}, day7)), nil, licensing.CodeValid)
		ms, err := licensing.Machines(ctx, d, l.ID)
		if err != nil || len(ms) != 2 {
			t.Fatalf("machines %+v, %v", ms, err)
		}
		if _, err := licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: ""}, t0); err == nil {
			t.Fatal("an empty fingerprint was accepted")
		}
		if _, err := licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: "x", Hostname: "bad\x00host"}, t0); err == nil {
			t.Fatal("a host name with NUL was accepted")
		}
	})
}

// TestFile: a license file verifies, carries the state and the binding.
func TestFile(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		l := f.issue(t, f.pro, true, 1)
		file, r, err := licensing.File(ctx, d, f.keys, l.Key, "", t0)
		wantCode(t, "unbound file", r, err, licensing.CodeValid)
		p, err := licensing.ParseFile(f.keys, file)
		if err != nil {
			t.Fatal(err)
		}
		if p.License != l.LicenseID || p.Key != l.Key || p.State != licensing.StateActive || p.Fingerprint != "" ||
			p.FileIssued != t0.Unix() || p.Expires != l.ExpiresAt.Unix() || p.Grace != l.ExpiresAt.AddDate(0, 0, 14).Unix() {
			t.Fatalf("file payload %+v", p)
		}
		_, r, err = licensing.File(ctx, d, f.keys, l.Key, "m1", t0)
		wantCode(t, "bound to a machine without a seat", r, err, licensing.CodeNotActivated)
		must(t)(licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: "m1"}, t0))
		file, r, err = licensing.File(ctx, d, f.keys, l.Key, "m1", t0)
		wantCode(t, "bound file", r, err, licensing.CodeValid)
		if p, err = licensing.ParseFile(f.keys, file); err != nil || p.Fingerprint != licensing.FingerprintHash("m1") {
			t.Fatalf("bound file %+v, %v", p, err)
		}
		if _, err := licensing.Suspend(ctx, d, 1, l.ID, "dispute", t0); err != nil {
			t.Fatal(err)
		}
		file, r, err = licensing.File(ctx, d, f.keys, l.Key, "", t0)
		wantCode(t, "suspended file", r, err, licensing.CodeSuspended)
		if p, err = licensing.ParseFile(f.keys, file); err != nil || p.State != licensing.StateSuspended {
			t.Fatalf("suspended file %+v, %v", p, err)
		}
	})
}

// TestReportedVersion: check-in and validation record the installed
// version a product reports, when it is a bounded version string.
func TestReportedVersion(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		l := f.issue(t, f.pro, false, 1)
		wantCode(t, "activate", must(t)(licensing.Activate(ctx, d, f.keys, l.Key, licensing.MachineInfo{Fingerprint: "m"}, t0)), nil, licensing.CodeValid)
		for _, bad := range []string{"2.4.1; rm -rf", "2.4.1 beta", ".2", "-1", "2.4.1\n", strings.Repeat("1", 65), "2.4.<b>"} {
			if _, err := licensing.CheckIn(ctx, d, f.keys, l.Key, "m", bad, t0); !errors.Is(err, licensing.ErrVersion) {
				t.Errorf("check-in with version %q: %v, want ErrVersion", bad, err)
			}
			if _, err := licensing.Validate(ctx, d, f.keys, licensing.Check{Key: l.Key, Fingerprint: "m", Version: bad}, t0); !errors.Is(err, licensing.ErrVersion) {
				t.Errorf("validation with version %q: %v, want ErrVersion", bad, err)
			}
		}
		ci := wantCode(t, "check in", must(t)(licensing.CheckIn(ctx, d, f.keys, l.Key, "m", " 2.4.1-beta.1+b7 ", t0)), nil, licensing.CodeValid)
		if ci.Machine.Version != "2.4.1-beta.1+b7" {
			t.Fatalf("check-in recorded %q", ci.Machine.Version)
		}
		v := wantCode(t, "validate", must(t)(licensing.Validate(ctx, d, f.keys, licensing.Check{Key: l.Key, Fingerprint: "m", Version: "2.5.0"}, t0.Add(time.Minute))), nil, licensing.CodeValid)
		var stored string
		d.QueryRowContext(ctx, `SELECT version FROM license_machines`).Scan(&stored)
		if v.Machine.Version != "2.5.0" || stored != "2.5.0" {
			t.Fatalf("validation recorded %q, stored %q", v.Machine.Version, stored)
		}
		// Without a version, validation leaves the recorded one.
		must(t)(licensing.Validate(ctx, d, f.keys, licensing.Check{Key: l.Key, Fingerprint: "m"}, t0.Add(2*time.Hour)))
		d.QueryRowContext(ctx, `SELECT version FROM license_machines`).Scan(&stored)
		if stored != "2.5.0" {
			t.Fatalf("a validation without version changed it to %q", stored)
		}
	})
}
