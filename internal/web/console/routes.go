// Package console is the staff console under /staff: signing in with a
// password and a second factor, and one file per area of the back office
// (dashboard, own account, team, settings, audit log, customers, orders and
// catalog, outbox, privacy requests). Every route names the permission it
// needs when it is registered (web.HandleStaff); the roles that hold each
// permission are in internal/staff.
package console

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/reports"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/invoice"
)

//go:embed templates
var templates embed.FS

// Options are what the console needs besides the core.
type Options struct {
	// Payments are the configured providers: finance refunds through those
	// that can, and erasure asks those that keep customer records.
	Payments []payments.Provider
	// PaymentInstructions are the bank details mails of manual orders carry.
	PaymentInstructions string
	// Processors are the configured processors an erasure request's
	// erasure asks to delete their records, by recipient ID.
	Processors privacy.Processors
	// Licenses issues the licenses of paid orders; nil when no license
	// signing keys are configured.
	Licenses orders.Licenser
}

// handler serves the console.
type handler struct {
	*web.Server
	db       *db.DB
	clock    clock.Clock
	log      *slog.Logger
	pages    *web.Pages
	invoices *invoice.Renderer

	payments            []payments.Provider
	paymentInstructions string
	processors          privacy.Processors
	licenses            orders.Licenser
	// revenueDays keeps the dashboard's finished days (reports.DayCache).
	revenueDays *reports.DayCache
}

// Mount registers the console's routes and navigation on s.
func Mount(s *web.Server, o Options) error {
	pages, err := s.NewPages("console", templates, web.Console, template.FuncMap{"money": catalog.FormatMoney})
	if err != nil {
		return err
	}
	inv, err := invoice.New(s, o.PaymentInstructions, web.Console)
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), log: s.Log(), pages: pages, invoices: inv,
		payments: o.Payments, paymentInstructions: o.PaymentInstructions, processors: o.Processors, licenses: o.Licenses,
		revenueDays: &reports.DayCache{}}
	pub, part, full := web.AccessPublic, web.AccessPartial, web.AccessFull

	// Signing in (login.go, reset.go).
	s.HandleStaff("GET /staff/login", pub, "", h.staffLoginForm)
	s.HandleStaff("POST /staff/login", pub, "", h.staffLogin)
	s.HandleStaff("GET /staff/setup", pub, "", h.staffSetupForm)
	s.HandleStaff("POST /staff/setup", pub, "", h.staffSetup)
	s.HandleStaff("GET /staff/reset", pub, "", h.staffResetForm)
	s.HandleStaff("POST /staff/reset", pub, "", h.staffReset)
	s.HandleStaff("GET /staff/2fa", part, "", h.staffSecondFactorForm)
	s.HandleStaff("POST /staff/2fa", part, "", h.staffSecondFactor)
	s.HandleStaff("GET /staff/2fa/setup", part, "", h.staffEnrolForm)
	s.HandleStaff("POST /staff/2fa/setup", part, "", h.staffEnrol)
	s.HandleStaff("POST /staff/logout", part, "", h.staffLogout)

	// The dashboard and the member's own account (dashboard.go).
	s.HandleStaff("GET /staff", full, staff.PermDashboard, h.staffDashboard)
	s.HandleStaff("GET /staff/account", full, staff.PermOwnAccount, h.staffAccount)
	s.HandleStaff("POST /staff/account/password", full, staff.PermOwnAccount, h.staffChangePassword)
	s.HandleStaff("POST /staff/account/logout-everywhere", full, staff.PermOwnAccount, h.staffLogoutEverywhere)
	s.HandleStaff("POST /staff/account/sessions/{id}/revoke", full, staff.PermOwnAccount, h.staffRevokeSession)

	// Team, settings, audit log (team.go, settings.go, audit.go).
	s.HandleStaff("GET /staff/team", full, staff.PermStaffManage, h.staffTeam)
	s.HandleStaff("POST /staff/team", full, staff.PermStaffManage, h.staffCreate)
	for _, a := range []string{"role", "disable", "enable", "reset-2fa", "reset-link"} {
		s.HandleStaff("POST /staff/team/{id}/"+a, full, staff.PermStaffManage, h.staffMemberAction(a))
	}
	s.HandleStaff("GET /staff/settings", full, staff.PermSettingsManage, h.staffSettings)
	s.HandleStaff("POST /staff/settings", full, staff.PermSettingsManage, h.staffSaveSettings)
	s.HandleStaff("POST /staff/settings/security", full, staff.PermSettingsManage, h.staffSaveSecurity)
	s.HandleStaff("POST /staff/settings/policy-notice", full, staff.PermSettingsManage, h.staffPolicyNotice)
	h.mountTax(s) // the tax settings (tax.go)
	s.HandleStaff("GET /staff/audit", full, staff.PermAuditView, h.staffAudit)
	s.HandleStaff("GET /staff/audit.csv", full, staff.PermAuditView, h.staffAuditCSV)

	// Customers (customers.go) and the outbox (outbox.go): owners and
	// support, whose role covers customers' contact data.
	s.HandleStaff("GET /staff/customers", full, staff.PermCustomersView, h.staffCustomers)
	s.HandleStaff("GET /staff/customers/{id}", full, staff.PermCustomersView, h.staffCustomer)
	s.HandleStaff("GET /staff/outbox", full, staff.PermCustomersView, h.staffOutbox)
	s.HandleStaff("POST /staff/outbox/{id}/resend", full, staff.PermCustomersView, h.staffOutboxResend)

	// Orders, invoices and the catalog (orders.go).
	s.HandleStaff("GET /staff/orders", full, staff.PermBillingView, h.staffOrders)
	s.HandleStaff("GET /staff/orders.csv", full, staff.PermBillingView, h.staffOrdersCSV)
	s.HandleStaff("GET /staff/reports/sales", full, staff.PermBillingView, h.staffSales)
	s.HandleStaff("GET /staff/reports/sales.csv", full, staff.PermBillingView, h.staffSalesCSV)
	s.HandleStaff("GET /staff/orders/{number}", full, staff.PermBillingView, h.staffOrder)
	s.HandleStaff("POST /staff/orders/{number}/{action}", full, staff.PermOrdersManage, h.staffOrderAction)
	s.HandleStaff("GET /staff/orders/{number}/refund-lines", full, staff.PermOrdersManage, h.staffRefundForm) // refunds.go
	s.HandleStaff("POST /staff/orders/{number}/refund-lines", full, staff.PermOrdersManage, h.staffRefund)    // refunds.go
	s.HandleStaff("GET /staff/invoices/{number}", full, staff.PermBillingView, h.staffInvoice)
	s.HandleStaff("GET /staff/invoices/{number}/pdf", full, staff.PermBillingView, h.staffInvoicePDF) // any document by number (invoice_pdf.go)
	s.HandleStaff("POST /staff/invoices/{number}/correct", full, staff.PermOrdersManage, h.staffCorrectInvoice)
	s.HandleStaff("GET /staff/corrections/{number}", full, staff.PermBillingView, h.staffCorrection)
	s.HandleStaff("GET /staff/catalog", full, staff.PermCatalogManage, h.staffCatalog)
	s.HandleStaff("POST /staff/catalog/{what}", full, staff.PermCatalogManage, h.staffCatalogChange)

	// Privacy requests that arrive by email, letter or phone (requests.go).
	s.HandleStaff("GET /staff/requests", full, staff.PermPrivacyRequests, h.staffRequests)
	s.HandleStaff("POST /staff/requests", full, staff.PermPrivacyRequests, h.staffRequestCreate)
	s.HandleStaff("GET /staff/requests/{id}", full, staff.PermPrivacyRequests, h.staffRequest)
	for _, a := range requestActions {
		s.HandleStaff("POST /staff/requests/{id}/"+a, full, staff.PermPrivacyRequests, h.staffRequestAction(a))
	}

	for _, n := range []web.NavItem{
		{Label: "Dashboard", Href: "/staff", Perm: staff.PermDashboard, Order: 10},
		{Label: "Customers", Href: "/staff/customers", Perm: staff.PermCustomersView, Order: 20},
		{Label: "Orders", Href: "/staff/orders", Perm: staff.PermBillingView, Order: 30},
		{Label: "Catalog", Href: "/staff/catalog", Perm: staff.PermCatalogManage, Order: 40},
		{Label: "Privacy requests", Href: "/staff/requests", Perm: staff.PermPrivacyRequests, Order: 70},
		{Label: "Outbox", Href: "/staff/outbox", Perm: staff.PermCustomersView, Order: 80},
		{Label: "Staff", Href: "/staff/team", Perm: staff.PermStaffManage, Order: 100},
		{Label: "Settings", Href: "/staff/settings", Perm: staff.PermSettingsManage, Order: 110},
		{Label: "Audit log", Href: "/staff/audit", Perm: staff.PermAuditView, Order: 120},
		{Label: "My account", Href: "/staff/account", Perm: staff.PermOwnAccount, Order: 130},
	} {
		s.AddStaffNav(n)
	}
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}

// provider returns the configured payment provider an order names.
func (s *handler) provider(name string) payments.Provider {
	for _, p := range s.payments {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// shop is the order processing of this site, for finance's actions.
func (s *handler) shop(r *http.Request) (orders.Shop, error) {
	v, err := s.Vendor(r)
	if err != nil {
		return orders.Shop{}, err
	}
	return orders.NewShop(s.db, v.Name, v.SupportEmail, s.BaseURL().String(), s.payments, s.paymentInstructions, s.licenses), nil
}
