package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/settings"
)

// mailClock is the time the mail commands work with.
var mailClock clock.Clock = clock.System{}

// suppressionsCommand is "storekeep mail suppressions list|remove": staff
// see the suppression list and lift an entry (docs/mailing.md).
func suppressionsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "suppressions",
		Short: "The addresses bulk mail no longer goes to (hard bounces, repeated soft bounces, complaints): list, remove",
	}
	c.AddCommand(suppressionsListCommand(), suppressionsRemoveCommand())
	return c
}

func suppressionsListCommand() *cobra.Command {
	var address string
	c := cliCommand("list", "List the suppression list, newest first (entries hold no address: give --address to look one up)",
		func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB) error {
			now := mailClock.Now()
			var list []mail.Suppression
			if address != "" {
				a, err := emailaddr.NormaliseEmail(address)
				if err != nil {
					return usageError{err: fmt.Errorf("--address: %w", err)}
				}
				secret, err := settings.InstallSecret(ctx, d, now)
				if err != nil {
					return err
				}
				e, ok, err := mail.NewSuppressions(secret).Lookup(ctx, d, a)
				if err != nil {
					return err
				}
				if ok {
					list = append(list, e)
				}
			} else {
				var err error
				if list, err = mail.ListSuppressions(ctx, d); err != nil {
					return err
				}
			}
			// The list ties customers to bounces and complaints: recorded
			// like a view in the console.
			if err := d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := audit.Append(ctx, tx, audit.Entry{At: now, ActorType: audit.ActorSystem, Action: "personal_data.view",
					SubjectType: "mail_suppressions", SubjectID: "list", Detail: "command line"})
				return err
			}); err != nil {
				return err
			}
			out := c.OutOrStdout()
			if len(list) == 0 {
				fmt.Fprintln(out, "No suppressed addresses match.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSINCE\tREASON\tOUTBOX\tCUSTOMER\tDETAIL")
			for _, e := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.CreatedAt.UTC().Format(time.DateOnly), e.Reason,
					idOrDash(e.OutboxID), idOrDash(e.CustomerID), e.Detail)
			}
			return tw.Flush()
		})
	c.Flags().StringVar(&address, "address", "", "show only the entry of this address, if it is suppressed")
	return c
}

func idOrDash(id int64) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatInt(id, 10)
}

func suppressionsRemoveCommand() *cobra.Command {
	return cliCommandArgs("remove ADDRESS|ID", "Lift a suppression, so bulk mail goes to the address again (audited as mail.suppression_lifted)",
		0, cobra.ExactArgs(1), func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB, args []string) error {
			now := mailClock.Now()
			var removed mail.Suppression
			var ok bool
			// Read before the transaction: on SQLite it may write the
			// secret, and the one writer is the transaction's.
			secret, err := settings.InstallSecret(ctx, d, now)
			if err != nil {
				return err
			}
			err = d.Tx(ctx, func(tx *sql.Tx) error {
				var err error
				if id, perr := strconv.ParseInt(args[0], 10, 64); perr == nil {
					removed.ID = id
					ok, err = mail.RemoveSuppression(ctx, tx, id)
				} else {
					a, aerr := emailaddr.NormaliseEmail(args[0])
					if aerr != nil {
						return usageError{err: fmt.Errorf("give an address such as name@example.com or an ID from 'storekeep mail suppressions list': %w", aerr)}
					}
					removed, ok, err = mail.NewSuppressions(secret).RemoveAddress(ctx, tx, a)
				}
				if err != nil || !ok {
					return err
				}
				_, err = audit.Append(ctx, tx, audit.Entry{At: now, ActorType: audit.ActorSystem, Action: "mail.suppression_lifted",
					SubjectType: "mail_suppression", SubjectID: strconv.FormatInt(removed.ID, 10), Detail: "command line"})
				return err
			})
			var ue usageError
			if errors.As(err, &ue) {
				return ue
			}
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s is not on the suppression list", args[0])
			}
			fmt.Fprintf(c.OutOrStdout(), "Suppression %d lifted: bulk mail goes to the address again.\n", removed.ID)
			return nil
		})
}
