//go:build race

package privacy_test

// raceDetector is true in a -race build, where the pure-Go SQLite runs
// some forty times slower.
const raceDetector = true
