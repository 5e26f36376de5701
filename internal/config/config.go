// Package config is the bootstrap configuration of a Storekeep process:
// where to listen, which database, the public base URL, logging and the SMTP
// relay. Each setting is a flag with a STOREKEEP_* environment variable as
// its default; business settings live in the database instead.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/storekeep/storekeep/internal/db"
)

// Config is the effective configuration.
type Config struct {
	Addr         string
	DB           string
	DataDir      string
	BaseURL      string
	LogFormat    string
	LogLevel     string
	AutoMigrate  bool
	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPFrom     string

	envErrs []string // malformed STOREKEEP_* variables, reported by Validate
}

// setting describes one configuration entry once, for flags, environment
// and printing.
type setting struct {
	flag, env, help string
	secret          bool
	str             *string
	num             *int
	boolean         *bool
	def             string
}

func (c *Config) settings() []setting {
	return []setting{
		{flag: "addr", env: "STOREKEEP_ADDR", def: "127.0.0.1:8080", str: &c.Addr, help: "address to listen on (host:port)"},
		{flag: "db", env: "STOREKEEP_DB", def: "", str: &c.DB, help: "database: a SQLite file path, or a postgres:// URL (default: storekeep.db in the data directory)"},
		{flag: "data-dir", env: "STOREKEEP_DATA_DIR", def: ".", str: &c.DataDir, help: "directory for the SQLite database and other files"},
		{flag: "base-url", env: "STOREKEEP_BASE_URL", def: "", str: &c.BaseURL, help: "public URL of the site, e.g. https://shop.example.com (default: http://ADDR)"},
		{flag: "log-format", env: "STOREKEEP_LOG_FORMAT", def: "text", str: &c.LogFormat, help: "log format: text or json"},
		{flag: "log-level", env: "STOREKEEP_LOG_LEVEL", def: "info", str: &c.LogLevel, help: "log level: debug, info, warn or error"},
		{flag: "migrate", env: "STOREKEEP_MIGRATE", def: "true", boolean: &c.AutoMigrate, help: "apply pending migrations at start-up"},
		{flag: "smtp-host", env: "STOREKEEP_SMTP_HOST", def: "", str: &c.SMTPHost, help: "SMTP relay host for outgoing mail"},
		{flag: "smtp-port", env: "STOREKEEP_SMTP_PORT", def: "587", num: &c.SMTPPort, help: "SMTP relay port"},
		{flag: "smtp-username", env: "STOREKEEP_SMTP_USERNAME", def: "", str: &c.SMTPUsername, help: "SMTP user name"},
		{flag: "smtp-password", env: "STOREKEEP_SMTP_PASSWORD", def: "", str: &c.SMTPPassword, secret: true, help: "SMTP password (prefer the environment variable: flags show up in process lists)"},
		{flag: "smtp-from", env: "STOREKEEP_SMTP_FROM", def: "", str: &c.SMTPFrom, help: "sender address of outgoing mail"},
	}
}

// Bind registers the flags on fs. Each flag's default is its environment
// variable when set, otherwise the built-in default; a malformed variable is
// reported by Validate.
func (c *Config) Bind(fs *pflag.FlagSet) {
	for _, s := range c.settings() {
		def := s.def
		if v, ok := os.LookupEnv(s.env); ok {
			def = v
		}
		help := s.help + " [" + s.env + "]"
		switch {
		case s.str != nil:
			fs.StringVar(s.str, s.flag, def, help)
		case s.num != nil:
			n, err := strconv.Atoi(def)
			if err != nil {
				c.envErrs = append(c.envErrs, fmt.Sprintf("%s=%q is not a number", s.env, def))
			}
			fs.IntVar(s.num, s.flag, n, help)
		case s.boolean != nil:
			b, err := strconv.ParseBool(def)
			if err != nil {
				c.envErrs = append(c.envErrs, fmt.Sprintf("%s=%q is not true or false", s.env, def))
			}
			fs.BoolVar(s.boolean, s.flag, b, help)
		}
	}
}

// Validate checks the configuration and fills in derived defaults. Its
// errors name the setting and say what a valid value looks like.
func (c *Config) Validate() error {
	if len(c.envErrs) > 0 {
		return fmt.Errorf("invalid environment: %s", strings.Join(c.envErrs, "; "))
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not host:port: use e.g. 127.0.0.1:8080 or :8080", c.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("--addr %q has an invalid port: use a number from 0 to 65535", c.Addr)
	}
	if c.DataDir == "" {
		return fmt.Errorf("--data-dir is empty: give a directory, e.g. /var/lib/storekeep")
	}
	if c.DB == "" {
		c.DB = filepath.Join(c.DataDir, "storekeep.db")
	}
	if _, err := db.ParseDSN(c.DB); err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	if c.BaseURL == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.BaseURL = "http://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("--base-url %q is not an absolute http(s) URL without a path: use e.g. https://shop.example.com", c.BaseURL)
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: use text or json", c.LogFormat)
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if c.SMTPPort < 1 || c.SMTPPort > 65535 {
		return fmt.Errorf("--smtp-port %d: use a port from 1 to 65535", c.SMTPPort)
	}
	return nil
}

func (c *Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("--log-level %q: use debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// Logger returns the process logger for the configured format and level.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	l, _ := c.level()
	opts := &slog.HandlerOptions{Level: l}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Print writes the effective configuration with secrets masked.
func (c *Config) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tENVIRONMENT")
	for _, s := range c.settings() {
		var v string
		switch {
		case s.str != nil:
			v = *s.str
		case s.num != nil:
			v = strconv.Itoa(*s.num)
		case s.boolean != nil:
			v = strconv.FormatBool(*s.boolean)
		}
		if s.flag == "db" {
			v = db.Redact(v)
		}
		if s.secret && v != "" {
			v = "(set, hidden)"
		}
		fmt.Fprintf(tw, "--%s\t%s\t%s\n", s.flag, v, s.env)
	}
	return tw.Flush()
}
