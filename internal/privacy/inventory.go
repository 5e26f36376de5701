package privacy

// Declared is Storekeep's data inventory. Every table of the schema, on both
// databases, is declared here, column by column; TestInventoryMatchesSchema
// fails on anything undeclared. See docs/architecture.md, "Adding a table".
var Declared = Inventory{
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
			Description: "spotting suspicious purchases and license use; a person reviews every signal, nothing is decided automatically",
			Basis:       LegitimateInterest, Interest: "protecting us and our customers from fraud"},
		{ID: "staff_access", Name: "Staff accounts and access control",
			Description: "giving our staff accounts to the back office, protecting them with passwords and second factors, and limiting what each role may see",
			Basis:       LegitimateInterest, Interest: "making customer data accessible only to the staff who need it"},
		{ID: "accountability", Name: "Accountability",
			Description: "recording which staff member did what, and who viewed whose personal data, in a tamper-evident log",
			Basis:       LegalObligation},
		{ID: "security", Name: "Security of the site",
			Description: "delivering the pages you request, limiting abusive request rates and investigating attacks",
			Basis:       LegitimateInterest, Interest: "running a website that is available and secure"},
	},
	Recipients: []Recipient{
		{ID: "hosting", Name: "Hosting provider", Setting: "hosting", AllStored: true,
			Role:     "runs the servers that host this site and its database, under a data processing agreement",
			Location: "set by the vendor"},
	},
	Activities: []Activity{
		{ID: "page_requests", Name: "Answering page requests", Subject: Visitor,
			Categories: []Category{"user.network.ip", "user.device.user_agent"},
			Purposes:   []string{"security"},
			Retention:  Retention{From: NotStored},
			Source:     Automatically,
			Recipients: []string{"hosting"}},
	},
	Cookies: []Cookie{
		{Name: "sk_staff", Subject: Staff, Essential: true,
			Purpose:  "keeps a staff member signed in to the back office; it holds a random session key and nothing else (named __Host-sk_staff over HTTPS)",
			Duration: "until sign-out, 30 minutes without activity, or 12 hours at most"},
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
			Columns: plain("id", "document", "seq", "content_hash", "published_at", "significant", "change_note")},
		{Name: "staff", Description: "The vendor's staff accounts.", Subject: Staff, Columns: []Column{
			{Name: "id"},
			staffColumn("email", "user.contact.email", EraseAnonymise, "email"),
			staffColumn("name", "user.name", EraseAnonymise, "name"),
			staffColumn("role", "user.account.record", EraseAnonymise, "role"),
			staffColumn("password_hash", "user.account.credentials", EraseDelete, ""),
			staffColumn("totp_secret", "user.account.credentials", EraseDelete, ""),
			staffColumn("totp_last_step", "user.account.credentials", EraseDelete, ""),
			staffColumn("disabled_at", "user.account.record", EraseAnonymise, "disabled_at"),
			staffColumn("created_at", "user.account.record", EraseAnonymise, "created_at"),
			staffColumn("updated_at", "user.account.record", EraseAnonymise, "updated_at"),
		}},
		{Name: "staff_recovery_codes", Description: "Hashed one-time recovery codes for staff second factors.", Subject: Staff, Columns: []Column{
			{Name: "id"}, {Name: "staff_id"},
			staffColumn("code_hash", "user.account.credentials", EraseDelete, ""),
			staffColumn("used_at", "user.account.credentials", EraseDelete, ""),
			staffColumn("created_at", "user.account.credentials", EraseDelete, ""),
		}},
		{Name: "staff_tokens", Description: "Hashed one-time links to set up an account or reset a password.", Subject: Staff, Columns: []Column{
			{Name: "id"}, {Name: "staff_id"}, {Name: "purpose"},
			shortLived("token_hash", "user.account.credentials", "staff_access", 7),
			shortLived("expires_at", "user.account.credentials", "staff_access", 7),
			shortLived("used_at", "user.account.credentials", "staff_access", 7),
			shortLived("created_at", "user.account.credentials", "staff_access", 7),
		}},
		{Name: "staff_sessions", Description: "Staff sign-in sessions (hashed tokens).", Subject: Staff, Columns: []Column{
			{Name: "id"}, {Name: "staff_id"}, {Name: "level"},
			shortLived("token_hash", "user.account.credentials", "staff_access", 30),
			shortLived("created_at", "user.account.credentials", "staff_access", 30),
			shortLived("last_seen_at", "user.account.credentials", "staff_access", 30),
			shortLived("expires_at", "user.account.credentials", "staff_access", 30),
			shortLived("revoked_at", "user.account.credentials", "staff_access", 30),
		}},
		{Name: "rate_limits", Description: "Counters that slow down password guessing and mail floods, keyed by a keyed hash of the account or network.", Subject: Visitor, Columns: []Column{
			shortLived("bucket", "user.network.ip", "security", 1),
			{Name: "window_start"}, {Name: "hits"},
		}},
		{Name: "audit_log", Description: "Tamper-evident log of staff actions and of every view of a customer's personal data.", Subject: Staff, Columns: []Column{
			{Name: "seq"}, {Name: "at", Note: "time of an entry; personal only together with the actor columns"},
			{Name: "actor_type"}, auditColumn("actor_id", "user.staff.activity", "actor_id"),
			auditColumn("action", "user.staff.activity", "action"),
			{Name: "subject_type"}, auditColumn("subject_id", "user.staff.activity", "subject_id"),
			auditColumn("detail", "user.staff.activity", "detail"),
			auditColumn("source_net", "user.network.ip", "source_network"),
			{Name: "prev_hash"}, {Name: "hash"},
		}},
		{Name: "audit_head", Description: "The latest sequence number and hash of the audit chain.",
			Columns: plain("id", "seq", "hash")},
		{Name: "acme_cache", Description: "Automatic TLS certificates shared by all instances: the ACME account key, certificates for the site's domains with their private keys, and pending challenge answers.",
			Columns: plain("key", "data", "updated_at")},
		{Name: "goose_db_version", Description: "Which schema migrations have been applied.",
			Columns: plain("id", "version_id", "is_applied", "tstamp")},
	},
}

// staffColumn declares a column of a staff account: kept while the account
// exists and 30 days after it is closed.
func staffColumn(name string, c Category, e Erasure, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"staff_access"},
		Retention: Retention{Days: 30, From: FromAccountClosed}, Erasure: e, Source: FromStaff, Export: export}
}

// shortLived declares a column purged days after it was written.
func shortLived(name string, c Category, purpose string, days int) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{purpose},
		Retention: Retention{Days: days, From: FromCollection}, Erasure: EraseDelete, Source: Automatically}
}

// auditColumn declares a column of the audit log: kept three years for
// accountability and not erased on request, since the log is the proof of
// how personal data was handled.
func auditColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"accountability"},
		Retention: Retention{Years: 3, From: FromCollection, Why: "accountability for access to personal data"},
		Erasure:   LegalHold, Source: Automatically, Export: export}
}

// plain declares columns that hold no personal data.
func plain(names ...string) []Column {
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i] = Column{Name: n}
	}
	return cols
}
