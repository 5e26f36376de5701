package privacy

// listsPart declares the mailing lists (internal/lists): the lists
// themselves hold no personal data; a request to join one holds the
// address until it is confirmed or forgotten; a subscription holds the
// address of a subscriber without an account and, for everyone, the proof
// of the consent (the wording shown, when it was asked for and
// confirmed, the policy version), kept after the subscription ends for as
// long as the other consent records.
var listsPart = Inventory{
	Tables: []Table{
		{Name: "mailing_lists", Description: "The mailing lists: the newsletter and each product's release announcements.",
			Columns: plain("id", "key", "product_id", "name", "description", "created_at")},
		{Name: "list_requests", Description: "A request to join a mailing list, waiting until you confirm your address with the link we mailed you.",
			Subject: Customer, Link: Link{Column: "customer_id", EmailColumn: "email"}, Dated: "requested_at", Columns: []Column{
				{Name: "id"}, {Name: "list_id", Note: "the list, not a person"}, {Name: "customer_id"},
				{Name: "token_hash", Note: "a hash of the confirmation link's token"},
				listRequestColumn("email", "user.contact.email", "email"),
				listRequestColumn("wording", "user.account.preferences", "consent_wording"),
				{Name: "policy_seq", Note: "the version of the privacy policy, the same for everyone who saw it"},
				listRequestColumn("requested_at", "user.account.preferences", "requested_at"),
				{Name: "expires_at"},
				{Name: "member_id", Export: "subscription"},
			}},
		{Name: "list_members", Description: "Your subscriptions to our mailing lists, with the proof of your consent: the words you agreed to, when you asked, when you confirmed, and when you unsubscribed.",
			Subject: Customer, Link: Link{Column: "customer_id", EmailColumn: "email"}, Dated: "ended_at", Columns: []Column{
				{Name: "id"}, {Name: "list_id", Note: "the list, not a person"}, {Name: "customer_id"},
				memberColumn("email", "user.contact.email", "email"),
				memberColumn("wording", "user.account.preferences", "consent_wording"),
				{Name: "policy_seq", Export: "privacy_policy_version", Note: "the version of the privacy policy, the same for everyone who saw it"},
				memberColumn("requested_at", "user.account.preferences", "requested_at"),
				memberColumn("confirmed_at", "user.account.preferences", "confirmed_at"),
				memberColumn("ended_at", "user.account.preferences", "ended_at"),
				memberColumn("ended_via", "user.account.preferences", "ended_via"),
			}},
	},
}

// memberRetention: the subscription is kept while it lasts; once it ends
// its record stays three years, like the record of any other consent
// (choiceColumn), so that we can show that the mail we sent was wanted.
var memberRetention = Retention{Years: 3, From: FromClosed,
	Why: "kept while you are subscribed; after you unsubscribe, kept 3 years as proof of your consent, like our other consent records"}

func memberColumn(name, category, export string) Column {
	return Column{Name: name, Personal: true, Category: Category(category), Purposes: []string{"marketing"},
		Retention: memberRetention, Erasure: EraseDelete, Source: FromSubject, Export: export}
}

func listRequestColumn(name, category, export string) Column {
	return Column{Name: name, Personal: true, Category: Category(category), Purposes: []string{"marketing"},
		Retention: Retention{Days: 30, From: FromCollection, Why: "a request not confirmed within its link's 3 days is forgotten soon after; a confirmed one lives on as the subscription"},
		Erasure:   EraseDelete, Source: FromSubject, Export: export}
}
