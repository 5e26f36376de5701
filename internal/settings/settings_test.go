package settings_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestSaveAndLoad(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		got, err := settings.Load(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if got != settings.Defaults() {
			t.Fatalf("fresh database: %+v, want defaults", got)
		}
		v := settings.Defaults()
		v.Name = "Milterworks"
		v.LegalName = "Milterworks GmbH"
		v.PrivacyEmail = "privacy@milterworks.example"
		now := time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, now) }); err != nil {
			t.Fatal(err)
		}
		// Saving twice updates in place.
		v.Country = "Germany"
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, now) }); err != nil {
			t.Fatal(err)
		}
		got, err = settings.Load(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if got != v {
			t.Fatalf("loaded %+v, want %+v", got, v)
		}
	})
}

func TestInvalidSettingsChangeNothing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := settings.Defaults()
		v.Name = "Changed"
		v.PrivacyEmail = "not an address"
		err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, time.Now()) })
		if err == nil || !strings.Contains(err.Error(), "not an email address") {
			t.Fatalf("err = %v", err)
		}
		got, _ := settings.Load(ctx, d)
		if got.Name != settings.Defaults().Name {
			t.Fatalf("invalid save changed the name to %q", got.Name)
		}
	})
}

func TestInstallSecretIsStable(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, err := settings.InstallSecret(ctx, d, time.Now())
		if err != nil || len(a) != 32 {
			t.Fatalf("InstallSecret = %x, %v", a, err)
		}
		b, _ := settings.InstallSecret(ctx, d, time.Now())
		if string(a) != string(b) {
			t.Fatal("the install secret changed between calls")
		}
	})
}

func TestRequireTwoFactor(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Required unless an owner turns it off: a second factor for
		// every role is the default of a new installation.
		if on, err := settings.RequireTwoFactor(ctx, d); err != nil || !on {
			t.Fatalf("default = %v, %v; want on", on, err)
		}
		for _, want := range []bool{false, true, false} {
			if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.SetRequireTwoFactor(ctx, tx, want, time.Now()) }); err != nil {
				t.Fatal(err)
			}
			if on, _ := settings.RequireTwoFactor(ctx, d); on != want {
				t.Fatalf("after setting %v it reads %v", want, on)
			}
		}
	})
}

// TestValidateRefusesByField: what Validate refuses names the form field
// at fault, with the message shown to the owner.
func TestValidateRefusesByField(t *testing.T) {
	good := settings.Defaults()
	good.Name, good.LegalName = "Milterworks", "Milterworks GmbH"
	good.PrivacyEmail, good.SupportEmail = "privacy@milterworks.example", "support@milterworks.example"
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit  func(v *settings.Vendor)
		field string
		msg   string
	}{
		{func(v *settings.Vendor) { v.Name = " " }, "name", "the vendor name is empty"},
		{func(v *settings.Vendor) { v.LegalName = "" }, "legal_name", "the legal name is empty"},
		{func(v *settings.Vendor) { v.PrivacyEmail = "nobody" }, "privacy_email", `the privacy contact "nobody" is not an email address`},
		{func(v *settings.Vendor) { v.SupportEmail = "a@b.example, c@d.example" }, "support_email", "the support contact"},
	} {
		v := good
		tc.edit(&v)
		rf, ok := refuse.As(v.Validate())
		if !ok || rf.Kind != refuse.Invalid || rf.Field != tc.field || !strings.HasPrefix(rf.Msg, tc.msg) {
			t.Errorf("Validate = %+v, %v; want field %s saying %q", rf, ok, tc.field, tc.msg)
		}
	}
}
