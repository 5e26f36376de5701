package privacy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

func liveSchema(t *testing.T, d *db.DB) []privacy.SchemaTable {
	t.Helper()
	tables, err := d.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]privacy.SchemaTable, len(tables))
	for i, tb := range tables {
		out[i] = privacy.SchemaTable{Name: tb.Name, Columns: tb.Columns}
	}
	return out
}

// TestInventoryMatchesSchema is the guard of the whole design: no column
// exists that the inventory does not declare, on either database.
func TestInventoryMatchesSchema(t *testing.T) {
	if err := privacy.Declared.Validate(); err != nil {
		t.Fatal(err)
	}
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		if probs := privacy.Declared.CheckSchema(liveSchema(t, d)); len(probs) > 0 {
			t.Fatalf("the data inventory does not match the schema:\n  %s", strings.Join(probs, "\n  "))
		}
	})
}

// TestUndeclaredColumnIsNamed shows the guard can fail: a column added
// without a declaration is reported by name.
func TestUndeclaredColumnIsNamed(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `ALTER TABLE products ADD COLUMN owner_email TEXT`); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `CREATE TABLE newsletter (email TEXT)`); err != nil {
			t.Fatal(err)
		}
		probs := strings.Join(privacy.Declared.CheckSchema(liveSchema(t, d)), "\n")
		for _, want := range []string{"column products.owner_email is not declared", "table newsletter is not declared"} {
			if !strings.Contains(probs, want) {
				t.Errorf("CheckSchema did not report %q; got:\n%s", want, probs)
			}
		}
	})
}

func TestStaleDeclarationIsReported(t *testing.T) {
	inv := privacy.Declared
	inv.Tables = append([]privacy.Table{}, inv.Tables...)
	inv.Tables = append(inv.Tables, privacy.Table{Name: "ghost", Description: "x", Columns: []privacy.Column{{Name: "gone"}}})
	probs := strings.Join(inv.CheckSchema([]privacy.SchemaTable{}), "\n")
	if !strings.Contains(probs, "ghost.gone is declared but does not exist") {
		t.Fatalf("stale declaration not reported: %s", probs)
	}
}

func TestValidateFindsIncompleteDeclarations(t *testing.T) {
	inv := privacy.Inventory{
		Purposes: []privacy.Purpose{{ID: "li", Name: "x", Description: "y", Basis: privacy.LegitimateInterest}},
		Tables: []privacy.Table{{Name: "people", Description: "d", Columns: []privacy.Column{
			{Name: "email", Personal: true, Category: "user.contact.email", Purposes: []string{"nope"}},
			{Name: "note", Export: "note"},
			{Name: "ip", Personal: true, Category: "user.made.up", Purposes: []string{"li"}, Retention: privacy.Retention{Days: 1, From: privacy.FromCollection}, Erasure: privacy.EraseDelete, Source: privacy.Automatically},
		}}},
	}
	err := inv.Validate()
	if err == nil {
		t.Fatal("Validate accepted an incomplete inventory")
	}
	for _, want := range []string{
		`purpose "li": a legitimate-interest purpose must name the interest`,
		`people.email: unknown purpose "nope"`,
		`people.email: needs a retention rule`,
		`people.email: needs an erasure action`,
		`people.note: is declared not personal but has personal-data fields set`,
		`people.ip: unknown category "user.made.up"`,
		`table people holds personal data but names no Subject`,
		`table people holds personal data but has no Link to its subject`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate did not report %q in:\n%v", want, err)
		}
	}
}

// TestValidateFindsRetentionThePurgeCannotApply: the purge deletes whole
// rows of a dated table, so a column kept longer, or kept by a rule that
// is not a date, must be reported rather than lost or kept forever.
func TestValidateFindsRetentionThePurgeCannotApply(t *testing.T) {
	col := func(name string, r privacy.Retention) privacy.Column {
		return privacy.Column{Name: name, Personal: true, Category: "user.contact.email", Purposes: []string{"p"},
			Retention: r, Erasure: privacy.EraseDelete, Source: privacy.FromSubject}
	}
	year := privacy.Retention{Years: 1, From: privacy.FromCollection}
	inv := privacy.Inventory{
		Purposes: []privacy.Purpose{{ID: "p", Name: "x", Description: "y", Basis: privacy.Contract}},
		Tables: []privacy.Table{{Name: "visits", Description: "d", Subject: privacy.Customer, Dated: "created_at",
			Link: privacy.Link{Column: "customer_id"}, Columns: []privacy.Column{
				{Name: "customer_id"}, {Name: "created_at"},
				col("email", year),
				col("same", privacy.Retention{Months: 12, From: privacy.FromCollection}),
				col("code", privacy.Retention{From: privacy.FromCollection}),
				col("longer", privacy.Retention{Years: 2, From: privacy.FromCollection}),
				col("account", privacy.Retention{Years: 1, From: privacy.FromAccountClosed}),
			}}},
	}
	err := inv.Validate()
	if err == nil {
		t.Fatal("Validate accepted columns the purge cannot apply")
	}
	for _, want := range []string{
		"visits.longer: keeps to another retention than visits.email",
		"visits.account: the purge deletes visits rows by created_at",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate did not report %q in:\n%v", want, err)
		}
	}
	for _, fine := range []string{"visits.same", "visits.code", "visits.email:"} {
		if strings.Contains(err.Error(), fine) {
			t.Errorf("Validate reported %s, whose rule the purge applies:\n%v", fine, err)
		}
	}
}

func TestRetentionDescribe(t *testing.T) {
	for _, tc := range []struct {
		r    privacy.Retention
		want string
	}{
		{privacy.Retention{Years: 7, From: privacy.FromEndOfYear}, "7 years after the end of the calendar year in which it arose"},
		{privacy.Retention{Days: 1, From: privacy.FromCollection}, "1 day after it is collected"},
		{privacy.Retention{Years: 1, Months: 6, From: privacy.FromLastActivity}, "1 year and 6 months after your last activity"},
		{privacy.Retention{From: privacy.NotStored}, "Not stored"},
	} {
		if got := tc.r.Describe(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("Describe(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}
