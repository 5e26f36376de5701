package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/requests"
)

// requestsClock is the time the request commands work with.
var requestsClock clock.Clock = clock.System{}

func requestsCommand() *cobra.Command {
	var state string
	var overdue bool
	c := cliCommand("requests", "List privacy requests with their deadlines (handled in the staff console under Privacy requests)",
		func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB) error {
			st := requests.State(state)
			if st != "" && !st.Valid() {
				names := make([]string, len(requests.States))
				for i, s := range requests.States {
					names[i] = string(s)
				}
				return usageError{err: fmt.Errorf("--state %q is not a state: choose one of %s", state, strings.Join(names, ", "))}
			}
			now := requestsClock.Now()
			list, err := requests.List(ctx, d, requests.Filter{State: st, Overdue: overdue, Now: now})
			if err != nil {
				return err
			}
			// The list shows requesters' addresses: recorded like a view in
			// the console.
			if err := d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := audit.Append(ctx, tx, audit.Entry{At: now, ActorType: audit.ActorSystem, Action: "personal_data.view",
					SubjectType: "privacy_requests", SubjectID: "list", Detail: "command line"})
				return err
			}); err != nil {
				return err
			}
			out := c.OutOrStdout()
			if len(list) == 0 {
				fmt.Fprintln(out, "No privacy requests match.")
			} else {
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NO\tRECEIVED\tDUE\tDEADLINE\tSTATE\tKIND\tCHANNEL\tEMAIL")
				for _, r := range list {
					due := r.Deadline().Format(time.DateOnly)
					if !r.ExtendedDueAt.IsZero() {
						due += " (extended)"
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.ReceivedAt.Format(time.DateOnly), due, deadlineText(r, now),
						r.State, r.Kind, r.Channel, r.Email)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			late, soon, err := requests.Urgency(ctx, d, now)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%d overdue, %d due within %d days (of all open requests).\n", late, soon, int(requests.NearDue/(24*time.Hour)))
			return nil
		})
	c.Flags().StringVar(&state, "state", "", "only requests in this state (received, verifying, in_progress, extended, completed, refused)")
	c.Flags().BoolVar(&overdue, "overdue", false, "only open requests past their deadline")
	return c
}

// deadlineText says how a request stands against its deadline.
func deadlineText(r requests.Request, now time.Time) string {
	switch days := r.DaysLeft(now); {
	case !r.Open():
		return "-"
	case r.Overdue(now):
		return fmt.Sprintf("OVERDUE by %dd", -days)
	case r.DueSoon(now):
		return fmt.Sprintf("DUE SOON, %dd left", days)
	default:
		return fmt.Sprintf("%dd left", days)
	}
}

func digestCommand() *cobra.Command {
	return cliCommand("digest", "Email the owners the privacy requests that are overdue or due within 7 days (at most once a day)",
		func(ctx context.Context, c *cobra.Command, _ *config.Config, d *db.DB) error {
			now := requestsClock.Now()
			n, err := requests.SendDigest(ctx, d, now)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			g, err := requests.Digest(ctx, d, now)
			if err != nil {
				return err
			}
			switch {
			case g.Empty():
				fmt.Fprintln(out, "Nothing to report: no privacy request is overdue or due within 7 days. No mail was queued.")
			case n == 0:
				fmt.Fprintln(out, "Today's digest was queued already (or there is no active owner); nothing more was queued.")
			default:
				fmt.Fprintf(out, "Queued the digest for %d owner(s): %d overdue, %d due within 7 days. The mail worker of 'storekeep serve' sends it.\n",
					n, len(g.Overdue), len(g.DueSoon))
			}
			return nil
		})
}
