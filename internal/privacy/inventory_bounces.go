package privacy

// bouncesPart declares the suppression list (internal/mail/suppress.go,
// docs/mailing.md "Bounces and complaints"): addresses no bulk mail goes
// to because mail to them bounced or their owner complained. A row holds
// a keyed hash of the address, not the address; the installation can
// compute it for a given address (that is how the worker checks), so the
// hash is personal data, pseudonymised. Rows with a customer are found by
// customer_id for access and erasure.
var bouncesPart = Inventory{
	Purposes: []Purpose{
		{ID: "deliverability", Name: "Keeping our mail deliverable",
			Description: "not sending announcements and newsletters to addresses that no longer exist, that keep refusing our mail, or whose owner reported our mail as spam",
			Basis:       LegitimateInterest, Interest: "sending bulk mail only where it is wanted and can arrive, so that mailbox providers keep accepting the mail our customers need",
			Overriding: "the list only ever stops mail to you; objecting to it would mean being sent mail you complained about or that cannot arrive"},
	},
	Tables: []Table{
		{Name: "mail_suppressions", Description: "Addresses that receive no more bulk mail (hard bounces, repeated soft bounces, spam complaints), stored as keyed hashes.",
			Subject: Customer, Link: Link{Column: "customer_id"}, Dated: "created_at", Columns: []Column{
				{Name: "id"},
				suppressionColumn("addr_hash", "user.contact.email", ""),
				suppressionColumn("reason", "user.contact.correspondence", "suppression_reason"),
				suppressionColumn("detail", "user.contact.correspondence", "suppression_detail"),
				{Name: "outbox_id", Note: "the message whose bounce or complaint put the address on the list"},
				{Name: "customer_id"},
				suppressionColumn("created_at", "user.contact.correspondence", "suppressed_at"),
			}},
	},
}

// suppressionRetention: an address that bounced for good may be given to
// someone else after a while, and a complaint's weight fades; two years
// keeps the list meaningful without keeping anyone on it for ever.
var suppressionRetention = Retention{Years: 2, From: FromCollection,
	Why: "an address that stopped working may later belong to someone else; after two years the entry goes and a new bounce or complaint would put it back"}

func suppressionColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"deliverability"},
		Retention: suppressionRetention, Erasure: EraseDelete, Source: Automatically, Export: export}
}
