package main

import "github.com/spf13/cobra"

// mailCommands are the subcommands of "storekeep mail", in the order help
// lists them. A new one is one more constructor here.
var mailCommands = []func() *cobra.Command{
	suppressionsCommand,
}

// mailCommand groups the commands about outgoing mail.
func mailCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "mail",
		Short: "Outgoing mail: the suppression list (suppressions)",
	}
	for _, sub := range mailCommands {
		c.AddCommand(sub())
	}
	return c
}
