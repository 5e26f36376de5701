package mail_test

import (
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/requests"
)

// The privacy request templates (internal/requests), with the data types
// their sender uses, so that a field renamed on one side fails here.
func init() {
	samples["request_verify"] = requests.VerifyMail{SiteName: "Milterworks", Number: 12, Wish: "to erase your personal data",
		Code: "ABCD-EFGH", Hours: 24, PrivacyEmail: "privacy@milterworks.example"}
	samples["request_extended"] = requests.ExtendedMail{SiteName: "Milterworks", Number: 12, Wish: "to see the personal data we hold about you",
		Received: "7 May 2026", Due: "7 June 2026", NewDue: "7 August 2026", Reason: "Many requests at once.\nYour data is in <archives>.",
		PrivacyEmail: "privacy@milterworks.example"}
	samples["request_refused"] = requests.RefusedMail{SiteName: "Milterworks", LegalName: "Milterworks GmbH", Number: 12,
		Wish: "to erase your personal data", Received: "7 May 2026", Reason: "The request concerns the data of another person.",
		Country: "Germany", PrivacyEmail: "privacy@milterworks.example"}
	samples["request_done"] = requests.DoneMail{SiteName: "Milterworks", Number: 12, Wish: "to see the personal data we hold about you",
		Outcome: "export: 12 rows from 5 table(s)", DownloadURL: "https://shop.example.com/account/privacy", PrivacyEmail: "privacy@milterworks.example"}
	samples["privacy_digest"] = requests.DigestMail{SiteName: "Milterworks", Date: "7 May 2026",
		Overdue: []requests.DigestLine{{Number: 3, Kind: "Erasure (Art. 17)", State: "in progress", Due: "1 May 2026", Days: 6}},
		DueSoon: []requests.DigestLine{{Number: 5, Kind: "Access (Art. 15)", State: "received", Due: "10 May 2026", Days: 3}}}
}

// TestRequestMailsSayWhatTheLawAsks: the refusal names the right to
// complain to a data protection authority and the competent country; the
// extension gives the reason and the new date; the code is in the mail.
func TestRequestMailsSayWhatTheLawAsks(t *testing.T) {
	_, text, html, err := mail.Render("request_refused", samples["request_refused"])
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{text, html} {
		for _, want := range []string{"complaint with a data", "supervisory authority", "Germany", "data of another person", "court"} {
			if !strings.Contains(strings.Join(strings.Fields(part), " "), want) {
				t.Errorf("refusal lacks %q:\n%s", want, part)
			}
		}
	}
	_, text, html, err = mail.Render("request_extended", samples["request_extended"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Your data is in <archives>.") || !strings.Contains(html, "Many requests at once.<br>Your data is in &lt;archives&gt;.") ||
		!strings.Contains(text, "7 August 2026") {
		t.Errorf("extension:\n%s\n%s", text, html)
	}
	_, text, _, err = mail.Render("request_verify", samples["request_verify"])
	if err != nil || !strings.Contains(text, "ABCD-EFGH") || !strings.Contains(text, "24 hours") {
		t.Errorf("verification code mail: %v\n%s", err, text)
	}
	// Without a download or an erasure, neither paragraph appears.
	_, text, _, err = mail.Render("request_done", requests.DoneMail{SiteName: "M", Number: 1, Wish: "to correct your personal data",
		Outcome: "done by staff: name corrected", PrivacyEmail: "p@example.com"})
	if err != nil || strings.Contains(text, "sign in") || strings.Contains(text, "kept by law") {
		t.Errorf("rectification done: %v\n%s", err, text)
	}
}
