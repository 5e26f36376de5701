package privacy

// accountabilityPart declares the accountability records (issue 17,
// docs/accountability.md): the recipients register, which names companies
// and holds no personal data, and the log of disclosures to public
// authorities, which may be about one customer.
//
// Public authorities that receive data in a particular inquiry under the
// law are not recipients (Art. 4(9) GDPR), so the disclosure columns name
// none: the register and the policy list the parties data goes to in the
// ordinary course, the disclosure log the exceptions.
var accountabilityPart = Inventory{
	Purposes: []Purpose{
		{ID: "authorities", Name: "Answering public authorities",
			Description: "answering a court, the police or another public authority when the law obliges us to, and keeping a record of what was asked and what we gave",
			Basis:       LegalObligation},
	},
	Tables: []Table{
		{Name: "recipients", Description: "The recipients register: the companies personal data goes to, their agreements and transfer safeguards.",
			Columns: []Column{
				{Name: "id"},
				{Name: "declared_id", Note: "the recipient's ID in the data inventory, for those the code declares"},
				{Name: "name", Note: "a company or public body, not a person"},
				{Name: "kind"}, {Name: "purpose"}, {Name: "data_categories"}, {Name: "location"},
				{Name: "outside_eea"}, {Name: "safeguard"}, {Name: "safeguard_note"},
				{Name: "agreement_ref"}, {Name: "agreement_date"}, {Name: "review_date"}, {Name: "ended_at"},
				{Name: "created_at"}, {Name: "updated_at"},
				{Name: "updated_by", Note: "the staff account that last changed it; staff accounts are declared with the staff table"},
			}},
		{Name: "disclosures", Description: "Requests from public authorities and what we disclosed to them.", Subject: Customer,
			Link: Link{Column: "customer_id", EmailColumn: "subject_email"}, Dated: "created_at", Withheld: "withheld",
			Columns: []Column{
				{Name: "id"},
				{Name: "authority", Export: "authority", Note: "the public body that asked"},
				{Name: "authority_ref", Export: "authority_reference", Note: "the authority's file number"},
				{Name: "legal_basis", Export: "legal_basis", Note: "the law or order the request relies on"},
				{Name: "requested_at", Export: "requested_at"},
				disclosureColumn("asked", "user.legal.disclosure", "what_was_asked"),
				{Name: "decision", Export: "decision"},
				disclosureColumn("disclosed", "user.legal.disclosure", "what_was_disclosed"),
				{Name: "disclosed_at", Export: "disclosed_at"},
				{Name: "decided_by", Note: "the staff account that decided; staff accounts are declared with the staff table"},
				{Name: "customer_id"},
				disclosureColumn("subject_email", "user.contact.email", "email"),
				{Name: "withheld", Note: "whether the law forbids telling the person; such rows stay out of their export"},
				{Name: "withheld_reason", Note: "the law or order that forbids telling the person"},
				{Name: "created_by", Note: "the staff account that recorded it"},
				{Name: "created_at"}, {Name: "updated_at"},
			}},
	},
}

// disclosureColumn declares a personal column of a disclosure: kept, even
// against an erasure request, for five years after it was recorded, so that
// we can show the disclosure was lawful; then deleted.
func disclosureColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"authorities"},
		Retention: Retention{Years: 5, From: FromCollection, Why: "to show, if a court or the person asks, that the disclosure was lawful"},
		Erasure:   LegalHold, Source: FromStaff, Export: export}
}
