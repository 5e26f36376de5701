//go:build !race

package privacy_test

const raceDetector = false
