package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
)

func staffCommand() *cobra.Command {
	c := &cobra.Command{Use: "staff", Short: "Manage staff accounts of the console"}
	c.AddCommand(staffCreateCommand(), staffListCommand(), staffResetLinkCommand(), staffResetTwoFactorCommand())
	return c
}

// recordCLI appends an audit entry for an action taken on the command line:
// whoever runs the command has the server's database credentials, so the
// actor is the system.
func recordCLI(ctx context.Context, tx *sql.Tx, now clock.Clock, action string, id int64, detail string) error {
	_, err := audit.Append(ctx, tx, audit.Entry{At: now.Now(), ActorType: audit.ActorSystem, Action: action,
		SubjectType: "staff", SubjectID: fmt.Sprint(id), Detail: "command line" + detail})
	return err
}

func setupURL(cfg *config.Config, token string) string {
	return cfg.BaseURL + "/staff/setup?token=" + token
}

func staffCreateCommand() *cobra.Command {
	var email, name, role string
	c := cliCommandWith("create", "Create a staff account and print a one-time link to choose its password", config.Site,
		func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB) error {
			if email == "" {
				return usageError{err: errors.New("--email is required")}
			}
			clk := clock.System{}
			var link string
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				a, err := staff.Create(ctx, tx, email, name, staff.Role(role), clk.Now())
				if err != nil {
					return err
				}
				token, err := staff.IssueToken(ctx, tx, a.ID, staff.SetupToken, clk.Now())
				if err != nil {
					return err
				}
				link = setupURL(cfg, token)
				return recordCLI(ctx, tx, clk, "staff.created", a.ID, "; role="+string(a.Role))
			})
			if errors.Is(err, staff.ErrExists) {
				return fmt.Errorf("%w; use 'storekeep staff reset-link --email %s' to let them set a new password", err, email)
			}
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "Created %s account %s.\n", role, strings.ToLower(email))
			fmt.Fprintf(out, "Open this link within 72 hours to choose the password (it works once):\n\n  %s\n\n", link)
			required, err := settings.RequireTwoFactor(ctx, d)
			if err != nil {
				return err
			}
			if required || staff.Role(role).RequiresTwoFactor() {
				fmt.Fprintln(out, "The first sign-in sets up two-factor authentication: have an authenticator app ready.")
			}
			return nil
		})
	c.Flags().StringVar(&email, "email", "", "email address of the account (required)")
	c.Flags().StringVar(&name, "name", "", "the person's name")
	c.Flags().StringVar(&role, "role", "owner", "role: owner, support, finance or analyst")
	return c
}

func staffListCommand() *cobra.Command {
	c := cliCommand("list", "List staff accounts", func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB) error {
		accounts, err := staff.List(ctx, d)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NO.\tEMAIL\tROLE\t2FA\tSTATE")
		for _, a := range accounts {
			state := "active"
			switch {
			case a.Disabled:
				state = "disabled"
			case !a.HasPassword:
				state = "invited"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\n", a.ID, a.Email, a.Role, a.HasTOTP, state)
		}
		return tw.Flush()
	})
	return c
}

func staffResetLinkCommand() *cobra.Command {
	var email string
	c := cliCommandWith("reset-link", "Print a one-time link to set a new password (valid one hour)", config.Site,
		func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB) error {
			clk := clock.System{}
			var link string
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				a, err := staff.ByEmail(ctx, tx, email)
				if err != nil {
					return fmt.Errorf("%s: %w; 'storekeep staff list' shows the accounts", email, err)
				}
				token, err := staff.IssueToken(ctx, tx, a.ID, staff.ResetToken, clk.Now())
				if err != nil {
					return err
				}
				link = setupURL(cfg, token)
				return recordCLI(ctx, tx, clk, "staff.reset_link", a.ID, "")
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "Open this link within one hour to choose a new password (it works once):\n\n  %s\n\n", link)
			return nil
		})
	c.Flags().StringVar(&email, "email", "", "email address of the account")
	return c
}

func staffResetTwoFactorCommand() *cobra.Command {
	var email string
	c := cliCommand("reset-2fa", "Remove an account's second factor (it enrols again at the next sign-in)",
		func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB) error {
			clk := clock.System{}
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				a, err := staff.ByEmail(ctx, tx, email)
				if err != nil {
					return fmt.Errorf("%s: %w; 'storekeep staff list' shows the accounts", email, err)
				}
				if err := staff.ResetTwoFactor(ctx, tx, a.ID, clk.Now()); err != nil {
					return err
				}
				return recordCLI(ctx, tx, clk, "staff.reset_2fa", a.ID, "")
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "Two-factor authentication of %s is reset and its sessions are signed out.\n", email)
			return nil
		})
	c.Flags().StringVar(&email, "email", "", "email address of the account")
	return c
}

func auditCommand() *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "The tamper-evident audit log"}
	verify := cliCommand("verify", "Check the audit log's hash chain from the oldest entry to the newest",
		func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB) error {
			progress := func(n int64) {
				if n%10000 == 0 {
					fmt.Fprintf(os.Stderr, "\rchecked %d entries…", n)
				}
			}
			n, err := audit.Verify(ctx, d, progress)
			if n >= 10000 {
				fmt.Fprintln(os.Stderr)
			}
			if audit.IsBroken(err) {
				return fmt.Errorf("%w; %d entries before it are intact. The log was changed outside Storekeep: keep a copy of the database for investigation and restore the log from a backup", err, n)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "The audit log is intact: %d entries, each linked to the one before.\n", n)
			return nil
		})
	c.AddCommand(verify)
	return c
}
