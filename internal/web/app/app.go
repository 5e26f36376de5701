// Package app assembles the site: the web core and every area mounted on
// it. It is the one place a new area's Mount line goes.
package app

import (
	"errors"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/monitor"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/review"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/account"
	"github.com/storekeep/storekeep/internal/web/accountability"
	webanalytics "github.com/storekeep/storekeep/internal/web/analytics"
	"github.com/storekeep/storekeep/internal/web/api"
	"github.com/storekeep/storekeep/internal/web/beacon"
	webbreaches "github.com/storekeep/storekeep/internal/web/breaches"
	"github.com/storekeep/storekeep/internal/web/checkout"
	"github.com/storekeep/storekeep/internal/web/consent"
	"github.com/storekeep/storekeep/internal/web/console"
	"github.com/storekeep/storekeep/internal/web/devmail"
	webdownloads "github.com/storekeep/storekeep/internal/web/downloads"
	webfraud "github.com/storekeep/storekeep/internal/web/fraud"
	"github.com/storekeep/storekeep/internal/web/licenses"
	weblists "github.com/storekeep/storekeep/internal/web/lists"
	webnotices "github.com/storekeep/storekeep/internal/web/notices"
	webpolicies "github.com/storekeep/storekeep/internal/web/policies"
	webreleases "github.com/storekeep/storekeep/internal/web/releases"
	webrepos "github.com/storekeep/storekeep/internal/web/repos"
	webreview "github.com/storekeep/storekeep/internal/web/review"
	"github.com/storekeep/storekeep/internal/web/site"
	websupport "github.com/storekeep/storekeep/internal/web/support"
	"github.com/storekeep/storekeep/internal/web/supportdesk"
	"github.com/storekeep/storekeep/internal/web/trials"
)

// Options configure the whole site: the core's, and what the areas need.
type Options struct {
	web.Options
	// Payments are the enabled ways to pay, in the order the checkout page
	// offers them. The demo provider is only ever passed by `storekeep demo`.
	Payments []payments.Provider
	// StripeWebhooks verifies Stripe's webhook deliveries; nil when Stripe
	// is not configured.
	StripeWebhooks checkout.WebhookVerifier
	// PaymentInstructions tell buyers paying by invoice how to pay (bank
	// details).
	PaymentInstructions string
	// Processors are the configured processors erasure asks to delete
	// their records of a person, by recipient ID; cmd/storekeep builds
	// them with the providers (newPayments).
	Processors privacy.Processors
	// LicenseKeys sign the licenses paid orders issue (--license-keys),
	// their files and every answer of the license API; nil issues none
	// and mounts no API.
	LicenseKeys *licensing.Keyring
	// Releases is the release domain with its artifact store and signing
	// key (--release-store, --release-keys); nil shows the console's
	// releases with what to configure.
	Releases *releases.Releases
	// RepoSigner signs the APT and YUM repositories' metadata (the
	// repository key in --release-keys); nil mounts no repositories.
	RepoSigner *repos.Signer
	// VATChecker confirms buyers' VAT numbers at checkout (VIES, --vies);
	// nil checks their format only.
	VATChecker tax.Checker
	// Analytics counts visits (--analytics); nil counts nothing and no
	// page loads the counting script.
	Analytics *analytics.Counter
	// AnalyticsPerMinute caps the beacons counted per address and minute
	// (--analytics-beacons-per-minute; 0 is beacon.DefaultPerMinute).
	AnalyticsPerMinute int
	// Fraud is what the fraud signals need from the request path
	// (internal/fraud/detect): the observer, the checkout's checks and the
	// processor's signals; the zero value records and raises nothing.
	Fraud Fraud
}

// Fraud wires the fraud signals into the areas.
type Fraud struct {
	Observer *detect.Observer
	Checks   *detect.Checks
	Signals  orders.Signals
}

// New builds the site with every area mounted. It fails when an option is
// unusable or a template does not parse, so a broken build never starts.
func New(o Options) (*web.Server, error) {
	o.FormOrigins = append(o.FormOrigins, checkout.FormOrigins(o.Payments)...)
	s, err := web.New(o.Options)
	if err != nil {
		return nil, err
	}
	var lic orders.Licenser
	if o.LicenseKeys != nil {
		lic = licensing.ForOrders(o.LicenseKeys)
	}
	// One line per area. Each Mount parses its own templates and registers
	// its routes (staff routes with their permissions, console navigation).
	err = errors.Join(
		site.Mount(s),
		consent.Mount(s),
		account.Mount(s, account.Options{Payments: o.Payments, Processors: o.Processors, PaymentInstructions: o.PaymentInstructions, Licenses: lic,
			LicenseKeys: o.LicenseKeys, VATChecker: o.VATChecker}),
		checkout.Mount(s, checkout.Options{Payments: o.Payments, StripeWebhooks: o.StripeWebhooks,
			PaymentInstructions: o.PaymentInstructions, Licenses: lic, VATChecker: o.VATChecker,
			Fraud: o.Fraud.Checks, Signals: o.Fraud.Signals}),
		console.Mount(s, console.Options{Payments: o.Payments, PaymentInstructions: o.PaymentInstructions, Processors: o.Processors, Licenses: lic}),
		licenses.Mount(s),
		webreleases.Mount(s, webreleases.Options{Releases: o.Releases}),
		api.Mount(s, api.Options{Keys: o.LicenseKeys, Observer: o.Fraud.Observer}),
		webdownloads.Mount(s, webdownloads.Options{Releases: o.Releases}),
		webrepos.Mount(s, webrepos.Options{Keys: licenseKeys(o.LicenseKeys), Releases: o.Releases, Signer: o.RepoSigner, Observer: o.Fraud.Observer}),
		trials.Mount(s),
		websupport.Mount(s),
		weblists.Mount(s),
		supportdesk.Mount(s),
		beacon.Mount(s, beacon.Options{Counter: o.Analytics, PerMinute: o.AnalyticsPerMinute}),
		webanalytics.Mount(s),
		webnotices.Mount(s, webnotices.Options{Lists: notices.MailingLists{}}),
		webfraud.Mount(s, webfraud.Options{Payments: o.Payments, PaymentInstructions: o.PaymentInstructions, Licenses: lic}),
		accountability.Mount(s),
		webpolicies.Mount(s),
		webbreaches.Mount(s),
		webreview.Mount(s, webreview.Options{Recipients: review.Register{Inv: privacy.Declared, Now: s.Clock().Now}}),
		// The outbox's and the privacy requests' facts, read when scraped.
		s.RegisterCollector(monitor.NewFacts(s.DB(), s.Clock().Now)),
	)
	if err == nil && o.Demo {
		// The demo sends no mail; its visitors read it here instead.
		err = devmail.Mount(s)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// licenseKeys is the keyring as the areas that check keys take it: nil
// (no interface holding a nil pointer) when there is none.
func licenseKeys(k *licensing.Keyring) licensing.PublicKeys {
	if k == nil {
		return nil
	}
	return k
}
