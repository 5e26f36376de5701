package privacy

// customersPart declares customer accounts, their one-time sign-in and
// email-change links, their sessions and the customer session cookie. The
// billing details copied into orders and invoices are declared with the
// orders.
var customersPart = Inventory{
	Purposes: []Purpose{
		{ID: "customer_account", Name: "Your customer account",
			Description: "signing you in with one-time links we email you, keeping you signed in, and showing you your orders, licenses and billing details",
			Basis:       Contract},
	},
	Cookies: []Cookie{
		{Name: "sk_customer", Subject: Customer, Category: Necessary,
			Purpose:  "keeps a customer signed in to their account; it holds a random session key and nothing else (named __Host-sk_customer over HTTPS)",
			Duration: "until sign-out, 7 days without activity, or 30 days at most"},
	},
	Tables: []Table{
		{Name: "customers", Description: "Customer accounts with the billing details the customer keeps in their profile.", Subject: Customer, Link: Link{Column: "id", EmailColumn: "email"}, Columns: []Column{
			{Name: "id"},
			withBlank(accountColumn("email", "user.contact.email", EraseAnonymise, "email", "customer_account", "fulfilment", "delivery", "support"),
				BlankUnique("erased-", "@erased.invalid")),
			accountColumn("name", "user.name", EraseDelete, "name", "customer_account", "fulfilment", "support"),
			accountColumn("company", "user.contact.address", EraseDelete, "company", "customer_account", "fulfilment"),
			accountColumn("address_line1", "user.contact.address", EraseDelete, "address_line1", "customer_account", "fulfilment"),
			accountColumn("address_line2", "user.contact.address", EraseDelete, "address_line2", "customer_account", "fulfilment"),
			accountColumn("postal_code", "user.contact.address", EraseDelete, "postal_code", "customer_account", "fulfilment"),
			accountColumn("city", "user.contact.address", EraseDelete, "city", "customer_account", "fulfilment"),
			accountColumn("region", "user.contact.address", EraseDelete, "region", "customer_account", "fulfilment"),
			accountColumn("country", "user.contact.address", EraseDelete, "country", "customer_account", "fulfilment", "legal"),
			accountColumn("vat_id", "user.financial.vat_id", EraseDelete, "vat_id", "customer_account", "fulfilment", "legal"),
			withBlank(accountRecord("created_at", EraseAnonymise), BlankNow),
			withBlank(accountRecord("updated_at", EraseAnonymise), BlankNow),
			withBlank(accountRecord("last_seen_at", EraseDelete), BlankNull),
		}},
		{Name: "customer_tokens", Description: "Hashed one-time links to sign in or to confirm a new email address, with the address each was sent to.", Subject: Customer, Link: Link{Column: "customer_id", EmailColumn: "email"}, Dated: "created_at", Columns: []Column{
			{Name: "id"}, {Name: "purpose"}, {Name: "customer_id"},
			shortLived("token_hash", "user.account.credentials", "customer_account", 7),
			linkAddress("email"),
			linkAddress("new_email"),
			shortLived("expires_at", "user.account.credentials", "customer_account", 7),
			shortLived("used_at", "user.account.credentials", "customer_account", 7),
			shortLived("created_at", "user.account.credentials", "customer_account", 7),
		}},
		{Name: "customer_sessions", Description: "Customer sign-in sessions (hashed tokens).", Subject: Customer, Link: Link{Column: "customer_id"}, Dated: "created_at", Columns: []Column{
			{Name: "id"}, {Name: "customer_id"},
			shortLived("token_hash", "user.account.credentials", "customer_account", 60),
			shortLived("created_at", "user.account.credentials", "customer_account", 60),
			shortLived("last_seen_at", "user.account.credentials", "customer_account", 60),
			shortLived("expires_at", "user.account.credentials", "customer_account", 60),
			shortLived("revoked_at", "user.account.credentials", "customer_account", 60),
		}},
	},
}

// accountRetention keeps account data for the limitation period of claims
// from the contract once the relationship has ended.
var accountRetention = Retention{Years: 3, From: FromAccountClosed, Why: "the limitation period for claims arising from our contract"}

// accountColumn declares a detail the customer gives us for their account.
func accountColumn(name string, c Category, e Erasure, export string, purposes ...string) Column {
	col := Column{Name: name, Personal: true, Category: c, Purposes: purposes,
		Retention: accountRetention, Erasure: e, Source: FromSubject, Export: export}
	if c == "user.contact.email" {
		col.Recipients = []string{"mail"}
	}
	return col
}

// accountRecord declares a date the account records about itself.
func accountRecord(name string, e Erasure) Column {
	return Column{Name: name, Personal: true, Category: "user.account.record", Purposes: []string{"customer_account"},
		Retention: accountRetention, Erasure: e, Source: Automatically, Export: name}
}

// linkAddress declares the address a one-time link was sent to: deleted
// with the link a week after it was made.
func linkAddress(name string) Column {
	return Column{Name: name, Personal: true, Category: "user.contact.email", Purposes: []string{"customer_account"},
		Retention: Retention{Days: 7, From: FromCollection}, Erasure: EraseDelete, Source: FromSubject, Recipients: []string{"mail"}}
}

// withBlank sets what erasure writes over a column of a row that stays.
func withBlank(c Column, blank Blank) Column {
	c.Blank = blank
	return c
}
