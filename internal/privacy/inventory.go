package privacy

import "slices"

// Declared is Storekeep's data inventory: the core below merged with the
// parts each domain declares in a file of its own (inventory_*.go, listed
// in parts). Every table of the schema, on both databases, is declared,
// column by column; TestInventoryMatchesSchema fails on anything
// undeclared. See docs/architecture.md, "Adding a table".
var Declared = merge(core, parts...)

// parts are the domains' declarations, merged into Declared.
var parts = []Inventory{staffPart, mailPart, ordersPart, customersPart, choicesPart, requestsPart, licensingPart, releasesPart, supportPart, requestLogPart, analyticsPart, consentPart, listsPart, bouncesPart, noticesPart, fraudPart, fraudObservationsPart, accountabilityPart, breachesPart, policyPart, dbCopyPart, backupsPart}

// merge appends the parts' declarations to base's.
func merge(base Inventory, parts ...Inventory) Inventory {
	out := base
	for _, p := range parts {
		out.Purposes = append(slices.Clone(out.Purposes), p.Purposes...)
		out.Recipients = append(slices.Clone(out.Recipients), p.Recipients...)
		out.Tables = append(slices.Clone(out.Tables), p.Tables...)
		out.Activities = append(slices.Clone(out.Activities), p.Activities...)
		out.Cookies = append(slices.Clone(out.Cookies), p.Cookies...)
		out.Stores = append(slices.Clone(out.Stores), p.Stores...)
	}
	return out
}

// core declares the purposes, the hosting provider and the foundation's
// tables.
var core = Inventory{
	Purposes: []Purpose{
		{ID: "fulfilment", Name: "Selling and fulfilling licenses",
			Description: "taking your order, collecting payment through our payment processor, issuing your license and invoice",
			Basis:       Contract},
		{ID: "delivery", Name: "Sending what you bought",
			Description: "emailing your license key, download links and purchase confirmation",
			Basis:       Contract},
		{ID: "support", Name: "Customer support",
			Description: "answering the questions and problem reports you send us",
			Basis:       Contract},
		{ID: "notices", Name: "Product updates and security notices",
			Description: "telling license holders about security fixes, updates and new releases of the software they use",
			Basis:       LegitimateInterest, Interest: "keeping the software our customers run safe and up to date"},
		{ID: "marketing", Name: "Newsletters",
			Description: "sending news about our products to people who asked for it",
			Basis:       Consent},
		{ID: "improvement", Name: "Improving the site and products",
			Description: "counting visits and page views in aggregate, without following anyone",
			Basis:       LegitimateInterest, Interest: "learning which pages and products are useful"},
		{ID: "legal", Name: "Legal obligations",
			Description: "keeping invoices and purchase records for as long as tax and accounting law requires",
			Basis:       LegalObligation},
		{ID: "fraud", Name: "Fraud prevention",
			Description: "noticing signs of fraud, each kept as figures rather than addresses: a payment our payment processor rates as risky, puts under review or that is disputed or reported by the card network; many checkouts from one network or for one address in a short time; an address at a disposable-mail provider; a billing country unlike the country of the network the order came from; a license key used from many networks or machines, more machines replaced than expected, far more downloads than the licenses explain, or a repository password used from many networks. Each sign opens a review for a member of our staff, who may ask for your view and decides; nothing is blocked, refused or refunded automatically, and you are told of any decision that affects you, its reasons and how to contest it",
			Basis:       LegitimateInterest, Interest: "protecting us and our customers from fraud"},
		{ID: "staff_access", Name: "Staff accounts and access control",
			Description: "giving our staff accounts to the back office, protecting them with passwords and second factors, and limiting what each role may see",
			Basis:       LegitimateInterest, Interest: "making customer data accessible only to the staff who need it",
			Overriding: "it concerns our staff's accounts, not customers' data"},
		{ID: "accountability", Name: "Accountability",
			Description: "recording which staff member did what, and who viewed whose personal data, in a tamper-evident log",
			Basis:       LegalObligation},
		{ID: "security", Name: "Security of the site",
			Description: "delivering the pages you request, limiting abusive request rates and investigating attacks",
			Basis:       LegitimateInterest, Interest: "running a website that is available and secure",
			Overriding: "protecting the site and everyone's data from attacks"},
	},
	Recipients: []Recipient{
		{ID: "hosting", Name: "Hosting provider", Setting: "hosting", AllStored: true,
			Role:     "runs the servers that host this site and its database, under a data processing agreement",
			Location: "set by the vendor"},
	},
	Activities: []Activity{
		// The request's address and user agent are read to answer it; the
		// full user agent is never stored. What the request log keeps of a
		// page request (the address, shortened after a few days, and the
		// browser's family and version) is declared with its table
		// (inventory_requestlog.go).
		{ID: "page_requests", Name: "Answering page requests", Subject: Visitor,
			Categories: []Category{"user.network.ip", "user.device.user_agent"},
			Purposes:   []string{"security"},
			Retention:  Retention{From: NotStored},
			Source:     Automatically,
			Recipients: []string{"hosting"}},
	},
	Tables: []Table{
		{Name: "settings", Description: "The vendor's business settings (name, contact addresses, hosting).",
			Columns: plain("key", "value", "updated_at")},
		{Name: "products", Description: "Products the vendor sells.",
			Columns: plain("id", "slug", "name", "tagline", "description", "active", "position", "created_at", "updated_at")},
		{Name: "editions", Description: "Editions of each product.",
			Columns: plain("id", "product_id", "slug", "name", "summary", "features", "active", "position", "created_at", "updated_at")},
		{Name: "prices", Description: "Prices of each edition, per currency and billing kind.",
			Columns: plain("id", "edition_id", "currency", "amount_minor", "billing", "active", "created_at")},
		{Name: "policy_versions", Description: "History of the privacy and cookie policies: a new row each time their content changes.",
			Columns: plain("id", "document", "seq", "content_hash", "published_at", "significant", "change_note", "content_html", "content_text")},
		{Name: "content_version", Description: "A counter that changes with the catalog, the settings and the policies, so every instance knows when its cached public pages are out of date.",
			Columns: plain("id", "n")},
		{Name: "acme_cache", Description: "Automatic TLS certificates shared by all instances: the ACME account key, certificates for the site's domains with their private keys, and pending challenge answers.",
			Columns: plain("key", "data", "updated_at")},
		{Name: "goose_db_version", Description: "Which schema migrations have been applied.",
			Columns: plain("id", "version_id", "is_applied", "tstamp")},
	},
}

// plain declares columns that hold no personal data.
func plain(names ...string) []Column {
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i] = Column{Name: n}
	}
	return cols
}
