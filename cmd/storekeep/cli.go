package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
)

// cliCommand builds a subcommand that opens the configured database, which
// must exist already, and runs fn with it; configuration mistakes are
// usage errors. It offers the flags such a command uses: --db, --data-dir
// and the log flags (the other settings still come from their STOREKEEP_*
// variables).
func cliCommand(use, short string, fn func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB) error) *cobra.Command {
	return cliCommandWith(use, short, 0, fn)
}

// cliCommandWith is cliCommand with the flags of more groups, such as
// config.Site for commands that print links to the site.
func cliCommandWith(use, short string, more config.Group, fn func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB) error) *cobra.Command {
	return cliCommandArgs(use, short, more, cobra.NoArgs, func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB, _ []string) error {
		return fn(ctx, c, cfg, d)
	})
}

// cliCommandArgs is cliCommandWith for a command that takes arguments
// (release publish FILES...).
func cliCommandArgs(use, short string, more config.Group, args cobra.PositionalArgs,
	fn func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB, args []string) error) *cobra.Command {
	var cfg config.Config
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(c *cobra.Command, args []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError{err: err}
			}
			if err := configureInventory(&cfg); err != nil {
				return err
			}
			d, err := openExistingDB(c.Context(), &cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			return fn(c.Context(), c, &cfg, d, args)
		},
	}
	cfg.BindGroups(c.Flags(), config.DB|config.Log|more)
	return c
}

// openExistingDB opens the configured database for a command that reads
// it. A mistyped --db must not create and migrate a new, empty database
// (audit verify would then call an empty log intact): a SQLite file that
// does not exist, or a database without Storekeep's tables, is refused.
// Only serve, demo and migrate create a database.
func openExistingDB(ctx context.Context, cfg *config.Config) (*db.DB, error) {
	t, err := db.ParseDSN(cfg.DB)
	if err != nil {
		return nil, usageError{err: fmt.Errorf("--db: %w", err)}
	}
	if t.Dialect == db.SQLite {
		if _, err := os.Stat(t.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, usageError{err: fmt.Errorf("there is no database at %s: give the existing one with --db (or STOREKEEP_DB) or --data-dir, or create it with 'storekeep migrate --db %s'", t.Path, t.Path)}
		}
	}
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	useDataDir(d, cfg)
	tables, err := d.Schema(ctx)
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	if len(tables) == 0 {
		_ = d.Close()
		return nil, usageError{err: fmt.Errorf("%s holds no Storekeep data: give the existing database with --db (or STOREKEEP_DB) or --data-dir, or create it with 'storekeep migrate'", d)}
	}
	// An existing database of an older version is brought up to date, as
	// serve would.
	return migrateOnOpen(ctx, d, cfg, cfg.Logger(io.Discard))
}

// refuseUnknownSubcommands makes every command that only groups others
// (privacy, staff, audit) fail on an unknown subcommand, with a hint,
// instead of printing its help and exiting 0. Without arguments it still
// prints its help.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if c.Runnable() || !c.HasSubCommands() || !c.HasParent() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.SuggestionsMinimumDistance = 2
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usageError{err: errors.New(msg)}
	}
}
