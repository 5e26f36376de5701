package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/settings"
)

// DefaultMaxBytes is the largest message the privacy mailbox takes: a
// request is a few lines of text, and attachments are not read.
const DefaultMaxBytes = 256 << 10

// PrivacyConfig configures the privacy mailbox.
type PrivacyConfig struct {
	DB *db.DB
	// Limiter counts requests per address (see requests.Create).
	Limiter requests.Limiter
	// Log receives problems with the settings (never an address); the
	// outcome of each message is in the server's line.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxBytes is the largest message accepted; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Answers of the privacy mailbox. None depends on whether the sender has
// an account.
var (
	errFrom = &Reply{Code: 550, Enhanced: [3]int{5, 1, 7},
		Message: "The message needs one From address to answer to, such as name@example.com"}
	errMessage = &Reply{Code: 550, Enhanced: [3]int{5, 6, 0},
		Message: "The message cannot be read"}
	errLimited = &Reply{Code: 451, Enhanced: [3]int{4, 7, 1},
		Message: "Too many requests from this address today; try again later"}
)

// privacyMailbox records mail to the privacy address of the vendor
// settings as privacy requests (channel email).
type privacyMailbox struct{ cfg PrivacyConfig }

// PrivacyMailbox is the mailbox of the privacy contact address in the
// vendor settings: each message becomes a privacy request (channel email)
// for staff, through requests.Create, which catches duplicates and
// applies the rate limit. See docs/inbound-mail.md.
func PrivacyMailbox(cfg PrivacyConfig) Mailbox {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	return &privacyMailbox{cfg: cfg}
}

func (p *privacyMailbox) Name() string    { return "privacy" }
func (p *privacyMailbox) MaxBytes() int64 { return p.cfg.MaxBytes }

// Accepts takes the privacy address of the settings, compared without
// regard to case; a change in the console applies to the next message.
func (p *privacyMailbox) Accepts(ctx context.Context, rcpt string) (bool, error) {
	v, err := settings.Load(ctx, p.cfg.DB)
	if err != nil {
		return false, fmt.Errorf("read the privacy address from the settings: %w", err)
	}
	want, err := emailaddr.NormaliseEmail(v.PrivacyEmail)
	if err != nil {
		p.cfg.Log.Error("inbound mail: the privacy address in the settings is not an email address; the privacy mailbox takes no mail")
		return false, nil
	}
	got, err := emailaddr.NormaliseEmail(rcpt)
	return err == nil && got == want, nil
}

// Deliver records one message to the privacy address, or says why not.
func (p *privacyMailbox) Deliver(ctx context.Context, env Envelope, raw []byte) error {
	m, err := Parse(raw)
	switch {
	case errors.Is(err, ErrBadMessage):
		LogAttrs(ctx, "detail", err.Error())
		return errMessage
	case err != nil:
		LogAttrs(ctx, "detail", err.Error())
		return errFrom
	}
	if env.Sender == "" || m.Automatic {
		// Auto-replies and delivery reports ask for nothing, and refusing
		// them would only send another automatic message back.
		LogAttrs(ctx, "detail", "ignored an automatic message (auto-reply or delivery report)")
		return nil
	}
	kind, word := Classify(m.Subject, m.Text)
	n := requests.NewRequest{Kind: kind, Email: m.From, Channel: requests.Email, Note: Note(m, kind, word)}
	req, err := requests.Create(ctx, p.cfg.DB, p.cfg.Limiter, n, requests.System, p.cfg.Now())
	switch {
	case err == nil:
		LogAttrs(ctx, "detail", "privacy request recorded", "request", req.ID, "kind", string(req.Kind))
		return nil
	case errors.Is(err, requests.ErrDuplicate):
		LogAttrs(ctx, "detail", "the same request is already open", "request", req.ID, "kind", string(req.Kind))
		return nil
	case errors.Is(err, requests.ErrRateLimited):
		LogAttrs(ctx, "detail", "the address reached the daily limit of requests", "kind", string(kind))
		return errLimited
	case errors.Is(err, requests.ErrInvalid):
		LogAttrs(ctx, "detail", "invalid request")
		return errFrom
	}
	return fmt.Errorf("record the privacy request: %w", err)
}

// Note is the request's note for staff: where it came from, the subject,
// which word chose the kind, and the first lines of the text.
func Note(m Message, kind requests.Kind, word string) string {
	var b strings.Builder
	b.WriteString("Received by email to the privacy address.\n")
	fmt.Fprintf(&b, "Subject: %s\n", m.Subject)
	if word != "" {
		fmt.Fprintf(&b, "Kind %q chosen automatically from the word %q; check it against the text.\n", string(kind), word)
	} else {
		fmt.Fprintf(&b, "Kind %q chosen automatically: no keyword found, so the default; check it against the text.\n", string(kind))
	}
	b.WriteString("\n")
	if m.Text == "" {
		b.WriteString("(no readable text; attachments are not kept)")
	} else {
		b.WriteString(m.Text)
	}
	return b.String()
}
