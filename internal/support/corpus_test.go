package support_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
)

// The corpus of real-world messages (internal/mailmsg/testdata/corpus),
// delivered to the desk: what a person wrote opens a ticket with its text
// and files, what a machine wrote is ignored, spam is parked.
func TestCorpusOutcomes(t *testing.T) {
	want := map[string]support.OutcomeKind{
		"apple-mail.eml": support.Opened, "broken-mime.eml": support.Opened, "calendar-invite.eml": support.Opened,
		"exe-attachment.eml": support.Opened, "gmail-attachment.eml": support.Opened, "gmail.eml": support.Opened,
		"japanese-iso2022jp.eml": support.Opened, "outlook-desktop.eml": support.Opened, "pgp-encrypted.eml": support.Opened,
		"pgp-signed.eml": support.Opened, "smime-signed.eml": support.Opened, "thunderbird-flowed.eml": support.Opened,
		"unknown-charset.eml": support.Opened, "marketing-html.eml": support.Opened,
		"arf-feedback.eml": support.Ignored, "exchange-ndr.eml": support.Ignored, "postfix-bounce.eml": support.Ignored,
		"outlook-oof.eml": support.Ignored, "outlook-oof-legacy.eml": support.Ignored, "vacation.eml": support.Ignored,
		"mailing-list.eml": support.Ignored,
		"spamassassin.eml": support.Parked,
	}
	files, err := filepath.Glob(filepath.Join("..", "mailmsg", "testdata", "corpus", "*.eml"))
	if err != nil || len(files) != len(want) {
		t.Fatalf("%d corpus files, the test knows %d: add the new ones here (%v)", len(files), len(want), err)
	}
	d := testutil.SQLite(t)
	desk, _ := newDesk(t, d)
	for _, p := range files {
		name := filepath.Base(p)
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sender := "someone@example.net"
		if strings.Contains(name, "bounce") || strings.Contains(name, "ndr") || strings.Contains(name, "arf") {
			sender = "" // reports come from the null sender
		}
		out := receive(t, desk, sender, supportAddr, raw)
		if out.Kind != want[name] {
			t.Errorf("%s: %s (%s), want %s", name, out.Kind, out.Reason, want[name])
			continue
		}
		if out.Kind != support.Opened {
			continue
		}
		ms := thread(t, desk, out.TicketID)
		if len(ms) != 1 || !ms[0].HasRaw {
			t.Errorf("%s: thread %+v", name, ms)
			continue
		}
		if name == "gmail-attachment.eml" && len(ms[0].Attachments) < 2 {
			t.Errorf("%s: attachments %+v", name, ms[0].Attachments)
		}
		if name == "exe-attachment.eml" {
			for _, a := range ms[0].Attachments {
				if strings.HasSuffix(strings.ToLower(a.Filename), ".exe") {
					t.Errorf("%s: kept the program %s", name, a.Filename)
				}
			}
		}
		if name == "marketing-html.eml" && (strings.Contains(ms[0].HTML, "<script") || strings.Contains(ms[0].HTML, "<img")) {
			t.Errorf("%s: unsafe HTML kept: %s", name, ms[0].HTML)
		}
		if name != "pgp-encrypted.eml" && strings.TrimSpace(ms[0].Text) == "" {
			t.Errorf("%s: no text", name)
		}
	}
}
