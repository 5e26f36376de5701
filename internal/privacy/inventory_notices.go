package privacy

// noticesPart declares the notices staff send (internal/notices): the
// notice itself holds no personal data; its recipients are the people it
// went to, with the address it went to, kept as long as the mail it
// caused (90 days) so that its per-message status can be shown.
var noticesPart = Inventory{
	Tables: []Table{
		{Name: "notices", Description: "Security notices, product updates, release announcements and newsletters staff wrote.",
			Columns: []Column{
				{Name: "id"}, {Name: "kind"}, {Name: "status"},
				{Name: "subject", Note: "written by staff for everyone the notice goes to"},
				{Name: "body", Note: "written by staff for everyone the notice goes to"},
				{Name: "audience", Note: "filters by product, edition, license state and version; names no one"},
				{Name: "list_id"}, {Name: "release_id"}, {Name: "send_at"}, {Name: "note"},
				{Name: "created_by", Note: "the staff account that wrote it; staff accounts are declared with the staff table"},
				{Name: "created_at"}, {Name: "updated_at"}, {Name: "started_at"}, {Name: "finished_at"},
				{Name: "recipients", Note: "a count"},
			}},
		{Name: "notice_recipients", Description: "Who each notice went to, and what became of its message.", Subject: Customer,
			Link: Link{Column: "customer_id", EmailColumn: "email"}, Dated: "created_at", Columns: []Column{
				{Name: "id"}, {Name: "notice_id", Export: "notice"},
				{Name: "customer_id"}, {Name: "subscriber_id"},
				noticeColumn("email", "user.contact.email", "to"),
				{Name: "state", Export: "state"}, {Name: "skip_reason", Note: "why a message was not sent, in Storekeep's words"},
				{Name: "outbox_id"}, {Name: "dispatched_at", Export: "queued_at"}, {Name: "created_at"},
			}},
		{Name: "notice_dispatch", Description: "The notice dispatchers' shared turnstile (one row).",
			Columns: plain("id", "last_run")},
	},
}

// noticeColumn declares a column of a notice's recipient: kept 90 days,
// as the outbox keeps the message, then deleted.
func noticeColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"notices"},
		Retention: Retention{Days: 90, From: FromCollection, Why: "the per-message status of a notice, for the staff who sent it"},
		Erasure:   EraseDelete, Source: FromSubject, Export: export, Recipients: []string{"mail"}}
}
