package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gomailsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/storekeep/storekeep/internal/clock"
)

// TLSPolicy says whether the connection to the relay must be encrypted.
type TLSPolicy int

// The TLS policies. Port 465 always uses implicit TLS (the connection is
// encrypted from the start); other ports use STARTTLS as the policy says.
const (
	// TLSOpportunistic uses STARTTLS when the relay offers it and sends in
	// plain text otherwise. The default.
	TLSOpportunistic TLSPolicy = iota
	// TLSMandatory refuses to send unless STARTTLS succeeds.
	TLSMandatory
	// TLSNone never encrypts. Allowed only for a relay on the loopback
	// interface (tests, or a local MTA that relays onwards).
	TLSNone
)

func (p TLSPolicy) String() string {
	switch p {
	case TLSOpportunistic:
		return "opportunistic"
	case TLSMandatory:
		return "mandatory"
	case TLSNone:
		return "none"
	}
	return fmt.Sprintf("TLSPolicy(%d)", int(p))
}

// SMTPConfig configures an SMTPSender.
type SMTPConfig struct {
	Host     string
	Port     int // default 587; 465 means implicit TLS
	Username string
	Password string
	TLS      TLSPolicy
	// TLSConfig overrides the TLS settings (tests use it to trust their
	// own certificate); nil verifies the relay's certificate for Host.
	TLSConfig *tls.Config
	// Timeout bounds each SMTP command (default 30 s); SendTimeout bounds
	// a whole delivery, connecting included (default 2 min).
	Timeout     time.Duration
	SendTimeout time.Duration
	// Clock dates messages; nil means the system clock.
	Clock clock.Clock
	// DKIM signs every message when set (docs/mail-deliverability.md);
	// nil sends unsigned mail.
	DKIM *DKIMSigner
}

// SMTPSender delivers mail to an SMTP relay with go-mail, one connection
// per message.
type SMTPSender struct {
	cfg SMTPConfig
}

// NewSMTPSender checks cfg and returns a sender for it.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: no SMTP host given")
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: SMTP port %d is not a port number", cfg.Port)
	}
	switch cfg.TLS {
	case TLSOpportunistic, TLSMandatory:
	case TLSNone:
		if !isLoopback(cfg.Host) {
			return nil, fmt.Errorf("mail: unencrypted SMTP is allowed only to a relay on this machine, not to %s; use opportunistic or mandatory TLS", cfg.Host)
		}
	default:
		return nil, fmt.Errorf("mail: unknown TLS policy %d", cfg.TLS)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 2 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	return &SMTPSender{cfg: cfg}, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Transport is "smtp".
func (s *SMTPSender) Transport() string { return "smtp" }

// reservedHeaders are set by the sender itself; Outgoing.Headers may not
// replace them.
var reservedHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "subject": true, "date": true, "message-id": true,
	"mime-version": true, "content-type": true, "content-transfer-encoding": true, "sender": true,
	"reply-to": true, "list-unsubscribe": true, "list-unsubscribe-post": true,
}

// build turns m into a go-mail message.
func (s *SMTPSender) build(m Outgoing) (*gomail.Msg, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, Permanent(fmt.Errorf("the sender address is not usable: %w", err))
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	msgID := m.MessageID + "@" + domain
	if strings.Contains(m.MessageID, "@") && ValidMessageID(m.MessageID) {
		msgID = m.MessageID // chosen whole by the caller (the support desk threads by it)
	} else if m.MessageID == "" || strings.ContainsAny(m.MessageID, "<>@ \t\r\n") {
		return nil, Permanent(errors.New("the message has no usable Message-ID"))
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	if m.EnvelopeFrom != "" {
		// MAIL FROM only: bounces come back to the VERP address.
		if err := msg.EnvelopeFrom(m.EnvelopeFrom); err != nil {
			return nil, Permanent(errors.New("the return path is not usable"))
		}
	}
	if err := msg.To(m.To); err != nil {
		return nil, Permanent(errors.New("the recipient address is not usable"))
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, Permanent(errors.New("the subject contains a line break"))
	}
	msg.Subject(m.Subject)
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, Permanent(errors.New("the reply-to address is not usable"))
		}
	}
	// The same Message-ID on every attempt: a receiver that gets the
	// message twice (see docs/mail.md, the at-least-once edge) can tell.
	msg.SetMessageIDWithValue(msgID)
	msg.SetDateWithValue(s.cfg.Clock.Now())
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		if a.Filename == "" || strings.ContainsAny(a.Filename, "/\\\"\r\n") || !validContentType(a.ContentType) {
			return nil, Permanent(fmt.Errorf("attachment %q cannot be sent", a.Filename))
		}
		msg.AttachReadSeeker(a.Filename, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType)))
	}
	if m.Kind == Bulk {
		msg.SetBulk()
	}
	if m.UnsubscribeURL != "" {
		if err := checkUnsubscribeURL(m.UnsubscribeURL); err != nil {
			return nil, Permanent(err)
		}
		if strings.HasPrefix(m.UnsubscribeURL, "https://") {
			if err := msg.SetListUnsubscribeOneClick(m.UnsubscribeURL); err != nil {
				return nil, Permanent(err)
			}
		} else {
			msg.SetListUnsubscribe(m.UnsubscribeURL)
		}
	}
	for k, v := range m.Headers {
		if !validHeaderName(k) || reservedHeaders[strings.ToLower(k)] || strings.ContainsAny(v, "\r\n") {
			return nil, Permanent(fmt.Errorf("header %q cannot be set", k))
		}
		msg.SetGenHeader(gomail.Header(k), v)
	}
	return msg, nil
}

// validContentType accepts a bare media type such as "application/pdf".
func validContentType(t string) bool {
	i := strings.IndexByte(t, '/')
	return i > 0 && i < len(t)-1 && validHeaderName(t) && !strings.ContainsAny(t, ";\"")
}

// validHeaderName accepts RFC 5322 field names: printable ASCII without
// spaces or colons.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// Send delivers m to the relay. A refusal with a 5xx code is permanent;
// anything else (the relay unreachable, 4xx answers, timeouts) can be
// retried.
//
// The message is built, written out once, signed over exactly those bytes
// when DKIM is configured, and those bytes are what the relay receives:
// nothing renders the message a second time between signing and sending.
func (s *SMTPSender) Send(ctx context.Context, m Outgoing) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	raw, err := s.render(msg)
	if err != nil {
		return err
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return Permanent(fmt.Errorf("the sender address is not usable: %w", err))
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return Permanent(errors.New("the recipient address is not usable"))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	defer cancel()
	c, err := s.client(ctx)
	if err != nil {
		return err
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// Connecting, TLS and authentication: retried whatever the
		// code, since a fixed relay or password lets the mail go.
		return timedOut(ctx, fmt.Errorf("dial failed: %w", err))
	}
	delivered, err := transact(sc, from, rcpts, raw)
	if delivered {
		// The relay answered 250 to the message; a failure after that
		// (closing the session) does not undo the delivery, and
		// reporting it would send the message again.
		_ = c.CloseWithSMTPClient(sc)
		return nil
	}
	if err != nil {
		_ = sc.Close()
		return timedOut(ctx, classify(fmt.Errorf("send failed: %w", err)))
	}
	return nil
}

// timedOut marks err with context.DeadlineExceeded when ctx's time ran
// out: the connection is closed then (see client), and the error alone
// would read as a broken connection.
func timedOut(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w after SendTimeout: %w", context.DeadlineExceeded, err)
	}
	return err
}

// render writes msg out as it goes to the relay: with a DKIM-Signature
// header field in front when a key is configured.
func (s *SMTPSender) render(msg *gomail.Msg) ([]byte, error) {
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return nil, Permanent(fmt.Errorf("the message cannot be written: %w", err))
	}
	if s.cfg.DKIM == nil {
		return b.Bytes(), nil
	}
	sig, err := s.cfg.DKIM.Sign(b.Bytes())
	if err != nil {
		return nil, err
	}
	return append([]byte(sig), b.Bytes()...), nil
}

// transact runs one SMTP mail transaction with raw as the DATA. delivered
// is true once the relay accepted the message (250 after the DATA).
func transact(sc *gomailsmtp.Client, from string, rcpts []string, raw []byte) (delivered bool, err error) {
	if err := sc.Mail(from); err != nil {
		return false, err
	}
	for _, r := range rcpts {
		if err := sc.Rcpt(r); err != nil {
			return false, err
		}
	}
	w, err := sc.Data()
	if err != nil {
		return false, err
	}
	if _, err := w.Write(raw); err != nil {
		_ = w.Close()
		return false, err
	}
	if err := w.Close(); err != nil {
		return false, err
	}
	return true, nil
}

// classify makes a relay's 5xx answer a permanent failure.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return Permanent(err)
	}
	return err
}

// client makes a go-mail client whose connection is closed when ctx ends,
// so that no relay, however slow, holds a delivery past SendTimeout.
func (s *SMTPSender) client(ctx context.Context) (*gomail.Client, error) {
	tlsConfig := s.cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	}
	dialer := &net.Dialer{}
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if s.cfg.Port == 465 {
			conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(dctx, network, addr)
		} else {
			conn, err = dialer.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(dial),
	}
	switch {
	case s.cfg.Port == 465:
		// The connection is TLS from the start (dial above); relays on
		// this port offer no STARTTLS, and go-mail sees the TLS
		// connection, which lets it authenticate over it.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case s.cfg.TLS == TLSMandatory:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case s.cfg.TLS == TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.cfg.TLS == TLSNone {
			// Only on loopback (NewSMTPSender checks): the password
			// never crosses a network in the clear.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP client: %w", err)
	}
	return c, nil
}
