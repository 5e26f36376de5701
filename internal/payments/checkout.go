package payments

import (
	"errors"
	"fmt"
	"strings"
)

// check refuses a checkout no provider could collect: it has no order
// number, no lines, a line without a name, quantity or positive price, or
// lines in different currencies. The caller builds checkouts from the
// catalog, so an error here is a programming error, not a buyer's mistake.
func (c Checkout) check() (currency string, err error) {
	if strings.TrimSpace(c.OrderNumber) == "" {
		return "", errors.New("payments: checkout without an order number")
	}
	if len(c.Lines) == 0 {
		return "", fmt.Errorf("payments: checkout of order %s has no lines", c.OrderNumber)
	}
	for i, l := range c.Lines {
		switch {
		case strings.TrimSpace(l.Name) == "":
			return "", fmt.Errorf("payments: checkout of order %s: line %d has no name", c.OrderNumber, i+1)
		case l.Quantity < 1:
			return "", fmt.Errorf("payments: checkout of order %s: line %d has quantity %d", c.OrderNumber, i+1, l.Quantity)
		case l.AmountMinor <= 0:
			return "", fmt.Errorf("payments: checkout of order %s: line %d has amount %d", c.OrderNumber, i+1, l.AmountMinor)
		case len(l.Currency) != 3:
			return "", fmt.Errorf("payments: checkout of order %s: line %d has currency %q, not an ISO 4217 code", c.OrderNumber, i+1, l.Currency)
		case i > 0 && !strings.EqualFold(l.Currency, c.Lines[0].Currency):
			return "", fmt.Errorf("payments: checkout of order %s mixes currencies %s and %s", c.OrderNumber, c.Lines[0].Currency, l.Currency)
		}
	}
	return strings.ToUpper(c.Lines[0].Currency), nil
}
