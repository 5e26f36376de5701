package testutil_test

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/testutil"
)

func TestSMTPSink(t *testing.T) {
	sink := testutil.StartSMTP(t)
	msg := "From: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <x1@example.com>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello =C3=BC\r\n" +
		"--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello</p>\r\n--B--\r\n"
	if err := smtp.SendMail(sink.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := sink.WaitFor(1, 5*time.Second)
	m := got[0]
	if m.ParseErr != nil || m.From != "a@example.com" || m.To[0] != "b@example.com" || m.Subject != "Grüße" ||
		m.MessageID != "<x1@example.com>" || strings.TrimSpace(m.Text) != "Hello ü" || strings.TrimSpace(m.HTML) != "<p>Hello</p>" || m.TLS {
		t.Fatalf("%+v", m)
	}

	sink.SetDown(true)
	if err := smtp.SendMail(sink.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte(msg)); err == nil {
		t.Fatal("sent while down")
	}
	sink.SetDown(false)
	sink.SetRefuse(451)
	err := smtp.SendMail(sink.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte(msg))
	if err == nil || !strings.HasPrefix(err.Error(), "451") {
		t.Fatalf("refusal: %v", err)
	}
	sink.SetRefuse(0)
	if len(sink.Messages()) != 1 {
		t.Fatal("refused mail was kept")
	}
}

// FuzzParseReceived: whatever arrives, parsing reports errors instead of
// panicking.
func FuzzParseReceived(f *testing.F) {
	f.Add([]byte("Subject: hi\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--\r\n"))
	f.Add([]byte("Subject: =?bogus?q?x?=\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := testutil.ParseReceived(data)
		if string(m.Data) != string(data) {
			t.Fatal("data changed")
		}
	})
}
