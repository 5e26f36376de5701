// Command storekeep runs a software vendor's website and back office: the
// public site, purchases, licenses, downloads, support and the privacy
// rights of its customers, from one binary on SQLite or PostgreSQL.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// started is when the process began, for the start-up time in the logs.
var started = time.Now()

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := rootCommand()
	if err := root.ExecuteContext(ctx); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "storekeep: %v\nRun 'storekeep %s --help' for usage.\n", err, ue.cmd)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "storekeep: %v\n", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line, as opposed to a failure
// while running.
type usageError struct {
	cmd string
	err error
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "storekeep",
		Short:         "A self-hosted website and back office for software vendors",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{cmd: c.Name(), err: err}
	})
	root.AddCommand(serveCommand(), demoCommand(), migrateCommand(), configCommand(), versionCommand(), privacyCommand(),
		staffCommand(), auditCommand())
	return root
}
