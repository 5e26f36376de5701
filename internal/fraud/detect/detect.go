// Package detect builds the fraud signals of issue 16 (docs/fraud-signals.md)
// from what the shop, licensing, downloads, repositories and the payment
// processor see, and hands each to the case store (fraud.Raise) in the
// transaction that saw it. Nothing here changes a customer, an order, a
// license or a credential: a signal opens or adds to a review case, and
// only a person's decision on the case changes anything.
//
// Three ways in:
//
//   - Per event, inline: the processor's risk outcome, reviews, early
//     fraud warnings and disputes (Processor, called by orders.Shop.Apply in
//     the webhook's transaction), and a checkout's disposable-mail domain
//     and country mismatch (Checks.Order, in the checkout's transaction).
//     These cost a map or GeoIP look-up on the request.
//   - Observations: a checkout, an activation, a check-in or a repository
//     request queues one small row (Observer: a keyed hash of the network
//     prefix, never the address) to a batched writer off the request path.
//   - Patterns over windows: Evaluate, a periodic job, counts observations,
//     orders and downloads per window and raises a signal per pattern and
//     day; raising the same Source again changes nothing.
package detect

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
)

// Raise hands a signal to the case store in tx: fraud.Raise, or a test's
// recorder. A Raise that fails fails the transaction that saw the signal.
type Raise func(ctx context.Context, tx *sql.Tx, dialect db.Dialect, s fraud.Signal) error

// Thresholds say when a pattern is a signal. Each count fires when it is
// exceeded (more than the figure) within its window. The zero value of a
// field takes its default (Defaults); docs/fraud-signals.md explains each.
type Thresholds struct {
	// Processor: a risk score at or above RiskScore fires even when the
	// processor called the level normal (0: the level decides alone).
	RiskScore int64

	// Checkouts per network and per email address in CheckoutWindow.
	CheckoutWindow      time.Duration
	CheckoutsPerNetwork int
	CheckoutsPerEmail   int

	// Key sharing: networks, or machines beyond the license's limit plus
	// ExtraMachines, in KeySharingWindow.
	KeySharingWindow   time.Duration
	KeySharingNetworks int
	ExtraMachines      int

	// Replacements: new machines in ReplacementWindow beyond the license's
	// limit plus ReplacementsAllowed.
	ReplacementWindow   time.Duration
	ReplacementsAllowed int

	// Downloads of whole files per license in DownloadWindow beyond
	// DownloadsBase plus DownloadsPerMachine for each machine the license
	// allows (an unlimited license counts as one).
	DownloadWindow      time.Duration
	DownloadsBase       int
	DownloadsPerMachine int

	// Repository requests with one license's credential from more than
	// RepoNetworks networks in RepoWindow.
	RepoWindow   time.Duration
	RepoNetworks int
}

// Defaults are the thresholds used where none are configured.
var Defaults = Thresholds{
	RiskScore:           75,
	CheckoutWindow:      time.Hour,
	CheckoutsPerNetwork: 5,
	CheckoutsPerEmail:   3,
	KeySharingWindow:    24 * time.Hour,
	KeySharingNetworks:  5,
	ExtraMachines:       2,
	ReplacementWindow:   30 * 24 * time.Hour,
	ReplacementsAllowed: 3,
	DownloadWindow:      24 * time.Hour,
	DownloadsBase:       20,
	DownloadsPerMachine: 5,
	RepoWindow:          24 * time.Hour,
	RepoNetworks:        5,
}

// WithDefaults fills zero fields from Defaults.
func (t Thresholds) WithDefaults() Thresholds {
	d := Defaults
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	if t.RiskScore <= 0 {
		t.RiskScore = d.RiskScore
	}
	setD(&t.CheckoutWindow, d.CheckoutWindow)
	set(&t.CheckoutsPerNetwork, d.CheckoutsPerNetwork)
	set(&t.CheckoutsPerEmail, d.CheckoutsPerEmail)
	setD(&t.KeySharingWindow, d.KeySharingWindow)
	set(&t.KeySharingNetworks, d.KeySharingNetworks)
	set(&t.ExtraMachines, d.ExtraMachines)
	setD(&t.ReplacementWindow, d.ReplacementWindow)
	set(&t.ReplacementsAllowed, d.ReplacementsAllowed)
	setD(&t.DownloadWindow, d.DownloadWindow)
	set(&t.DownloadsBase, d.DownloadsBase)
	set(&t.DownloadsPerMachine, d.DownloadsPerMachine)
	setD(&t.RepoWindow, d.RepoWindow)
	set(&t.RepoNetworks, d.RepoNetworks)
	return t
}

// day is the window's day in a signal's Source: a pattern that goes on
// raises once a day, and the same run on several instances raises once.
func day(now time.Time) string { return now.UTC().Format(time.DateOnly) }

// Cases is the Raise of the case store: fraud.Raise, with a signal about
// no one left (an erased customer and nothing else, rows deleted since)
// recorded nowhere and the source carrying on (fraud.ErrNoSubject), so that
// a processor's event about an erased customer is still recorded as
// received. A malformed signal is an error: it is our mistake, and the
// tests raise every kind through it.
func Cases(ctx context.Context, tx *sql.Tx, dialect db.Dialect, s fraud.Signal) error {
	_, _, err := fraud.Raise(ctx, tx, dialect, s)
	if errors.Is(err, fraud.ErrNoSubject) {
		return nil
	}
	return err
}
