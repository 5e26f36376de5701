// Package config is the bootstrap configuration of a Storekeep process:
// where to listen, HTTPS, which database, the public base URL, logging and
// the SMTP relay. Each setting is a flag with a STOREKEEP_* environment variable as
// its default; business settings live in the database instead.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/serving"
)

// DefaultACMEDirectory is Let's Encrypt's production directory.
const DefaultACMEDirectory = "https://acme-v02.api.letsencrypt.org/directory"

// Config is the effective configuration.
type Config struct {
	Addr string
	DB   string
	// SupportRetention is how long support tickets are kept after they
	// close, such as "24m", "2y" or "400d" (docs/support.md).
	SupportRetention string
	// LogRequests turns the request log on (internal/requestlog,
	// docs/request-log.md); LogAddressDays is how many days it keeps
	// the full network address before the purge shortens it.
	LogRequests    bool
	LogAddressDays int
	// Analytics turns the cookieless usage analytics on (internal/analytics,
	// docs/analytics.md); AnalyticsPerMinute caps the beacons counted per
	// address and minute; GeoIPDB is a local MaxMind-format database for
	// the visitors' countries (empty: no countries).
	Analytics          bool
	AnalyticsPerMinute int
	// NoticesPerSecond and NoticesPerHour are the rate at which notices
	// go into the outbox, over all instances (internal/notices).
	NoticesPerSecond int
	NoticesPerHour   int
	GeoIPDB          string
	// FraudDisposableDomains is the operator's list of disposable-mail
	// domains for the fraud signals, added to the built-in one (empty:
	// the built-in list alone; internal/fraud/detect, docs/fraud-signals.md).
	FraudDisposableDomains string
	DataDir                string
	BaseURL                string
	LogFormat              string
	LogLevel               string
	AutoMigrate            bool
	SMTPHost               string
	SMTPPort               int
	SMTPUsername           string
	SMTPPassword           string
	SMTPFrom               string
	// MailLeaseSeconds is how long a mail worker's claim on queued
	// messages lasts without its heartbeat: the mail of an instance that
	// died goes out from another one about this long later. 0 is the
	// mail worker's default (mail.DefaultLease).
	MailLeaseSeconds int
	// DrainSeconds is how long serve keeps answering after SIGTERM with
	// its readiness probe failing, so a load balancer stops sending to
	// it before it closes (0: stop at once; docs/deployment.md).
	DrainSeconds int
	// DKIM signs outgoing mail with the PKCS#8 key in DKIMKey for
	// DKIMDomain under DKIMSelector (docs/mail-deliverability.md); all
	// three or none.
	DKIMDomain   string
	DKIMSelector string
	DKIMKey      string
	// BounceAddress is the VERP return path's untagged address
	// (bounces@example.com gives bounces+<id>-<mac>@example.com); ""
	// means bounces@ the sender's domain. BounceSoftLimit soft bounces
	// within BounceSoftDays suppress an address (docs/mailing.md).
	BounceAddress   string
	BounceSoftLimit int
	BounceSoftDays  int
	// InboundSMTPAddr is where the receiver of privacy mail listens
	// (package inbound); "" turns it off.
	InboundSMTPAddr string
	// InboundLMTPAddr is where the LMTP receiver listens: host:port or
	// a Unix socket path; "" turns it off.
	InboundLMTPAddr string

	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIURL        string
	ManualPayments      bool
	PaymentInstructions string
	// VIES turns on the check of buyers' VAT numbers with the EU's VIES
	// service at checkout (off: their format is checked only).
	VIES bool

	// LicenseKeys is the directory of the license signing keys
	// (`storekeep license keygen`); "" issues no licenses.
	LicenseKeys string

	// ReleaseKeys is the directory of the release signing key
	// (`storekeep release keygen`), ReleaseStore the directory artifacts
	// are kept in, ReleaseMaxMiB the largest artifact accepted.
	ReleaseKeys   string
	ReleaseStore  string
	ReleaseMaxMiB int

	// HTTPS: either automatic certificates for TLSDomains, or TLSCert and
	// TLSKey files. HTTPAddr serves redirects to HTTPS and ACME challenges.
	TLSDomains     string // comma-separated
	ACMEEmail      string
	ACMEDirectory  string
	ACMECache      string // "db" or a directory
	TLSCert        string
	TLSKey         string
	HTTPAddr       string
	TrustedProxies string // comma-separated IPs and CIDR blocks

	// MetricsAddr is where /metrics is served, on a listener of its own
	// ("" turns it off): never on the public address, since the metrics
	// show the shop's activity. MetricsToken, when set, is the bearer
	// token that listener requires; an address beyond the loopback
	// interface needs one.
	MetricsAddr  string
	MetricsToken string

	envErrs []string // malformed STOREKEEP_* variables, reported by Validate

	// Whether --addr and --http-addr were given (flag or environment):
	// their defaults depend on whether TLS is on.
	addrSet, httpAddrSet bool

	domains []string
	proxies []netip.Prefix
}

// DefaultReleaseMaxMiB is the artifact size limit without
// --release-max-size.
const DefaultReleaseMaxMiB = 2048

// setting describes one configuration entry once, for flags, environment
// and printing.
type setting struct {
	flag, env, help string
	group           Group
	secret          bool
	str             *string
	num             *int
	boolean         *bool
	def             string
	set             *bool // for strings: records whether the flag or variable was given
}

func (c *Config) settings() []setting {
	return []setting{
		{flag: "addr", group: Server, env: "STOREKEEP_ADDR", def: "127.0.0.1:8080", str: &c.Addr, set: &c.addrSet, help: "address to listen on (host:port; default :443 with TLS)"},
		{flag: "http-addr", group: Server, env: "STOREKEEP_HTTP_ADDR", def: "", str: &c.HTTPAddr, set: &c.httpAddrSet, help: "with TLS: plain-HTTP address that redirects to HTTPS and answers ACME challenges (default :80; empty disables)"},
		{flag: "tls-domains", group: Server, env: "STOREKEEP_TLS_DOMAINS", def: "", str: &c.TLSDomains, help: "comma-separated host names to get certificates for automatically (ACME), e.g. shop.example.com"},
		{flag: "acme-email", group: Server, env: "STOREKEEP_ACME_EMAIL", def: "", str: &c.ACMEEmail, help: "contact address for the certificate authority (optional)"},
		{flag: "acme-directory", group: Server, env: "STOREKEEP_ACME_DIRECTORY", def: DefaultACMEDirectory, str: &c.ACMEDirectory, help: "ACME directory URL of the certificate authority"},
		{flag: "acme-cache", group: Server, env: "STOREKEEP_ACME_CACHE", def: "db", str: &c.ACMECache, help: "where ACME account and certificates are kept: db (shared by all instances) or a directory"},
		{flag: "tls-cert", group: Server, env: "STOREKEEP_TLS_CERT", def: "", str: &c.TLSCert, help: "PEM certificate chain file (instead of --tls-domains); re-read when it changes"},
		{flag: "tls-key", group: Server, env: "STOREKEEP_TLS_KEY", def: "", str: &c.TLSKey, help: "PEM private key file for --tls-cert"},
		{flag: "metrics-addr", group: Server, env: "STOREKEEP_METRICS_ADDR", def: "", str: &c.MetricsAddr, help: "host:port of a separate listener serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9090; empty: off (never on --addr)"},
		{flag: "metrics-token", group: Server, env: "STOREKEEP_METRICS_TOKEN", def: "", str: &c.MetricsToken, secret: true, help: "bearer token the metrics listener requires (Authorization: Bearer TOKEN); needed when --metrics-addr is not a loopback address"},
		{flag: "trusted-proxies", group: Server, env: "STOREKEEP_TRUSTED_PROXIES", def: "", str: &c.TrustedProxies, help: "comma-separated IPs and CIDR blocks of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed"},
		{flag: "db", group: DB, env: "STOREKEEP_DB", def: "", str: &c.DB, help: "database: a SQLite file path, or a postgres:// URL (default: storekeep.db in the data directory)"},
		{flag: "support-retention", group: DB, env: "STOREKEEP_SUPPORT_RETENTION", def: "24m", str: &c.SupportRetention, help: "how long support tickets are kept after they close: a number and d, m or y, e.g. 24m, 2y, 400d (1 day to 10 years)"},
		{flag: "log-address-days", group: DB, env: "STOREKEEP_LOG_ADDRESS_DAYS", def: "7", num: &c.LogAddressDays, help: "days the request log keeps a visitor's full network address before the purge shortens it to its network (1 to 89; rows go after 90 days)"},
		{flag: "log-requests", group: Server, env: "STOREKEEP_LOG_REQUESTS", def: "true", boolean: &c.LogRequests, help: "record page requests in the request log (route, status, browser family and version, referring site, network address; see docs/request-log.md)"},
		{flag: "analytics", group: Server, env: "STOREKEEP_ANALYTICS", def: "true", boolean: &c.Analytics, help: "count visits without cookies: pages, sources, engaged time and the funnel, honouring Do Not Track and Global Privacy Control (see docs/analytics.md)"},
		{flag: "analytics-beacons-per-minute", group: Server, env: "STOREKEEP_ANALYTICS_BEACONS_PER_MINUTE", def: "600", num: &c.AnalyticsPerMinute, help: "most analytics beacons counted per network address and minute; more are ignored (an office's or a carrier's gateway puts many visitors behind one address)"},
		{flag: "geoip-db", group: Server, env: "STOREKEEP_GEOIP_DB", def: "", str: &c.GeoIPDB, help: "a local GeoIP database (MaxMind .mmdb format, e.g. GeoLite2-Country or DB-IP lite) for the analytics' countries; empty: no countries"},
		{flag: "fraud-disposable-domains", group: Server, env: "STOREKEEP_FRAUD_DISPOSABLE_DOMAINS", def: "", str: &c.FraudDisposableDomains, help: "a file of disposable-mail domains, one per line, added to the built-in list for the fraud signals (read again when it changes; see docs/fraud-signals.md); empty: the built-in list alone"},
		{flag: "data-dir", group: DB, env: "STOREKEEP_DATA_DIR", def: ".", str: &c.DataDir, help: "directory for the SQLite database and other files"},
		{flag: "base-url", group: Site, env: "STOREKEEP_BASE_URL", def: "", str: &c.BaseURL, help: "public URL of the site, e.g. https://shop.example.com (default: http://ADDR)"},
		{flag: "log-format", group: Log, env: "STOREKEEP_LOG_FORMAT", def: "text", str: &c.LogFormat, help: "log format: text or json"},
		{flag: "log-level", group: Log, env: "STOREKEEP_LOG_LEVEL", def: "info", str: &c.LogLevel, help: "log level: debug, info, warn or error"},
		{flag: "migrate", group: Server, env: "STOREKEEP_MIGRATE", def: "true", boolean: &c.AutoMigrate, help: "apply pending migrations at start-up"},
		{flag: "notices-per-second", group: Server, env: "STOREKEEP_NOTICES_PER_SECOND", def: "10", num: &c.NoticesPerSecond, help: "most notice messages (security notices, updates, announcements, newsletters) queued in any second, over all instances, so the relay and the sender's reputation survive"},
		{flag: "notices-per-hour", group: Server, env: "STOREKEEP_NOTICES_PER_HOUR", def: "20000", num: &c.NoticesPerHour, help: "most notice messages queued in any hour, over all instances"},
		{flag: "smtp-host", group: Server, env: "STOREKEEP_SMTP_HOST", def: "", str: &c.SMTPHost, help: "SMTP relay host for outgoing mail"},
		{flag: "smtp-port", group: Server, env: "STOREKEEP_SMTP_PORT", def: "587", num: &c.SMTPPort, help: "SMTP relay port"},
		{flag: "smtp-username", group: Server, env: "STOREKEEP_SMTP_USERNAME", def: "", str: &c.SMTPUsername, help: "SMTP user name"},
		{flag: "smtp-password", group: Server, env: "STOREKEEP_SMTP_PASSWORD", def: "", str: &c.SMTPPassword, secret: true, help: "SMTP password (prefer the environment variable: flags show up in process lists)"},
		{flag: "smtp-from", group: Server, env: "STOREKEEP_SMTP_FROM", def: "", str: &c.SMTPFrom, help: "sender address of outgoing mail"},
		{flag: "shutdown-drain-seconds", group: Server, env: "STOREKEEP_SHUTDOWN_DRAIN_SECONDS", def: "0", num: &c.DrainSeconds, help: "seconds serve keeps answering after it is asked to stop, with /readyz failing, so a load balancer takes the instance out first (0 to 300; 0: stop at once)"},
		{flag: "mail-lease-seconds", group: Server, env: "STOREKEEP_MAIL_LEASE_SECONDS", def: "30", num: &c.MailLeaseSeconds, help: "how long an instance's claim on queued mail lasts without its heartbeat: the mail an instance that died had claimed goes out from another instance this much later (2 to 3600)"},
		{flag: "dkim-domain", group: Server, env: "STOREKEEP_DKIM_DOMAIN", def: "", str: &c.DKIMDomain, help: "domain that signs outgoing mail with DKIM (d=), normally the sender address's domain; with --dkim-selector and --dkim-key"},
		{flag: "dkim-selector", group: Server, env: "STOREKEEP_DKIM_SELECTOR", def: "", str: &c.DKIMSelector, help: "DKIM selector (s=): the key is published at SELECTOR._domainkey.DOMAIN"},
		{flag: "dkim-key", group: Server, env: "STOREKEEP_DKIM_KEY", def: "", str: &c.DKIMKey, help: "PEM file of the DKIM private key (PKCS#8, Ed25519 or RSA of 2048 bits or more; create with: storekeep mail dkim-keygen); empty: mail goes unsigned"},
		{flag: "bounce-address", group: Server, env: "STOREKEEP_BOUNCE_ADDRESS", def: "", str: &c.BounceAddress, help: "return path of outgoing mail: bounces@example.com makes bounces+<id>-<mac>@example.com, received by the inbound listener's bounces mailbox; empty: bounces@ the sender's domain (see docs/mailing.md)"},
		{flag: "bounce-soft-limit", group: Server, env: "STOREKEEP_BOUNCE_SOFT_LIMIT", def: "3", num: &c.BounceSoftLimit, help: "soft bounces (within --bounce-soft-days, no delivery between) that put an address on the suppression list"},
		{flag: "bounce-soft-days", group: Server, env: "STOREKEEP_BOUNCE_SOFT_DAYS", def: "30", num: &c.BounceSoftDays, help: "days within which --bounce-soft-limit soft bounces count"},
		{flag: "inbound-smtp-addr", group: Server, env: "STOREKEEP_INBOUND_SMTP_ADDR", def: "", str: &c.InboundSMTPAddr, help: "host:port (loopback or private) where Storekeep receives mail over SMTP for its mailboxes (privacy, support); empty: off (see docs/inbound-mail.md)"},
		{flag: "inbound-lmtp-addr", group: Server, env: "STOREKEEP_INBOUND_LMTP_ADDR", def: "", str: &c.InboundLMTPAddr, help: "host:port (loopback or private) or Unix socket path (/run/storekeep/lmtp.sock) where Storekeep receives mail over LMTP, the transport to use from Postfix; empty: off (see docs/inbound-mail.md)"},
		{flag: "stripe-secret-key", group: Stripe, env: "STOREKEEP_STRIPE_SECRET_KEY", def: "", str: &c.StripeSecretKey, secret: true, help: "Stripe secret API key; enables card payments through Stripe Checkout"},
		{flag: "stripe-webhook-secret", group: Stripe, env: "STOREKEEP_STRIPE_WEBHOOK_SECRET", def: "", str: &c.StripeWebhookSecret, secret: true, help: "signing secret of the Stripe webhook endpoint (BASE_URL/webhooks/stripe)"},
		{flag: "stripe-api-url", group: Stripe, env: "STOREKEEP_STRIPE_API_URL", def: "", str: &c.StripeAPIURL, help: "Stripe API address; only for testing against stripe-mock"},
		{flag: "manual-payments", group: Server, env: "STOREKEEP_MANUAL_PAYMENTS", def: "false", boolean: &c.ManualPayments, help: "offer payment by invoice and bank transfer"},
		{flag: "vies", group: Server, env: "STOREKEEP_VIES", def: "false", boolean: &c.VIES, help: "confirm buyers' VAT numbers with the EU's VIES service at checkout (5-second timeout; a buyer whose number VIES cannot confirm is asked to try again); off: the format is checked only"},
		{flag: "payment-instructions", group: Server, env: "STOREKEEP_PAYMENT_INSTRUCTIONS", def: "", str: &c.PaymentInstructions, help: "bank details printed on invoices for payment by transfer"},
		{flag: "license-keys", group: Server, env: "STOREKEEP_LICENSE_KEYS", def: "", str: &c.LicenseKeys, help: "directory of the license signing keys (<kid>.key files and active; create with: storekeep license keygen --dir DIR); empty: paid orders issue no licenses"},
		{flag: "release-keys", group: Releases, env: "STOREKEEP_RELEASE_KEYS", def: "", str: &c.ReleaseKeys, help: "directory of the release signing key (release.key, release.pub; create with: storekeep release keygen --dir DIR); empty: releases cannot be signed or published"},
		{flag: "release-store", group: Releases, env: "STOREKEEP_RELEASE_STORE", def: "", str: &c.ReleaseStore, help: "directory the release artifacts are kept in (default: releases in the data directory)"},
		{flag: "release-max-size", group: Releases, env: "STOREKEEP_RELEASE_MAX_SIZE", def: "2048", num: &c.ReleaseMaxMiB, help: "largest release artifact accepted, in MiB"},
	}
}

// Group is a set of settings that commands take together, so each
// command offers the flags it uses and no others.
type Group uint

const (
	// DB is --db and --data-dir.
	DB Group = 1 << iota
	// Log is --log-format and --log-level.
	Log
	// Site is --base-url, for commands that print links to the site.
	Site
	// Stripe is the Stripe keys and API address.
	Stripe
	// Server is everything else serve uses: listeners, TLS, SMTP,
	// payments, migrations at start-up.
	Server
	// Releases is the release signing key, the artifact store and its
	// size limit: serve and the release commands.
	Releases

	// All is every group: serve, migrate and config.
	All = DB | Log | Site | Stripe | Server | Releases
)

// Bind registers every setting as a flag on fs. Each flag's default is its
// environment variable when set, otherwise the built-in default; a
// malformed variable is reported by Validate.
func (c *Config) Bind(fs *pflag.FlagSet) { c.BindGroups(fs, All) }

// BindGroups registers the flags of the given groups on fs. The settings
// of other groups get no flag but still take their environment variable,
// or the built-in default, so Validate sees the same configuration serve
// would.
func (c *Config) BindGroups(fs *pflag.FlagSet, groups Group) {
	for _, s := range c.settings() {
		def := s.def
		v, fromEnv := os.LookupEnv(s.env)
		if fromEnv {
			def = v
		}
		fs := fs
		if s.group&groups == 0 {
			// No flag: a throw-away set parses the value as the flag would.
			fs = pflag.NewFlagSet("", pflag.ContinueOnError)
		}
		help := s.help + " [" + s.env + "]"
		switch {
		case s.str != nil && s.set != nil:
			*s.str, *s.set = def, fromEnv
			fs.Var(&trackedString{s: s.str, set: s.set}, s.flag, help)
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

// trackedString is a string flag that remembers whether it was given.
type trackedString struct {
	s   *string
	set *bool
}

func (t *trackedString) String() string {
	if t.s == nil {
		return ""
	}
	return *t.s
}
func (t *trackedString) Set(v string) error { *t.s, *t.set = v, true; return nil }
func (t *trackedString) Type() string       { return "string" }

// Validate checks the configuration and fills in derived defaults. Its
// errors name the setting and say what a valid value looks like.
func (c *Config) Validate() error {
	if len(c.envErrs) > 0 {
		return fmt.Errorf("invalid environment: %s", strings.Join(c.envErrs, "; "))
	}
	if (c.StripeSecretKey == "") != (c.StripeWebhookSecret == "") {
		return fmt.Errorf("--stripe-secret-key and --stripe-webhook-secret go together: set both to take card payments, or neither")
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	if n := countSet(c.DKIMDomain, c.DKIMSelector, c.DKIMKey); n != 0 && n != 3 {
		return fmt.Errorf("--dkim-domain, --dkim-selector and --dkim-key go together: set all three to sign mail with DKIM (storekeep mail dkim-keygen prints them), or none to send it unsigned")
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
	if c.ReleaseStore == "" {
		c.ReleaseStore = filepath.Join(c.DataDir, "releases")
	}
	switch {
	case c.ReleaseMaxMiB == 0:
		c.ReleaseMaxMiB = DefaultReleaseMaxMiB
	case c.ReleaseMaxMiB < 0:
		return fmt.Errorf("--release-max-size %d: give the largest artifact accepted in MiB, at least 1 (default %d)", c.ReleaseMaxMiB, DefaultReleaseMaxMiB)
	}
	if c.BaseURL == "" {
		switch {
		case len(c.domains) > 0:
			c.BaseURL = "https://" + c.domains[0]
		default:
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "localhost"
			}
			scheme := "http"
			if c.TLSEnabled() {
				scheme = "https"
			}
			c.BaseURL = scheme + "://" + net.JoinHostPort(host, port)
			if c.TLSEnabled() && port == "443" {
				c.BaseURL = "https://" + host
				if strings.Contains(host, ":") {
					c.BaseURL = "https://[" + host + "]"
				}
			}
		}
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("--base-url %q is not an absolute http(s) URL without a path: use e.g. https://shop.example.com", c.BaseURL)
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.TLSEnabled() && u.Scheme != "https" {
		return fmt.Errorf("--base-url %q is http:// but this server serves HTTPS (--tls-domains or --tls-cert): use https://%s", c.BaseURL, u.Host)
	}
	if len(c.domains) > 0 && !slices.Contains(c.domains, strings.ToLower(u.Hostname())) {
		return fmt.Errorf("--base-url host %q is not among --tls-domains %s: add it there, or use one of those names in --base-url", u.Hostname(), strings.Join(c.domains, ","))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: use text or json", c.LogFormat)
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if c.AnalyticsPerMinute < 1 || c.AnalyticsPerMinute > 1_000_000 {
		return fmt.Errorf("--analytics-beacons-per-minute %d: give how many beacons one address may send a minute, 1 to 1000000 (default 600)", c.AnalyticsPerMinute)
	}
	if c.NoticesPerSecond < 1 || c.NoticesPerHour < c.NoticesPerSecond || c.NoticesPerHour > 10_000_000 {
		return fmt.Errorf("--notices-per-second %d, --notices-per-hour %d: give at least 1 a second and at least as many an hour as a second, at most 10000000 an hour (defaults 10 and 20000)", c.NoticesPerSecond, c.NoticesPerHour)
	}
	if c.LogAddressDays < 1 {
		return fmt.Errorf("--log-address-days %d: give the days the request log keeps full network addresses, at least 1 (default 7)", c.LogAddressDays)
	}
	if c.SMTPPort < 1 || c.SMTPPort > 65535 {
		return fmt.Errorf("--smtp-port %d: use a port from 1 to 65535", c.SMTPPort)
	}
	if _, _, err := c.BounceLocalDomain(); err != nil {
		return err
	}
	// 0 (a Config built in code, as the demo's) means the default.
	if c.DrainSeconds < 0 || c.DrainSeconds > 300 {
		return fmt.Errorf("--shutdown-drain-seconds %d: give 0 to 300 seconds (0: stop at once)", c.DrainSeconds)
	}
	if c.MailLeaseSeconds != 0 && (c.MailLeaseSeconds < 2 || c.MailLeaseSeconds > 3600) {
		return fmt.Errorf("--mail-lease-seconds %d: give 2 to 3600 seconds (default 30)", c.MailLeaseSeconds)
	}
	if c.BounceSoftLimit < 0 || c.BounceSoftDays < 0 {
		return fmt.Errorf("--bounce-soft-limit %d, --bounce-soft-days %d: give at least 1 for each (defaults 3 and 30)", c.BounceSoftLimit, c.BounceSoftDays)
	}
	return c.validateMetrics()
}

// validateMetrics checks --metrics-addr and --metrics-token: the metrics
// listener is separate from the site's, and reachable from beyond the
// machine only with a token.
func (c *Config) validateMetrics() error {
	if c.MetricsAddr == "" {
		if c.MetricsToken != "" {
			return errors.New("--metrics-token is set but --metrics-addr is empty: give the address to serve metrics on, e.g. 127.0.0.1:9090")
		}
		return nil
	}
	host, port, err := net.SplitHostPort(c.MetricsAddr)
	if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 0 || p > 65535 {
		return fmt.Errorf("--metrics-addr %q is not host:port: use e.g. 127.0.0.1:9090, or leave it empty to serve no metrics", c.MetricsAddr)
	}
	if c.MetricsAddr == c.Addr || (c.HTTPAddr != "" && c.MetricsAddr == c.HTTPAddr) {
		return fmt.Errorf("--metrics-addr %q is the site's address: metrics get a listener of their own, e.g. 127.0.0.1:9090", c.MetricsAddr)
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return errors.New("--metrics-token is shorter than 16 characters: use a random one, e.g. from 'openssl rand -hex 32'")
	}
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" && c.MetricsToken == "" {
		return fmt.Errorf("--metrics-addr %q is reachable beyond this machine: set --metrics-token (Prometheus sends it as a bearer token), or listen on 127.0.0.1", c.MetricsAddr)
	}
	return nil
}

// validateTLS checks the HTTPS and proxy settings and sets the defaults of
// --addr and --http-addr that depend on whether TLS is on.
func (c *Config) validateTLS() error {
	domains, err := parseDomains(c.TLSDomains)
	if err != nil {
		return err
	}
	c.domains = domains
	c.TLSDomains = strings.Join(domains, ",") // as effective, for 'storekeep config'
	switch {
	case len(domains) > 0 && (c.TLSCert != "" || c.TLSKey != ""):
		return errors.New("--tls-domains and --tls-cert/--tls-key are mutually exclusive: use --tls-domains for automatic certificates, or --tls-cert and --tls-key for a certificate you manage, not both")
	case c.TLSCert != "" && c.TLSKey == "":
		return errors.New("--tls-cert given without --tls-key: give the private key file that belongs to the certificate too")
	case c.TLSKey != "" && c.TLSCert == "":
		return errors.New("--tls-key given without --tls-cert: give the certificate chain file too")
	}
	if c.TLSEnabled() {
		if !c.addrSet {
			c.Addr = ":443"
		}
		if !c.httpAddrSet {
			c.HTTPAddr = ":80"
		}
	} else if c.HTTPAddr != "" {
		return fmt.Errorf("--http-addr %q is only used with TLS: set --tls-domains or --tls-cert and --tls-key, or leave --http-addr empty", c.HTTPAddr)
	}
	if c.HTTPAddr != "" {
		_, port, err := net.SplitHostPort(c.HTTPAddr)
		if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 0 || p > 65535 {
			return fmt.Errorf("--http-addr %q is not host:port: use e.g. :80, or an empty value to serve no plain HTTP", c.HTTPAddr)
		}
		if c.HTTPAddr == c.Addr && port != "0" {
			return fmt.Errorf("--http-addr and --addr are both %q: the HTTPS site and the plain-HTTP redirect need different ports, e.g. --addr :443 --http-addr :80", c.Addr)
		}
	}
	if len(domains) > 0 {
		u, err := url.Parse(c.ACMEDirectory)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("--acme-directory %q is not an https:// URL: leave it at the default (Let's Encrypt, %s) or give your CA's directory URL", c.ACMEDirectory, DefaultACMEDirectory)
		}
		if c.ACMECache == "" {
			return errors.New("--acme-cache is empty: use db to keep certificates in the database (shared by all instances), or a directory")
		}
		if c.ACMECache != "db" {
			if st, err := os.Stat(c.ACMECache); err == nil && !st.IsDir() {
				return fmt.Errorf("--acme-cache %q is a file, not a directory: give a directory (created if missing) or db", c.ACMECache)
			}
		}
		email := strings.TrimPrefix(c.ACMEEmail, "mailto:")
		if email != "" && (!strings.Contains(email, "@") || strings.ContainsAny(email, " ,;<>")) {
			return fmt.Errorf("--acme-email %q is not one email address: give e.g. ops@example.com, or leave it empty", c.ACMEEmail)
		}
		c.ACMEEmail = email
	}
	c.proxies, err = serving.ParseTrustedProxies(c.TrustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	proxies := make([]string, len(c.proxies))
	for i, p := range c.proxies {
		proxies[i] = p.String()
	}
	c.TrustedProxies = strings.Join(proxies, ",")
	return nil
}

// parseDomains reads --tls-domains: host names only, lower-cased, without
// duplicates.
func parseDomains(list string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(list, ",") {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		switch {
		case d == "":
			continue
		case strings.Contains(d, "://") || strings.ContainsAny(d, "/:"):
			return nil, fmt.Errorf("--tls-domains: %q is not a host name: give names only, without scheme, port or path, e.g. shop.example.com", d)
		case strings.HasPrefix(d, "*"):
			return nil, fmt.Errorf("--tls-domains: %q is a wildcard, which needs a DNS challenge that Storekeep does not do: list each name, or use --tls-cert and --tls-key", d)
		case net.ParseIP(d) != nil:
			return nil, fmt.Errorf("--tls-domains: %q is an IP address: automatic certificates need a DNS name", d)
		case !validHostname(d):
			return nil, fmt.Errorf("--tls-domains: %q is not a valid host name: use letters, digits, hyphens and at least one dot, e.g. shop.example.com (write international names in their xn-- form)", d)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

func validHostname(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// TLSEnabled reports whether the server terminates TLS itself, with
// automatic certificates or certificate files.
func (c *Config) TLSEnabled() bool {
	return len(c.domains) > 0 || c.TLSCert != "" || c.TLSKey != ""
}

// Domains returns the host names for automatic certificates (valid after
// Validate).
func (c *Config) Domains() []string { return slices.Clone(c.domains) }

// Proxies returns the trusted reverse proxies (valid after Validate).
func (c *Config) Proxies() []netip.Prefix { return slices.Clone(c.proxies) }

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

// countSet counts the non-empty strings.
func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

// BounceLocalDomain splits --bounce-address into the return path's local
// part and domain; both empty when it is not set.
func (c *Config) BounceLocalDomain() (local, domain string, err error) {
	if c.BounceAddress == "" {
		return "", "", nil
	}
	local, domain, ok := strings.Cut(c.BounceAddress, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(c.BounceAddress, " \t\r\n<>+\"") || strings.Count(c.BounceAddress, "@") != 1 ||
		!strings.Contains(domain, ".") {
		return "", "", fmt.Errorf("--bounce-address %q: give a bare address without a + tag, such as bounces@example.com", c.BounceAddress)
	}
	return strings.ToLower(local), strings.ToLower(domain), nil
}
