package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/privacy"
)

func privacyCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "privacy",
		Short: "The data inventory and privacy tools",
	}
	c.AddCommand(inventoryCommand())
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
