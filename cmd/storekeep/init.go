package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/storekeep/storekeep/deploy"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/staff"
)

// initAnswers is what storekeep init asks for.
type initAnswers struct {
	domain, https, ownerEmail, ownerName string
	relay, smtpUser, smtpFrom            string
}

// relayTimeout bounds the check that the mail relay answers.
var relayTimeout = 5 * time.Second

func initCommand() *cobra.Command {
	var cfg config.Config
	var a initAnswers
	var envFile string
	var yes, force bool
	c := &cobra.Command{
		Use:   "init",
		Short: "Set up a new installation: the site's domain, the first owner and the mail relay",
		Long: `Asks for the site's domain, the first owner's email address and the mail
relay (or takes them from the flags, with --yes for scripts), checks them,
writes the settings to the environment file the service reads, creates the
database and the owner's account, and says what to do next.

An environment file that already holds settings is not replaced without
--force; the package's file, which only has comments, is.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			in := bufio.NewReader(c.InOrStdin())
			out := c.OutOrStdout()
			if !yes {
				if err := askInit(in, out, &a); err != nil {
					return err
				}
			}
			set, check, err := initSettings(&cfg, c.Flags(), a)
			if err != nil {
				return usageError{err: err}
			}
			if err := refuseConfigured(envFile, force); err != nil {
				return err
			}
			if !yes {
				fmt.Fprintf(out, "\nWrite %s, create the database %s and the owner %s? [Y/n] ", envFile, db.Redact(check.DB), a.ownerEmail)
				if ans, _ := readLine(in); ans != "" && !strings.HasPrefix(strings.ToLower(ans), "y") {
					return errors.New("nothing changed")
				}
			}
			if a.relay != "" {
				if err := checkRelay(c.Context(), check.SMTPHost, check.SMTPPort); err != nil {
					fmt.Fprintf(out, "warning: the mail relay %s: %v. Storekeep keeps mail in its outbox and retries, but until the relay answers no mail goes out: check the address and the firewall.\n",
						net.JoinHostPort(check.SMTPHost, strconv.Itoa(check.SMTPPort)), err)
				}
			}
			link, existed, err := initDatabase(c.Context(), check, a)
			if err != nil {
				return err
			}
			content, err := deploy.EnvFileFor(set)
			if err != nil {
				return err
			}
			if err := writeEnvFile(envFile, content); err != nil {
				return err
			}
			printNextSteps(out, envFile, check, a, link, existed)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&envFile, "env-file", deploy.EnvFilePath, "the environment file to write (the service's EnvironmentFile)")
	f.StringVar(&a.domain, "domain", "", "the site's host name, e.g. shop.example.com")
	f.StringVar(&a.https, "https", "", "auto (the default): Storekeep gets certificates itself and listens on ports 443 and 80; proxy: a reverse proxy on this machine terminates HTTPS")
	f.StringVar(&a.ownerEmail, "owner-email", "", "email address of the first owner (a staff account with every permission)")
	f.StringVar(&a.ownerName, "owner-name", "", "the owner's name")
	f.StringVar(&a.relay, "smtp-relay", "", "mail relay for outgoing mail, host or host:port (default port 587); empty: set it later")
	f.StringVar(&a.smtpUser, "smtp-username", "", "user name at the relay (the password goes into the file from STOREKEEP_SMTP_PASSWORD, or add it there later)")
	f.StringVar(&a.smtpFrom, "smtp-from", "", "sender address of outgoing mail (default: the support address of the business settings)")
	f.BoolVar(&yes, "yes", false, "ask nothing: take the flags (--domain and --owner-email are then required)")
	f.BoolVar(&force, "force", false, "replace an environment file that already holds settings")
	cfg.BindGroups(f, config.DB|config.Log)
	// A package's installation keeps its data in /var/lib/storekeep.
	if _, ok := os.LookupEnv("STOREKEEP_DATA_DIR"); !ok {
		cfg.DataDir = deploy.DataDir
		f.Lookup("data-dir").DefValue = deploy.DataDir
	}
	return c
}

// askInit asks for each answer the flags did not give.
func askInit(in *bufio.Reader, out io.Writer, a *initAnswers) error {
	ask := func(v *string, question, def string, required bool) error {
		if *v != "" {
			return nil
		}
		for {
			if def != "" {
				fmt.Fprintf(out, "%s [%s]: ", question, def)
			} else {
				fmt.Fprintf(out, "%s: ", question)
			}
			ans, err := readLine(in)
			if ans == "" {
				ans = def
			}
			if ans != "" || !required {
				*v = ans
				return nil
			}
			if err != nil {
				return usageError{err: fmt.Errorf("no answer to %q: give the flags instead, with --yes (storekeep init --help)", question)}
			}
		}
	}
	fmt.Fprintln(out, "Setting up Storekeep. Press Enter to take the value in brackets.")
	if err := ask(&a.domain, "Domain of the site (e.g. shop.example.com)", "", true); err != nil {
		return err
	}
	if err := ask(&a.https, "HTTPS: auto (Storekeep gets certificates, ports 80 and 443) or proxy (a reverse proxy in front)", "auto", true); err != nil {
		return err
	}
	if err := ask(&a.ownerEmail, "Email address of the first owner", "", true); err != nil {
		return err
	}
	if err := ask(&a.ownerName, "The owner's name", "", false); err != nil {
		return err
	}
	if err := ask(&a.relay, "Mail relay, host:port (empty: later)", "", false); err != nil {
		return err
	}
	if a.relay != "" {
		if err := ask(&a.smtpUser, "User name at the relay (empty: none)", "", false); err != nil {
			return err
		}
	}
	return nil
}

func readLine(in *bufio.Reader) (string, error) {
	line, err := in.ReadString('\n')
	return strings.TrimSpace(line), err
}

// initSettings turns the answers into the environment file's settings and
// checks them with the configuration's own validation, as serve will read
// them. The returned Config is that validated configuration.
func initSettings(cfg *config.Config, flags *pflag.FlagSet, a initAnswers) (map[string]string, *config.Config, error) {
	if a.domain == "" || a.ownerEmail == "" {
		return nil, nil, errors.New("--domain and --owner-email are required with --yes, e.g. --domain shop.example.com --owner-email you@example.com")
	}
	domain := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(a.domain), "."))
	// The domain is checked as --tls-domains checks host names, in
	// either HTTPS mode.
	var probe config.Config
	if err := validateWith(&probe, map[string]string{"STOREKEEP_TLS_DOMAINS": domain}); err != nil {
		return nil, nil, fmt.Errorf("--domain %q: %w", a.domain, err)
	}
	if _, err := emailaddr.NormaliseEmail(a.ownerEmail); err != nil {
		return nil, nil, fmt.Errorf("--owner-email %q: %w", a.ownerEmail, err)
	}
	set := map[string]string{"STOREKEEP_BASE_URL": "https://" + domain, "STOREKEEP_DATA_DIR": cfg.DataDir}
	if flags.Changed("db") {
		set["STOREKEEP_DB"] = cfg.DB
	}
	switch a.https {
	case "auto", "":
		set["STOREKEEP_TLS_DOMAINS"] = domain
		set["STOREKEEP_ACME_EMAIL"] = a.ownerEmail
	case "proxy":
		set["STOREKEEP_ADDR"] = "127.0.0.1:8080"
		set["STOREKEEP_TRUSTED_PROXIES"] = "127.0.0.1,::1"
	default:
		return nil, nil, fmt.Errorf("--https %q: use auto (Storekeep gets certificates itself) or proxy (a reverse proxy terminates HTTPS)", a.https)
	}
	if a.relay != "" {
		host, port, err := net.SplitHostPort(a.relay)
		if err != nil {
			host, port = a.relay, "587"
		}
		if host == "" || strings.ContainsAny(host, " /@") {
			return nil, nil, fmt.Errorf("--smtp-relay %q is not host or host:port: give e.g. smtp.example.com:587", a.relay)
		}
		set["STOREKEEP_SMTP_HOST"], set["STOREKEEP_SMTP_PORT"] = host, port
		if a.smtpUser != "" {
			set["STOREKEEP_SMTP_USERNAME"] = a.smtpUser
		}
		if pw := os.Getenv("STOREKEEP_SMTP_PASSWORD"); pw != "" {
			set["STOREKEEP_SMTP_PASSWORD"] = pw
		}
	}
	if a.smtpFrom != "" {
		from, err := emailaddr.NormaliseEmail(a.smtpFrom)
		if err != nil {
			return nil, nil, fmt.Errorf("--smtp-from %q: %w", a.smtpFrom, err)
		}
		set["STOREKEEP_SMTP_FROM"] = from
	}
	check := new(config.Config)
	if err := validateWith(check, set); err != nil {
		return nil, nil, err
	}
	return set, check, nil
}

// validateWith sets the settings (by variable name) on a fresh
// configuration, over its defaults and environment, and validates it.
func validateWith(c *config.Config, set map[string]string) error {
	fs := pflag.NewFlagSet("init", pflag.ContinueOnError)
	c.Bind(fs)
	for _, s := range config.Settings() {
		if v, ok := set[s.Env]; ok {
			if err := fs.Set(s.Flag, v); err != nil {
				return fmt.Errorf("--%s %q: %w", s.Flag, v, err)
			}
		}
	}
	return c.Validate()
}

// refuseConfigured refuses an environment file that holds settings
// already, unless force.
func refuseConfigured(path string, force bool) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	set, err := config.ReadEnvFile(bytes.NewReader(b))
	if err == nil && len(set) == 0 {
		return nil // the package's file: comments only
	}
	if !force {
		return fmt.Errorf("%s holds settings already: this installation has been set up (storekeep config shows them). Edit the file, or run init with --force to replace it", path)
	}
	return nil
}

// checkRelay connects to the relay and reads its greeting.
func checkRelay(ctx context.Context, host string, port int) error {
	ctx, cancel := context.WithTimeout(ctx, relayTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("cannot connect (%w)", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(relayTimeout))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no greeting (%w)", err)
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("it greets with %q, not an SMTP 220", strings.TrimSpace(line))
	}
	return nil
}

// initDatabase creates and migrates the database and the owner's account,
// and returns the owner's setup link. An owner that exists already (a
// second init with --force) is left as it is.
func initDatabase(ctx context.Context, cfg *config.Config, a initAnswers) (link string, existed bool, err error) {
	if err := configureInventory(cfg); err != nil {
		return "", false, err
	}
	t, err := db.ParseDSN(cfg.DB)
	if err != nil {
		return "", false, err
	}
	if t.Dialect == db.SQLite {
		if err := os.MkdirAll(filepath.Dir(t.Path), 0o750); err != nil {
			return "", false, err
		}
	}
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return "", false, err
	}
	if _, err := d.Migrate(ctx); err != nil {
		_ = d.Close()
		return "", false, err
	}
	clk := clock.System{}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		acct, err := staff.Create(ctx, tx, a.ownerEmail, a.ownerName, staff.Owner, clk.Now())
		if err != nil {
			return err
		}
		token, err := staff.IssueToken(ctx, tx, acct.ID, staff.SetupToken, clk.Now())
		if err != nil {
			return err
		}
		link = setupURL(cfg, token)
		return recordCLI(ctx, tx, clk, "staff.created", acct.ID, "; role=owner; storekeep init")
	})
	if errors.Is(err, staff.ErrExists) {
		existed, err = true, nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", false, err
	}
	if t.Dialect == db.SQLite {
		if err := chownLikeDir(t.Path); err != nil {
			return "", false, err
		}
	}
	return link, existed, nil
}

// chownLikeDir gives the database files root made to the owner of their
// directory: init runs as root, the service as the storekeep user, who
// owns /var/lib/storekeep and must be able to write the database.
func chownLikeDir(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	info, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chown(p, int(st.Uid), int(st.Gid)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("give the database to the service's user: %w", err)
		}
	}
	return nil
}

// writeEnvFile replaces path with content, mode 0640, keeping the group
// of the file it replaces (the package's root:storekeep) or taking its
// directory's: the service's group reads it, nobody else.
func writeEnvFile(path string, content []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	gid := -1
	for _, p := range []string{path, dir} {
		if info, err := os.Stat(p); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				gid = int(st.Gid)
				break
			}
		}
	}
	tmp, err := os.CreateTemp(dir, ".storekeep.env-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o640); err != nil {
		_ = tmp.Close()
		return err
	}
	if gid >= 0 && os.Geteuid() == 0 {
		if err := tmp.Chown(0, gid); err != nil {
			_ = tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func printNextSteps(out io.Writer, envFile string, cfg *config.Config, a initAnswers, link string, existed bool) {
	domain := strings.TrimPrefix(cfg.BaseURL, "https://")
	fmt.Fprintf(out, "\nStorekeep is set up for %s.\nSettings: %s (storekeep config prints them).\nDatabase: %s\n\n", cfg.BaseURL, envFile, db.Redact(cfg.DB))
	if existed {
		fmt.Fprintf(out, "The account %s exists already and was left as it is ('storekeep staff reset-link --email %s' makes a new password link).\n\n", a.ownerEmail, a.ownerEmail)
	} else {
		fmt.Fprintf(out, "The owner's account %s: open this link within 72 hours to choose the password (it works once):\n\n  %s\n\n", strings.ToLower(a.ownerEmail), link)
	}
	fmt.Fprintln(out, "What to do next:")
	fmt.Fprintf(out, "  1. DNS: point %s at this server (A and AAAA records).\n", domain)
	if cfg.TLSEnabled() {
		fmt.Fprintf(out, "  2. HTTPS: Storekeep gets its certificate from the ACME CA when it starts; ports 80 and 443 must be reachable from the internet.\n")
	} else {
		fmt.Fprintf(out, "  2. HTTPS: have your reverse proxy serve https://%s and pass requests to http://%s with X-Forwarded-For and X-Forwarded-Proto (docs/https.md).\n", domain, cfg.Addr)
	}
	if cfg.SMTPHost == "" {
		fmt.Fprintf(out, "  3. Mail: set STOREKEEP_SMTP_HOST (and the user and password) in %s; without a relay no mail goes out.\n", envFile)
	} else if a.smtpUser != "" && cfg.SMTPPassword == "" {
		fmt.Fprintf(out, "  3. Mail: add STOREKEEP_SMTP_PASSWORD=... to %s. Sign mail with DKIM: storekeep mail dkim-keygen (docs/mail-deliverability.md).\n", envFile)
	} else {
		fmt.Fprintf(out, "  3. Mail: sign it with DKIM: storekeep mail dkim-keygen (docs/mail-deliverability.md).\n")
	}
	fmt.Fprintf(out, "  4. Start the service: sudo systemctl enable --now storekeep (in a container: storekeep serve).\n")
	fmt.Fprintf(out, "  5. Logs: journalctl -u storekeep -f; health: storekeep healthcheck. Then sign in at %s/staff/ and fill in the business settings.\n", cfg.BaseURL)
}
