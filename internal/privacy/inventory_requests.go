package privacy

// requestsPart declares the privacy requests handled in the staff console
// (internal/requests) and their history. A request is the proof that we
// answered someone's rights, and how: it is kept for three years after it
// was closed and is under legal hold for erasure, so that erasing a person
// keeps the record of the erasure itself (only the pending verification
// code goes).
var requestsPart = Inventory{
	Purposes: []Purpose{
		{ID: "privacy_rights", Name: "Answering your privacy requests",
			Description: "handling your requests to see, receive, correct, erase or restrict your data, your objections and withdrawals of consent: checking that a request comes from you, answering within the legal deadline, and keeping a record that we answered and how",
			Basis:       LegalObligation},
	},
	Tables: []Table{
		{Name: "privacy_requests", Description: "Privacy requests you made to us by email, letter or phone, with their deadline, how we checked it was you, and what we did (counts and kinds of data, never the data itself).",
			Subject: Customer, Link: Link{Column: "customer_id", EmailColumn: "email"}, Dated: "completed_at", Ref: "id", Columns: []Column{
				{Name: "id"},
				requestColumn("kind", "user.privacy.request", FromSubject, "kind"),
				withRecipients(requestColumn("email", "user.contact.email", FromSubject, "email"), "mail"),
				{Name: "customer_id"},
				requestColumn("channel", "user.privacy.request", FromSubject, "channel"),
				requestColumn("state", "user.privacy.request", FromStaff, "state"),
				requestColumn("received_at", "user.privacy.request", FromSubject, "received_at"),
				requestColumn("due_at", "user.privacy.request", Automatically, "due_at"),
				requestColumn("extended_due_at", "user.privacy.request", FromStaff, "extended_due_at"),
				requestColumn("extension_reason", "user.privacy.request", FromStaff, "extension_reason"),
				withBlank(Column{Name: "code_hash", Personal: true, Category: "user.account.credentials", Purposes: []string{"privacy_rights"},
					Retention: Retention{From: FromRequest, Why: "deleted as soon as the code is used or the request is closed"},
					Erasure:   EraseDelete, Source: Automatically}, BlankNull),
				{Name: "code_expires_at", Note: "when the pending verification code stops working"},
				{Name: "code_attempts", Note: "how many wrong codes were entered"},
				requestColumn("code_used_at", "user.privacy.request", Automatically, "code_used_at"),
				requestColumn("verified_at", "user.privacy.request", Automatically, "identity_verified_at"),
				requestColumn("doubt_reason", "user.privacy.request", FromStaff, "doubt_reason"),
				requestColumn("refusal_reason", "user.privacy.request", FromStaff, "refusal_reason"),
				requestColumn("note", "user.privacy.request", FromStaff, "note"),
				requestColumn("outcome", "user.privacy.request", FromStaff, "outcome"),
				requestColumn("created_at", "user.privacy.request", Automatically, "created_at"),
				requestColumn("updated_at", "user.privacy.request", Automatically, "updated_at"),
				requestColumn("completed_at", "user.privacy.request", Automatically, "closed_at"),
			}},
		{Name: "request_events", Description: "Each step in handling a privacy request: when, from which state to which, and the note staff wrote.",
			Subject: Customer, Link: Link{Parent: "privacy_requests", ParentColumn: "request_id", ParentExport: "request_number"}, Columns: []Column{
				{Name: "id"}, {Name: "request_id"},
				requestColumn("at", "user.privacy.request", Automatically, "at"),
				requestColumn("from_state", "user.privacy.request", Automatically, "from_state"),
				requestColumn("to_state", "user.privacy.request", Automatically, "to_state"),
				{Name: "actor", Note: "names a staff account ('staff:ID'), 'requester' or 'system'; staff actions are also in the audit log"},
				requestColumn("note", "user.privacy.request", FromStaff, "note"),
			}},
	},
}

// requestRetention keeps a closed request as proof that it was answered.
var requestRetention = Retention{Years: 3, From: FromRequest,
	Why: "proof that we answered your request and how (accountability, Art. 5(2) GDPR); erasing your data cannot erase the proof of the erasure"}

// requestColumn declares part of the record of a privacy request: kept
// under legal hold for three years after the request is closed.
func requestColumn(name string, c Category, src Source, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"privacy_rights"},
		Retention: requestRetention, Erasure: LegalHold, Source: src, Export: export}
}

// withRecipients names the recipients of a column.
func withRecipients(c Column, ids ...string) Column {
	c.Recipients = ids
	return c
}
