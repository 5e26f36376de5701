package dbcopy

// SetMaxBatchBytes sets the byte bound of a page for a test and returns
// the function that restores it.
func SetMaxBatchBytes(n int) (restore func()) {
	old := maxBatchBytes
	maxBatchBytes = n
	return func() { maxBatchBytes = old }
}
