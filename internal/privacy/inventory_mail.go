package privacy

// mailPart declares the email outbox and the relay that delivers it.
var mailPart = Inventory{
	Recipients: []Recipient{
		{ID: "mail", Name: "Email delivery provider", Setting: "mail",
			Role:     "delivers the emails we send you (receipts, license keys, sign-in links, notices), under a data processing agreement",
			Location: "set by the vendor"},
	},
	Tables: []Table{
		{Name: "outbox", Description: "Emails waiting to be sent, and a record of those sent.", Dated: "created_at",
			// A row is a staff member's mail (a password reset, the
			// owners' digests and warnings) or a customer's or visitor's,
			// as recipient_kind says; each export finds only its own.
			Subjects: []SubjectLink{
				{Subject: Customer, Link: Link{Column: "customer_id", EmailColumn: "to_addr", When: Is("recipient_kind", "customer")}},
				{Subject: Staff, Link: Link{Column: "staff_id", When: Is("recipient_kind", "staff")}},
			},
			Columns: []Column{
				// The export says what was mailed (kind, template, subject,
				// recipient, dates), never the body: sign-in and email-change
				// mails carry working links, and a copy of them in a file is
				// a key to the account.
				{Name: "id"}, {Name: "kind", Export: "kind"}, {Name: "template", Export: "template"},
				mailColumn("to_addr", "user.contact.email", "to"),
				mailColumn("subject", "user.contact.correspondence", "subject"),
				mailColumn("text_body", "user.contact.correspondence", ""),
				mailColumn("html_body", "user.contact.correspondence", ""),
				{Name: "message_id"}, {Name: "dedup_key", Note: "names an event such as an order number, not a person"},
				{Name: "customer_id"}, {Name: "staff_id"},
				{Name: "created_at", Export: "queued_at"}, {Name: "send_after"}, {Name: "attempts"},
				{Name: "last_error", Note: "the relay's answer; the worker strips addresses from it"},
				{Name: "locked_until"}, {Name: "locked_by", Note: "names a worker instance, not a person"},
				{Name: "sent_at", Export: "sent_at"}, {Name: "transport"},
				mailColumn("unsubscribe_url", "user.contact.correspondence", ""),
				{Name: "in_reply_to", Note: "the message ID a reply answers: a random identifier, not a person"},
				{Name: "refs", Note: "the message IDs of the thread a reply belongs to: random identifiers"},
				mailColumn("reply_to", "user.contact.correspondence", ""),
				{Name: "auto_submitted", Note: "whether a person or Storekeep wrote the message (RFC 3834)"},
				mailColumn("bounced_at", "user.contact.correspondence", "bounced_at"),
				mailColumn("bounce_kind", "user.contact.correspondence", "bounce_kind"),
				mailColumn("bounce_detail", "user.contact.correspondence", "bounce_detail"),
				mailColumn("complained_at", "user.contact.correspondence", "complained_at"),
				{Name: "suppressed_at", Export: "suppressed_at", Note: "when a bulk message was not sent because its address is on the suppression list"},
				{Name: "recipient_kind", Note: "whether the mail went to a member of staff or to a customer or visitor"},
			}},
	},
}

// mailColumn declares a column of a queued or sent email: kept 90 days
// after it was written, as proof of what we sent, then deleted.
func mailColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"delivery"},
		Retention: Retention{Days: 90, From: FromCollection, Why: "proof of what was sent, for support questions"},
		Erasure:   EraseDelete, Source: FromSubject, Export: export, Recipients: []string{"mail"}}
}
