package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/mail"
)

// mailCommands are the subcommands of "storekeep mail", in the order help
// lists them. A new one is one more constructor here.
var mailCommands = []func() *cobra.Command{
	mailDKIMKeygenCommand, suppressionsCommand,
}

// mailCommand groups the commands about outgoing mail.
func mailCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "mail",
		Short: "Outgoing mail: DKIM keys (dkim-keygen), the suppression list (suppressions)",
		Args:  cobra.NoArgs,
	}
	for _, sub := range mailCommands {
		c.AddCommand(sub())
	}
	return c
}

func mailDKIMKeygenCommand() *cobra.Command {
	var domain, selector, keyType, out string
	c := &cobra.Command{
		Use:   "dkim-keygen --domain DOMAIN --selector SELECTOR --out FILE",
		Short: "Create a DKIM signing key and print the DNS record to publish",
		Long: `Writes a new DKIM private key to FILE (PKCS #8 PEM, mode 0600; an existing
file is never overwritten) and prints the TXT record that publishes its public
key at SELECTOR._domainkey.DOMAIN, then the flags that make serve sign with it.

RSA (2048 bits) is the default because every receiver verifies it; Ed25519
(RFC 8463) makes short records, but receivers that do not verify it yet treat
the mail as unsigned. To rotate, make a key under a new selector, publish it,
switch the flags, and remove the old record a few days later
(docs/mail-deliverability.md).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var missing []string
			for _, f := range []struct{ name, v, eg string }{
				{"--domain", domain, "--domain example.com"},
				{"--selector", selector, "--selector sk2026"},
				{"--out", out, "--out /etc/storekeep/dkim-sk2026.pem"},
			} {
				if f.v == "" {
					missing = append(missing, f.name+" (e.g. "+f.eg+")")
				}
			}
			if len(missing) > 0 {
				return usageError{err: fmt.Errorf("missing %s", strings.Join(missing, ", "))}
			}
			if keyType != "ed25519" && keyType != "rsa" {
				return usageError{err: fmt.Errorf("--type %q: use ed25519 or rsa", keyType)}
			}
			key, pemBytes, err := mail.GenerateDKIMKey(keyType)
			if err != nil {
				return fmt.Errorf("generate the DKIM key: %w", err)
			}
			// The same checks serve makes, before anything is written.
			signer, err := mail.NewDKIMSigner(domain, selector, key)
			if err != nil {
				return usageError{err: err}
			}
			record, err := mail.DKIMRecord(key.Public())
			if err != nil {
				return err
			}
			if err := writeNewSecret(out, pemBytes); err != nil {
				return err
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "Wrote a new %s DKIM key to %s (mode 0600). Keep it secret and back it up.\n\n", keyType, out)
			fmt.Fprintf(w, "1. Publish this TXT record in the DNS zone of %s:\n\n", signer.Domain())
			fmt.Fprintf(w, "%s\n\n", mail.DKIMZoneLine(signer.Selector(), signer.Domain(), record))
			fmt.Fprintf(w, "2. Check that it is visible (DNS can take a while):\n\n   dig +short TXT %s\n\n", mail.DKIMRecordName(signer.Selector(), signer.Domain()))
			fmt.Fprintf(w, "3. Then start serve with\n\n   --dkim-domain %s --dkim-selector %s --dkim-key %s\n\n", signer.Domain(), signer.Selector(), out)
			fmt.Fprintf(w, "   (or STOREKEEP_DKIM_DOMAIN, STOREKEEP_DKIM_SELECTOR, STOREKEEP_DKIM_KEY).\n")
			fmt.Fprintf(w, "   The sender address (--smtp-from) should be in %s for DMARC; see docs/mail-deliverability.md for SPF and DMARC.\n", signer.Domain())
			if keyType == "ed25519" {
				fmt.Fprintf(w, "\nNote: receivers that do not verify Ed25519 signatures treat this mail as unsigned; use --type rsa unless you know yours do.\n")
			}
			return nil
		},
	}
	c.Flags().StringVar(&domain, "domain", "", "the signing domain, normally the domain of the sender address")
	c.Flags().StringVar(&selector, "selector", "", "the selector the key is published under, e.g. sk2026 (a new one for each key)")
	c.Flags().StringVar(&keyType, "type", "rsa", "key type: rsa (2048 bits) or ed25519")
	c.Flags().StringVar(&out, "out", "", "file to write the private key to; must not exist")
	return c
}

// writeNewSecret creates path with mode 0600 and writes b; it never
// replaces a file.
func writeNewSecret(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return usageError{err: fmt.Errorf("%s exists already and is left as it is: choose another --out (a new key goes with a new selector), or remove the old file yourself once no published record needs it", path)}
	case errors.Is(err, fs.ErrNotExist):
		return usageError{err: fmt.Errorf("cannot create %s: the directory %s does not exist; create it first (mode 0700)", path, filepath.Dir(path))}
	case err != nil:
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// dkimSigner loads the configured DKIM key; nil without one. A key that
// cannot be used stops the start with what to do. The log names the
// domain, selector and key type, never the key.
func dkimSigner(cfg *config.Config, log *slog.Logger) (*mail.DKIMSigner, error) {
	if cfg.DKIMKey == "" {
		return nil, nil
	}
	if cfg.DKIMDomain == "" || cfg.DKIMSelector == "" {
		return nil, errors.New("--dkim-key needs --dkim-domain and --dkim-selector: give the domain and selector its record is published under (storekeep mail dkim-keygen printed them)")
	}
	key, err := mail.LoadDKIMKey(cfg.DKIMKey)
	if err != nil {
		return nil, err
	}
	s, err := mail.NewDKIMSigner(cfg.DKIMDomain, cfg.DKIMSelector, key)
	if err != nil {
		return nil, fmt.Errorf("--dkim-domain/--dkim-selector: %w", err)
	}
	log.Info("mail: signing outgoing mail with DKIM", "domain", s.Domain(), "selector", s.Selector(), "key_type", s.KeyType(),
		"record", mail.DKIMRecordName(s.Selector(), s.Domain()))
	if cfg.SMTPFrom != "" {
		if a, err := netmail.ParseAddress(cfg.SMTPFrom); err == nil {
			if d := strings.ToLower(a.Address[strings.LastIndexByte(a.Address, '@')+1:]); !dkimAligned(d, s.Domain()) {
				log.Warn("mail: the DKIM domain is not the sender's domain or a parent of it: receivers' DMARC checks will not count the signature", "dkim_domain", s.Domain(), "from_domain", d)
			}
		}
	}
	return s, nil
}

// dkimAligned reports whether a signature by dkimDomain can align with a
// From address in fromDomain under DMARC's relaxed mode: the same domain,
// or a parent of it (the organisational domain is not computed here).
func dkimAligned(fromDomain, dkimDomain string) bool {
	return fromDomain == dkimDomain || strings.HasSuffix(fromDomain, "."+dkimDomain)
}
