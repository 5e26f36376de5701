//go:build race

package report_test

// raceDetector is true in a -race build, where the pure-Go SQLite runs
// some twenty times slower: the comparisons of top lists then check a
// sample of their cases (every kind still), the full set runs without it.
const raceDetector = true
