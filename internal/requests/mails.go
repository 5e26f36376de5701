package requests

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/settings"
)

// The data of the messages this package sends (templates in
// internal/mail/templates). Dates are formatted by the caller.
type (
	// VerifyMail is for "request_verify": the code that shows the
	// requester receives mail at the address on file.
	VerifyMail struct {
		SiteName     string
		Number       int64
		Wish         string // what was asked for: "to erase your personal data"
		Code         string
		Hours        int
		PrivacyEmail string
	}
	// ExtendedMail is for "request_extended": the new deadline and the
	// reasons for it (Art. 12(3)).
	ExtendedMail struct {
		SiteName     string
		Number       int64
		Wish         string
		Received     string
		Due          string
		NewDue       string
		Reason       string
		PrivacyEmail string
	}
	// RefusedMail is for "request_refused": the reasons and the right to
	// complain to a data protection authority (Art. 12(4)).
	RefusedMail struct {
		SiteName     string
		LegalName    string
		Number       int64
		Wish         string
		Received     string
		Reason       string
		Country      string // where the controller is established; "" when not set
		PrivacyEmail string
	}
	// DoneMail is for "request_done": what was done.
	DoneMail struct {
		SiteName string
		Number   int64
		Wish     string
		Outcome  string
		// DownloadURL, for access and portability, is the privacy page
		// where the requester signs in and downloads their data.
		DownloadURL  string
		Erased       bool
		PrivacyEmail string
	}
	// DigestMail is for "privacy_digest", to the owners.
	DigestMail struct {
		SiteName string
		Date     string
		Overdue  []DigestLine
		DueSoon  []DigestLine
	}
	// DigestLine is one request in the digest: no address, only what the
	// console needs to find it.
	DigestLine struct {
		Number int64
		Kind   string
		State  string
		Due    string
		Days   int // days overdue, or days left
	}
)

// dateText is how mails and the history write a date.
func dateText(t time.Time) string { return t.UTC().Format("2 January 2006") }

func vendor(ctx context.Context, q db.Querier) (settings.Vendor, error) {
	return settings.Load(ctx, q)
}

// queue composes a message to the requester about r and adds it to the
// outbox in tx. A dedup key already queued is not an error: the message
// went out before.
func queue(ctx context.Context, tx *sql.Tx, template, to string, r Request, dedup string, data any, now time.Time) error {
	m, err := mail.Compose(template, to, data)
	if err != nil {
		return err
	}
	m.CustomerID, m.DedupKey = r.CustomerID, dedup
	if _, err := mail.Enqueue(ctx, tx, m, now); err != nil && !errors.Is(err, mail.ErrDuplicate) {
		return err
	}
	return nil
}
