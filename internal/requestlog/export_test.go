package requestlog

import "github.com/storekeep/storekeep/internal/db"

// SetBeforeWrite makes the writer call f before each batch: a test blocks
// the writer with it.
func SetBeforeWrite(l *Logger, f func()) { l.beforeWrite = f }

// NewWithTimerSet is New with a hook the writer calls once it has set a
// part batch's timer.
func NewWithTimerSet(d *db.DB, o Options, f func()) *Logger { return newLogger(d, o, f) }
