// Package demo fills a fresh database with a fictional vendor and its
// catalog, so `storekeep demo` can be clicked through at once.
package demo

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/tax"
)

// Vendor is the demo's fictional vendor.
var Vendor = settings.Vendor{
	Name:            "Quillfeather",
	LegalName:       "Quillfeather Software Ltd (demo)",
	Address:         "12 Example Street\n1000 Sampletown",
	PrivacyEmail:    "privacy@quillfeather.example",
	SupportEmail:    "support@quillfeather.example",
	Country:         "Demoland",
	HostingProvider: "Example Hosting GmbH (demo)",
	HostingLocation: "Frankfurt, Germany (EEA)",
	MailProvider:    "Example Mail Relay SE (demo)",
	MailLocation:    "Stockholm, Sweden (EEA)",
}

// TaxSettings are the demo's: established in Germany (a made-up VAT
// number of the right shape), prices shown with VAT, so every checkout,
// invoice and report shows the tax (Console → Tax changes them).
func TaxSettings() tax.Settings {
	s := tax.Defaults()
	s.HomeCountry, s.SellerVATID, s.PricesIncludeTax = "DE", "DE999999999", true
	return s
}

// Products is the demo catalog: a Postfix milter in three editions and a
// reporting add-on.
var Products = []catalog.NewProduct{
	{
		Slug: "quillguard", Name: "QuillGuard Milter", Position: 1,
		Tagline: "Spam and malware filtering for Postfix, on your own server.",
		Description: `QuillGuard is a **milter** for Postfix and Sendmail: it inspects each message while
the sending server is still connected, so rejected mail never enters your queue.

- Runs on your servers; no mail leaves your network
- Licenses are checked offline: no phone-home
- Rules in plain text, reloaded without a restart`,
		Editions: []catalog.NewEdition{
			{Slug: "standard", Name: "Standard", Position: 1, Summary: "One mail server, the essential filters.",
				Features: []string{"1 server", "Spam scoring and greylisting", "Email support within 2 business days"},
				Prices: []catalog.Price{
					{Currency: "EUR", AmountMinor: 19000, Billing: catalog.OneTime},
					{Currency: "EUR", AmountMinor: 4900, Billing: catalog.Yearly},
					{Currency: "USD", AmountMinor: 21000, Billing: catalog.OneTime},
					{Currency: "USD", AmountMinor: 5400, Billing: catalog.Yearly},
				}},
			{Slug: "professional", Name: "Professional", Position: 2, Summary: "For providers with several relays.",
				Features: []string{"Up to 5 servers", "Malware scanning via ClamAV", "DKIM and DMARC checks", "Email support within 1 business day"},
				Prices: []catalog.Price{
					{Currency: "EUR", AmountMinor: 49000, Billing: catalog.OneTime},
					{Currency: "EUR", AmountMinor: 12900, Billing: catalog.Yearly},
					{Currency: "USD", AmountMinor: 54000, Billing: catalog.OneTime},
					{Currency: "USD", AmountMinor: 14200, Billing: catalog.Yearly},
				}},
			{Slug: "enterprise", Name: "Enterprise", Position: 3, Summary: "Unlimited servers and priority help.",
				Features: []string{"Unlimited servers", "Everything in Professional", "Priority support with a named engineer"},
				Prices: []catalog.Price{
					{Currency: "EUR", AmountMinor: 129000, Billing: catalog.OneTime},
					{Currency: "EUR", AmountMinor: 32900, Billing: catalog.Yearly},
					{Currency: "USD", AmountMinor: 142000, Billing: catalog.OneTime},
					{Currency: "USD", AmountMinor: 36200, Billing: catalog.Yearly},
				}},
		},
	},
	{
		Slug: "quillguard-reports", Name: "QuillGuard Reports", Position: 2,
		Tagline: "Daily summaries of what your filter stopped.",
		Description: `An add-on for QuillGuard that mails a daily digest of rejected and quarantined
messages to the postmaster.`,
		Editions: []catalog.NewEdition{
			{Slug: "addon", Name: "Add-on", Position: 1, Summary: "For any QuillGuard edition.",
				Features: []string{"Daily and weekly digests", "CSV export"},
				Prices: []catalog.Price{
					{Currency: "EUR", AmountMinor: 9000, Billing: catalog.OneTime},
					{Currency: "USD", AmountMinor: 9900, Billing: catalog.OneTime},
				}},
		},
	},
}

// Seed stores the demo vendor and catalog unless the database already has
// products; it reports whether it seeded.
func Seed(ctx context.Context, d *db.DB, now time.Time) (bool, error) {
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM products`).Scan(&n); err != nil {
		return false, fmt.Errorf("check demo data: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := settings.Save(ctx, tx, Vendor, now); err != nil {
			return err
		}
		if _, err := tax.Save(ctx, tx, TaxSettings(), now); err != nil {
			return err
		}
		for _, p := range Products {
			if _, err := catalog.Create(ctx, tx, p, now); err != nil {
				return err
			}
		}
		return seedPolicies(ctx, tx, now)
	})
	if err != nil {
		return false, fmt.Errorf("seed demo data: %w", err)
	}
	return true, nil
}

// Policies are the demo editions' license policies, by edition slug.
var Policies = map[string]licensing.Policy{
	"standard": {Kind: licensing.Perpetual, UpdatesMonths: 12, GraceDays: 14, MaxMachines: 1, Entitlements: []string{"greylisting", "spam-scoring"}},
	"professional": {Kind: licensing.Perpetual, UpdatesMonths: 12, GraceDays: 14, MaxMachines: 5,
		Entitlements: []string{"dkim", "dmarc", "greylisting", "malware-scan", "spam-scoring"}},
	"enterprise": {Kind: licensing.Perpetual, UpdatesMonths: 12, GraceDays: 30, MaxMachines: 0, CheckInDays: 30,
		Entitlements: []string{"dkim", "dmarc", "greylisting", "malware-scan", "priority-support", "spam-scoring"}},
	"addon": {Kind: licensing.Perpetual, UpdatesMonths: 12, MaxMachines: 0, Entitlements: []string{"reports"}},
}

func seedPolicies(ctx context.Context, tx *sql.Tx, now time.Time) error {
	for slug, p := range Policies {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM editions WHERE slug = $1`, slug).Scan(&p.EditionID); err != nil {
			return fmt.Errorf("demo policy %s: %w", slug, err)
		}
		if err := licensing.StorePolicy(ctx, tx, p, now); err != nil {
			return err
		}
	}
	return nil
}

// StaffPassword is the password of every demo staff account. It is printed
// when the demo starts; the demo's database is thrown away on exit.
const StaffPassword = "quillfeather-demo"

// StaffAccounts are the demo's staff, one per role. Each sets up
// two-factor authentication at the first sign-in, as every role must
// unless an owner turns the requirement off.
var StaffAccounts = []struct {
	Email, Name string
	Role        staff.Role
}{
	{"owner@quillfeather.example", "Olivia Owner", staff.Owner},
	{"support@quillfeather.example", "Sam Support", staff.Support},
	{"finance@quillfeather.example", "Fran Finance", staff.Finance},
	{"analyst@quillfeather.example", "Andy Analyst", staff.Analyst},
}

// SeedStaff creates the demo staff accounts unless staff exist already.
func SeedStaff(ctx context.Context, d *db.DB, now time.Time) error {
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM staff`).Scan(&n); err != nil {
		return fmt.Errorf("check demo staff: %w", err)
	}
	if n > 0 {
		return nil
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for _, s := range StaffAccounts {
			a, err := staff.Create(ctx, tx, s.Email, s.Name, s.Role, now)
			if err != nil {
				return err
			}
			if err := staff.SetPassword(ctx, tx, a.ID, StaffPassword, now); err != nil {
				return err
			}
		}
		return nil
	})
}
