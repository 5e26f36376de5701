// Package settings holds the vendor's business settings: who the vendor is,
// how people reach it and what its policies say about it. They live in the
// database (table settings) and are edited in the staff console; flags and
// environment variables only bootstrap the process.
package settings

import (
	"context"
	"database/sql"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Vendor describes the company that runs the site. It is the controller in
// the sense of the GDPR, and the policy pages name it.
type Vendor struct {
	// Name is the trading name shown in the header and footer.
	Name string
	// LegalName is the controller's registered name, used in the policies.
	LegalName string
	// Address is the controller's postal address (one line per line).
	Address string
	// PrivacyEmail is where people send privacy requests.
	PrivacyEmail string
	// SupportEmail is where customers ask for help.
	SupportEmail string
	// Country is the country whose data protection authority is competent
	// for the controller.
	Country string
	// HostingProvider and HostingLocation name who hosts the site and where;
	// the policy lists them among the recipients.
	HostingProvider string
	HostingLocation string
	// HostingTransfer names the safeguard (such as Standard Contractual
	// Clauses) when the hosting location is outside the EEA; empty means the
	// data stays inside the EEA, and the policy says so.
	HostingTransfer string
	// MailProvider, MailLocation and MailTransfer say the same of the SMTP
	// relay that delivers our email.
	MailProvider string
	MailLocation string
	MailTransfer string
}

// keys maps the setting keys to the fields of Vendor, in a fixed order.
func (v *Vendor) fields() []struct {
	key string
	ptr *string
} {
	return []struct {
		key string
		ptr *string
	}{
		{"vendor.name", &v.Name},
		{"vendor.legal_name", &v.LegalName},
		{"vendor.address", &v.Address},
		{"vendor.privacy_email", &v.PrivacyEmail},
		{"vendor.support_email", &v.SupportEmail},
		{"vendor.country", &v.Country},
		{"vendor.hosting_provider", &v.HostingProvider},
		{"vendor.hosting_location", &v.HostingLocation},
		{"vendor.hosting_transfer", &v.HostingTransfer},
		{"vendor.mail_provider", &v.MailProvider},
		{"vendor.mail_location", &v.MailLocation},
		{"vendor.mail_transfer", &v.MailTransfer},
	}
}

// Defaults are what a new installation shows until the owner fills in the
// real values; they say plainly that they are placeholders.
func Defaults() Vendor {
	return Vendor{
		Name:            "Storekeep",
		LegalName:       "(vendor name not set)",
		PrivacyEmail:    "privacy@example.invalid",
		SupportEmail:    "support@example.invalid",
		HostingProvider: "(hosting provider not set)",
		MailProvider:    "(email delivery provider not set)",
	}
}

// Validate reports the first problem with v in words for the person who
// entered it, as a refusal naming the field (refuse.Field).
func (v Vendor) Validate() error {
	if strings.TrimSpace(v.Name) == "" {
		return refuse.Field("name", "the vendor name is empty: enter the name shown on the site")
	}
	if strings.TrimSpace(v.LegalName) == "" {
		return refuse.Field("legal_name", "the legal name is empty: enter the registered name of the company")
	}
	for _, e := range []struct{ field, what, addr string }{{"privacy_email", "privacy contact", v.PrivacyEmail}, {"support_email", "support contact", v.SupportEmail}} {
		a, err := mail.ParseAddress(e.addr)
		if err != nil || a.Address != strings.TrimSpace(e.addr) {
			return refuse.Field(e.field, fmt.Sprintf("the %s %q is not an email address: enter one such as privacy@example.com", e.what, e.addr))
		}
	}
	return nil
}

// Load reads the vendor settings, falling back to Defaults for keys never
// saved.
func Load(ctx context.Context, q db.Querier) (Vendor, error) {
	v := Defaults()
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM settings WHERE key LIKE 'vendor.%'`)
	if err != nil {
		return v, fmt.Errorf("load vendor settings: %w", err)
	}
	defer rows.Close()
	stored := map[string]string{}
	for rows.Next() {
		var k, val string
		if err := rows.Scan(&k, &val); err != nil {
			return v, fmt.Errorf("load vendor settings: %w", err)
		}
		stored[k] = val
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("load vendor settings: %w", err)
	}
	for _, f := range v.fields() {
		if s, ok := stored[f.key]; ok {
			*f.ptr = s
		}
	}
	return v, nil
}

// Save validates v and stores it in tx. Invalid settings change nothing.
func Save(ctx context.Context, tx *sql.Tx, v Vendor, now time.Time) error {
	if err := v.Validate(); err != nil {
		return err
	}
	for _, f := range v.fields() {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			f.key, strings.TrimSpace(*f.ptr), now)
		if err != nil {
			return fmt.Errorf("save setting %s: %w", f.key, err)
		}
	}
	return nil
}
