package privacy_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

// testInventory declares a customers table, so the policy derivation is
// tested on personal data even while the real schema holds little.
var testInventory = privacy.Inventory{
	Purposes: []privacy.Purpose{
		{ID: "fulfilment", Name: "Selling licenses", Description: "d", Basis: privacy.Contract},
		{ID: "legal", Name: "Tax records", Description: "d", Basis: privacy.LegalObligation},
		{ID: "fraud", Name: "Fraud prevention", Description: "d", Basis: privacy.LegitimateInterest, Interest: "i"},
		{ID: "unused", Name: "Never used", Description: "d", Basis: privacy.Consent},
	},
	Recipients: []privacy.Recipient{
		{ID: "hosting", Name: "Hosting provider", Role: "hosts", Location: "set by the vendor", Setting: "hosting"},
		{ID: "stripe", Name: "Stripe", Role: "payments", Location: "USA", Transfer: "Standard Contractual Clauses"},
		{ID: "idle", Name: "Nobody", Role: "r", Location: "l"},
	},
	Tables: []privacy.Table{{Name: "customers", Description: "d", Subject: privacy.Customer, Link: privacy.Link{Column: "id"}, Columns: []privacy.Column{
		{Name: "id"},
		{Name: "email", Personal: true, Category: "user.contact.email", Purposes: []string{"fulfilment", "fraud"},
			Retention: privacy.Retention{Years: 3, From: privacy.FromAccountClosed}, Erasure: privacy.EraseDelete,
			Source: privacy.FromSubject, Export: "email", Recipients: []string{"stripe"}},
		{Name: "invoice_total", Personal: true, Category: "user.financial.purchase", Purposes: []string{"legal"},
			Retention: privacy.Retention{Years: 7, From: privacy.FromEndOfYear}, Erasure: privacy.LegalHold,
			Source: privacy.FromSubject, Export: "invoice_total"},
	}}},
	Activities: []privacy.Activity{{ID: "req", Name: "requests", Subject: privacy.Visitor,
		Categories: []privacy.Category{"user.network.ip"}, Purposes: []string{"fraud"},
		Retention: privacy.Retention{From: privacy.NotStored}, Source: privacy.Automatically, Recipients: []string{"hosting"}}},
}

func TestBuildDerivesThePolicyFromTheInventory(t *testing.T) {
	if err := testInventory.Validate(); err != nil {
		t.Fatal(err)
	}
	v := settings.Defaults()
	v.HostingProvider, v.HostingLocation = "Hetzner", "Germany"
	p := privacy.Build(testInventory, v, privacy.Facts{HTTPS: true})

	labels := map[string]privacy.Item{}
	for _, g := range p.Groups {
		for _, it := range g.Items {
			labels[it.Label] = it
		}
	}
	email, ok := labels["Email address"]
	if !ok || !slices.Contains(email.Purposes, "Selling licenses") || !slices.Contains(email.Recipients, "Stripe") {
		t.Fatalf("email item = %+v (items %v)", email, labels)
	}
	if ip := labels["IP address"]; !slices.Contains(ip.Recipients, "Hetzner") || ip.Retention[0][:10] != "Not stored" {
		t.Fatalf("IP item = %+v: want the vendor's hosting provider and 'Not stored'", ip)
	}
	var purposes []string
	for _, pu := range p.Purposes {
		purposes = append(purposes, pu.ID)
	}
	if !slices.Equal(purposes, []string{"fulfilment", "legal", "fraud"}) {
		t.Fatalf("purposes = %v: want only the used ones, in declared order", purposes)
	}
	if len(p.Objectable) != 1 || p.Objectable[0].ID != "fraud" {
		t.Fatalf("objectable = %+v, want the legitimate-interest purpose", p.Objectable)
	}
	var recips []string
	for _, r := range p.Recipients {
		recips = append(recips, r.Name+"@"+r.Location)
	}
	if !slices.Equal(recips, []string{"Hetzner@Germany", "Stripe@USA"}) {
		t.Fatalf("recipients = %v", recips)
	}
}

func TestHashFollowsContent(t *testing.T) {
	v := settings.Defaults()
	a := privacy.Build(testInventory, v, privacy.Facts{})
	b := privacy.Build(testInventory, v, privacy.Facts{})
	if a.Hash(privacy.PrivacyPolicy) != b.Hash(privacy.PrivacyPolicy) {
		t.Fatal("same content, different hash")
	}
	v.PrivacyEmail = "new@example.com"
	c := privacy.Build(testInventory, v, privacy.Facts{})
	if a.Hash(privacy.PrivacyPolicy) == c.Hash(privacy.PrivacyPolicy) {
		t.Fatal("changed contact address did not change the privacy policy hash")
	}
	d := privacy.Build(testInventory, settings.Defaults(), privacy.Facts{HTTPS: true})
	if a.Hash(privacy.CookiePolicy) != d.Hash(privacy.CookiePolicy) {
		t.Fatal("the cookie policy hash changed although cookies and vendor did not")
	}
}

func TestPublishRecordsEachChangeOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC)
		if _, err := privacy.LatestVersion(ctx, d, privacy.PrivacyPolicy); !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("fresh database: err = %v, want ErrNoRows", err)
		}
		v1, err := privacy.Publish(ctx, d, privacy.PrivacyPolicy, "aaa", t0)
		if err != nil || v1.Seq != 1 || !v1.PublishedAt.Equal(t0) {
			t.Fatalf("first publish = %+v, %v", v1, err)
		}
		again, err := privacy.Publish(ctx, d, privacy.PrivacyPolicy, "aaa", t0.Add(48*time.Hour))
		if err != nil || again.Seq != 1 || !again.PublishedAt.Equal(t0) {
			t.Fatalf("unchanged content moved the date: %+v, %v", again, err)
		}
		// Several instances see the same change at once: one new version.
		t1 := t0.Add(72 * time.Hour)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := privacy.Publish(ctx, d, privacy.PrivacyPolicy, "bbb", t1)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		d.QueryRowContext(ctx, `SELECT count(*) FROM policy_versions WHERE document = 'privacy'`).Scan(&n)
		if n != 2 {
			t.Fatalf("%d versions recorded, want 2", n)
		}
		latest, _ := privacy.LatestVersion(ctx, d, privacy.PrivacyPolicy)
		if latest.Hash != "bbb" || !latest.PublishedAt.Equal(t1) {
			t.Fatalf("latest = %+v", latest)
		}
		// The cookie policy has its own history.
		if c, err := privacy.Publish(ctx, d, privacy.CookiePolicy, "bbb", t1); err != nil || c.Seq != 1 {
			t.Fatalf("cookie policy = %+v, %v", c, err)
		}
	})
}
