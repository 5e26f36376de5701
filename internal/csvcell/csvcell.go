// Package csvcell keeps text from being read as a formula when a CSV file
// we write is opened in a spreadsheet. Every CSV export (the orders, the
// sales report, the audit log, the privacy export) writes its cells
// through Defuse.
package csvcell

import (
	"strings"
	"unicode/utf8"
)

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula: = + - @, the control characters some of them accept
// before one (tab, CR, LF), and the full-width forms of the four that
// some spreadsheets fold to them.
const formulaStarts = "=+-@\t\r\n\uff1d\uff0b\uff0d\uff20"

// Defuse is s with an apostrophe before it when a spreadsheet would read
// it as a formula; any other text as it is.
func Defuse(s string) string {
	if r, _ := utf8.DecodeRuneInString(s); s != "" && strings.ContainsRune(formulaStarts, r) {
		return "'" + s
	}
	return s
}
