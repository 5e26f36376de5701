package privacy

// fraudObservationsPart declares what the fraud signals keep of requests
// (internal/fraud/detect, docs/fraud-signals.md): one small row per
// checkout, license activation or check-in, and package repository
// request, so that a periodic job can notice a pattern over a window (one
// license used from many networks, many checkouts from one network). A row
// holds a keyed hash of the request's network (its /24 or /48 prefix,
// under a key derived from the installation secret: the address cannot be
// read back, and the hash means nothing on another installation), a keyed
// hash of the machine's fingerprint hash, the account, license or order
// it concerns and the time; never an address. Rows go after 31 days (the
// longest window, 30 days of machine replacements, plus one) and with
// erasure. What a signal found goes into a review case (CORE's
// inventory_fraud.go), as figures only.
//
// The purpose is the one declared in inventory.go ("fraud"): detecting
// fraud for a person to review; no decision is made from these rows
// alone. FraudSignalsInWords is the plain description the privacy policy
// can show.
var fraudObservationsPart = Inventory{
	Tables: []Table{
		{Name: "fraud_observations", Description: "For fraud signals: when a checkout, a license activation or check-in, or a package repository request happened, for which account, license or order, with a keyed hash of the network it came from (never the address).",
			Subject: Customer, Link: Link{Column: "customer_id"}, Dated: "observed_at",
			Columns: []Column{
				{Name: "id"},
				{Name: "kind", Note: "what was observed: checkout, activation, new_seat, check_in or repository"},
				fraudObservationColumn("network", "user.fraud.evidence", "a keyed hash (HMAC-SHA-256 under the installation secret) of the network prefix (/24 for IPv4, /48 for IPv6), never the address; compared only for equality within a window"),
				fraudObservationColumn("machine", "user.fraud.evidence", "a keyed hash of the machine's fingerprint hash, for counting machines"),
				fraudObservationColumn("customer_id", "user.fraud.evidence", "the account the request concerned"),
				{Name: "license_id", Note: "the license used; a license names no person"},
				{Name: "order_id", Note: "the order a checkout placed"},
				fraudObservationColumn("observed_at", "user.fraud.evidence", "when"),
			}},
	},
}

// fraudObservationRetention: the longest window a signal looks at (machine
// replacements over 30 days) and a day for the job that reads it.
var fraudObservationRetention = Retention{Days: 31, From: FromCollection,
	Why: "the longest window a fraud signal looks at (30 days of machine replacements), plus a day; what a signal found stays with its review case"}

func fraudObservationColumn(name string, c Category, note string) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"fraud"},
		Retention: fraudObservationRetention, Erasure: EraseDelete, Source: Automatically, Note: note}
}

// FraudSignalsInWords describes the fraud signals for the privacy policy,
// in plain words, one sentence per group. CORE's policy wording may use it
// as it stands (docs/fraud-signals.md).
var FraudSignalsInWords = []string{
	"From our payment processor: its assessment of a payment's risk, its reviews of a payment, early warnings of fraud from the card networks, and disputes (chargebacks).",
	"From the shop: many orders from one network or for one email address in a short time, an email address at a provider of throwaway addresses, and a billing country different from the country the order's network is in (only where we use a country database).",
	"From licensing and downloads: one license used from many networks or machines in a short time, more machines replaced than the license's machine limit explains, downloads far beyond what your licenses explain, and one repository password used from many networks.",
	"For this we keep, for 31 days, when a checkout, an activation, a check-in or a repository request happened and a keyed fingerprint of the network it came from, never the network address itself.",
	"A signal never blocks, refuses, suspends or refunds anything: it opens a case that a member of our staff reviews, may ask you about, and decides; you can object to this processing in the privacy center.",
}
