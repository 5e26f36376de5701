package analytics

// SetFillParallel sets how many of the dashboard's statements run at once
// (fillParallel), for the benchmark's baseline. Not safe while a page is
// being served.
func SetFillParallel(n int) { fillParallel = n }
