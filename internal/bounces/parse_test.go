package bounces_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/bounces"
)

// corpus reads a message of the support desk's corpus of real-world mail.
func corpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "mailmsg", "testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dsn is an RFC 3464 report on message msgID with the given action and
// status, as Postfix writes one.
func dsn(action, status, msgID string) string {
	return "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--B\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.net\r\n\r\n" +
		"Final-Recipient: rfc822; carol@example.com\r\n" +
		"Action: " + action + "\r\n" +
		"Status: " + status + "\r\n" +
		"Diagnostic-Code: smtp; 452 " + status + " <carol@example.com>: Mailbox full\r\n\r\n" +
		"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
		"From: Milterworks <shop@milterworks.example>\r\nTo: carol@example.com\r\nMessage-ID: <" + msgID + ">\r\n\r\n" +
		"--B--\r\n"
}

// textBounce is a bounce in words with no delivery-status part (qmail).
const textBounce = "From: MAILER-DAEMON@mail.example.org\r\n" +
	"Subject: failure notice\r\n\r\n" +
	"Hi. This is the qmail-send program at mail.example.org.\r\n" +
	"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n" +
	"<dave@example.org>:\r\n" +
	"192.0.2.9 does not like recipient.\r\n" +
	"Remote host said: 550 5.7.1 <dave@example.org>... Mailbox disabled for this recipient\r\n\r\n" +
	"--- Below this line is a copy of the message.\r\n\r\n" +
	"From: Milterworks <shop@milterworks.example>\r\n" +
	"Message-ID: <abc123@milterworks.example>\r\n" +
	"Subject: Release 2.0\r\n\r\nVersion 2.0 is out.\r\n"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name       string
		raw        []byte
		kind       bounces.Kind
		format     string
		status     string
		messageID  string
		diagnostic string
	}{
		{"postfix corpus", corpus(t, "postfix-bounce.eml"), bounces.Hard, bounces.FormatDSN, "5.1.1", "ticket.1045.b7c3@example.com", "User unknown in virtual mailbox table"},
		{"exchange corpus", corpus(t, "exchange-ndr.eml"), bounces.Hard, bounces.FormatDSN, "5.1.10", "ticket.1046.c8d4@example.com", "RESOLVER.ADR.RecipientNotFound"},
		{"arf corpus", corpus(t, "arf-feedback.eml"), bounces.Complaint, bounces.FormatARF, "", "invoice.2025.0042@example.com", ""},
		{"soft", []byte(dsn("failed", "4.2.2", "m1@milterworks.example")), bounces.Soft, bounces.FormatDSN, "4.2.2", "m1@milterworks.example", "Mailbox full"},
		{"delayed", []byte(dsn("delayed", "4.4.1", "m1@milterworks.example")), bounces.NotFailure, bounces.FormatDSN, "4.4.1", "m1@milterworks.example", ""},
		{"delivered", []byte(dsn("delivered", "2.0.0", "m1@milterworks.example")), bounces.NotFailure, bounces.FormatDSN, "2.0.0", "m1@milterworks.example", ""},
		{"text", []byte(textBounce), bounces.Hard, bounces.FormatText, "5.7.1", "abc123@milterworks.example", "Mailbox disabled"},
		{"exchange legacy", []byte("From: System Administrator <postmaster@corp.example.org>\r\nSubject: Undeliverable: Release 2.0\r\n\r\n" +
			"Your message did not reach some or all of the intended recipients.\r\n" +
			"      dave@corp.example.org on 3/4/2025 1:10 PM\r\n" +
			"            Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'\r\n"), bounces.Hard, bounces.FormatText, "5.1.1", "", "RecipNotFound"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := bounces.Parse(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != c.kind || r.Format != c.format || r.Status != c.status || r.MessageID != c.messageID ||
				!strings.Contains(r.Diagnostic, c.diagnostic) {
				t.Errorf("got %+v", r)
			}
			if strings.Contains(r.Detail(), "@") {
				t.Errorf("the detail %q holds an address", r.Detail())
			}
		})
	}
}

func TestParseRefusesWhatIsNoReport(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":            "",
		"no header":        "just text",
		"ordinary mail":    string(corpus(t, "gmail.eml")),
		"vacation":         string(corpus(t, "vacation.eml")),
		"dsn without rcpt": strings.Replace(dsn("failed", "5.1.1", "a@b"), "Final-Recipient: rfc822; carol@example.com\r\nAction: failed\r\n", "", 1),
		"dsn no action":    strings.Replace(dsn("failed", "5.1.1", "a@b"), "Action: failed\r\n", "", 1),
		"no boundary":      "Content-Type: multipart/report; report-type=delivery-status\r\n\r\n--B\r\n",
		"arf without type": strings.Replace(string(corpus(t, "arf-feedback.eml")), "Feedback-Type: abuse", "X-Nothing: 1", 1),
		"bounce no code":   "From: MAILER-DAEMON@x.example\r\nSubject: failure notice\r\n\r\nsorry, it did not work\r\n",
		"broken multipart": "From: MAILER-DAEMON@x.example\r\nContent-Type: multipart/report; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nunfinished",
	} {
		t.Run(name, func(t *testing.T) {
			r, err := bounces.Parse([]byte(raw))
			if !errors.Is(err, bounces.ErrMalformed) {
				t.Fatalf("got %+v, %v; want ErrMalformed", r, err)
			}
			if strings.Contains(err.Error(), "@") {
				t.Errorf("the error %q repeats an address", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"postfix-bounce.eml", "exchange-ndr.eml", "arf-feedback.eml", "gmail.eml", "broken-mime.eml"} {
		f.Add(corpus(f, name))
	}
	f.Add([]byte(dsn("failed", "4.2.2", "m@x.example")))
	f.Add([]byte(textBounce))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := bounces.Parse(raw)
		if err != nil {
			if !errors.Is(err, bounces.ErrMalformed) {
				t.Fatalf("an error that is not ErrMalformed: %v", err)
			}
			if r != (bounces.Report{}) {
				t.Fatalf("a report with an error: %+v", r)
			}
			return
		}
		switch r.Kind {
		case bounces.Hard, bounces.Soft, bounces.Complaint, bounces.NotFailure:
		default:
			t.Fatalf("kind %q", r.Kind)
		}
		if strings.Contains(r.Detail(), "@") || len(r.Diagnostic) > 200 {
			t.Fatalf("detail %q", r.Detail())
		}
		if r.Kind == bounces.Hard && r.Status != "" && r.Status[0] != '5' {
			t.Fatalf("a hard bounce with status %q", r.Status)
		}
		if r.Kind == bounces.Soft && r.Status[0] != '4' {
			t.Fatalf("a soft bounce with status %q", r.Status)
		}
	})
}
