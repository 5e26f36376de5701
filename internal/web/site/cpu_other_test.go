//go:build !unix

package site_test

import "time"

// processCPU is not measured here: the benchmark reports no cpu-µs/req.
func processCPU() time.Duration { return 0 }
