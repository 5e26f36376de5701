package privacy

// breachesPart declares the breach register (internal/breaches), its
// history, the people a breach notice goes to, and the record of the data
// reviews owners did.
//
// The register describes incidents in counts and categories, not people:
// its texts are written by owners about what happened. The staff columns
// name who recorded, changed, sent or reviewed, so a staff member's export
// lists the entries they made; they are kept with the register (Art. 5(2)
// and 33(5) GDPR ask the controller to document every breach), as the
// audit log keeps its actors.
var breachesPart = Inventory{
	Purposes: []Purpose{
		{ID: "breach_notice", Name: "Telling people about a data breach",
			Description: "writing to the people a personal-data breach affects, when it is likely to put their rights at high risk, so that they can protect themselves",
			Basis:       LegalObligation},
	},
	Tables: []Table{
		{Name: "breaches", Description: "The register of personal-data breaches: what happened, when, what it affected, what was done and who was told.",
			Subject: Staff, Link: Link{Column: "recorded_by"},
			Columns: []Column{
				{Name: "id", Export: "breach"},
				{Name: "title", Export: "title", Note: "written by owners about an incident; the register counts people, it does not name them"},
				{Name: "what_happened", Note: "written by owners about an incident"},
				{Name: "occurred_at"}, {Name: "discovered_at"},
				{Name: "categories", Note: "the kinds of data affected, as the inventory's categories"},
				{Name: "subjects_affected", Note: "an approximate count"}, {Name: "records_affected", Note: "an approximate count"},
				{Name: "consequences", Note: "written by owners about an incident"},
				{Name: "measures", Note: "written by owners about an incident"},
				{Name: "authority"}, {Name: "authority_reason"}, {Name: "authority_notified_at"}, {Name: "authority_reference", Note: "the authority's case number"},
				{Name: "subjects_notice"}, {Name: "subjects_reason"},
				{Name: "notice_subject", Note: "written by owners for everyone the notice goes to"},
				{Name: "notice_body", Note: "written by owners for everyone the notice goes to"},
				{Name: "notice_audience"}, {Name: "notice_sent_at"},
				{Name: "notice_sent_by", Note: "the staff account that sent the notice; the audit log records the same"},
				{Name: "closed_at"}, {Name: "version"},
				registerStaffColumn("recorded_by", "recorded_by"),
				{Name: "created_at", Export: "recorded_at"}, {Name: "updated_at"},
			}},
		{Name: "breach_versions", Description: "Every earlier version of a breach's record, kept when an owner changed it.",
			Subject: Staff, Link: Link{Column: "changed_by"},
			Columns: []Column{
				{Name: "id"}, {Name: "breach_id", Export: "breach"}, {Name: "version", Export: "version"},
				{Name: "snapshot", Note: "the breach's record as it was: the register's own columns, which hold no one's personal data"},
				registerStaffColumn("changed_by", "changed_by"),
				{Name: "changed_at", Export: "changed_at"},
				{Name: "note", Export: "note", Note: "why the owner changed the record"},
			}},
		{Name: "breach_subjects", Description: "The people a breach notice went to, or will go to once an owner sends it.",
			Subject: Customer, Link: Link{Column: "customer_id", EmailColumn: "email"}, Dated: "created_at",
			Columns: []Column{
				{Name: "id"}, {Name: "breach_id", Export: "breach"},
				withBlank(breachSubjectColumn("email", "user.contact.email", "to"), BlankUnique("erased-", "@erased.invalid")),
				{Name: "customer_id"},
				{Name: "state", Export: "state"}, {Name: "skip_reason", Export: "skip_reason", Note: "why a notice was not sent, in Storekeep's words"},
				{Name: "outbox_id"}, {Name: "created_at"},
				{Name: "notified_at", Export: "notified_at"},
			}},
		{Name: "privacy_reviews", Description: "The data reviews owners did: who, when, their notes, and what the review showed.",
			Subject: Staff, Link: Link{Column: "reviewed_by"},
			Columns: []Column{
				{Name: "id"},
				registerStaffColumn("reviewed_by", "reviewed_by"),
				{Name: "reviewed_at", Export: "reviewed_at"},
				{Name: "notes", Export: "notes", Note: "written by the owner about the review, for the vendor's records"},
				{Name: "summary", Note: "the review's figures: counts per table, none about a person"},
			}},
	},
}

// registerStaffColumn declares the staff member who made an entry of the
// breach register or the review record: kept with the register, which
// documents every breach for as long as the vendor is accountable for
// it, and not erased on request (it is the proof of who acted).
func registerStaffColumn(name, export string) Column {
	return Column{Name: name, Personal: true, Category: "user.staff.activity", Purposes: []string{"accountability"},
		Retention: Retention{From: Indefinite, Why: "the breach register and the record of reviews document how personal data was protected (Art. 5(2), 33(5) GDPR)"},
		Erasure:   LegalHold, Source: Automatically, Export: export}
}

// breachSubjectColumn declares a column of a person told of a breach:
// kept five years as the proof that they were told, then deleted. Erasure
// replaces the address: the row stays, so the register still counts the
// people who were told, but it no longer names the person.
func breachSubjectColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"breach_notice"},
		Retention: Retention{Years: 5, From: FromCollection, Why: "proof that the people a breach affected were told (Art. 34 GDPR)"},
		Erasure:   EraseAnonymise, Source: FromSubject, Export: export, Recipients: []string{"mail"}}
}
