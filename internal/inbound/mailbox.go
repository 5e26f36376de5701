package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/emersion/go-smtp"
)

// Envelope is what the transport knows of one delivery.
type Envelope struct {
	// Sender is the MAIL FROM reverse-path, "" for the null sender (<>):
	// a delivery report or another automatic message.
	Sender string
	// Recipient is the RCPT TO address as given (not normalised), so a
	// mailbox can read a plus address (support+TOKEN@...).
	Recipient string
	// Via is how the message came: "smtp", "lmtp" or "pipe".
	Via string
}

// Ways a message arrives (Envelope.Via).
const (
	ViaSMTP = "smtp"
	ViaLMTP = "lmtp"
	ViaPipe = "pipe"
)

// A Mailbox takes the mail for some recipients. The Server asks its
// mailboxes in order which one takes a recipient, and hands that one the
// message.
//
// Errors returned by Accepts and Deliver choose the answer: a *Reply
// (wrapped or not) is given as it is; any other error is a temporary
// failure (451 4.3.0), and its text is logged, so it must not hold an
// address or message text.
type Mailbox interface {
	// Name names the mailbox in logs: "privacy", "support".
	Name() string
	// Accepts reports whether the mailbox takes mail for rcpt, the RCPT
	// TO address as given. An error is a temporary failure (451): the
	// sending server tries again later.
	Accepts(ctx context.Context, rcpt string) (bool, error)
	// MaxBytes is the largest message the mailbox takes; a bigger one is
	// refused with 552 5.3.4 before Deliver is called.
	MaxBytes() int64
	// Deliver takes one message for env.Recipient. raw is the message as
	// received, with CRLF line ends; it is not retained by the caller
	// after Deliver returns, and must not be changed. A nil error means
	// the message is accepted (250): it is then the mailbox's, and the
	// sender will not send it again.
	Deliver(ctx context.Context, env Envelope, raw []byte) error
}

// Reply is a refusal with its SMTP code. Accepts and Deliver return one
// (wrapped or not) to choose the answer; Permanent and Temporary make
// them.
type Reply struct {
	Code     int    // 4xx or 5xx
	Enhanced [3]int // RFC 3463 status code, e.g. {5, 1, 1}
	Message  string // what the sender (and the bounce) reads; no personal data
}

func (r *Reply) Error() string {
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, r.Enhanced[0], r.Enhanced[1], r.Enhanced[2], r.Message)
}

// Temporary reports whether the sender should try again later (4xx).
func (r *Reply) Temporary() bool { return r.Code/100 == 4 }

// Permanent is a permanent refusal: 550 in general, 552 for a size or
// storage limit (enhanced x.2.2 mailbox full, x.3.4 message too big) and
// 554 for a refusal of the message's content (x.6.x) or a policy
// (x.7.x); the code follows the enhanced status.
func Permanent(enhanced [3]int, msg string) *Reply {
	enhanced[0] = 5
	code := 550
	switch {
	case enhanced[1] == 2 && enhanced[2] == 2, enhanced[1] == 3 && enhanced[2] == 4:
		code = 552
	case enhanced[1] == 6, enhanced[1] == 7:
		code = 554
	}
	return &Reply{Code: code, Enhanced: enhanced, Message: msg}
}

// Temporary is a temporary failure, so the sending server tries again
// later: 452 for a lack of storage (enhanced x.2.2, x.3.1) or too many
// recipients (x.5.3), 451 otherwise.
func Temporary(enhanced [3]int, msg string) *Reply {
	enhanced[0] = 4
	code := 451
	switch {
	case enhanced[1] == 2 && enhanced[2] == 2, enhanced[1] == 3 && enhanced[2] == 1, enhanced[1] == 5 && enhanced[2] == 3:
		code = 452
	}
	return &Reply{Code: code, Enhanced: enhanced, Message: msg}
}

// Common answers, for mailboxes and the server.
var (
	// ErrNoRecipient is the answer to a recipient no mailbox takes.
	ErrNoRecipient = &Reply{Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "No such recipient here"}
	// ErrTooBig is the answer to a message above the mailbox's MaxBytes;
	// the text is go-smtp's, which gives it while the message streams in
	// when it is above every mailbox's limit.
	ErrTooBig = &Reply{Code: 552, Enhanced: [3]int{5, 3, 4}, Message: "Maximum message size exceeded"}
	// ErrTemporary is the answer to any error that is not a Reply.
	ErrTemporary = &Reply{Code: 451, Enhanced: [3]int{4, 3, 0}, Message: "Temporary failure; try again later"}
)

// ReplyOf is the answer err gives: the Reply it holds, go-smtp's
// SMTPError as a Reply (a message too big while streaming), ErrTemporary
// for any other error, nil for nil.
func ReplyOf(err error) *Reply {
	if err == nil {
		return nil
	}
	var r *Reply
	if errors.As(err, &r) {
		return r
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &Reply{Code: se.Code, Enhanced: [3]int(se.EnhancedCode), Message: se.Message}
	}
	return ErrTemporary
}

// smtpError is r as go-smtp's answer.
func (r *Reply) smtpError() *smtp.SMTPError {
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCode(r.Enhanced), Message: r.Message}
}

// LogAttrs adds attributes to the one log line the server writes for the
// delivery ctx belongs to, such as the ID of what Deliver recorded
// ("request", 42) or why it refused. They must hold no address and no
// message text. Outside a delivery it does nothing.
func LogAttrs(ctx context.Context, args ...any) {
	if a, ok := ctx.Value(attrsKey{}).(*logAttrs); ok {
		a.mu.Lock()
		a.args = append(a.args, args...)
		a.mu.Unlock()
	}
}

type attrsKey struct{}

type logAttrs struct {
	mu   sync.Mutex
	args []any
}

// withLogAttrs returns a context that collects LogAttrs for one line.
func withLogAttrs(ctx context.Context) (context.Context, *logAttrs) {
	a := &logAttrs{}
	return context.WithValue(ctx, attrsKey{}, a), a
}

func (a *logAttrs) get() []any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.args
}

// logDelivery writes the one line for one message to one mailbox: its
// name, how it came, the outcome and what the mailbox added; never an
// address or text.
func logDelivery(log *slog.Logger, mailbox, via string, err error, extra []any) {
	args := append([]any{"mailbox", mailbox, "via", via}, extra...)
	r := ReplyOf(err)
	switch {
	case err == nil:
		log.Info("inbound mail: delivered", args...)
	case errors.As(err, new(*Reply)) || errors.As(err, new(*smtp.SMTPError)):
		args = append(args, "code", r.Code, "reason", r.Message)
		if r.Temporary() {
			log.Warn("inbound mail: deferred", args...)
		} else {
			log.Info("inbound mail: refused", args...)
		}
	default:
		args = append(args, "code", r.Code, "error", err.Error())
		log.Error("inbound mail: cannot deliver; the sender will retry", args...)
	}
}
