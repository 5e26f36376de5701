package privacy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestErasureKeepsLicensesWorking: erasing a customer clears the license's
// link to them and deletes their machines' records, and the product keeps
// working: the key verifies, validates VALID, activates a machine again,
// and a license file can still be made. The other customer's license and
// machine are untouched.
func TestErasureKeepsLicensesWorking(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := seedPrice(t, d)
		a := makePerson(t, d, 1, price)
		b := makePerson(t, d, 2, price)
		erase(t, d, refOf(a), nil)

		if _, err := licensing.ParseKey(testLicenseKeys, a.LicenseKey); err != nil {
			t.Fatalf("the erased customer's key no longer verifies: %v", err)
		}
		r, err := licensing.Validate(ctx, d, testLicenseKeys, licensing.Check{Key: a.LicenseKey, Product: "m"}, t0)
		if err != nil || r.Code != licensing.CodeValid {
			t.Fatalf("validate after erasure: %+v, %v", r, err)
		}
		if r.License.CustomerID != 0 {
			t.Errorf("the license still names customer %d", r.License.CustomerID)
		}
		ms, err := licensing.Machines(ctx, d, r.License.ID)
		if err != nil || len(ms) != 0 {
			t.Errorf("the erased customer's machines remain: %+v, %v", ms, err)
		}
		var hosts int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM license_machines WHERE hostname LIKE '%uniquehost1%'`).Scan(&hosts); err != nil || hosts != 0 {
			t.Errorf("the erased customer's host name is still stored (%d, %v)", hosts, err)
		}
		// The product on the customer's server re-activates and carries on.
		if r, err := licensing.Activate(ctx, d, testLicenseKeys, a.LicenseKey, licensing.MachineInfo{Fingerprint: "fp-1"}, t0); err != nil || r.Code != licensing.CodeValid {
			t.Fatalf("activate after erasure: %+v, %v", r, err)
		}
		file, r, err := licensing.File(ctx, d, testLicenseKeys, a.LicenseKey, "fp-1", t0)
		if err != nil || r.Code != licensing.CodeValid {
			t.Fatalf("license file after erasure: %+v, %v", r, err)
		}
		if _, err := licensing.ParseFile(testLicenseKeys, file); err != nil || strings.Contains(string(file), a.Email) {
			t.Fatalf("license file after erasure: %v", err)
		}

		bl, err := licensing.ForCustomer(ctx, d, b.ID, t0)
		if err != nil || len(bl) != 1 {
			t.Fatalf("the other customer's licenses: %+v, %v", bl, err)
		}
		if bm, err := licensing.Machines(ctx, d, bl[0].ID); err != nil || len(bm) != 1 || !strings.Contains(bm[0].Hostname, "uniquehost2") {
			t.Errorf("the other customer's machine: %+v, %v", bm, err)
		}
	})
}
