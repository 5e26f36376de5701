package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/documents"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/review"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
)

func privacyCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "privacy",
		Short: "The data inventory and privacy tools",
	}
	c.AddCommand(inventoryCommand(), exportCommand(), eraseCommand(), purgeCommand(), reviewCommand(), recordsCommand(), requestsCommand(), digestCommand())
	return c
}

func inventoryCommand() *cobra.Command {
	var asJSON, personalOnly bool
	c := &cobra.Command{
		Use:   "inventory",
		Short: "Print the data inventory: every column, and for personal data why and how long we keep it",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			inv := privacy.Declared
			if err := inv.Validate(); err != nil {
				return err
			}
			var recs []privacy.Record
			for _, r := range inv.Records() {
				if r.Personal || !personalOnly {
					recs = append(recs, r)
				}
			}
			out := c.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Purposes   []privacy.Purpose   `json:"purposes"`
					Recipients []privacy.Recipient `json:"recipients"`
					Cookies    []privacy.Cookie    `json:"cookies"`
					Records    []privacy.Record    `json:"records"`
				}{inv.Purposes, inv.Recipients, inv.Cookies, recs})
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "WHERE\tPERSONAL\tCATEGORY\tSUBJECT\tPURPOSES (BASIS)\tRETENTION\tERASURE\tEXPORT\tRECIPIENTS")
			for _, r := range recs {
				where := r.Table + "." + r.Column
				if r.Activity != "" {
					where = "(activity) " + r.Activity
				}
				if !r.Personal {
					fmt.Fprintf(tw, "%s\tno\t-\t-\t-\t-\t-\t-\t-\n", where)
					continue
				}
				fmt.Fprintf(tw, "%s\tyes\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", where, r.Category, r.Subject,
					privacy.Join(r.Purposes), r.Retention, dash(r.Erasure), dash(r.Export), privacy.Join(r.Recipients))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	c.Flags().BoolVar(&personalOnly, "personal", false, "list only personal data")
	return c
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func exportCommand() *cobra.Command {
	var email, out string
	var isStaff bool
	c := cliCommand("export", "Write everything held about a person to a ZIP file (JSON, CSV per table, README)",
		func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB) error {
			addr, err := emailaddr.NormaliseEmail(email)
			if err != nil {
				return usageError{cmd: "export", err: fmt.Errorf("--email: %w", err)}
			}
			ref := privacy.SubjectRef{Kind: privacy.Customer, Email: addr}
			if isStaff {
				ref.Kind = privacy.Staff
				a, err := staff.ByEmail(ctx, d, addr)
				if err != nil {
					return fmt.Errorf("no staff account %s; 'storekeep staff list' shows them", addr)
				}
				ref.ID = a.ID
			} else if cu, err := customers.ByEmail(ctx, d, addr); err == nil {
				ref.ID = cu.ID
			} else if !errors.Is(err, customers.ErrNotFound) {
				return err
			}
			v, err := settings.Load(ctx, d)
			if err != nil {
				return err
			}
			clk := clock.System{}
			e, err := privacy.Collect(ctx, d, privacy.Declared, v, ref, clk.Now())
			if err != nil {
				return err
			}
			if out == "" {
				out = "export-" + strings.NewReplacer("@", "-at-", "/", "-").Replace(addr) + ".zip"
			}
			f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("create %s: %w; choose another --out or remove the file", out, err)
			}
			if err := e.WriteZIP(f); err != nil {
				f.Close()
				os.Remove(out)
				return fmt.Errorf("write %s: %w", out, err)
			}
			if err := f.Close(); err != nil {
				return err
			}
			if err := d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := audit.Append(ctx, tx, audit.Entry{At: clk.Now(), ActorType: audit.ActorSystem, Action: "privacy.exported",
					SubjectType: string(ref.Kind), SubjectID: fmt.Sprint(ref.ID), Detail: "command line"})
				return err
			}); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "Wrote %s: %d rows from %d tables, with what we hold, why, and for how long.\n", out, e.Rows(), len(e.Tables))
			if e.Rows() == 0 {
				fmt.Fprintln(c.OutOrStdout(), "Nothing is held about this address.")
			}
			return nil
		})
	c.Flags().StringVar(&email, "email", "", "the person's email address")
	c.Flags().StringVar(&out, "out", "", "ZIP file to write (default export-<address>.zip; never overwritten)")
	c.Flags().BoolVar(&isStaff, "staff", false, "the person is a member of staff, not a customer")
	return c
}

func eraseCommand() *cobra.Command {
	var email string
	var dryRun, yes bool
	c := cliCommandWith("erase", "Erase a customer's personal data, keeping only what the law requires (see --dry-run)", config.Stripe,
		func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB) error {
			addr, err := emailaddr.NormaliseEmail(email)
			if err != nil {
				return usageError{cmd: "erase", err: fmt.Errorf("--email: %w", err)}
			}
			if !dryRun && !yes {
				return usageError{cmd: "erase", err: errors.New("erasure cannot be undone: run with --dry-run to see what it does, then with --yes")}
			}
			ref := privacy.SubjectRef{Kind: privacy.Customer, Email: addr}
			if cu, err := customers.ByEmail(ctx, d, addr); err == nil {
				ref.ID = cu.ID
			} else if !errors.Is(err, customers.ErrNotFound) {
				return err
			}
			cp, err := newPayments(cfg, false, clock.System{})
			if err != nil {
				return err
			}
			procs, err := cp.Processors()
			if err != nil {
				return err
			}
			rep, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: ref, DryRun: dryRun,
				By: audit.Entry{ActorType: audit.ActorSystem, Detail: "command line"}}, procs, clock.System{}.Now())
			if err != nil {
				return err
			}
			return printErasure(c.OutOrStdout(), rep)
		})
	c.Flags().StringVar(&email, "email", "", "the customer's email address")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print what erasure would do, per table, and change nothing")
	c.Flags().BoolVar(&yes, "yes", false, "confirm the erasure")
	return c
}

// printErasure prints the report per table, then what the processors did
// and what staff must still do by hand.
func printErasure(out io.Writer, rep privacy.ErasureReport) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	verb := "ERASED"
	if rep.DryRun {
		verb = "WOULD BE"
	}
	fmt.Fprintf(tw, "TABLE\tROWS\t%s\tKEPT UNDER LEGAL HOLD\n", verb)
	for _, s := range rep.Steps {
		kept := "-"
		if len(s.Held) > 0 {
			kept = fmt.Sprintf("%s until %s (%s)", strings.Join(s.Held, ", "), s.HeldUntil.Format("2006-01-02"), s.HeldWhy)
		}
		what := s.Action
		if len(s.Blanked) > 0 {
			what += ": " + strings.Join(s.Blanked, ", ")
		}
		table := s.Table
		if s.NotHeld {
			table += " (not invoiced)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", table, s.Rows, what, kept)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.DryRun {
		for _, p := range rep.Processors {
			fmt.Fprintf(out, "Would ask %s to delete customer %s.\n", p.Name, p.Ref)
		}
		fmt.Fprintln(out, "Dry run: nothing was changed.")
		return nil
	}
	for _, p := range rep.Processors {
		if p.Deleted {
			fmt.Fprintf(out, "Deleted %s customer %s.\n", p.Name, p.Ref)
		}
	}
	todo := rep.StaffToDo()
	if len(todo) == 0 {
		return nil
	}
	fmt.Fprintln(out, "The data here is erased. Still to do by hand:")
	for _, line := range todo {
		fmt.Fprintln(out, "  - "+line)
	}
	return nil
}

func purgeCommand() *cobra.Command {
	return cliCommand("purge", "Delete personal data whose retention period has ended (serve does this every hour)",
		func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB) error {
			steps, err := privacy.Purge(ctx, d, privacy.Declared, clock.System{}.Now())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TABLE\tEXPIRED BEFORE\tACTION\tROWS")
			for _, s := range steps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", s.Table, s.Cutoff.Format("2006-01-02 15:04"), s.Action, s.Rows)
			}
			return tw.Flush()
		})
}

func reviewCommand() *cobra.Command {
	return cliCommand("review", "Report the personal data held, table by table, anything past its retention, legal holds, open breaches and requests near their deadline",
		func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB) error {
			rep, err := review.Build(ctx, d, privacy.Declared, review.Register{Inv: privacy.Declared, Now: clock.System{}.Now}, clock.System{}.Now())
			if err != nil {
				return err
			}
			rows := rep.Tables
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TABLE\tSUBJECT\tROWS\tOLDEST\tPAST RETENTION\tKEPT")
			expired := int64(0)
			for _, r := range rows {
				oldest := "-"
				if !r.Oldest.IsZero() {
					oldest = r.Oldest.Format("2006-01-02")
				}
				expired += r.Expired
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", r.Table, r.Subject, r.Rows, oldest, r.Expired, r.Retention)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if expired > 0 {
				fmt.Fprintf(c.OutOrStdout(), "\n%d rows are past their retention: the hourly purge in serve removes them; run 'storekeep privacy purge' to do it now.\n", expired)
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "\nLegal holds in force: %d table(s).\n", len(rep.Holds))
			for _, b := range rep.OpenBreaches {
				line := fmt.Sprintf("Open breach No. %d: %s (discovered %s)", b.ID, b.Title, b.DiscoveredAt.Format("2006-01-02 15:04 UTC"))
				if b.AuthorityPending() {
					line += "; tell the authority by " + b.Deadline().Format("2006-01-02 15:04 UTC")
				}
				fmt.Fprintln(out, line)
			}
			fmt.Fprintf(out, "Privacy requests: %d overdue, %d due within 7 days.\n", len(rep.RequestsOverdue), len(rep.RequestsDueSoon))
			if rep.Last != nil {
				fmt.Fprintf(out, "Last review recorded %s by %s. The console's Data review (/staff/review) records a new one.\n", rep.Last.At.Format("2006-01-02"), rep.Last.ByName)
			} else {
				fmt.Fprintln(out, "No review recorded yet: the console's Data review (/staff/review) records one.")
			}
			if len(rep.RecipientProblems) == 0 {
				fmt.Fprintln(out, "Recipients: every recipient has an agreement on file and every transfer out of the EEA a safeguard.")
				return nil
			}
			fmt.Fprintf(out, "Recipients: %d problem(s) in the register (console: Accountability):\n", len(rep.RecipientProblems))
			for _, p := range rep.RecipientProblems {
				fmt.Fprintf(out, "  - %s\n", p.Problem)
			}
			return nil
		})
}

func recordsCommand() *cobra.Command {
	var format, out string
	c := cliCommandWith("records", "Print the records of processing activities (GDPR Art. 30): text, JSON, CSV or PDF", config.Site,
		func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB) error {
			now := clock.System{}.Now()
			rec, err := privacy.LoadRecords(ctx, d, privacy.Declared, privacy.Facts{HTTPS: strings.HasPrefix(cfg.BaseURL, "https://")}, now)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			switch format {
			case "text":
				writeRecordsText(&buf, rec)
			case "json":
				err = rec.WriteJSON(&buf)
			case "csv":
				err = rec.WriteCSV(&buf)
			case "pdf":
				if out == "" {
					return usageError{cmd: "records", err: errors.New("--format pdf needs --out FILE")}
				}
				var pdf []byte
				pdf, err = documents.RecordsPDF(rec)
				buf.Write(pdf)
			default:
				return usageError{cmd: "records", err: fmt.Errorf("--format %q: choose text, json, csv or pdf", format)}
			}
			if err != nil {
				return err
			}
			if out == "" {
				_, err = c.OutOrStdout().Write(buf.Bytes())
				return err
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			if err := d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := audit.Append(ctx, tx, audit.Entry{At: now, ActorType: audit.ActorSystem, Action: "records.downloaded",
					SubjectType: "records", SubjectID: format, Detail: "command line"})
				return err
			}); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "Wrote %s: %d processing activities, %d recipients.\n", out, len(rec.Activities), len(rec.Recipients))
			return nil
		})
	c.Flags().StringVar(&format, "format", "text", "text, json, csv or pdf")
	c.Flags().StringVar(&out, "out", "", "write to this file instead of standard output (needed for pdf)")
	return c
}

// writeRecordsText prints the records for a terminal.
func writeRecordsText(w io.Writer, r privacy.ProcessingRecords) {
	fmt.Fprintf(w, "Records of processing activities (Art. 30 GDPR), %s\n\n", r.GeneratedAt.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "Controller: %s; privacy contact %s\n", r.Controller.Name, r.Controller.PrivacyEmail)
	for i, a := range r.Activities {
		fmt.Fprintf(w, "\n%d. %s\n", i+1, a.Name)
		fmt.Fprintf(w, "   purpose:     %s\n   legal basis: %s\n", a.Description, a.LegalBasis)
		fmt.Fprintf(w, "   subjects:    %s\n   data:        %s\n", strings.Join(a.Subjects, ", "), strings.Join(a.Categories, "; "))
		fmt.Fprintf(w, "   recipients:  %s\n   transfers:   %s\n", privacy.Join(a.Recipients), privacy.Join(a.Transfers))
		for _, ret := range a.Retention {
			fmt.Fprintf(w, "   retention:   %s\n", ret)
		}
	}
	fmt.Fprintln(w, "\nRecipients:")
	for _, rc := range r.Recipients {
		agreement := rc.AgreementRef
		if agreement == "" {
			agreement = "NONE ON FILE"
		}
		where := rc.Location
		if rc.OutsideEEA {
			where += "; outside the EEA: " + rc.Safeguard
		}
		fmt.Fprintf(w, "  - %s (%s): %s; %s; agreement: %s\n", rc.Name, rc.Kind, rc.Purpose, where, agreement)
	}
	fmt.Fprintln(w, "\nSecurity measures in force:")
	for _, m := range r.Security {
		fmt.Fprintf(w, "  - %s\n", m)
	}
}
