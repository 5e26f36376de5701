package testutil

import (
	"os/exec"
	"runtime"
	"syscall"
)

// startTied starts cmd so that the kernel kills it when the test binary
// exits, however it exits: helpers shared by a whole package (stripe-mock)
// have no test whose cleanup could stop them. The kernel ties the child to
// the thread that started it, so that thread is kept for the life of the
// process.
func startTied(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the process
		started <- cmd.Start()
		select {}
	}()
	return <-started
}
