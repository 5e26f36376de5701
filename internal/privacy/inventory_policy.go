package privacy

// policyPart declares the policy archive and its notices (policy.go,
// internal/notices/policy.go; docs/policy-archive.md): the texts of the
// policies hold no one's personal data; which version a customer last
// saw, and the mailing of a significant change, are the customer's.
var policyPart = Inventory{
	Purposes: []Purpose{
		{ID: "policies", Name: "Telling you about changes to this policy",
			Description: "announcing significant changes to this policy to our customers by email, and showing a signed-in customer which version of it they last read",
			Basis:       LegitimateInterest, Interest: "making sure the people whose data we hold know how we handle it when that changes"},
	},
	Tables: []Table{
		{Name: "policy_texts", Description: "The parts of the privacy and cookie policies the vendor writes, in Markdown.",
			Columns: []Column{
				{Name: "document"},
				{Name: "body", Note: "written by staff for every reader of the policy"},
				{Name: "updated_by", Note: "the staff account that last edited it; staff accounts are declared with the staff table"},
				{Name: "updated_at"},
			}},
		{Name: "policy_views", Description: "The latest version of each policy a signed-in customer read, or whose notice of a change they dismissed.",
			Subject: Customer, Link: Link{Column: "customer_id"}, Columns: []Column{
				{Name: "customer_id"},
				{Name: "document", Export: "policy"},
				policyViewColumn("seq", "version"),
				policyViewColumn("seen_at", "seen_at"),
			}},
		{Name: "policy_mailings", Description: "Each significant policy change mailed to customers: the version, who started it, how far it is.",
			Columns: []Column{
				{Name: "id"}, {Name: "document"}, {Name: "seq"}, {Name: "status"},
				{Name: "started_by", Note: "the staff account that started it; staff accounts are declared with the staff table"},
				{Name: "started_at"}, {Name: "finished_at"}, {Name: "recipients", Note: "a count"},
			}},
		{Name: "policy_mail_recipients", Description: "Who each mailing of a policy change went to, and what became of the message.", Subject: Customer,
			Link: Link{Column: "customer_id", EmailColumn: "email"}, Dated: "created_at", Columns: []Column{
				{Name: "id"}, {Name: "mailing_id", Export: "mailing"}, {Name: "customer_id"},
				policyMailColumn("email", "user.contact.email", "to"),
				{Name: "state", Export: "state"}, {Name: "skip_reason", Note: "why a message was not sent, in Storekeep's words"},
				{Name: "outbox_id"}, {Name: "dispatched_at", Export: "queued_at"}, {Name: "created_at"},
			}},
	},
}

// policyViewColumn is what a customer last saw: kept with the account.
func policyViewColumn(name, export string) Column {
	return Column{Name: name, Personal: true, Category: "user.account.policy_views", Purposes: []string{"policies"},
		Retention: accountRetention, Erasure: EraseDelete, Source: Automatically, Export: export}
}

// policyMailColumn is a recipient of a policy change's mail: kept 90 days,
// as the outbox keeps the message, then deleted.
func policyMailColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"policies"},
		Retention: Retention{Days: 90, From: FromCollection, Why: "the per-message status of the mailing, for the staff who started it"},
		Erasure:   EraseDelete, Source: FromSubject, Export: export, Recipients: []string{"mail"}}
}
