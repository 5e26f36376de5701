package testutil

import (
	"net/smtp"
	"strings"
	"testing"
)

// TestStartPostfix: two instances run at once, each on its own port and
// with its own queue and log, and both answer as Postfix.
func TestStartPostfix(t *testing.T) {
	a := StartPostfix(t, PostfixOptions{Domain: "a.example", LMTPAddr: "127.0.0.1:1"})
	b := StartPostfix(t, PostfixOptions{Domain: "b.example", LMTPAddr: "/run/none.sock", RefuseUnlisted: true})
	if a.SMTPAddr() == b.SMTPAddr() || a.ConfigDir() == b.ConfigDir() {
		t.Fatalf("shared: %s %s", a.SMTPAddr(), a.ConfigDir())
	}
	for _, p := range []*Postfix{a, b} {
		c, err := smtp.Dial(p.SMTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Hello("client.example"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := c.Extension("PIPELINING"); !ok {
			t.Error("not Postfix's smtpd?")
		}
		_ = c.Quit()
		if q := p.Queue(t); len(q) != 0 {
			t.Errorf("queue: %q", q)
		}
		p.Flush(t)
		if !strings.Contains(p.Log(t), "daemon started") {
			t.Errorf("log:\n%s", p.Log(t))
		}
	}
}
