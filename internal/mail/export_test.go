package mail

import "strings"

// Hooks for the tests in package mail_test.

// ScrubError is scrubError.
var ScrubError = scrubError

// Validate is Message.validate.
func (m Message) Validate() (string, error) { return m.validate() }

// Build is SMTPSender.build, returning the message as it would be sent.
func (s *SMTPSender) Build(m Outgoing) (string, error) {
	msg, err := s.build(m)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if _, err := msg.WriteTo(&b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// OnRenew makes w call f after each heartbeat with how many messages it
// still held and the renewal's error.
func OnRenew(w *Worker, f func(held int, err error)) { w.onRenew = f }
