package mail_test

import (
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/mail"
)

// The email-gated download's confirmation (internal/downloads), with the
// data type its sender uses, so that a field renamed on one side fails
// here.
func init() {
	samples["trial_download"] = downloads.TrialMail{SiteName: "Milterworks", Product: "QuillGuard Milter", Version: "2.4.0",
		Link: "https://shop.example.com/downloads/confirm/abc", Hours: 24, Days: 7, KeepDays: 30}
}

// TestTrialMailSaysWhatTheAddressIsFor: the mail names the only use of the
// address, that there is no marketing, and when it is deleted.
func TestTrialMailSaysWhatTheAddressIsFor(t *testing.T) {
	_, text, html, err := mail.Render("trial_download", samples["trial_download"])
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{text, html} {
		flat := strings.Join(strings.Fields(part), " ")
		for _, want := range []string{"only to send you this link", "no marketing", "deleted 30 days", "within 24 hours", "for 7 days",
			"https://shop.example.com/downloads/confirm/abc"} {
			if !strings.Contains(flat, want) {
				t.Errorf("trial mail lacks %q:\n%s", want, part)
			}
		}
	}
}
