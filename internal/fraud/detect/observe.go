package detect

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/batch"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
)

// Observation kinds, as fraud_observations.kind stores them.
const (
	obsCheckout   = "checkout"
	obsActivation = "activation" // a machine that held its seat already
	obsNewSeat    = "new_seat"   // a machine that took a new seat
	obsCheckIn    = "check_in"
	obsRepository = "repository"
)

type observation struct {
	kind                         string
	network, machine             string
	customerID, licenseID, order int64
	at                           time.Time
}

// Observer records observations off the request path: each method builds
// one row (hashing the network there, so no address is queued) and hands it
// to a batched writer (internal/batch), which writes up to 500 rows in one
// statement. A nil *Observer records nothing, so areas run without one.
type Observer struct {
	key []byte
	d   *db.DB
	w   *batch.Writer[observation]

	// seen keeps repeats out: a product checking in, or apt fetching its
	// indexes and packages, from the same network and machine within
	// repeatEvery adds nothing the windows (distinct networks and machines
	// in a day or more) would count, so only the first is queued. Bounded:
	// cleared when it grows past maxSeen.
	mu   sync.Mutex
	seen map[seenKey]time.Time
}

type seenKey struct {
	kind, network, machine string
	license                int64
}

const (
	repeatEvery = time.Hour
	maxSeen     = 100_000
)

// repeat reports whether ob repeats one queued within repeatEvery, and
// remembers it otherwise. Checkouts and new seats always count.
func (o *Observer) repeat(ob observation) bool {
	if ob.kind == obsCheckout || ob.kind == obsNewSeat {
		return false
	}
	k := seenKey{ob.kind, ob.network, ob.machine, ob.licenseID}
	o.mu.Lock()
	defer o.mu.Unlock()
	if last, ok := o.seen[k]; ok && ob.at.Sub(last) < repeatEvery && !ob.at.Before(last) {
		return true
	}
	if o.seen == nil || len(o.seen) >= maxSeen {
		o.seen = make(map[seenKey]time.Time)
	}
	o.seen[k] = ob.at
	return false
}

// NewObserver starts an Observer writing to d. secret is the installation
// secret (settings.InstallSecret): the network hashes are keyed by a key
// derived from it, so they mean nothing elsewhere and cannot be reversed by
// trying every address without it. Close it after the HTTP server stops.
func NewObserver(d *db.DB, secret []byte, clk clock.Clock, log *slog.Logger) *Observer {
	o := &Observer{key: deriveKey(secret), d: d}
	o.w = batch.New(batch.Options{Name: "fraud observations", Clock: clk, Logger: log}, o.write)
	return o
}

func deriveKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("storekeep fraud observations v1"))
	return m.Sum(nil)
}

// NetworkHash is the keyed hash of ip's network: its /24 (IPv4) or /48
// (IPv6) prefix, so that addresses a provider hands out from one block
// count as one network. "" for no address.
func NetworkHash(key []byte, ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	bits := 24
	if ip.Is6() {
		bits = 48
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return keyed(key, "net", p.String())
}

func keyed(key []byte, domain, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (o *Observer) add(ob observation) {
	if o == nil || o.repeat(ob) {
		return
	}
	o.w.Add(ob)
}

// Checkout records that the account placed the order from ip.
func (o *Observer) Checkout(at time.Time, ip netip.Addr, customerID, orderID int64) {
	if o == nil {
		return
	}
	o.add(observation{kind: obsCheckout, network: NetworkHash(o.key, ip), customerID: customerID, order: orderID, at: at})
}

// Activation records an activation of the license by the machine
// (fingerprint is the stored fingerprint hash); newSeat says the machine
// took a seat it did not hold.
func (o *Observer) Activation(at time.Time, ip netip.Addr, licenseID, customerID int64, fingerprint string, newSeat bool) {
	if o == nil {
		return
	}
	kind := obsActivation
	if newSeat {
		kind = obsNewSeat
	}
	o.add(observation{kind: kind, network: NetworkHash(o.key, ip), machine: keyed(o.key, "machine", fingerprint),
		licenseID: licenseID, customerID: customerID, at: at})
}

// CheckIn records a check-in of the license's machine.
func (o *Observer) CheckIn(at time.Time, ip netip.Addr, licenseID, customerID int64, fingerprint string) {
	if o == nil {
		return
	}
	o.add(observation{kind: obsCheckIn, network: NetworkHash(o.key, ip), machine: keyed(o.key, "machine", fingerprint),
		licenseID: licenseID, customerID: customerID, at: at})
}

// Repository records a package repository request authenticated with the
// license's key.
func (o *Observer) Repository(at time.Time, ip netip.Addr, licenseID, customerID int64) {
	if o == nil {
		return
	}
	o.add(observation{kind: obsRepository, network: NetworkHash(o.key, ip), licenseID: licenseID, customerID: customerID, at: at})
}

// Flush writes everything queued so far (tests, and Evaluate's callers that
// want what was just seen).
func (o *Observer) Flush(ctx context.Context) error {
	if o == nil {
		return nil
	}
	return o.w.Flush(ctx)
}

// Close writes what is queued and stops.
func (o *Observer) Close(ctx context.Context) error {
	if o == nil {
		return nil
	}
	return o.w.Close(ctx)
}

// Dropped counts observations lost (queue full or a failed write).
func (o *Observer) Dropped() int64 {
	if o == nil {
		return 0
	}
	return o.w.Dropped()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// write inserts one batch in one statement, on the writer pool directly
// (observations are not content: no page cache depends on them).
func (o *Observer) write(ctx context.Context, items []observation) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO fraud_observations (kind, network, machine, customer_id, license_id, order_id, observed_at) VALUES `)
	args := make([]any, 0, len(items)*7)
	for i, it := range items {
		if i > 0 {
			q.WriteString(", ")
		}
		n := i * 7
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
		args = append(args, it.kind, it.network, it.machine, nullID(it.customerID), nullID(it.licenseID), nullID(it.order), it.at.UTC())
	}
	if _, err := o.d.Writer().ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("record fraud observations: %w", err)
	}
	return nil
}
