package mail

import (
	"context"
	"errors"
	"fmt"
)

// Outgoing is one message as a Sender delivers it.
type Outgoing struct {
	// MessageID is the unique part of the Message-ID header, kept across
	// retries; the sender adds "@" and the From address's domain.
	MessageID string
	From      string // "Name <address>" or a bare address
	To        string // one bare address
	Subject   string
	Text      string
	HTML      string // optional; with it the message is multipart/alternative
	Kind      Kind
	// UnsubscribeURL, for Bulk mail, goes into List-Unsubscribe (and, when
	// it is https, List-Unsubscribe-Post for one-click unsubscribing).
	UnsubscribeURL string
	// ReplyTo is the bare address replies should go to; empty means the
	// sender's.
	ReplyTo string
	// EnvelopeFrom is the SMTP envelope sender (MAIL FROM), where
	// delivery reports go: the message's VERP return path (verp.go).
	// Empty means the From address. The From header is not changed.
	EnvelopeFrom string
	// Headers are extra header fields, such as Auto-Submitted.
	Headers map[string]string
	// Attachments are files sent with the message (multipart/mixed).
	Attachments []Attachment
}

// Attachment is a file sent with a message, such as an invoice's PDF.
type Attachment struct {
	Filename    string // a plain file name, such as "invoice-2026-000001.pdf"
	ContentType string // such as "application/pdf"
	Data        []byte
}

// Queued is what an Attacher learns of a message it attaches files to:
// what the message is about, as it was queued.
type Queued struct {
	ID         int64
	Template   string
	DedupKey   string
	CustomerID int64
}

// Attacher supplies the attachments of queued messages when they are
// sent. The outbox stores no files: a message names what it is about
// (its template and dedup key, such as "order-paid:42"), and the
// Attacher renders the files from the stored records at send time, the
// same bytes on every attempt (internal/documents renders invoices so).
// An error fails the attempt, which is retried like a refused delivery:
// a message that should carry a file never goes without it.
type Attacher interface {
	Attachments(ctx context.Context, m Queued) ([]Attachment, error)
}

// Sender delivers one message. An error means the message was not
// accepted (the worker retries it later), unless it wraps ErrPermanent.
type Sender interface {
	Send(ctx context.Context, m Outgoing) error
}

// ErrPermanent marks a refusal that retrying cannot change, such as an
// SMTP 5xx answer to the recipient's address. The worker gives such a
// message up at once instead of retrying it.
var ErrPermanent = errors.New("permanent failure")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }

// transporter is implemented by senders that name their transport, which
// the worker records with every message it marks sent.
type transporter interface {
	Transport() string
}

// transportOf names the transport of s for the outbox's transport column.
func transportOf(s Sender) string {
	if t, ok := s.(transporter); ok {
		return t.Transport()
	}
	return "smtp"
}

// DevSender is the demo's sender: it delivers nothing. The worker marks
// each message sent with transport "dev", and the demo's mail viewer
// (/dev/mail) shows the outbox's rows instead.
type DevSender struct{}

// Send accepts m and does nothing with it.
func (DevSender) Send(context.Context, Outgoing) error { return nil }

// Transport is "dev".
func (DevSender) Transport() string { return "dev" }

// Attachers asks each Attacher in turn and sends every file they give:
// each area attaches the files of its own messages and none to others'.
type Attachers []Attacher

// Attachments implements Attacher.
func (as Attachers) Attachments(ctx context.Context, m Queued) ([]Attachment, error) {
	var out []Attachment
	for _, a := range as {
		files, err := a.Attachments(ctx, m)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}
