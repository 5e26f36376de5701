package privacy

// supportPart declares the support desk (internal/support): tickets, their
// threads, attachments and tags, the mail parked for a person, and the web
// form's messages waiting for their sender's confirmation. What the
// customer asked and sent is processed to answer them (contract); it is
// kept after the ticket closes, for follow-up questions and to defend
// claims (legitimate interest), for a period the operator chooses
// (--support-retention, two years by default), then purged. Staff replies
// in a thread are the staff's: the link to who wrote them is declared for
// staff.
var supportPart = Inventory{
	Purposes: []Purpose{
		{ID: "support_records", Name: "Keeping support correspondence",
			Description: "keeping your support tickets for a while after they are closed, to answer follow-up questions about the same problem and to defend against claims",
			Basis:       LegitimateInterest, Interest: "answering follow-up questions about a problem without asking everything again, and defending against claims",
			Overriding: "the record of what we advised you may be needed to establish or defend legal claims"},
	},
	Tables: []Table{
		{Name: "support_tickets", Description: "Your support tickets: the subject, your address and name, their state and dates.",
			Subject: Customer, Link: Link{Column: "customer_id", EmailColumn: "email"}, Dated: "closed_at", Ref: "id", Columns: []Column{
				{Name: "id", Export: "ticket"},
				{Name: "token", Note: "a random reply token in our reply addresses; it identifies the ticket, not a person"},
				{Name: "customer_id"},
				withRecipients(supportColumn("email", "user.contact.email", FromSubject, "email"), "mail"),
				supportColumn("name", "user.name", FromSubject, "name"),
				supportColumn("subject", "user.support.content", FromSubject, "subject"),
				supportColumn("state", "user.support.content", FromStaff, "state"),
				supportColumn("channel", "user.support.content", FromSubject, "channel"),
				{Name: "assignee_id", Note: "names the staff account handling the ticket"},
				{Name: "merged_into", Note: "the ticket this one was merged into"},
				supportColumn("created_at", "user.support.content", Automatically, "opened_at"),
				supportColumn("updated_at", "user.support.content", Automatically, "updated_at"),
				{Name: "first_response_due", Note: "the vendor's own response target"},
				{Name: "resolution_due", Note: "the vendor's own resolution target"},
				supportColumn("first_response_at", "user.support.content", Automatically, "first_answered_at"),
				supportColumn("solved_at", "user.support.content", FromStaff, "solved_at"),
				supportColumn("closed_at", "user.support.content", Automatically, "closed_at"),
			}},
		{Name: "support_messages", Description: "The messages of your support tickets: what you wrote to us (with the mail as it arrived), our replies and our internal notes.",
			Subjects: []SubjectLink{
				{Subject: Customer, Link: Link{Parent: "support_tickets", ParentColumn: "ticket_id", ParentExport: "ticket", When: Is("author", "customer")}},
				{Subject: Staff, Link: Link{Column: "staff_id", When: Is("author", "staff")}},
			},
			Columns: []Column{
				{Name: "id"}, {Name: "ticket_id"},
				{Name: "author", Note: "whether the customer, a member of staff or Storekeep wrote the message"},
				of(Column{Name: "staff_id", Personal: true, Category: "user.staff.activity", Purposes: []string{"support"},
					Retention: supportRetention, Erasure: EraseAnonymise, Blank: BlankNull, Source: Automatically}, Staff),
				{Name: "internal", Note: "whether the message is an internal note"},
				{Name: "channel", Note: "how the message arrived: by mail, from the website or in the console"},
				of(supportColumn("from_addr", "user.contact.email", FromSubject, "from"), Customer),
				of(supportColumn("from_name", "user.name", FromSubject, "from_name"), Customer),
				of(supportColumn("body_text", "user.support.content", FromSubject, "text"), Customer),
				of(supportColumn("body_html", "user.support.content", FromSubject, ""), Customer),
				// A mail program's identifier, which threads replies; some
				// programs build it from the host or user name, so it is
				// declared as the customer's like the rest of their mail.
				of(supportColumn("mail_id", "user.support.content", FromSubject, ""), Customer),
				{Name: "dedup_key", Note: "a hash that recognises a mail delivered twice"},
				{Name: "outbox_id", Note: "the queued mail of a staff reply"},
				of(supportColumn("raw", "user.support.content", FromSubject, ""), Customer),
				{Name: "problems", Note: "what of a mail could not be decoded (a charset, an encoding)"},
				of(supportColumn("created_at", "user.support.content", Automatically, "at"), Customer),
			}},
		{Name: "support_attachments", Description: "Files you attached to your support messages.",
			Subject: Customer, Link: Link{Parent: "support_messages", ParentColumn: "message_id"}, Columns: []Column{
				{Name: "id"}, {Name: "message_id"},
				supportColumn("filename", "user.support.content", FromSubject, "filename"),
				supportColumn("content_type", "user.support.content", FromSubject, "type"),
				supportColumn("size", "user.support.content", FromSubject, "size"),
				supportColumn("sha256", "user.support.content", Automatically, "sha256"),
				supportColumn("data", "user.support.content", FromSubject, ""),
			}},
		{Name: "support_tags", Description: "The labels our staff gave your support tickets.",
			Subject: Customer, Link: Link{Parent: "support_tickets", ParentColumn: "ticket_id", ParentExport: "ticket"}, Columns: []Column{
				{Name: "ticket_id"},
				supportColumn("tag", "user.support.content", FromStaff, "tag"),
			}},
		{Name: "support_canned", Description: "Canned replies staff start their answers from.", Columns: []Column{
			{Name: "id"}, {Name: "title", Note: "written by staff for any customer"}, {Name: "body", Note: "written by staff for any customer"},
			{Name: "updated_at"},
		}},
		{Name: "support_parked", Description: "Mail to our support address that opened no ticket (spam, automatic replies, delivery reports, mail from an address the ticket does not know), kept for a person to decide and for 30 days after.",
			Subject: Customer, Link: Link{EmailColumn: "from_addr"}, Dated: "decided_at", Columns: []Column{
				{Name: "id"},
				{Name: "state", Note: "parked, ignored, released or discarded"},
				{Name: "reason", Note: "the rule that parked the message, in words"},
				parkedColumn("from_addr", "user.contact.email", "from"),
				parkedColumn("subject", "user.support.content", "subject"),
				{Name: "recipient", Note: "our support address it was sent to"},
				{Name: "ticket_id"},
				parkedColumn("raw", "user.support.content", ""),
				parkedColumn("received_at", "user.support.content", "received_at"),
				{Name: "decided_at", Export: "decided_at"},
				{Name: "decided_by", Note: "names the staff account that decided"},
			}},
		{Name: "support_pending", Description: "A message from the support form waiting until you confirm your address with the link we mailed you.",
			Subject: Customer, Link: Link{EmailColumn: "email"}, Dated: "created_at", Columns: []Column{
				{Name: "id"},
				{Name: "token_hash", Note: "a hash of the confirmation link's token"},
				pendingColumn("email", "user.contact.email", "email"),
				pendingColumn("name", "user.name", "name"),
				pendingColumn("subject", "user.support.content", "subject"),
				pendingColumn("body", "user.support.content", "text"),
				pendingColumn("created_at", "user.support.content", "sent_at"),
				{Name: "expires_at"},
				{Name: "ticket_id", Export: "ticket"},
			}},
	},
}

// supportRetention keeps support correspondence after the ticket closes;
// the operator chooses the period (--support-retention).
var supportRetention = Retention{Years: 2, From: FromClosed, Setting: "support",
	Why: "to answer follow-up questions about the same problem and to defend against claims"}

// supportColumn declares part of a support ticket: used to answer it,
// kept for the support retention after it closes, deleted on erasure.
func supportColumn(name string, c Category, src Source, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"support", "support_records"},
		Retention: supportRetention, Erasure: EraseDelete, Source: src, Export: export}
}

// parkedColumn declares parked mail: kept until a person decides, then
// 30 days.
func parkedColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"support"},
		Retention: Retention{Days: 30, From: FromClosed, Why: "kept until a person has decided what to do with the message, then briefly in case the decision was wrong"},
		Erasure:   EraseDelete, Source: FromSubject, Export: export}
}

// pendingColumn declares a web-form message awaiting confirmation: gone
// a week after it was sent (the link works for 48 hours).
func pendingColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"support"},
		Retention: Retention{Days: 7, From: FromCollection, Why: "the confirmation link works for 48 hours; an unconfirmed message is of no use after that"},
		Erasure:   EraseDelete, Source: FromSubject, Export: export}
}

// of marks whose data a column of a shared table is.
func of(c Column, kinds ...Subject) Column {
	c.Of = kinds
	return c
}
