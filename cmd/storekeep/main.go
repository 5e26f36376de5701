// Command storekeep runs a software vendor's website and back office: the
// public site, purchases, licenses, downloads, support and the privacy
// rights of its customers, from one binary on SQLite or PostgreSQL.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runMain runs the command line args and returns the exit status: 0, 1 for
// a failure while running, 2 for a mistake in the command line, with a
// hint naming the command's own help ("storekeep staff create --help").
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runMainIn(ctx, args, os.Stdin, stdout, stderr)
}

// runMainIn is runMain reading standard input from stdin (support ingest).
func runMainIn(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		fmt.Fprintf(stderr, "storekeep: %v\n", err)
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		path := root.Name()
		if c != nil {
			path = c.CommandPath()
		}
		fmt.Fprintf(stderr, "storekeep: %v\nRun '%s --help' for usage.\n", err, path)
		return 2
	}
	fmt.Fprintf(stderr, "storekeep: %v\n", err)
	return 1
}

// usageError is a mistake in the command line, as opposed to a failure
// while running. The hint printed with it names the command that ran, so
// cmd is not needed (it is kept for callers that still set it).
type usageError struct {
	cmd string
	err error
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError ends the program with an exit status of its own, such as the
// sysexits codes of support ingest, which Postfix reads.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "storekeep",
		Short:         "A self-hosted website and back office for software vendors",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err: err}
	})
	root.AddCommand(serveCommand(), demoCommand(), migrateCommand(), configCommand(), versionCommand(), initCommand(), healthcheckCommand(), privacyCommand(),
		staffCommand(), auditCommand(), licenseCommand(), releaseCommand(), supportCommand(), mailCommand(), dbCommand(), backupCommand(), restoreCommand())
	refuseUnknownSubcommands(root)
	return root
}
