package privacy

import (
	"slices"
	"strings"
)

// Category is a kind of personal data in a dotted taxonomy, from general to
// specific: "user.contact.email" is a contact detail of a user. The policy
// groups data by the first two levels and names each category in words.
type Category string

// The categories Storekeep may hold. Add a category here, with its words,
// before declaring a column with it.
var categories = map[Category]struct{ group, label string }{
	"user.name":                   {"identity", "Name"},
	"user.contact.email":          {"contact", "Email address"},
	"user.contact.address":        {"contact", "Billing address"},
	"user.financial.vat_id":       {"billing", "VAT identification number"},
	"user.financial.purchase":     {"billing", "Purchase and invoice records"},
	"user.payment.reference":      {"billing", "Payment processor references (no card data)"},
	"user.account.credentials":    {"account", "Sign-in credentials and sessions"},
	"user.account.record":         {"account", "Account record (role, dates of creation and changes)"},
	"user.account.preferences":    {"account", "Choices you made (consents, objections, restrictions)"},
	"user.contact.correspondence": {"contact", "Emails we sent you"},
	"user.privacy.request":        {"account", "Your privacy requests and how we answered them"},
	"user.support.content":        {"support", "Support correspondence and technical details"},
	"user.network.ip":             {"log", "IP address"},
	"user.device.user_agent":      {"log", "Browser type and version"},
	"user.usage.pages":            {"usage", "Pages visited, time and date of visit, time spent"},
	"user.usage.referrer":         {"usage", "Referring page"},
	"user.usage.campaign":         {"usage", "Campaign a link was tagged with (utm_source, utm_medium, utm_campaign)"},
	"user.usage.visitor":          {"usage", "A daily visitor number that cannot be traced back (a keyed hash under a salt forgotten each day)"},
	"user.device.screen":          {"usage", "Screen size class (phone, tablet, desktop, wide)"},
	"user.location.country":       {"usage", "Country, from the network address, when a local GeoIP database is configured"},
	"user.license.activation":     {"license", "License activations (server names you chose)"},
	"user.license.record":         {"license", "Your licenses and whose they are"},
	"user.license.download":       {"license", "Downloads of releases (which file, when, how)"},
	"user.staff.activity":         {"staff", "Staff actions and views of personal data"},
	"user.fraud.evidence":         {"fraud", "Signals of possible fraud about your purchases and license use, as figures (counts, scores, country codes), never addresses"},
	"user.fraud.review":           {"fraud", "Fraud review cases: what we asked you, your answer, and what a staff member decided and why"},
	"user.legal.disclosure":       {"legal", "Requests from public authorities about you, and what we disclosed"},
	"user.account.policy_views":   {"account", "Which version of our privacy and cookie policies you last read"},
	"user.privacy.erasure":        {"account", "That your data was erased, as keyed fingerprints of your account number and email address that cannot be read back"},
}

// groupLabels names the groups the policy shows.
var groupLabels = map[string]string{
	"identity": "Identity",
	"contact":  "Contact details",
	"billing":  "Purchase and billing data",
	"account":  "Account data",
	"support":  "Support requests",
	"log":      "Log data",
	"usage":    "Usage data",
	"license":  "License data",
	"staff":    "Staff records",
	"fraud":    "Fraud review",
	"legal":    "Disclosures to authorities",
}

// KnownCategories lists every category, in the taxonomy's order.
func KnownCategories() []Category {
	out := make([]Category, 0, len(categories))
	for c := range categories {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Known reports whether c is a declared category.
func (c Category) Known() bool { _, ok := categories[c]; return ok }

// Label is the category in words.
func (c Category) Label() string {
	if m, ok := categories[c]; ok {
		return m.label
	}
	return string(c)
}

// Group is the heading the category is listed under.
func (c Category) Group() string {
	if m, ok := categories[c]; ok {
		return groupLabels[m.group]
	}
	return "Other"
}

// Under reports whether c is prefix or below it in the taxonomy.
func (c Category) Under(prefix string) bool {
	return string(c) == prefix || strings.HasPrefix(string(c), prefix+".")
}
