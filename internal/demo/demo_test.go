package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/demo"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestSeedOnceWithMilterEditions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for i, want := range []bool{true, false} {
			seeded, err := demo.Seed(ctx, d, now)
			if err != nil || seeded != want {
				t.Fatalf("Seed #%d = %v, %v; want %v", i+1, seeded, err, want)
			}
		}
		pols, err := licensing.Policies(ctx, d)
		if err != nil || len(pols) != len(demo.Policies) {
			t.Fatalf("demo license policies: %d, %v; want %d", len(pols), err, len(demo.Policies))
		}
		ps, err := catalog.Products(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != len(demo.Products) || len(ps[0].Editions) != 3 {
			t.Fatalf("demo catalog = %d products, first with %d editions", len(ps), len(ps[0].Editions))
		}
		for range 2 {
			if err := demo.SeedStaff(ctx, d, now); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range demo.StaffAccounts {
			a, err := staff.CheckPassword(ctx, d, s.Email, demo.StaffPassword)
			if err != nil || a.Role != s.Role {
				t.Fatalf("demo account %s: %+v, %v", s.Email, a, err)
			}
		}
		v, err := settings.Load(ctx, d)
		if err != nil || v != demo.Vendor {
			t.Fatalf("demo vendor = %+v, %v", v, err)
		}
	})
}
