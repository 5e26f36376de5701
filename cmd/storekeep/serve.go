package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/demo"
	"github.com/storekeep/storekeep/internal/web"
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
				return usageError{cmd: "serve", err: err}
			}
			return run(c.Context(), &cfg, false, c.OutOrStdout())
		},
	}
	cfg.Bind(c.Flags())
	return c
}

func demoCommand() *cobra.Command {
	var addr, dir string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run a demo with a sample vendor and catalog on a fresh SQLite database",
		Long: `Run the site on a SQLite database filled with a fictional vendor selling a
Postfix milter, ready to click through. Without --dir the database lives in a
temporary directory that is removed on exit; with --dir it is kept and reused.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg := config.Config{Addr: addr, LogFormat: "text", LogLevel: "info", AutoMigrate: true, SMTPPort: 587}
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
			if err := cfg.Validate(); err != nil {
				return usageError{cmd: "demo", err: err}
			}
			return run(c.Context(), &cfg, true, c.OutOrStdout())
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (use port 0 for any free port)")
	c.Flags().StringVar(&dir, "dir", "", "directory to keep the demo database in (default: a temporary directory)")
	return c
}

// openDB opens the configured database and applies migrations when allowed.
func openDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
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
// gracefully: in-flight requests get up to 10 seconds to finish.
func run(ctx context.Context, cfg *config.Config, isDemo bool, out io.Writer) error {
	log := cfg.Logger(os.Stderr)
	d, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	clk := clock.System{}
	if isDemo {
		if _, err := demo.Seed(ctx, d, clk.Now()); err != nil {
			return err
		}
		if err := demo.SeedStaff(ctx, d, clk.Now()); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v; choose another --addr or stop what uses that port", cfg.Addr, err)
	}
	if isDemo {
		// The real port is known only now when --addr asked for port 0.
		cfg.BaseURL = "http://" + ln.Addr().String()
	}
	srv, err := web.New(web.Options{DB: d, Clock: clk, Logger: log, BaseURL: cfg.BaseURL, Demo: isDemo, Version: version()})
	if err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(redactingHandler{log.Handler()}, slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String(), "db", d.String(), "startup", time.Since(started).Round(time.Microsecond))
	if isDemo {
		fmt.Fprintf(out, "Storekeep demo running at %s/\n", cfg.BaseURL)
		fmt.Fprintf(out, "Staff console: %s/staff/login (password %q for every account)\n", cfg.BaseURL, demo.StaffPassword)
		for _, a := range demo.StaffAccounts {
			fmt.Fprintf(out, "  %-8s %s\n", a.Role, a.Email)
		}
		fmt.Fprintln(out, "Press Ctrl-C to stop.")
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}
