package batch

// SetTimerSet makes the writer call f once it has set a part batch's
// timer.
func SetTimerSet[T any](w *Writer[T], f func()) { w.timerSet = f }
