package reports

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/csvcell"
)

// CSV writes rows for spreadsheets: every cell a spreadsheet would run as
// a formula (starting with = + - @, a tab, a carriage return or a line
// feed, or the full-width ＝ ＋ － ＠ that spreadsheets in East Asian
// locales read as those) gets a leading apostrophe, so a buyer named "=HYPERLINK(...)" stays text in the
// accountant's spreadsheet. Negative amounts are written as such cells
// too ("'-12.00"): they are text a person reads, and the sign stays.
type CSV struct{ w *csv.Writer }

// NewCSV writes to w.
func NewCSV(w io.Writer) *CSV { return &CSV{w: csv.NewWriter(w)} }

// Write writes one row, defused.
func (c *CSV) Write(cells ...string) error {
	rec := make([]string, len(cells))
	for i, s := range cells {
		rec[i] = Defuse(s)
	}
	return c.w.Write(rec)
}

// Flush sends what is buffered on and reports any error of the writes.
func (c *CSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// Defuse is csvcell.Defuse: s made safe from being read as a formula.
func Defuse(s string) string { return csvcell.Defuse(s) }

// Decimal writes an amount in minor units as a plain decimal number for a
// spreadsheet ("1234.50", "-12.00"; "1234" in a currency without a minor
// unit), without symbol or thousands separators.
func Decimal(minor int64, currency string) string {
	if !catalog.HasMinorUnit(currency) {
		return fmt.Sprint(minor)
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}
