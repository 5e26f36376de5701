package orders

// InsertOrder exposes insertOrder to tests: orders of several lines, with
// the tax the tests choose.
var InsertOrder = insertOrder
