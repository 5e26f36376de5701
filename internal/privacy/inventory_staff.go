package privacy

// staffPart declares the staff accounts, their sessions and one-time links,
// the rate-limit counters, the audit log, the staff session cookie and the
// sign-in's device cookie.
var staffPart = Inventory{
	Cookies: []Cookie{
		{Name: "sk_staff", Subject: Staff, Category: Necessary,
			Purpose:  "keeps a staff member signed in to the back office; it holds a random session key and nothing else (named __Host-sk_staff over HTTPS)",
			Duration: "until sign-out, 30 minutes without activity, or 12 hours at most"},
		{Name: "sk_staff_device", Subject: Staff, Category: Necessary,
			Purpose:  "tells the staff sign-in that this browser signed in to the account before, so that wrong passwords typed elsewhere cannot lock the member out here; it holds a random number, a date and a signature, not the address (named __Host-sk_staff_device over HTTPS)",
			Duration: "90 days after the last sign-in from this browser"},
	},
	Tables: []Table{
		{Name: "staff", Description: "The vendor's staff accounts.", Subject: Staff, Link: Link{Column: "id"}, Columns: []Column{
			{Name: "id"},
			// The row stays so the audit log's actor IDs still name an
			// account (of some role); it cannot sign in again.
			withBlank(staffColumn("email", "user.contact.email", EraseAnonymise, "email"), BlankUnique("erased-staff-", "@erased.invalid")),
			staffColumn("name", "user.name", EraseAnonymise, "name"),
			withBlank(staffColumn("role", "user.account.record", EraseAnonymise, "role"), BlankKeep),
			staffColumn("password_hash", "user.account.credentials", EraseDelete, ""),
			staffColumn("totp_secret", "user.account.credentials", EraseDelete, ""),
			withBlank(staffColumn("totp_last_step", "user.account.credentials", EraseDelete, ""), BlankZero),
			withBlank(staffColumn("disabled_at", "user.account.record", EraseAnonymise, "disabled_at"), BlankNow),
			withBlank(staffColumn("created_at", "user.account.record", EraseAnonymise, "created_at"), BlankNow),
			withBlank(staffColumn("updated_at", "user.account.record", EraseAnonymise, "updated_at"), BlankNow),
		}},
		{Name: "staff_recovery_codes", Description: "Hashed one-time recovery codes for staff second factors.", Subject: Staff, Link: Link{Column: "staff_id"}, Columns: []Column{
			{Name: "id"}, {Name: "staff_id"},
			staffColumn("code_hash", "user.account.credentials", EraseDelete, ""),
			staffColumn("used_at", "user.account.credentials", EraseDelete, ""),
			staffColumn("created_at", "user.account.credentials", EraseDelete, ""),
		}},
		{Name: "staff_tokens", Description: "Hashed one-time links to set up an account or reset a password.", Subject: Staff, Link: Link{Column: "staff_id"}, Dated: "created_at", Columns: []Column{
			{Name: "id"}, {Name: "staff_id"}, {Name: "purpose"},
			shortLived("token_hash", "user.account.credentials", "staff_access", 7),
			shortLived("expires_at", "user.account.credentials", "staff_access", 7),
			shortLived("used_at", "user.account.credentials", "staff_access", 7),
			shortLived("created_at", "user.account.credentials", "staff_access", 7),
		}},
		{Name: "staff_sessions", Description: "Staff sign-in sessions (hashed tokens).", Subject: Staff, Link: Link{Column: "staff_id"}, Dated: "created_at", Columns: []Column{
			{Name: "id"}, {Name: "staff_id"}, {Name: "level"},
			shortLived("token_hash", "user.account.credentials", "staff_access", 30),
			shortLived("created_at", "user.account.credentials", "staff_access", 30),
			shortLived("last_seen_at", "user.account.credentials", "staff_access", 30),
			shortLived("expires_at", "user.account.credentials", "staff_access", 30),
			shortLived("revoked_at", "user.account.credentials", "staff_access", 30),
		}},
		{Name: "rate_limits", Description: "Counters that slow down password guessing and mail floods, keyed by a keyed hash of the account or network.", Subject: Visitor, Link: Link{Unlinkable: "keys are keyed hashes of an address or network, which cannot be turned back into the address; the counters are deleted after a day"}, Dated: "window_start", Columns: []Column{
			shortLived("bucket", "user.network.ip", "security", 1),
			{Name: "window_start"}, {Name: "hits"},
		}},
		{Name: "audit_log", Description: "Tamper-evident log of staff actions and of every view of a customer's personal data.", Subject: Staff, Link: Link{Column: "actor_id", When: Is("actor_type", "staff")}, Dated: "at", Chained: "seq", Columns: []Column{
			{Name: "seq"}, {Name: "at", Note: "time of an entry; personal only together with the actor columns"},
			{Name: "actor_type"}, auditColumn("actor_id", "user.staff.activity", "actor_id"),
			auditColumn("action", "user.staff.activity", "action"),
			{Name: "subject_type"}, auditColumn("subject_id", "user.staff.activity", "subject_id"),
			auditColumn("detail", "user.staff.activity", "detail"),
			auditColumn("source_net", "user.network.ip", "source_network"),
			{Name: "prev_hash"}, {Name: "hash"},
		}},
		{Name: "audit_head", Description: "The latest sequence number and hash of the audit chain.",
			Columns: plain("id", "seq", "hash")},
	},
}

// staffColumn declares a column of a staff account: kept while the account
// exists and 30 days after it is closed.
func staffColumn(name string, c Category, e Erasure, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"staff_access"},
		Retention: Retention{Days: 30, From: FromAccountClosed}, Erasure: e, Source: FromStaff, Export: export}
}

// shortLived declares a column purged days after it was written.
func shortLived(name string, c Category, purpose string, days int) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{purpose},
		Retention: Retention{Days: days, From: FromCollection}, Erasure: EraseDelete, Source: Automatically}
}

// auditColumn declares a column of the audit log: kept three years for
// accountability and not erased on request, since the log is the proof of
// how personal data was handled.
func auditColumn(name string, c Category, export string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"accountability"},
		Retention: Retention{Years: 3, From: FromCollection, Why: "accountability for access to personal data"},
		Erasure:   LegalHold, Source: Automatically, Export: export}
}
