package privacy

// fraudPart declares fraud review (internal/fraud, docs/fraud.md): the
// signals seen, as figures, and the cases staff review. The purpose
// "fraud" (legitimate interest, open to objection) is declared in the
// core. A case without a decision is kept 180 days after its last
// activity; a case that led to a decision is kept with the decision (see
// fraud_decisions), because the decision must stay explainable and
// contestable.
var fraudPart = Inventory{
	Tables: []Table{
		{Name: "fraud_cases", Description: "Fraud review cases: what was seen about a customer, an order or a license, for a staff member to look at and decide.",
			Subject: Customer, Link: Link{Column: "customer_id"}, Dated: "updated_at", Columns: []Column{
				{Name: "id"},
				fraudColumn("status", "user.fraud.review", "status"),
				{Name: "subject_key", Note: "\"customer:12\", \"order:5\": which account, order or license the case is about, by number"},
				{Name: "open_key", Note: "the subject_key while the case is open"},
				{Name: "customer_id"}, {Name: "order_id"}, {Name: "license_id"},
				fraudColumn("signals", "user.fraud.evidence", "signals"),
				fraudColumn("last_kind", "user.fraud.evidence", "last_signal_kind"),
				fraudColumn("first_at", "user.fraud.evidence", "first_signal_at"),
				fraudColumn("last_at", "user.fraud.evidence", "last_signal_at"),
				fraudColumn("asked_at", "user.fraud.review", "asked_at"),
				fraudColumn("answered_at", "user.fraud.review", "answered_at"),
				fraudColumn("closed_at", "user.fraud.review", "closed_at"),
				fraudColumn("contested_at", "user.fraud.review", "contested_at"),
				fraudColumn("created_at", "user.fraud.review", "opened_at"),
				fraudColumn("updated_at", "user.fraud.review", "updated_at"),
			}},
		{Name: "fraud_signals", Description: "The signals of each fraud review case: the pattern seen and its figures.",
			Subject: Customer, Link: Link{Parent: "fraud_cases", ParentColumn: "case_id"}, Columns: []Column{
				{Name: "id"}, {Name: "case_id", Export: "case"},
				fraudColumn("kind", "user.fraud.evidence", "kind"),
				{Name: "source", Note: "the observation's identity: a processor's event ID or a pattern and window with row numbers"},
				fraudColumn("summary", "user.fraud.evidence", "summary"),
				fraudColumn("facts", "user.fraud.evidence", "figures"),
				{Name: "customer_id"}, {Name: "order_id"}, {Name: "license_id"},
				fraudColumn("observed_at", "user.fraud.evidence", "observed_at"),
			}},
		{Name: "fraud_messages", Description: "The questions staff asked in a fraud review case and the customer's answers.",
			Subject: Customer, Link: Link{Parent: "fraud_cases", ParentColumn: "case_id"}, Columns: []Column{
				{Name: "id"}, {Name: "case_id", Export: "case"},
				fraudColumn("direction", "user.fraud.review", "question_or_answer"),
				withSource(fraudColumn("body", "user.fraud.review", "text"), FromSubject),
				{Name: "staff_id", Note: "the staff account that asked; staff accounts are declared with the staff table"},
				{Name: "outbox_id"},
				fraudColumn("created_at", "user.fraud.review", "at"),
			}},
		{Name: "fraud_decisions", Description: "What staff decided on a fraud review case, why, and whether the decision was reversed.",
			Subject: Customer, Link: Link{Parent: "fraud_cases", ParentColumn: "case_id"}, Dated: "created_at", Columns: []Column{
				{Name: "id"}, {Name: "case_id", Export: "case"},
				decisionColumn("action", "decision"),
				{Name: "order_id"}, {Name: "license_id"},
				decisionColumn("reason", "reason"),
				{Name: "staff_id", Note: "the staff account that decided"},
				{Name: "form_token", Note: "a random one-time value of the decision form"},
				decisionColumn("objection_seen", "your_objection_weighed"),
				{Name: "notice_outbox_id"},
				decisionColumn("notice_note", "how_you_were_told"),
				decisionColumn("created_at", "decided_at"),
				decisionColumn("reversed_at", "reversed_at"),
				{Name: "reversed_by", Note: "the staff account that reversed it"},
				decisionColumn("reverse_reason", "why_reversed"),
			}},
		{Name: "fraud_holds", Description: "What a standing fraud review decision holds back: a license's downloads and repositories, or a customer's purchases.",
			Subject: Customer, Link: Link{Parent: "fraud_decisions", ParentColumn: "decision_id"}, Columns: []Column{
				{Name: "id"}, {Name: "decision_id", Export: "decision"},
				decisionColumn("scope", "held"),
				{Name: "license_id"}, {Name: "customer_id"},
				decisionColumn("created_at", "since"),
				decisionColumn("lifted_at", "lifted_at"),
			}},
	},
}

// decisionRetention keeps a decision, and with it its case and evidence
// (a parent stays while a dated child is kept), long enough for it to be
// contested and for claims about it to be settled.
var decisionRetention = Retention{Years: 3, From: FromCollection,
	Why: "counted from the decision: the limitation period for claims about it; the case and its evidence are kept with it"}

// decisionColumn declares a part of a staff decision on a case.
func decisionColumn(name, export string) Column {
	return Column{Name: name, Personal: true, Category: "user.fraud.review", Purposes: []string{"fraud"},
		Retention: decisionRetention, Erasure: EraseDelete, Source: FromStaff, Export: export}
}

// fraudRetention keeps a case without a decision for a short time after
// its last activity.
var fraudRetention = Retention{Days: 180, From: FromCollection,
	Why: "counted from the case's last activity; a case that led to a decision is kept as long as the decision (3 years)"}

// fraudColumn declares a part of a fraud review case.
func fraudColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"fraud"},
		Retention: fraudRetention, Erasure: EraseDelete, Source: Automatically, Export: export}
}
