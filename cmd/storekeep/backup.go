package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/backup"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
)

// backupCommand is `storekeep backup`: an online copy of a SQLite
// database, or, for PostgreSQL, a check of pg_dump (docs/backups.md).
func backupCommand() *cobra.Command {
	var cfg config.Config
	var out string
	var check, quiet bool
	var pruneDays int
	c := &cobra.Command{
		Use:   "backup --out PATH",
		Short: "Back up the SQLite database while the site runs (PostgreSQL: --check the pg_dump prerequisites)",
		Long: `Writes a consistent copy of the SQLite database to --out (a file, or a directory
to write a dated .skbackup file into) while the site keeps running, with a
manifest (schema and Storekeep version, time, checksum) that storekeep restore
checks. The erasure ledger's key is not in the backup: keep the data directory's
erasure-ledger.key and erasure-ledger.jsonl somewhere else than the backups.

For PostgreSQL use pg_dump or continuous archiving (docs/backups.md);
--check checks that pg_dump is there and can dump this server.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError{err: err}
			}
			t, err := db.ParseDSN(cfg.DB)
			if err != nil {
				return usageError{err: fmt.Errorf("--db: %w", err)}
			}
			w := c.OutOrStdout()
			if t.Dialect == db.Postgres {
				if !check {
					return usageError{err: errors.New("storekeep backup copies SQLite databases; this one is PostgreSQL: back it up with pg_dump or continuous (WAL) archiving as docs/backups.md describes, and run 'storekeep backup --check' to check that pg_dump can dump this server")}
				}
				return checkPostgres(c, cfg.DB, w)
			}
			if _, err := os.Stat(t.Path); err != nil {
				return usageError{err: fmt.Errorf("there is no database at %s: give the existing one with --db (or STOREKEEP_DB) or --data-dir", t.Path)}
			}
			if check {
				fmt.Fprintf(w, "SQLite %s: storekeep backup --out PATH copies it online; nothing else is needed\n", t.Path)
				return nil
			}
			if out == "" {
				return usageError{err: errors.New("--out is required: a file to write, or a directory to write a dated backup into")}
			}
			var progress io.Writer
			if !quiet {
				progress = c.ErrOrStderr()
			}
			res, err := backup.Backup(c.Context(), t.Path, backup.Options{Out: out, Version: version(), Progress: progress})
			if err != nil {
				return err
			}
			m := res.Manifest
			secs := max(res.Elapsed.Seconds(), 1e-3)
			fmt.Fprintf(w, "backup written to %s: %d bytes, schema %d, taken %s, in %.1f s (%.1f MiB/s)\n",
				res.Path, m.Size, m.Schema, m.TakenAt.Format(time.RFC3339), res.Elapsed.Seconds(), float64(m.Size)/secs/(1<<20))
			if m.LedgerKeyID == "" {
				fmt.Fprintln(w, "no erasure has been made yet: the erasure ledger's key will be created by the first one")
			}
			if pruneDays > 0 {
				st, err := os.Stat(out)
				dir := out
				if err != nil || !st.IsDir() {
					return usageError{err: errors.New("--prune needs --out to be the directory of the backups")}
				}
				removed, err := backup.Prune(dir, time.Duration(pruneDays)*24*time.Hour, time.Now())
				for _, p := range removed {
					fmt.Fprintf(w, "deleted %s (older than %d days)\n", p, pruneDays)
				}
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	cfg.BindGroups(c.Flags(), config.DB|config.Log)
	c.Flags().StringVar(&out, "out", "", "file to write the backup to, or a directory to write storekeep-TIME.skbackup into")
	c.Flags().BoolVar(&check, "check", false, "check the prerequisites instead of backing up (PostgreSQL: pg_dump on PATH and its version against the server's)")
	c.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	c.Flags().IntVar(&pruneDays, "prune", 0, "after the backup, delete backups in the --out directory older than this many days (the records of processing declare 90)")
	return c
}

func checkPostgres(c *cobra.Command, dsn string, w io.Writer) error {
	d, err := db.Open(c.Context(), dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	r, err := backup.CheckPostgres(c.Context(), d)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "server: PostgreSQL %d (wal_level %s, archive_mode %s)\n", r.ServerMajor, r.WALLevel, r.ArchiveMode)
	if r.PGDump != "" {
		fmt.Fprintf(w, "pg_dump: %s, version %d\n", r.PGDump, r.DumpMajor)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(w, "problem: "+p)
	}
	if len(r.Problems) > 0 {
		return fmt.Errorf("pg_dump cannot back up this database yet: %d problem(s) above (docs/backups.md)", len(r.Problems))
	}
	fmt.Fprintln(w, "ok: pg_dump can back up this database (docs/backups.md: pg_dump --format=custom, and the erasure ledger)")
	return nil
}

// restoreCommand is `storekeep restore`.
func restoreCommand() *cobra.Command {
	var cfg config.Config
	var from, ledgerSince string
	var without bool
	c := &cobra.Command{
		Use:   "restore --from BACKUP | --ledger-since TIME",
		Short: "Replace the SQLite database with a backup, then erase again everyone erased since it was taken",
		Long: `Checks the backup (checksum, schema version), refuses while an instance runs on
the database, writes the copy beside the database, migrates it if it is older,
erases again in it everyone the erasure ledger recorded since the backup (the
ledger and its key in the database's directory), and renames it into place.
The database it replaces is kept beside it (.before-restore-TIME).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError{err: err}
			}
			if err := configureInventory(&cfg); err != nil {
				return err
			}
			w := c.OutOrStdout()
			if ledgerSince != "" {
				if from != "" {
					return usageError{err: errors.New("--ledger-since re-applies the ledger to a database restored by other means: give it without --from")}
				}
				since, err := time.Parse(time.RFC3339, ledgerSince)
				if err != nil {
					return usageError{err: fmt.Errorf("--ledger-since %q: give the time the dump or recovery point was taken, such as 2026-12-01T03:00:00Z", ledgerSince)}
				}
				d, err := openExistingDB(c.Context(), &cfg)
				if err != nil {
					return err
				}
				defer d.Close()
				read, after, erased, err := backup.Reapply(c.Context(), d, d.DataDir(), since, privacy.Declared, time.Now, c.ErrOrStderr())
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "erasure ledger: %d entries, %d since %s, %d subjects erased again in %s\n", read, after, since.UTC().Format(time.RFC3339), len(erased), d)
				return nil
			}
			if from == "" {
				return usageError{err: errors.New("--from is required: the backup file to restore (or --ledger-since after a restore by other means, such as pg_restore)")}
			}
			t, err := db.ParseDSN(cfg.DB)
			if err != nil {
				return usageError{err: fmt.Errorf("--db: %w", err)}
			}
			if t.Dialect == db.Postgres {
				return usageError{err: errors.New("storekeep restore --from restores SQLite backups; for PostgreSQL restore with pg_restore, then run 'storekeep restore --ledger-since TIME' (docs/backups.md)")}
			}
			res, err := backup.Restore(c.Context(), backup.RestoreOptions{From: from, DB: t.Path, WithoutLedger: without, Log: c.ErrOrStderr()})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "restored %s into %s: backup of %s, schema %d", from, t.Path, res.Manifest.StartedAt.Format(time.RFC3339), res.Manifest.Schema)
			if len(res.Migrated) > 0 {
				fmt.Fprintf(w, ", migrated to %d", res.Migrated[len(res.Migrated)-1].Version)
			}
			fmt.Fprintf(w, "\nerasure ledger: %d entries, %d since the backup, %d subjects erased again\n", res.Ledger, res.Since, len(res.Erased))
			if res.Aside != "" {
				fmt.Fprintf(w, "the database it replaced is kept as %s: delete it once you have checked the site\n", res.Aside)
			}
			fmt.Fprintln(w, "next: start storekeep serve; erasures the processors (Stripe) were asked for then are not asked again")
			return nil
		},
	}
	cfg.BindGroups(c.Flags(), config.DB|config.Log)
	c.Flags().StringVar(&from, "from", "", "the backup file to restore")
	c.Flags().StringVar(&ledgerSince, "ledger-since", "", "instead of restoring a backup: erase again, in the database as it is, everyone the ledger recorded from this time (RFC 3339) on; after pg_restore or a point-in-time recovery")
	c.Flags().BoolVar(&without, "without-ledger", false, "restore although there is no erasure ledger and no key beside the database (never made, or lost for good): erasures since the backup are then not re-applied, and the copy's entries under the lost key are removed")
	return c
}
