package requestlog

// SetBeforeWrite makes the writer call f before each batch: a test blocks
// the writer with it.
func SetBeforeWrite(l *Logger, f func()) { l.beforeWrite = f }

// SetTimerSet makes the writer call f once it has set a batch's timer.
func SetTimerSet(l *Logger, f func()) { l.timerSet = f }
