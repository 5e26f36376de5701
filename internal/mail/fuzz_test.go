package mail_test

import (
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"

	"github.com/storekeep/storekeep/internal/mail"
)

// FuzzScrubError: whatever a relay answers, what we store and log holds
// no "@", so no address, and stays one short line.
func FuzzScrubError(f *testing.F) {
	for _, s := range []string{
		"550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown",
		"dial tcp 127.0.0.1:25: connect: connection refused",
		"a@b@c (x@y) \"q@r\" <>@ @@ \xff@\xfe",
		"451 4.7.1 Greylisted, see http://user@host/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := mail.ScrubError(s)
		if strings.Contains(out, "@") {
			t.Fatalf("%q kept an @: %q", s, out)
		}
		if strings.ContainsAny(out, "\r\n") || len(out) > 520 {
			t.Fatalf("%q: not one short line: %q", s, out)
		}
	})
}

// FuzzValidateAddress: an address Enqueue accepts is one recipient that
// go-mail accepts too, with nothing that could start a header of its own.
func FuzzValidateAddress(f *testing.F) {
	for _, s := range []string{"bob@example.com", "Bob <bob@example.com>", "a@b\r\nBcc: c@d", `"a b"@example.com`, "a@[127.0.0.1]",
		"müller@example.com", "a,b@example.com", "a@b.c@d.e"} {
		f.Add(s, "Hello")
	}
	f.Fuzz(func(t *testing.T, to, subject string) {
		m := mail.Message{Kind: mail.Transactional, Template: "t", To: to, Subject: subject, Text: "x"}
		addr, err := m.Validate()
		if err != nil {
			return
		}
		if strings.ContainsAny(addr, "\r\n<>,;") || strings.ContainsAny(m.Subject, "\r\n") {
			t.Fatalf("accepted %q / %q", to, subject)
		}
		msg := gomail.NewMsg()
		if err := msg.To(addr); err != nil {
			t.Fatalf("accepted %q, which go-mail refuses: %v", addr, err)
		}
		if got := msg.GetToString(); len(got) != 1 {
			t.Fatalf("%q is %d recipients", addr, len(got))
		}
	})
}
