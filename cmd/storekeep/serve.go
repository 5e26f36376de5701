package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/acme/autocert"

	"github.com/storekeep/storekeep/internal/backup"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/demo"
	"github.com/storekeep/storekeep/internal/monitor"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/requestlog"
	"github.com/storekeep/storekeep/internal/serving"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/app"
)

func serveCommand() *cobra.Command {
	var cfg config.Config
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the site",
		Long: `Run the site with the configuration given by flags and STOREKEEP_* environment
variables. 'storekeep config' prints the effective configuration.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError{err: err}
			}
			if err := configureInventory(&cfg); err != nil {
				return err
			}
			return run(c.Context(), &cfg, false, c.OutOrStdout())
		},
	}
	cfg.Bind(c.Flags())
	return c
}

func demoCommand() *cobra.Command {
	var addr, dir string
	// The demo shows mail at /dev/mail and pays with a test provider; these
	// optional settings let it use a real SMTP relay and Stripe test keys
	// (the browser tests use them with a test relay and stripe-mock).
	var opt config.Config
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run a demo with a sample vendor and catalog on a fresh SQLite database",
		Long: `Run the site on a SQLite database filled with a fictional vendor selling a
Postfix milter, ready to click through. Without --dir the database lives in a
temporary directory that is removed on exit; with --dir it is kept and reused.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg := config.Config{Addr: addr, LogFormat: "text", LogLevel: "info", AutoMigrate: true, SMTPPort: opt.SMTPPort,
				LogRequests: opt.LogRequests, LogAddressDays: 7,
				Analytics: opt.Analytics, AnalyticsPerMinute: opt.AnalyticsPerMinute, GeoIPDB: opt.GeoIPDB,
				NoticesPerSecond: notices.DefaultRate.PerSecond, NoticesPerHour: notices.DefaultRate.PerHour,
				SMTPHost: opt.SMTPHost, DKIMDomain: opt.DKIMDomain, DKIMSelector: opt.DKIMSelector, DKIMKey: opt.DKIMKey, StripeSecretKey: opt.StripeSecretKey, StripeWebhookSecret: opt.StripeWebhookSecret, StripeAPIURL: opt.StripeAPIURL}
			if dir == "" {
				tmp, err := os.MkdirTemp("", "storekeep-demo-")
				if err != nil {
					return fmt.Errorf("create a temporary directory for the demo: %w; pass --dir", err)
				}
				defer os.RemoveAll(tmp)
				dir = tmp
			} else if err := os.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("create demo directory %s: %w", dir, err)
			}
			cfg.DataDir = dir
			cfg.DB = filepath.Join(dir, "demo.db")
			// A throwaway signing key of the demo's own, so its orders
			// issue real license keys; kept with a kept --dir.
			cfg.LicenseKeys = filepath.Join(dir, "license-keys")
			if err := demoLicenseKeys(cfg.LicenseKeys); err != nil {
				return err
			}
			cfg.ReleaseKeys = filepath.Join(dir, "release-key")
			if err := demoReleaseKey(cfg.ReleaseKeys); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err: err}
			}
			if err := configureInventory(&cfg); err != nil {
				return err
			}
			return run(c.Context(), &cfg, true, c.OutOrStdout())
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (use port 0 for any free port)")
	c.Flags().StringVar(&dir, "dir", "", "directory to keep the demo database in (default: a temporary directory)")
	c.Flags().StringVar(&opt.SMTPHost, "smtp-host", "", "send the demo's mail through this SMTP relay instead of showing it at /dev/mail")
	c.Flags().IntVar(&opt.SMTPPort, "smtp-port", 587, "SMTP relay port")
	c.Flags().StringVar(&opt.DKIMDomain, "dkim-domain", "", "with --smtp-host: sign the mail with DKIM for this domain (with --dkim-selector and --dkim-key)")
	c.Flags().StringVar(&opt.DKIMSelector, "dkim-selector", "", "DKIM selector the key is published under")
	c.Flags().StringVar(&opt.DKIMKey, "dkim-key", "", "DKIM private key file (storekeep mail dkim-keygen)")
	c.Flags().StringVar(&opt.StripeSecretKey, "stripe-secret-key", "", "Stripe test secret key, to try the Stripe checkout too")
	c.Flags().StringVar(&opt.StripeWebhookSecret, "stripe-webhook-secret", "", "signing secret of the Stripe webhook endpoint")
	c.Flags().StringVar(&opt.StripeAPIURL, "stripe-api-url", "", "Stripe API address (stripe-mock)")
	c.Flags().BoolVar(&opt.LogRequests, "log-requests", true, "record page requests in the request log, as serve does by default")
	c.Flags().BoolVar(&opt.Analytics, "analytics", true, "count visits without cookies, as serve does by default")
	c.Flags().IntVar(&opt.AnalyticsPerMinute, "analytics-beacons-per-minute", 600, "most analytics beacons counted per network address and minute")
	c.Flags().StringVar(&opt.GeoIPDB, "geoip-db", "", "a local GeoIP database (MaxMind .mmdb) for the analytics' countries")
	return c
}

// openDB opens the configured database and applies migrations when allowed.
func openDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	useDataDir(d, cfg)
	return migrateOnOpen(ctx, d, cfg, log)
}

// holdInstanceLock takes the shared instance lock of a SQLite database
// for as long as the server runs, so storekeep restore refuses to replace
// it meanwhile (internal/backup, lock.go). PostgreSQL needs none: restore
// does not replace it.
func holdInstanceLock(d *db.DB) (release func(), err error) {
	if d.Dialect != db.SQLite {
		return func() {}, nil
	}
	return backup.HoldInstance(d.Path())
}

// useDataDir gives a PostgreSQL database the data directory, where the
// erasure ledger keeps its key and file (on SQLite they go beside the
// database file; docs/backups.md).
func useDataDir(d *db.DB, cfg *config.Config) {
	if d.DataDir() == "" {
		d.SetDataDir(cfg.DataDir)
	}
}

// migrateOnOpen applies pending migrations to d when --migrate allows, or
// refuses a database that needs them; it closes d when it fails.
func migrateOnOpen(ctx context.Context, d *db.DB, cfg *config.Config, log *slog.Logger) (*db.DB, error) {
	if cfg.AutoMigrate {
		applied, err := d.Migrate(ctx)
		if err != nil {
			d.Close()
			return nil, err
		}
		for _, m := range applied {
			log.Info("applied migration", "version", m.Version, "name", m.Name)
		}
		return d, nil
	}
	pending, err := d.Pending(ctx)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("check migrations: %w", err)
	}
	if pending {
		d.Close()
		return nil, errors.New("the database needs migrations: run 'storekeep migrate' (or start with --migrate=true)")
	}
	return d, nil
}

// run starts the server and blocks until ctx ends, then shuts down
// gracefully: in-flight requests get up to 10 seconds to finish. With TLS
// configured it serves HTTPS on --addr and redirects plain HTTP on
// --http-addr; the demo always serves plain HTTP.
func run(ctx context.Context, cfg *config.Config, isDemo bool, out io.Writer) error {
	log := cfg.Logger(os.Stderr)
	d, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	release, err := holdInstanceLock(d)
	if err != nil {
		return err
	}
	defer release()
	clk := clock.System{}
	if isDemo {
		if _, err := demo.Seed(ctx, d, clk.Now()); err != nil {
			return err
		}
		if err := demo.SeedStaff(ctx, d, clk.Now()); err != nil {
			return err
		}
	}

	var https *serving.HTTPS
	if cfg.TLSEnabled() && !isDemo {
		if https, err = newHTTPS(cfg, d, clk, log); err != nil {
			return err
		}
	}

	ln, err := listen(cfg.Addr, "--addr")
	if err != nil {
		return err
	}
	var httpLn, metricsLn net.Listener
	if https != nil && cfg.HTTPAddr != "" {
		if httpLn, err = listen(cfg.HTTPAddr, "--http-addr"); err != nil {
			ln.Close()
			return err
		}
	}
	if cfg.MetricsAddr != "" && !isDemo {
		if metricsLn, err = listen(cfg.MetricsAddr, "--metrics-addr"); err != nil {
			ln.Close()
			if httpLn != nil {
				httpLn.Close()
			}
			return err
		}
	}
	closeAll := func() {
		ln.Close()
		if httpLn != nil {
			httpLn.Close()
		}
		if metricsLn != nil {
			_ = metricsLn.Close()
		}
	}
	if isDemo {
		// The real port is known only now when --addr asked for port 0.
		cfg.BaseURL = "http://" + ln.Addr().String()
	}
	licenseKeys, err := loadLicenseKeys(cfg, log)
	if err != nil {
		closeAll()
		return err
	}
	if isDemo {
		// Sample customers with licenses, signed by the demo's key: the
		// periodic jobs below find the one expiring soon at once. Seeded
		// before the mail worker starts, so the confirmations their
		// orders queued (dropped by the seed) are never sent.
		if _, err := demo.SeedCustomers(ctx, d, licenseKeys, clk.Now()); err != nil {
			closeAll()
			return err
		}
		if _, err := demo.SeedSupport(ctx, d, clk.Now()); err != nil {
			closeAll()
			return err
		}
		if _, err := demo.SeedAnalytics(ctx, d, clk.Now()); err != nil {
			closeAll()
			return err
		}
		if _, err := demo.SeedMailing(ctx, d, clk.Now()); err != nil {
			closeAll()
			return err
		}
		if _, err := demo.SeedFraud(ctx, d, clk.Now()); err != nil {
			closeAll()
			return err
		}
	}
	// This instance's own metrics (periodic runs, failed mail attempts),
	// served with the site's once it is built.
	mon := monitor.NewInstance(periodicJobNames())
	wakeMail, stopMail, err := startMailWorkerWith(ctx, cfg, d, log, isDemo, mon.MailFailed)
	if err != nil {
		closeAll()
		return err
	}
	// Deferred after d.Close, so it runs before: the worker finishes and
	// records a delivery in progress before the database closes.
	defer stopMail()
	stopInbound, err := startInbound(ctx, cfg, d, log)
	if err != nil {
		closeAll()
		return err
	}
	defer stopInbound()
	opts := app.Options{Options: web.Options{DB: d, Clock: clk, Logger: log, BaseURL: cfg.BaseURL, Demo: isDemo, Version: version(), MailQueued: wakeMail}}
	if cfg.LogRequests {
		rl := requestlog.New(d, requestlog.Options{Clock: clk, Logger: log, Site: cfg.BaseURL})
		opts.RequestLog = rl
		// Deferred after d.Close and before the server stops (Serve
		// returns once in-flight requests are answered), so it runs
		// between the two: every page request queued is written.
		defer closeRequestLog(rl, log)
	}
	counter, stopAnalytics, err := startAnalytics(ctx, cfg, d, clk, log)
	if err != nil {
		closeAll()
		return err
	}
	// Like the request log: after the server has stopped, before the
	// database closes.
	defer stopAnalytics()
	opts.Analytics, opts.AnalyticsPerMinute = counter, cfg.AnalyticsPerMinute
	fraudOpts, stopFraud, err := startFraud(ctx, cfg, d, clk, log)
	if err != nil {
		closeAll()
		return err
	}
	// Like the request log: after the server has stopped, before the
	// database closes.
	defer stopFraud()
	opts.Fraud = fraudOpts
	if err := paymentOptions(cfg, isDemo, clk, &opts); err != nil {
		closeAll()
		return err
	}
	opts.LicenseKeys = licenseKeys
	if opts.Releases, err = loadReleases(cfg, d, log); err != nil {
		closeAll()
		return err
	}
	opts.Releases.Clock = clk
	if opts.RepoSigner, err = loadRepoSigner(cfg, clk.Now, log); err != nil {
		closeAll()
		return err
	}
	if isDemo {
		// A published sample release, signed with the demo's key.
		if _, err := demo.SeedRelease(ctx, opts.Releases); err != nil {
			closeAll()
			return err
		}
	}
	srv, err := app.New(opts)
	if err == nil {
		err = srv.RegisterCollector(mon)
	}
	if err != nil {
		closeAll()
		return err
	}
	// Once the keys have loaded and the site is built: a serve that fails
	// to start runs no job (and sends no reminder) first.
	noticeSender, err := newNoticeSender(ctx, cfg, d, clk, log)
	if err != nil {
		closeAll()
		return err
	}
	defer startPeriodic(ctx, d, clk, log, jobEnv{BaseURL: strings.TrimSuffix(cfg.BaseURL, "/"), Notices: noticeSender, Ran: mon.JobRan}, wakeMail)()
	if metricsLn != nil {
		defer startMetrics(metricsLn, srv.MetricsHandler(), cfg.MetricsToken, log)()
	}
	s := &serving.Server{
		// Always, so that serving.ClientIP is the one way to learn the
		// client's address; with no trusted proxies it is the TCP peer.
		Handler:  serving.ClientIPMiddleware(cfg.Proxies())(srv.Handler()),
		ErrorLog: slog.NewLogLogger(quietHandshakes{redactingHandler{log.Handler()}}, slog.LevelWarn),
		Drain:    time.Duration(cfg.DrainSeconds) * time.Second,
		OnDrain: func() {
			log.Info("draining: readiness fails, still serving", "drain_seconds", cfg.DrainSeconds)
			srv.Drain()
		},
	}
	attrs := []any{"addr", ln.Addr().String(), "db", d.String(), "base_url", cfg.BaseURL}
	if https != nil {
		s.TLSConfig, s.RedirectHandler = https.TLSConfig, https.HTTPHandler
		mode := "files"
		if https.Manager != nil {
			mode = "acme"
		}
		attrs = append(attrs, "tls", mode)
		if httpLn != nil {
			attrs = append(attrs, "http_addr", httpLn.Addr().String())
		}
	}
	if metricsLn != nil {
		attrs = append(attrs, "metrics_addr", metricsLn.Addr().String(), "metrics_token", cfg.MetricsToken != "")
	}
	if n := len(cfg.Proxies()); n > 0 {
		attrs = append(attrs, "trusted_proxies", n)
	}
	attrs = append(attrs, "startup", time.Since(started).Round(time.Microsecond))
	log.Info("listening", attrs...)
	if isDemo {
		fmt.Fprintf(out, "Storekeep demo running at %s/\n", cfg.BaseURL)
		fmt.Fprintf(out, "Staff console: %s/staff/login (password %q for every account)\n", cfg.BaseURL, demo.StaffPassword)
		for _, a := range demo.StaffAccounts {
			fmt.Fprintf(out, "  %-8s %s\n", a.Role, a.Email)
		}
		fmt.Fprintln(out, "Press Ctrl-C to stop.")
	}
	stop := context.AfterFunc(ctx, func() { log.Info("shutting down") })
	defer stop()
	return s.Serve(ctx, ln, httpLn)
}

// newHTTPS sets up certificates as configured: automatic ones kept in the
// database or a directory, or the given files.
func newHTTPS(cfg *config.Config, d *db.DB, clk clock.Clock, log *slog.Logger) (*serving.HTTPS, error) {
	o := serving.Options{BaseURL: cfg.BaseURL, Domains: cfg.Domains(), CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey, Logger: log}
	if len(o.Domains) > 0 {
		o.ACMEEmail, o.ACMEDirectory = cfg.ACMEEmail, cfg.ACMEDirectory
		if cfg.ACMECache == "db" {
			o.ACMECache = serving.NewDBCache(d, clk)
		} else {
			o.ACMECache = autocert.DirCache(cfg.ACMECache)
		}
	}
	return serving.NewHTTPS(o)
}

func listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	hint := "choose another " + flag + " or stop what uses that port"
	if errors.Is(err, os.ErrPermission) {
		hint = "ports below 1024 need privileges: grant them (e.g. systemd AmbientCapabilities=CAP_NET_BIND_SERVICE, or setcap cap_net_bind_service=+ep on the binary) or choose another " + flag
	}
	return nil, fmt.Errorf("cannot listen on %s: %v; %s", addr, err, hint)
}

// quietHandshakes logs net/http's "TLS handshake error" messages at debug
// level: on a public HTTPS port, scanners and bots cause them all day.
type quietHandshakes struct{ slog.Handler }

// Enabled lets every message through to Handle, which decides by the
// message's text.
func (h quietHandshakes) Enabled(context.Context, slog.Level) bool { return true }

func (h quietHandshakes) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "TLS handshake error") {
		r.Level = slog.LevelDebug
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs and WithGroup keep the wrapper on derived loggers.
func (h quietHandshakes) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandshakes{h.Handler.WithAttrs(attrs)}
}

func (h quietHandshakes) WithGroup(name string) slog.Handler {
	return quietHandshakes{h.Handler.WithGroup(name)}
}

// closeRequestLog writes the request log's queued entries, giving them up
// to 10 seconds.
func closeRequestLog(rl *requestlog.Logger, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rl.Close(ctx); err != nil {
		log.Error("request log: not everything queued was written", "error", err)
	}
}
