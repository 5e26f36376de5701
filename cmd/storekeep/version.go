package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/buildinfo"
)

// version is the one-word version the start-up log and the site's
// footer show.
func version() string { return buildinfo.Read().Short() }

func versionCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date, Go version and platform",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			in := buildinfo.Read()
			out := c.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(in)
			}
			commit, date := in.Commit, in.Date
			if commit == "" {
				commit = "unknown (built outside a Git checkout)"
			} else if in.Modified {
				commit += " (with uncommitted changes)"
			}
			if date == "" {
				date = "unknown"
			}
			fmt.Fprintf(out, "storekeep %s\ncommit:   %s\ndate:     %s\ngo:       %s\nplatform: %s/%s\n", in.Short(), commit, date, in.GoVersion, in.OS, in.Arch)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}
