package privacy

// licensingPart declares license policies, licenses and the machines that
// hold their seats. A license key and a license file carry no personal
// data: they name a license, never a person. What links a license to its
// holder is the customer column, which erasure clears, so the key goes on
// verifying on the customer's servers after their data is gone. Machines
// are log data: what a product sent when it activated or checked in,
// kept while the machine is seen and deleted with erasure.
var licensingPart = Inventory{
	Purposes: []Purpose{
		{ID: "license_enforcement", Name: "Enforcing license machine limits",
			Description: "recording which machines hold the seats of a license (a fingerprint the product computes, its host name, platform and version) so that the machine limit you bought can be kept and you can see and free your seats",
			Basis:       LegitimateInterest, Interest: "making sure a license is used on no more machines than were bought",
			Overriding: "a license's machine limit is part of what was sold; without it every key could run everywhere"},
	},
	// The license API reads the network address of each call to answer it
	// and to count activations per network against abuse; only a keyed
	// hash of the network, expiring with its rate-limit window, is kept
	// (rate_limits), never the address.
	Activities: []Activity{
		{ID: "license_api_requests", Name: "Answering the license API", Subject: Customer,
			Categories: []Category{"user.network.ip"},
			Purposes:   []string{"license_enforcement", "security"},
			Retention:  Retention{From: NotStored},
			Source:     Automatically,
			Recipients: []string{"hosting"}},
	},
	Tables: []Table{
		{Name: "license_policies", Description: "How each edition is licensed: perpetual or term, updates window, grace period, machine limit, entitlements, check-ins.",
			Columns: plain("edition_id", "kind", "term_months", "updates_months", "grace_days", "max_machines", "entitlements", "check_in_days", "updated_at")},
		{Name: "licenses", Description: "Licenses: the signed key, what it covers, its state, and whose it is.", Subject: Customer, Link: Link{Column: "customer_id"}, Columns: []Column{
			{Name: "id"},
			{Name: "lic", Export: "license_id"},
			{Name: "license_key", Note: "signed license id, product, edition, dates and machine limit; no personal data, and not exported: whoever holds it can activate machines (the confirmation mail carries it, the account will show it)"},
			{Name: "kid"},
			{Name: "customer_id", Personal: true, Category: "user.license.record", Purposes: []string{"fulfilment", "customer_account"},
				Retention: Retention{Years: 3, From: FromAccountClosed, Why: "the limitation period for claims arising from our contract"},
				Erasure:   EraseAnonymise, Blank: BlankNull, Source: Automatically,
				Note: "erasure clears the link to the customer; the license and its key keep working"},
			{Name: "order_id", Note: "points to the purchase record; cleared when the purge deletes the record, the license stays"},
			{Name: "order_line_id", Note: "points to the purchase record"},
			{Name: "edition_id", Note: "points into the catalog"},
			{Name: "product", Export: "product"},
			{Name: "edition", Export: "edition"},
			{Name: "entitlements", Export: "entitlements"},
			{Name: "status", Export: "status"},
			{Name: "suspended_by"},
			{Name: "issued_at", Export: "issued_at"},
			{Name: "expires_at", Export: "expires_at"},
			{Name: "updates_until", Export: "updates_until"},
			{Name: "grace_days"},
			{Name: "max_machines", Export: "max_machines"},
			{Name: "check_in_days"},
			{Name: "updated_at"},
			{Name: "first_activated_at", Export: "first_activated_at", Note: "when a machine first took a seat; the usage analytics' funnel counts activations from it, by the order's day, without linking them to page views"},
		}},
		{Name: "license_machines", Description: "Machines holding the seats of each license, as the product reported them.", Subject: Customer,
			Link: Link{Parent: "licenses", ParentColumn: "license_id"}, Dated: "last_seen_at", Columns: []Column{
				{Name: "id"}, {Name: "license_id"},
				machineColumn("fingerprint", "", "the SHA-256 hash of the fingerprint the product computed, not the fingerprint"),
				machineColumn("hostname", "hostname", ""),
				machineColumn("platform", "platform", ""),
				machineColumn("version", "version", ""),
				machineColumn("activated_at", "activated_at", ""),
				machineColumn("last_check_in_at", "last_check_in_at", ""),
				machineColumn("last_seen_at", "last_seen_at", ""),
			}},
	},
}

// machineRetention: a machine not seen for 90 days has stopped using its
// seat; its record is deleted and the seat freed.
var machineRetention = Retention{Days: 90, From: FromCollection, Why: "counted from the last time the machine reported (each check-in collects it anew); a machine not seen for 90 days no longer uses its seat"}

// machineColumn declares what a product reported about a machine: log data
// under a legitimate interest with a short retention, deleted on erasure.
func machineColumn(name, export, note string) Column {
	return Column{Name: name, Personal: true, Category: "user.license.activation", Purposes: []string{"license_enforcement"},
		Retention: machineRetention, Erasure: EraseDelete, Source: Automatically, Export: export, Note: note}
}
