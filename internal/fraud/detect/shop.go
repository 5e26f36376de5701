package detect

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/orders"
)

// Countries tells the country of a network address (*geoip.DB); "" when it
// does not know.
type Countries interface {
	Country(ip netip.Addr) string
}

// Checks are the signals of one checkout, evaluated in the checkout's own
// transaction: a disposable-mail domain and a billing country that differs
// from the network's. Each costs a look-up in memory. A nil *Checks checks
// nothing; a nil Geo skips the country (no GeoIP database configured).
type Checks struct {
	Raise      Raise
	Disposable *Disposable
	Geo        Countries
	Observer   *Observer
}

// Order looks at the order a checkout just placed from ip, in tx, and
// raises what it finds; it records the checkout as an observation for the
// burst patterns. It changes nothing about the order.
func (c *Checks) Order(ctx context.Context, tx *sql.Tx, dialect db.Dialect, o orders.Order, ip netip.Addr, now time.Time) error {
	if c == nil {
		return nil
	}
	c.Observer.Checkout(now, ip, o.CustomerID, o.ID)
	if c.Raise == nil {
		return nil
	}
	subject := fraud.Subject{CustomerID: o.CustomerID, OrderID: o.ID}
	if d := c.Disposable.Match(o.Billing.Email); d != "" {
		err := c.Raise(ctx, tx, dialect, fraud.Signal{Kind: fraud.DisposableEmail, Subject: subject,
			Summary: fmt.Sprintf("Order %s was placed with an address at %s, a disposable-mail domain.", o.Number, d),
			Facts:   []fraud.Fact{{Name: "domain", Value: d}},
			Source:  fmt.Sprintf("%s:order:%d", fraud.DisposableEmail, o.ID), At: now})
		if err != nil {
			return err
		}
	}
	if c.Geo != nil && o.Billing.Country != "" {
		net := c.Geo.Country(ip)
		bill := strings.ToUpper(o.Billing.Country)
		if net != "" && !strings.EqualFold(net, bill) {
			err := c.Raise(ctx, tx, dialect, fraud.Signal{Kind: fraud.CountryMismatch, Subject: subject,
				Summary: fmt.Sprintf("Order %s has billing country %s; the network it was placed from is in %s.", o.Number, bill, strings.ToUpper(net)),
				Facts:   []fraud.Fact{{Name: "billing country", Value: bill}, {Name: "network's country", Value: strings.ToUpper(net)}},
				Source:  fmt.Sprintf("%s:order:%d", fraud.CountryMismatch, o.ID), At: now})
			if err != nil {
				return err
			}
		}
	}
	return nil
}
