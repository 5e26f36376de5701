package tax

import "errors"

// Item is a line to tax: the catalog's unit price and the quantity.
type Item struct {
	UnitMinor int64
	Quantity  int
}

// Amounts are a line's, or a total's, amounts in minor units.
type Amounts struct {
	NetMinor, TaxMinor, GrossMinor int64
	// RateBP is the line's rate (0 in totals).
	RateBP int
	// UnitGrossMinor is what one unit costs with tax: the amount a
	// payment processor charges per unit (lines only).
	UnitGrossMinor int64
}

// maxUnit bounds a unit price (10^13 minor units) so that no product of
// amounts, rates and quantities can overflow.
const maxUnit = 10_000_000_000_000

// Compute taxes each item at d's rate and returns the lines and their
// totals, which are the sums of the lines. With pricesIncludeTax the unit
// price is the gross and the net is derived from it; otherwise it is the
// net and the tax is added. Rounding is per line, at the unit, half away
// from zero: the tax of one unit is rounded to a whole minor unit and
// multiplied by the quantity, so that the gross per unit is whole and a
// processor that charges unit price times quantity takes exactly the
// line's gross. A treatment without tax (none, reverse charge, export)
// leaves net equal to the unit price times the quantity.
func Compute(items []Item, d Decision, pricesIncludeTax bool) ([]Amounts, Amounts, error) {
	rate := int64(d.RateBP)
	if rate < 0 || rate > 10000 {
		return nil, Amounts{}, errors.New("tax: rate outside 0-100 %")
	}
	out := make([]Amounts, len(items))
	var total Amounts
	for i, it := range items {
		if it.UnitMinor < 0 || it.UnitMinor > maxUnit || it.Quantity < 1 || it.Quantity > 1_000_000 {
			return nil, Amounts{}, errors.New("tax: a line's unit price or quantity is out of range")
		}
		var unitNet, unitTax int64
		if pricesIncludeTax {
			unitNet = RoundDiv(it.UnitMinor*10000, 10000+rate)
			unitTax = it.UnitMinor - unitNet
		} else {
			unitNet = it.UnitMinor
			unitTax = RoundDiv(it.UnitMinor*rate, 10000)
		}
		q := int64(it.Quantity)
		a := Amounts{NetMinor: unitNet * q, TaxMinor: unitTax * q, RateBP: d.RateBP, UnitGrossMinor: unitNet + unitTax}
		a.GrossMinor = a.NetMinor + a.TaxMinor
		out[i] = a
		total.NetMinor += a.NetMinor
		total.TaxMinor += a.TaxMinor
		total.GrossMinor += a.GrossMinor
	}
	return out, total, nil
}

// RoundDiv is a / b rounded half away from zero (b > 0; callers keep
// |a| below 2^62).
func RoundDiv(a, b int64) int64 {
	q, r := a/b, a%b
	if r < 0 {
		r = -r
	}
	if 2*r >= b {
		if a < 0 {
			q--
		} else {
			q++
		}
	}
	return q
}
