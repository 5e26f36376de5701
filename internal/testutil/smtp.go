package testutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/textproto"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message an SMTPSink accepted.
type Received struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)
	Data []byte   // the message as transmitted
	// Parsed from Data (empty when it does not parse; see ParseErr).
	Header    textproto.MIMEHeader
	Subject   string // decoded
	Text      string // the text/plain part, decoded
	HTML      string // the text/html part, decoded
	MessageID string // the Message-ID header, with its angle brackets
	// Attachments are the parts sent as attachments, decoded.
	Attachments []ReceivedFile
	// ContentType is the message's top-level media type, such as
	// "multipart/mixed".
	ContentType string
	ParseErr    error
	// TLS reports whether the session was encrypted (STARTTLS).
	TLS bool
}

// ReceivedFile is an attachment of a received message.
type ReceivedFile struct {
	Filename    string
	ContentType string
	Data        []byte
}

// SMTPSink is a real SMTP server on 127.0.0.1 that keeps what it receives,
// for tests of code that sends mail. Start it with StartSMTP.
type SMTPSink struct {
	t    testing.TB
	srv  *smtp.Server
	ln   net.Listener
	pool *x509.CertPool

	mu      sync.Mutex
	msgs    []Received
	changed chan struct{} // closed and replaced whenever msgs grows
	down    bool
	refuse  int
	onData  func(Received) error
	user    string
	pass    string
}

// SMTPOption configures StartSMTP.
type SMTPOption func(*SMTPSink)

// SMTPWithTLS offers STARTTLS with a self-signed certificate for 127.0.0.1
// and localhost; CertPool returns the pool that trusts it.
func SMTPWithTLS() SMTPOption {
	return func(s *SMTPSink) {
		cert, pool, err := selfSigned()
		if err != nil {
			s.t.Fatalf("smtp sink certificate: %v", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.pool = pool
	}
}

// SMTPWithAuth requires AUTH PLAIN with user and password before MAIL.
func SMTPWithAuth(user, password string) SMTPOption {
	return func(s *SMTPSink) { s.user, s.pass = user, password }
}

// StartSMTP starts a sink on 127.0.0.1 with a free port, stopped when the
// test ends.
func StartSMTP(t testing.TB, opts ...SMTPOption) *SMTPSink {
	t.Helper()
	s := &SMTPSink{t: t, changed: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true // loopback only
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtp sink: %v", err)
	}
	s.ln = &sinkListener{Listener: ln, s: s}
	go func() { _ = s.srv.Serve(s.ln) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// Addr is the sink's host:port.
func (s *SMTPSink) Addr() string { return s.ln.Addr().String() }

// Host is the sink's IP address, "127.0.0.1".
func (s *SMTPSink) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the sink's TCP port.
func (s *SMTPSink) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// CertPool trusts the sink's certificate (with SMTPWithTLS).
func (s *SMTPSink) CertPool() *x509.CertPool { return s.pool }

// Messages returns what the sink has accepted so far, in order.
func (s *SMTPSink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// WaitFor waits until the sink has accepted at least n messages and
// returns them; it fails the test after timeout. It waits on a signal from
// the server, not by polling. Call it from the test's goroutine.
func (s *SMTPSink) WaitFor(n int, timeout time.Duration) []Received {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := append([]Received(nil), s.msgs...)
			s.mu.Unlock()
			return out
		}
		changed, have := s.changed, len(s.msgs)
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			s.t.Fatalf("smtp sink: %d messages after %v, want %d", have, timeout, n)
			return nil
		}
	}
}

// WaitForTo waits until the sink has accepted at least n messages for
// the recipient to and returns those, in order; it fails the test after
// timeout. Tests of a site that mails others too (the demo's sample
// customers) read their own recipient's mail this way.
func (s *SMTPSink) WaitForTo(to string, n int, timeout time.Duration) []Received {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		var out []Received
		for _, m := range s.msgs {
			if slices.Contains(m.To, to) {
				out = append(out, m)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		if len(out) >= n {
			return out
		}
		select {
		case <-changed:
		case <-deadline.C:
			s.t.Fatalf("smtp sink: %d messages to %s after %v, want %d", len(out), to, timeout, n)
			return nil
		}
	}
}

// SetDown simulates a relay outage: while down, every new connection is
// closed as soon as it is accepted, before the greeting.
func (s *SMTPSink) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// SetRefuse makes the sink answer MAIL FROM with code (such as 451, a
// temporary refusal, or 550, a permanent one); 0 accepts mail again.
func (s *SMTPSink) SetRefuse(code int) {
	s.mu.Lock()
	s.refuse = code
	s.mu.Unlock()
}

// OnData sets a hook called with each message once its DATA has been read
// in full and before the sink answers. It may block, for instance until
// the test has killed the sending process: the sink has the message but
// the sender never hears the 250. When the hook returns nil the message is
// kept and accepted; an error refuses it (an *smtp.SMTPError gives the
// code) and the message is not kept. nil removes the hook.
func (s *SMTPSink) OnData(hook func(Received) error) {
	s.mu.Lock()
	s.onData = hook
	s.mu.Unlock()
}

func (s *SMTPSink) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// sinkListener closes connections while the sink is down.
type sinkListener struct {
	net.Listener
	s *SMTPSink
}

func (l *sinkListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.s.isDown() {
			return c, nil
		}
		_ = c.Close()
	}
}

func (s *SMTPSink) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &sinkSession{s: s, conn: c}, nil
}

type sinkSession struct {
	s      *SMTPSink
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *sinkSession) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	if ss.s.user == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnsupported
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	code := ss.s.refuse
	ss.s.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: "Refused by the test sink"}
	}
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := ParseReceived(b)
	m.From, m.To = ss.from, append([]string(nil), ss.to...)
	_, m.TLS = ss.conn.TLSConnectionState()
	ss.s.mu.Lock()
	hook := ss.s.onData
	ss.s.mu.Unlock()
	if hook != nil {
		if err := hook(m); err != nil {
			return err
		}
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, m)
	close(ss.s.changed)
	ss.s.changed = make(chan struct{})
	ss.s.mu.Unlock()
	return nil
}

func (ss *sinkSession) Reset() { ss.from, ss.to = "", nil }

func (ss *sinkSession) Logout() error { return nil }

// ParseReceived reads a message's headers and text and HTML parts; what
// cannot be parsed is reported in ParseErr, never as a panic.
func ParseReceived(data []byte) Received {
	m := Received{Data: data}
	mr, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil && mr == nil {
		m.ParseErr = err
		return m
	}
	m.Header = textproto.MIMEHeader{}
	for f := mr.Header.Fields(); f.Next(); {
		m.Header.Add(f.Key(), f.Value())
	}
	m.MessageID = mr.Header.Get("Message-Id")
	m.ContentType, _, _ = mr.Header.ContentType()
	if m.Subject, err = mr.Header.Subject(); err != nil {
		m.ParseErr = err
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			m.ParseErr = err
			break
		}
		if a, ok := p.Header.(*mail.AttachmentHeader); ok {
			f := ReceivedFile{}
			f.Filename, _ = a.Filename()
			f.ContentType, _, _ = a.ContentType()
			if f.Data, err = io.ReadAll(p.Body); err != nil {
				m.ParseErr = err
				break
			}
			m.Attachments = append(m.Attachments, f)
			continue
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			continue
		}
		ct, _, _ := h.ContentType()
		body, err := io.ReadAll(p.Body)
		if err != nil {
			m.ParseErr = err
			break
		}
		switch ct {
		case "text/plain":
			m.Text = string(body)
		case "text/html":
			m.HTML = string(body)
		}
	}
	return m
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a
// day, and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "storekeep test smtp sink"},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
