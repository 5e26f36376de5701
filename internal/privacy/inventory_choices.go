package privacy

// choicesPart declares the record of each customer's choices: proof of a
// consent, an objection or a restriction must outlive the choice itself.
var choicesPart = Inventory{
	Tables: []Table{
		{Name: "subject_choices", Description: "Your choices about our processing: restriction, objections and consents, with when you made them.",
			Subject: Customer, Link: Link{Column: "customer_id"}, Columns: []Column{
				{Name: "id"}, {Name: "customer_id"},
				choiceColumn("choice", "choice"), choiceColumn("purpose", "purpose"), choiceColumn("active", "in_force"),
				choiceColumn("changed_at", "changed_at"), choiceColumn("note", "note"),
			}},
		{Name: "unsubscribes", Description: "Each time you unsubscribed from our mail: from what, how, and when we processed it.",
			Subject: Customer, Link: Link{Column: "customer_id"}, Dated: "processed_at", Columns: []Column{
				{Name: "id"}, {Name: "customer_id"},
				{Name: "subscriber_id", Note: "set instead of customer_id for a mailing-list subscriber without an account (internal/lists): the list_members row, whose address is declared there"},
				unsubscribeColumn("processed_at"), unsubscribeColumn("purpose"), unsubscribeColumn("via"),
				{Name: "list_id", Note: "the mailing list, not a person"},
				{Name: "notice_recipient_id", Note: "the notice's delivery row the link came in"},
			}},
	},
}

// choiceColumn declares part of a choice record: kept while the account
// exists and three years after, as proof of what the person chose.
func choiceColumn(name, export string) Column {
	return Column{Name: name, Personal: true, Category: "user.account.preferences", Purposes: []string{"customer_account", "legal"},
		Retention: Retention{Years: 3, From: FromAccountClosed, Why: "proof of consent and of the choices honoured"},
		Erasure:   EraseDelete, Source: FromSubject, Export: export}
}

// unsubscribeColumn declares part of the record of an unsubscribe: kept
// three years from when it was processed, as proof that it was honoured
// in time, whether or not the person has an account (a list subscriber
// without one never closes an account, so the choices' retention would
// keep theirs for ever).
func unsubscribeColumn(name string) Column {
	return Column{Name: name, Personal: true, Category: "user.account.preferences", Purposes: []string{"marketing", "legal"},
		Retention: Retention{Years: 3, From: FromCollection, Why: "proof that an unsubscribe was processed, and when"},
		Erasure:   EraseDelete, Source: FromSubject, Export: name}
}
