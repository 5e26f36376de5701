// Package fraud turns signals of possible fraud into review cases for a
// person to decide (issue 16, docs/fraud.md). Nothing here, and nothing
// that raises a signal, blocks, refuses, suspends or refunds anything: a
// signal only opens or adds to a case, and a case changes something only
// through a decision that a staff member makes and can reverse.
//
// This file is the contract between the signal sources (the payment
// processor's events, the shop, licensing, downloads and repositories) and
// the case store: sources build a Signal and Raise it in the transaction
// that recorded what they saw.
package fraud

import "time"

// Kind names a signal's pattern. The set is closed: the review page
// explains each kind in plain words, and the privacy policy lists them.
type Kind string

// The signal kinds.
const (
	// From the payment processor.
	ProcessorRisk   Kind = "processor_risk"   // the processor's risk outcome on a payment: elevated or highest
	ProcessorReview Kind = "processor_review" // the processor opened (or closed) a manual review of a payment
	EarlyWarning    Kind = "early_warning"    // an early fraud warning from the card network
	Dispute         Kind = "dispute"          // a dispute (chargeback) was opened, won or lost

	// From the shop.
	CheckoutBurstNetwork Kind = "checkout_burst_network" // many checkouts from one network in a short window
	CheckoutBurstEmail   Kind = "checkout_burst_email"   // many checkouts for one address in a short window
	DisposableEmail      Kind = "disposable_email"       // an address at a disposable-mail domain
	CountryMismatch      Kind = "country_mismatch"       // billing country differs from the network's (GeoIP)

	// From licensing, downloads and repositories.
	KeySharing         Kind = "key_sharing"          // one license used from many networks or machines in a window
	ManyReplacements   Kind = "many_replacements"    // more machines replaced than the license's policy expects
	DownloadVolume     Kind = "download_volume"      // downloads far beyond what the customer's licenses explain
	RepoCredentialWide Kind = "repo_credential_wide" // a repository credential used from many networks
)

// Kinds lists every kind, in the order the console groups them.
var Kinds = []Kind{ProcessorRisk, ProcessorReview, EarlyWarning, Dispute,
	CheckoutBurstNetwork, CheckoutBurstEmail, DisposableEmail, CountryMismatch,
	KeySharing, ManyReplacements, DownloadVolume, RepoCredentialWide}

// Subject is what a signal is about. Any field may be zero; a signal names
// at least one. CustomerID groups signals into one open case per customer
// when known; otherwise the order, then the license.
type Subject struct {
	CustomerID int64
	OrderID    int64
	LicenseID  int64
}

// Fact is one figure of a signal's evidence ("networks in 24 hours": "9").
// Evidence holds figures, never more personal data than the figure needs:
// no addresses, no network addresses (a count of networks, a country code,
// a processor's risk score).
type Fact struct {
	Name, Value string
}

// Signal is one observation of a pattern.
type Signal struct {
	Kind    Kind
	Subject Subject
	// Summary says what was seen in a sentence, for the case page.
	Summary string
	Facts   []Fact
	// Source identifies the observation so that raising it again changes
	// nothing: the processor's event ("stripe:evt_..."), or the pattern's
	// window ("key_sharing:license:42:2026-12-02").
	Source string
	At     time.Time
}
