package orders

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/tax"
)

// applyTax taxes o's lines under the vendor's tax settings of now (read
// in q, the order's transaction) for the buyer's billing country and VAT
// number, whose check is check (tax.Verify; the zero Check when VIES is
// off), and sets the order's amounts to the sums of its lines: subtotal
// the nets, tax the taxes, total the grosses. The order keeps what it was
// taxed under (Taxation), so a later change of the settings changes new
// orders only.
//
// With tax off (no home country) every line's net is its unit price times
// its quantity and nothing is added, as before tax was computed. When the
// vendor lets Stripe Tax compute the tax and the order is paid through
// Stripe, the lines carry the catalog's amounts and the treatment is
// processor: Stripe's result is recorded when the payment arrives.
func applyTax(ctx context.Context, q db.Querier, o *Order, check tax.Check) error {
	s, err := tax.Load(ctx, q)
	if err != nil {
		return err
	}
	d, err := tax.Decide(s, o.Billing.Country, o.Billing.VATID, check)
	if err != nil {
		return err
	}
	if s.Enabled() && s.StripeTax && o.Provider == "stripe" {
		d = tax.Decision{Treatment: tax.Processor}
	}
	items := make([]tax.Item, len(o.Lines))
	for i, l := range o.Lines {
		items[i] = tax.Item{UnitMinor: l.UnitMinor, Quantity: l.Quantity}
	}
	// A processor's tax is not known yet: the catalog's amounts stand
	// until it is (exclusive prices are net; inclusive ones are paid as
	// they are, the tax inside them recorded at payment).
	amounts, total, err := tax.Compute(items, d, s.PricesIncludeTax && d.Treatment != tax.Processor)
	if err != nil {
		return fmt.Errorf("tax order %s: %w", o.Number, err)
	}
	for i := range o.Lines {
		o.Lines[i].NetMinor, o.Lines[i].TaxMinor, o.Lines[i].TaxRateBP = amounts[i].NetMinor, amounts[i].TaxMinor, amounts[i].RateBP
	}
	o.SubtotalMinor, o.TaxMinor, o.TotalMinor = total.NetMinor, total.TaxMinor, total.GrossMinor
	o.Tax = Taxation{VATCheck: check.JSON()}
	if s.Enabled() {
		o.Tax.Treatment, o.Tax.Country = TaxTreatment(d.Treatment), d.Country
		o.Tax.SellerVATID, o.Tax.PricesIncludeTax = s.SellerVATID, s.PricesIncludeTax
	}
	return nil
}

// Computed reports whether the order's tax was computed by Storekeep
// (domestic, reverse charge, EU consumer, export): what the buyer pays is
// then exactly the order's total, per line.
func (t Taxation) Computed() bool {
	switch t.Treatment {
	case TaxDomestic, TaxReverseCharge, TaxEUConsumer, TaxExport:
		return true
	}
	return false
}

// TaxLabel names how the order was taxed, for pages: "19 % VAT
// (Germany)", "Reverse charge (0 % VAT)", ...; "" when no tax was
// computed.
func (o Order) TaxLabel() string {
	rate := 0
	if len(o.Lines) > 0 {
		rate = o.Lines[0].TaxRateBP
	}
	return tax.Decision{Treatment: tax.Treatment(o.Tax.Treatment), Country: o.Tax.Country, RateBP: rate}.Label()
}

// ReverseChargeStatement is the statement an invoice of the order must
// carry; "" unless it was sold under the reverse charge.
func (o Order) ReverseChargeStatement() string {
	if o.Tax.Treatment == TaxReverseCharge {
		return tax.ReverseChargeStatement
	}
	return ""
}

// SubtotalText formats the order's amount before tax.
func (o Order) SubtotalText() string { return catalog.FormatMoney(o.SubtotalMinor, o.Currency) }

// GrossText formats a line's amount with tax.
func (l Line) GrossText(currency string) string { return catalog.FormatMoney(l.GrossMinor(), currency) }

// NetText formats a line's amount before tax.
func (l Line) NetText(currency string) string { return catalog.FormatMoney(l.NetMinor, currency) }

// RateText is a line's rate as a percentage, such as "19 %".
func (l Line) RateText() string { return tax.FormatRate(l.TaxRateBP) + " %" }

// processorTax checks what a processor that computed the tax (treatment
// processor) charged against the catalog amounts the order was placed at,
// and records it: the total paid, the tax in it, and each line's net and
// tax, the tax shared among the lines in proportion to their amounts (the
// last line takes what rounding leaves). The rate stays 0: the event does
// not say it. ok is false when the amounts do not fit (a person looks).
func processorTax(ctx context.Context, tx *sql.Tx, o *Order, paid, taxMinor int64) (ok bool, err error) {
	var catalogTotal int64
	for _, l := range o.Lines {
		catalogTotal += l.UnitMinor * int64(l.Quantity)
	}
	net := paid - taxMinor
	if taxMinor < 0 || net < 0 || o.Tax.PricesIncludeTax && paid != catalogTotal || !o.Tax.PricesIncludeTax && net != catalogTotal {
		return false, nil
	}
	var given int64
	for i := range o.Lines {
		l := &o.Lines[i]
		base := l.UnitMinor * int64(l.Quantity)
		share := taxMinor - given
		if i < len(o.Lines)-1 && catalogTotal > 0 {
			share = tax.RoundDiv(taxMinor*base, catalogTotal)
		}
		given += share
		l.TaxMinor, l.NetMinor = share, base
		if o.Tax.PricesIncludeTax {
			l.NetMinor = base - share
		}
		if _, err := tx.ExecContext(ctx, `UPDATE order_lines SET net_minor = $1, tax_minor = $2 WHERE id = $3`, l.NetMinor, l.TaxMinor, l.ID); err != nil {
			return false, fmt.Errorf("record processor's tax: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE orders SET subtotal_minor = $1, tax_minor = $2, total_minor = $3 WHERE id = $4`, net, taxMinor, paid, o.ID); err != nil {
		return false, fmt.Errorf("record processor's tax: %w", err)
	}
	o.SubtotalMinor, o.TaxMinor, o.TotalMinor = net, taxMinor, paid
	return true, nil
}
