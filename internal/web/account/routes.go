// Package account is the customer's side of the site: sign-in by emailed
// link, the account page with orders and documents, the licenses (keys,
// machines, files), the profile and email change, and the privacy center (what is held and why, the download,
// choices, mailing-list subscriptions, erasure).
package account

import (
	"embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/storekeep/storekeep/internal/orders"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/invoice"
)

//go:embed templates
var templates embed.FS

// Customer sign-in sends mail, so its limits guard the recipients as much
// as the accounts: a few links per address, more per network (an office
// shares one), and a cap on link uses per network like the console's.
var (
	limitCustomerLinkAddress = ratelimit.Limit{Max: 5, Window: 15 * time.Minute}
	limitCustomerLinkNetwork = ratelimit.Limit{Max: 30, Window: 15 * time.Minute}
	limitCustomerEmailChange = ratelimit.Limit{Max: 5, Window: time.Hour}
	limitTokenNetwork        = ratelimit.Limit{Max: 20, Window: 15 * time.Minute}
	// limitLicenseKeyMail is how often one license's key is mailed again.
	limitLicenseKeyMail = ratelimit.Limit{Max: 3, Window: time.Hour}
)

// handler serves the customer's pages.
type handler struct {
	*web.Server
	db       *db.DB
	clock    clock.Clock
	log      *slog.Logger
	pages    *web.Pages
	invoices *invoice.Renderer
	// processors are the configured processors that delete their own
	// customer records on erasure, by recipient id ("stripe").
	processors privacy.Processors
	// payments are the configured providers and paymentInstructions the
	// bank details, for the buyer's pending orders (pay again, cancel).
	payments            []payments.Provider
	paymentInstructions string
	licenses            orders.Licenser
	licenseKeys         *licensing.Keyring
	// vat confirms VAT numbers of renewals (VIES); nil checks formats only.
	vat tax.Checker
}

// Options are what the account area needs besides the core.
type Options struct {
	// Payments are the configured payment providers.
	Payments []payments.Provider
	// Processors are the configured processors erasure asks to delete
	// their records of the person, by recipient ID (cmd/storekeep builds
	// them with the providers).
	Processors privacy.Processors
	// PaymentInstructions are the bank details shown for an order paid by
	// transfer when the buyer asks how to pay it.
	PaymentInstructions string
	// Licenses issues the licenses of paid orders; nil when no license
	// signing keys are configured.
	Licenses orders.Licenser
	// LicenseKeys sign the license files customers download; nil when no
	// license signing keys are configured.
	LicenseKeys *licensing.Keyring
	// VATChecker confirms buyers' VAT numbers (VIES, --vies), as at
	// checkout; nil checks their format only.
	VATChecker tax.Checker
}

// Mount registers the customer account's routes on s. Pages that need a
// signed-in customer call RequireCustomer (internal/web).
func Mount(s *web.Server, o Options) error {
	pages, err := s.NewPages("account", templates, web.Public, nil)
	if err != nil {
		return err
	}
	inv, err := invoice.New(s, o.PaymentInstructions, web.Public)
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), log: s.Log(), pages: pages, invoices: inv,
		processors: o.Processors, payments: o.Payments, paymentInstructions: o.PaymentInstructions, licenses: o.Licenses,
		licenseKeys: o.LicenseKeys, vat: o.VATChecker}

	s.Handle("GET /account/login", h.accountLoginForm)
	s.Handle("POST /account/login", h.accountLogin)
	s.Handle("GET /account/verify", h.accountVerifyForm)
	s.Handle("POST /account/verify", h.accountVerify)
	s.Handle("POST /account/logout", h.accountLogout)
	s.Handle("GET /account", h.accountHome)
	s.Handle("GET /account/profile", h.accountProfileForm)
	s.Handle("POST /account/profile", h.accountProfile)
	s.Handle("POST /account/email", h.accountEmail)
	s.Handle("GET /account/email/confirm", h.accountEmailConfirmForm)
	s.Handle("POST /account/email/confirm", h.accountEmailConfirm)

	s.Handle("GET /account/orders/{number}", h.accountOrder)
	s.Handle("POST /account/orders/{number}/pay", h.accountOrderPay)
	s.Handle("POST /account/orders/{number}/cancel", h.accountOrderCancel)
	s.Handle("GET /account/invoices/{number}", h.accountInvoice)
	s.Handle("GET /account/invoices/{number}/pdf", h.accountInvoicePDF) // invoices, credit notes and corrections (invoice_pdf.go)
	s.Handle("GET /account/corrections/{number}", h.accountCorrection)

	// The customer's licenses: keys, machines (free a seat), the key sent
	// again, the license file.
	s.Handle("GET /account/licenses", h.accountLicenses)
	s.Handle("GET /account/licenses/{id}", h.accountLicense)
	s.Handle("GET /account/licenses/{id}/downloads", h.accountDownloads)
	s.Handle("POST /account/licenses/{id}/machines/{mid}/free", h.accountLicenseFree)
	s.Handle("POST /account/licenses/{id}/send-key", h.accountLicenseSendKey)
	s.Handle("GET /account/licenses/{id}/file", h.accountLicenseFile)
	// Renewal: by an order of the customer's, or automatically by a
	// subscription, which the customer turns off and on.
	s.Handle("GET /account/licenses/{id}/renew", h.accountRenewForm)
	s.Handle("POST /account/licenses/{id}/renew", h.accountRenew)
	s.Handle("POST /account/licenses/{id}/auto-renew", h.accountAutoRenew)

	// The privacy center: what we hold and why (Art. 15), the download
	// (Art. 20), the choices (Art. 18, 21, 7(3)) and erasure (Art. 17).
	// Rectification is the profile and email change pages.
	s.Handle("GET /account/privacy", h.privacyCenter)
	s.Handle("GET /account/privacy/export.zip", h.privacyExport)
	s.Handle("POST /account/privacy/choices", h.privacyChoices)
	s.Handle("POST /account/privacy/erase", h.privacyErase)
	s.Handle("POST /account/privacy/policies/{doc}/seen", h.privacyPolicySeen) // policies.go
	// The mailing lists the customer is on (internal/lists), each with
	// its withdraw button; the unsubscribe links of bulk mail are
	// internal/web/lists'.
	s.Handle("POST /account/privacy/lists/{id}/leave", h.privacyLeaveList)
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}
