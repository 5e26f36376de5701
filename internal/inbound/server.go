// Package inbound receives the mail people send to the vendor's privacy
// address and records each message as a privacy request (channel email)
// for staff to handle in the console.
//
// It is an SMTP server for a mail system to deliver to: the vendor's MX,
// or a relay that forwards the privacy address, on a loopback or private
// address (docs/inbound-mail.md). It accepts mail for the privacy address
// in the vendor settings and for nothing else, reads the one From address,
// picks the kind of request with a small keyword rule (Classify) and hands
// the rest to requests.Create, which catches duplicates and applies the
// rate limit. Attachments are never read; the note keeps the subject and
// the first lines of the text so that staff can check the kind.
//
// Its answers do not depend on whether the sender has an account, and its
// logs hold request IDs and reasons, never addresses or message text.
package inbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/settings"
)

// Defaults of Config.
const (
	// DefaultMaxBytes is the largest message accepted: a request is a few
	// lines of text, and attachments are not read.
	DefaultMaxBytes = 256 << 10
	// MaxRecipients caps RCPT TO per message; only the privacy address is
	// accepted, so more than a few is a mistake or abuse.
	MaxRecipients = 5
	// timeout bounds each SMTP read and write, and the recording of one
	// message.
	timeout = 60 * time.Second
)

// Config configures a Server.
type Config struct {
	DB *db.DB
	// Limiter counts requests per address (see requests.Create).
	Limiter requests.Limiter
	// Log receives one line per message: the outcome and the request ID,
	// never an address or text.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Domain is the host name in the greeting; "" means "localhost".
	Domain string
	// MaxBytes is the largest message accepted; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Server receives privacy mail. Start it with Serve; stop it with Close.
type Server struct {
	cfg    Config
	smtp   *smtp.Server
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once

	mu        sync.Mutex
	listeners []net.Listener // closed by Close, also when Serve has not begun yet
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	s := &Server{cfg: cfg}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	srv.Domain = cfg.Domain
	srv.MaxMessageBytes = cfg.MaxBytes
	srv.MaxRecipients = MaxRecipients
	srv.ReadTimeout, srv.WriteTimeout = timeout, timeout
	srv.ErrorLog = errorLog{cfg.Log}
	s.smtp = srv
	return s
}

// Serve accepts connections on ln until Close; it returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.ctx.Err() != nil { // closed before serving: go-smtp would not know
		s.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	err := s.smtp.Serve(ln)
	if s.ctx.Err() != nil {
		return nil
	}
	return err
}

// Close stops accepting mail and closes open connections; a message being
// recorded is given up (its sender hears no answer and tries again).
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		s.mu.Lock()
		s.cancel()
		s.mu.Unlock()
		err = s.smtp.Close()
		if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
			err = nil
		}
		// A listener go-smtp had not registered yet (Serve just starting).
		s.mu.Lock()
		for _, ln := range s.listeners {
			_ = ln.Close()
		}
		s.mu.Unlock()
	})
	return err
}

// Answers. None depends on whether the sender has an account.
var (
	errRecipient = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such recipient here: this server only takes mail for the privacy contact address"}
	errFrom = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 7},
		Message: "The message needs one From address to answer to, such as name@example.com"}
	errMessage = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "The message cannot be read"}
	errLimited = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
		Message: "Too many requests from this address today; try again later"}
	errTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary failure; try again later"}
)

type session struct {
	s         *Server
	automatic bool // null reverse path: a delivery report or similar
	rcpts     int
}

func (ss *session) Reset()        { ss.automatic, ss.rcpts = false, 0 }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.automatic = from == ""
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(ss.s.ctx, timeout)
	defer cancel()
	v, err := settings.Load(ctx, ss.s.cfg.DB)
	if err != nil {
		ss.s.cfg.Log.Error("inbound mail: cannot read the privacy address from the settings", "error", err.Error())
		return errTemporary
	}
	want, err := emailaddr.NormaliseEmail(v.PrivacyEmail)
	if err != nil {
		ss.s.cfg.Log.Error("inbound mail: the privacy address in the settings is not an email address; refusing all mail")
		return errRecipient
	}
	got, err := emailaddr.NormaliseEmail(to)
	if err != nil || got != want {
		ss.s.cfg.Log.Info("inbound mail: refused a recipient other than the privacy address")
		return errRecipient
	}
	ss.rcpts++
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	// go-smtp stops the message at MaxMessageBytes with a 552 answer.
	if _, err := io.Copy(&buf, r); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			ss.s.cfg.Log.Info("inbound mail: refused", "reason", se.Message)
		}
		return err
	}
	if ss.rcpts == 0 { // go-smtp refuses DATA without a recipient; defensive
		return errRecipient
	}
	ctx, cancel := context.WithTimeout(ss.s.ctx, timeout)
	defer cancel()
	return ss.s.receive(ctx, buf.Bytes(), ss.automatic)
}

// receive records one message to the privacy address, or says why not.
func (s *Server) receive(ctx context.Context, data []byte, automatic bool) error {
	log := s.cfg.Log
	m, err := Parse(data)
	switch {
	case errors.Is(err, ErrBadMessage):
		log.Info("inbound mail: refused", "reason", err.Error())
		return errMessage
	case err != nil:
		log.Info("inbound mail: refused", "reason", err.Error())
		return errFrom
	}
	if automatic || m.Automatic {
		// Auto-replies and delivery reports ask for nothing, and refusing
		// them would only send another automatic message back.
		log.Info("inbound mail: ignored an automatic message (auto-reply or delivery report)")
		return nil
	}
	kind, word := Classify(m.Subject, m.Text)
	n := requests.NewRequest{Kind: kind, Email: m.From, Channel: requests.Email, Note: Note(m, kind, word)}
	req, err := requests.Create(ctx, s.cfg.DB, s.cfg.Limiter, n, requests.System, s.cfg.Now())
	switch {
	case err == nil:
		log.Info("inbound mail: privacy request recorded", "request", req.ID, "kind", string(req.Kind))
		return nil
	case errors.Is(err, requests.ErrDuplicate):
		log.Info("inbound mail: the same request is already open", "request", req.ID, "kind", string(req.Kind))
		return nil
	case errors.Is(err, requests.ErrRateLimited):
		log.Warn("inbound mail: deferred, the address reached the daily limit of requests", "kind", string(kind))
		return errLimited
	case errors.Is(err, requests.ErrInvalid):
		log.Info("inbound mail: refused", "reason", "invalid request")
		return errFrom
	}
	log.Error("inbound mail: cannot record the request; the sender will retry", "error", err.Error())
	return errTemporary
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

// errorLog passes go-smtp's own messages (accept errors, panics) to the
// log as warnings.
type errorLog struct{ l *slog.Logger }

func (e errorLog) Printf(format string, v ...any) {
	e.l.Warn("inbound mail: smtp server: " + fmt.Sprintf(format, v...))
}

func (e errorLog) Println(v ...any) {
	e.l.Warn("inbound mail: smtp server: " + strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
