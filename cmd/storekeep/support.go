package main

import "github.com/spf13/cobra"

// supportCommands are the subcommands of "storekeep support", in the
// order help lists them. A new one is one more constructor here.
var supportCommands = []func() *cobra.Command{
	ingestCommand,
}

// supportCommand groups the support desk's commands.
func supportCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "support",
		Short: "The support desk: take in mail (ingest)",
	}
	for _, sub := range supportCommands {
		c.AddCommand(sub())
	}
	return c
}
