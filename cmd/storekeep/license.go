package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/licensing"
)

func licenseCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "license",
		Short: "Manage the keys that sign license keys and license files",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(licenseKeygenCommand())
	return c
}

func licenseKeygenCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "keygen --dir DIR",
		Short: "Create an Ed25519 license signing key in DIR and make it the active one",
		Long: `Creates DIR (mode 0700) if needed, writes a new signing key to DIR/<kid>.key
(PKCS #8 PEM, mode 0600) and names it in DIR/active, so it signs every
license from the next start of serve (--license-keys DIR). Keys made before
stay in DIR and keep verifying what they signed: never delete one while
licenses it signed are in use. Back DIR up; it is not in the database.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError{err: errors.New("--dir is missing: name the directory to keep the license keys in, e.g. --dir /etc/storekeep/license-keys")}
			}
			kid, err := licensing.GenerateKey(dir, rand.Reader)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "created %s and made it the active license key (kid %s)\nstart serve with --license-keys %s (or STOREKEEP_LICENSE_KEYS)\n",
				filepath.Join(dir, kid+".key"), kid, dir)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory of the license signing keys")
	return c
}

// loadLicenseKeys loads the configured signing keys; without any, serve
// runs, says that paid orders issue no licenses, and how to change that.
func loadLicenseKeys(cfg *config.Config, log *slog.Logger) (*licensing.Keyring, error) {
	if cfg.LicenseKeys == "" {
		log.Warn("no license signing keys (--license-keys): paid orders issue no licenses; create keys with `storekeep license keygen --dir DIR`")
		return nil, nil
	}
	k, err := licensing.LoadKeyring(cfg.LicenseKeys)
	if err != nil {
		return nil, err
	}
	log.Info("license signing keys loaded", "active_kid", k.ActiveKID(), "keys", len(k.Published()))
	return k, nil
}

// demoLicenseKeys makes the demo's signing key once.
func demoLicenseKeys(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "active")); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("demo license keys: %w", err)
	}
	_, err := licensing.GenerateKey(dir, rand.Reader)
	return err
}
