package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
)

func migrateCommand() *cobra.Command {
	var cfg config.Config
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations (creating the database if it does not exist)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError{err: err}
			}
			if err := configureInventory(&cfg); err != nil {
				return err
			}
			d, err := db.Open(c.Context(), cfg.DB)
			if err != nil {
				return err
			}
			defer d.Close()
			applied, err := d.Migrate(c.Context())
			for _, m := range applied {
				fmt.Fprintf(c.OutOrStdout(), "applied %05d %s\n", m.Version, m.Name)
			}
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintf(c.OutOrStdout(), "%s is up to date; nothing to apply\n", d)
			}
			return nil
		},
	}
	cfg.BindGroups(c.Flags(), config.DB|config.Log)
	return c
}

func configCommand() *cobra.Command {
	var cfg config.Config
	c := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration (secrets masked)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError{err: err}
			}
			if err := configureInventory(&cfg); err != nil {
				return err
			}
			return cfg.Print(c.OutOrStdout())
		},
	}
	cfg.Bind(c.Flags())
	return c
}
