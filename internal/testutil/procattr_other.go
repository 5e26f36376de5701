//go:build !linux

package testutil

import "os/exec"

// startTied starts cmd. Where the kernel cannot tie a child's life to its
// parent's, the shared stripe-mock outlives the test binary.
func startTied(cmd *exec.Cmd) error { return cmd.Start() }
