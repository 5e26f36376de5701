package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/dbcopy"
)

func dbCommand() *cobra.Command {
	c := &cobra.Command{Use: "db", Short: "Work on the database as a whole (copy an installation to PostgreSQL)"}
	c.AddCommand(dbCopyCommand())
	return c
}

func dbCopyCommand() *cobra.Command {
	var opt dbcopy.Options
	var verifyOnly bool
	c := &cobra.Command{
		Use:   "copy --from FILE --to postgres://...",
		Short: "Copy a SQLite installation into an empty PostgreSQL database, and verify it",
		Long: `Copy every table of a Storekeep SQLite database into a PostgreSQL database:
the target is migrated to the same schema version, the rows are copied in
batches in the order of the foreign keys, sequences are set past the copied
IDs, and both sides are then counted and checksummed table by table.

The target must be empty (nothing but what the migrations create). A copy
that was interrupted is continued from the last committed batch when the
command is run again with the same source and target. Stop the site (or
keep it read-only) while it runs: see docs/db-copy.md.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opt.From == "" || opt.To == "" {
				return usageError{err: errors.New("give the SQLite file with --from and the PostgreSQL URL with --to")}
			}
			opt.Out, opt.Progress = c.OutOrStdout(), c.ErrOrStderr()
			run := dbcopy.Copy
			if verifyOnly {
				run = dbcopy.Verify
			}
			res, err := run(c.Context(), opt)
			if errors.Is(err, dbcopy.ErrBadTarget) {
				return usageError{err: err}
			}
			if err != nil {
				return err
			}
			if verifyOnly {
				fmt.Fprintf(c.OutOrStdout(), "%s matches %s: %d tables, the same rows and checksums.\n", db.Redact(opt.To), opt.From, len(res.Tables))
				return nil
			}
			var rows int64
			for _, t := range res.Tables {
				rows += t.TargetRows
			}
			rate := 0.0
			if res.CopyTime > 0 {
				rate = float64(res.Copied) / res.CopyTime.Seconds()
			}
			fmt.Fprintf(c.OutOrStdout(), "Copied %s into %s: %d tables, %d rows (%d in this run: %.1fs, %.0f rows/s; verified in %.1fs). Point STOREKEEP_DB at the PostgreSQL URL and start Storekeep.\n",
				opt.From, db.Redact(opt.To), len(res.Tables), rows, res.Copied, res.CopyTime.Seconds(), rate, res.VerifyTime.Seconds())
			return nil
		},
	}
	c.Flags().StringVar(&opt.From, "from", "", "the SQLite database file to copy (read only)")
	c.Flags().StringVar(&opt.To, "to", "", "the PostgreSQL database to copy into, as postgres://user:password@host:5432/dbname")
	c.Flags().IntVar(&opt.BatchRows, "batch", dbcopy.DefaultBatch, "rows per committed batch")
	c.Flags().BoolVar(&verifyOnly, "verify-only", false, "only compare source and target (row counts and checksums per table)")
	c.Flags().BoolVar(&opt.Insert, "insert", false, "write with multi-row INSERT instead of COPY (slower; for comparison)")
	_ = c.Flags().MarkHidden("insert")
	return c
}
