package staff

import "slices"

// Role is what a staff member is for; it decides their permissions.
type Role string

// The roles.
const (
	Owner   Role = "owner"   // everything, manages staff and settings
	Support Role = "support" // customers' contact data and support tickets; no billing details
	Finance Role = "finance" // orders, invoices, billing addresses, refunds
	Analyst Role = "analyst" // aggregated statistics only, no personal data
)

// Roles lists every role, most powerful first.
var Roles = []Role{Owner, Support, Finance, Analyst}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Describe says in a line what the role may do.
func (r Role) Describe() string {
	switch r {
	case Owner:
		return "Everything, including staff accounts, settings and the audit log"
	case Support:
		return "Customers' contact details and support requests; no billing details"
	case Finance:
		return "Orders, invoices, billing addresses and refunds"
	case Analyst:
		return "Aggregated statistics only; no personal data"
	}
	return ""
}

// RequiresTwoFactor reports whether the role may not work without a second
// factor, whatever the settings say.
func (r Role) RequiresTwoFactor() bool { return r == Owner }

// Permission is one thing a staff route or action needs.
type Permission string

// The permissions. Each staff route names exactly one; see web's route
// table and TestEveryStaffRouteHasARule.
const (
	PermDashboard       Permission = "dashboard"        // the console's start page
	PermOwnAccount      Permission = "own_account"      // one's own password, 2FA and sessions
	PermStaffManage     Permission = "staff.manage"     // create, change and disable staff
	PermSettingsManage  Permission = "settings.manage"  // vendor and policy settings
	PermAuditView       Permission = "audit.view"       // read and export the audit log
	PermCustomersView   Permission = "customers.view"   // customers' identity and contact data
	PermBillingView     Permission = "billing.view"     // orders, invoices and billing addresses
	PermOrdersManage    Permission = "orders.manage"    // mark paid, refund
	PermSupportTickets  Permission = "support.tickets"  // the support desk
	PermLicensesView    Permission = "licenses.view"    // licenses and activations
	PermLicensesManage  Permission = "licenses.manage"  // issue, extend, suspend, reinstate, revoke, transfer licenses; policies
	PermPrivacyRequests Permission = "privacy.requests" // data-subject requests
	PermStatsView       Permission = "stats.view"       // aggregated statistics
	PermCatalogManage   Permission = "catalog.manage"   // products, editions and prices
	PermReleasesManage  Permission = "releases.manage"  // create, upload, publish and yank releases
	PermNoticesSend     Permission = "notices.send"     // write, test, schedule, send and pause notices; see their recipients
	PermFraudReview     Permission = "fraud.review"     // fraud review cases: see them, ask the customer, decide and reverse
)

// Permissions lists every permission. Code names a permission by its
// constant, never by its text (TestPermissionsAreConstants).
var Permissions = []Permission{PermDashboard, PermOwnAccount, PermStaffManage, PermSettingsManage, PermAuditView,
	PermCustomersView, PermBillingView, PermOrdersManage, PermSupportTickets, PermLicensesView, PermLicensesManage, PermPrivacyRequests,
	PermStatsView, PermCatalogManage, PermReleasesManage, PermNoticesSend, PermFraudReview}

// grants is the one table of who may do what. Deny by default: a
// permission not listed for a role is refused.
//
// stats.view (the usage-analytics dashboard) is the analysts' and the
// owners' (issue 14): support and finance do their work from the support
// desk, orders and the sales report, whose figures their own permissions
// open; the traffic figures are not personal data, but a role holds what
// its work needs, and an owner who wants a colleague to read them gives
// them the analyst role.
//
// notices.send (issue 15) is the owners' and support's: a notice is
// mail to customers, which support writes every day, and its recipient
// list shows their addresses, which support may see (customers.view);
// finance and analysts hold neither.
//
// fraud.review (issue 16) is the owners' and finance's: the cases are
// about payments, disputes and refunds, finance's daily work, and a
// decision there refunds, suspends or blocks, which must not be in the
// hands of whoever answers the customer's mail (support) or of anyone who
// sees only figures (analysts). The permission covers applying a
// decision's action from the case, so that a case is decided in one
// place; each action is still audited under the domain's own name.
var grants = map[Role][]Permission{
	Owner: {PermDashboard, PermOwnAccount, PermStaffManage, PermSettingsManage, PermAuditView, PermCustomersView,
		PermBillingView, PermOrdersManage, PermSupportTickets, PermLicensesView, PermLicensesManage, PermPrivacyRequests, PermStatsView, PermCatalogManage,
		PermReleasesManage, PermNoticesSend, PermFraudReview},
	Support: {PermDashboard, PermOwnAccount, PermCustomersView, PermSupportTickets, PermLicensesView, PermPrivacyRequests, PermNoticesSend},
	Finance: {PermDashboard, PermOwnAccount, PermBillingView, PermOrdersManage, PermLicensesView, PermFraudReview},
	Analyst: {PermDashboard, PermOwnAccount, PermStatsView},
}

// Can reports whether role r holds permission p.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[r], p) }
