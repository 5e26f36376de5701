// Package inbound receives mail for Storekeep's mailboxes: the privacy
// address, whose messages become privacy requests (PrivacyMailbox), and
// any other Mailbox, such as the support desk's.
//
// A Server is an SMTP or LMTP server for a mail system to deliver to: the
// vendor's MX, or a relay that forwards the addresses, on a loopback or
// private address or a Unix socket (docs/inbound-mail.md). Each recipient
// is taken by the first mailbox that accepts it; any other is refused.
// Deliver does the same for one message read from standard input by
// "storekeep support ingest", Postfix's pipe transport.
//
// Answers do not depend on whether the sender has an account, and the
// logs hold one line per message and mailbox: the mailbox, the outcome
// and IDs, never addresses or message text.
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
)

// Defaults of Config.
const (
	// DefaultMaxRecipients caps RCPT TO per message: a message for our
	// own few addresses has one or two, so more is a mistake or abuse.
	DefaultMaxRecipients = 5
	// timeout bounds each SMTP read and write, each question to a
	// mailbox and each delivery.
	timeout = 60 * time.Second
)

// Config configures a Server.
type Config struct {
	// Mailboxes are asked in order which one takes a recipient.
	Mailboxes []Mailbox
	// Log receives one line per message and mailbox (see Mailbox), and
	// go-smtp's own messages; never an address or text.
	Log *slog.Logger
	// Domain is the host name in the greeting; "" means "localhost".
	Domain string
	// LMTP makes the server speak LMTP (RFC 2033) instead of SMTP: one
	// answer per recipient after the message.
	LMTP bool
	// MaxRecipients caps RCPT TO per message; 0 means
	// DefaultMaxRecipients.
	MaxRecipients int
}

// Server receives mail for its mailboxes. Start it with Serve; stop it
// with Close.
type Server struct {
	cfg    Config
	via    string
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
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	s := &Server{cfg: cfg, via: ViaSMTP}
	if cfg.LMTP {
		s.via = ViaLMTP
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	srv.Domain = cfg.Domain
	srv.LMTP = cfg.LMTP
	// go-smtp stops a message above this while it streams in, with 552,
	// so no message bigger than the largest mailbox takes is held whole;
	// each mailbox's own limit is checked after the message.
	srv.MaxMessageBytes = MaxBytes(cfg.Mailboxes)
	srv.MaxRecipients = cfg.MaxRecipients
	srv.ReadTimeout, srv.WriteTimeout = timeout, timeout
	srv.ErrorLog = errorLog{cfg.Log}
	s.smtp = srv
	return s
}

// MaxBytes is the largest message any of the mailboxes takes.
func MaxBytes(mailboxes []Mailbox) int64 {
	var n int64
	for _, m := range mailboxes {
		n = max(n, m.MaxBytes())
	}
	return n
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
// delivered is given up (its sender hears no answer and tries again). A
// Unix socket's file is removed.
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

// find returns the first mailbox that takes rcpt: nil and nil when none
// does; an error when one cannot tell (a temporary failure, or the Reply a
// mailbox chose).
func find(ctx context.Context, mailboxes []Mailbox, log *slog.Logger, rcpt string) (Mailbox, error) {
	for _, m := range mailboxes {
		ok, err := m.Accepts(ctx, rcpt)
		if err != nil {
			if errors.As(err, new(*Reply)) {
				logDelivery(log, m.Name(), "", err, []any{"stage", "recipient"})
			} else {
				log.Error("inbound mail: cannot tell whether the mailbox takes a recipient; the sender will retry", "mailbox", m.Name(), "error", err.Error())
			}
			return nil, err
		}
		if ok {
			return m, nil
		}
	}
	log.Info("inbound mail: refused a recipient no mailbox takes")
	return nil, nil
}

// deliver hands raw to m for env, after checking m's size limit, and logs
// the one line for it.
func deliver(ctx context.Context, m Mailbox, log *slog.Logger, env Envelope, raw []byte) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx, attrs := withLogAttrs(ctx)
	var err error
	if int64(len(raw)) > m.MaxBytes() {
		err = ErrTooBig
	} else {
		err = m.Deliver(ctx, env, raw)
	}
	logDelivery(log, m.Name(), env.Via, err, attrs.get())
	return err
}

// Deliver hands one message to the first of mailboxes that takes
// env.Recipient, as the server would: ErrNoRecipient when none does,
// ErrTooBig above that mailbox's limit, otherwise what its Deliver
// returns. "storekeep support ingest" uses it for Postfix's pipe
// transport.
func Deliver(ctx context.Context, mailboxes []Mailbox, log *slog.Logger, env Envelope, raw []byte) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	m, err := find(fctx, mailboxes, log, env.Recipient)
	cancel()
	if err != nil {
		return err
	}
	if m == nil {
		return ErrNoRecipient
	}
	return deliver(ctx, m, log, env, raw)
}

type recipient struct {
	addr    string // as given in RCPT TO
	mailbox Mailbox
}

type session struct {
	s     *Server
	from  string
	rcpts []recipient
}

func (ss *session) Reset()        { ss.from, ss.rcpts = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(ss.s.ctx, timeout)
	defer cancel()
	m, err := find(ctx, ss.s.cfg.Mailboxes, ss.s.cfg.Log, to)
	if err != nil {
		return ReplyOf(err).smtpError()
	}
	if m == nil {
		return ErrNoRecipient.smtpError()
	}
	ss.rcpts = append(ss.rcpts, recipient{addr: to, mailbox: m})
	return nil
}

// read reads the message; go-smtp stops it at MaxMessageBytes with its
// 552 answer, which is logged for each mailbox concerned.
func (ss *session) read(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		if errors.As(err, new(*smtp.SMTPError)) {
			seen := map[Mailbox]bool{}
			for _, rc := range ss.rcpts {
				if !seen[rc.mailbox] {
					seen[rc.mailbox] = true
					logDelivery(ss.s.cfg.Log, rc.mailbox.Name(), ss.s.via, err, nil)
				}
			}
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// deliverAll delivers raw to each recipient once (a recipient given
// twice, in any case, gets one delivery) and returns the outcome by
// recipient key.
func (ss *session) deliverAll(raw []byte) map[string]error {
	out := make(map[string]error, len(ss.rcpts))
	for _, rc := range ss.rcpts {
		k := strings.ToLower(rc.addr)
		if _, done := out[k]; done {
			continue
		}
		env := Envelope{Sender: ss.from, Recipient: rc.addr, Via: ss.s.via}
		out[k] = deliver(ss.s.ctx, rc.mailbox, ss.s.cfg.Log, env, raw)
	}
	return out
}

// Data delivers an SMTP message. SMTP has one answer per message: with
// recipients in several mailboxes, a failure of any is the answer (a
// temporary one first, so that nothing is lost), and the sender sends the
// message again to all of them. LMTP (LMTPData) answers per recipient.
func (ss *session) Data(r io.Reader) error {
	raw, err := ss.read(r)
	if err != nil {
		return err
	}
	if len(ss.rcpts) == 0 { // go-smtp refuses DATA without a recipient; defensive
		return ErrNoRecipient.smtpError()
	}
	results := ss.deliverAll(raw)
	var answer *Reply
	for _, rc := range ss.rcpts { // in RCPT order, so the answer is stable
		r := ReplyOf(results[strings.ToLower(rc.addr)])
		if r != nil && (answer == nil || (r.Temporary() && !answer.Temporary())) {
			answer = r
		}
	}
	if answer == nil {
		return nil
	}
	return answer.smtpError()
}

// LMTPData delivers an LMTP message and gives one answer per recipient.
func (ss *session) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	raw, err := ss.read(r)
	if err != nil {
		return err // the answer for every recipient
	}
	results := ss.deliverAll(raw)
	for _, rc := range ss.rcpts {
		var se error
		if r := ReplyOf(results[strings.ToLower(rc.addr)]); r != nil {
			se = r.smtpError()
		}
		status.SetStatus(rc.addr, se)
	}
	return nil
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
