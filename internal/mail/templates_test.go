package mail_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/mail"
)

// samples has sample data for every template. A template without a sample
// fails TestRenderEveryTemplate, so no template ships unrendered.
var samples = map[string]any{
	"signin": mail.SignInData{SiteName: "Milterworks", Link: "https://shop.example.com/account/signin?token=abc<&>", ExpiresMinutes: 15},
	"email_change": mail.EmailChangeData{SiteName: "Milterworks", Link: "https://shop.example.com/account/email?token=xyz",
		NewEmail: "new@example.com"},
	"order_confirmation": mail.OrderConfirmationData{SiteName: "Milterworks", OrderNumber: "2026-0042",
		Lines: []mail.OrderLine{{Name: "Mailguard Standard", Amount: "EUR 290.00"}, {Name: "Mailguard <Professional>", Amount: "EUR 490.00"}},
		Total: "EUR 780.00", InvoiceNumber: "INV-2026-0042", PortalURL: "https://shop.example.com/account/orders/2026-0042",
		Licenses: []mail.LicenseKey{{Name: "Mailguard Standard", Key: "SK1.eyJ2IjoxfQ.c2ln", Machines: "up to 3 machines", Term: "perpetual"}}},
	"license_key": mail.LicenseKeyData{SiteName: "Milterworks", PortalURL: "https://shop.example.com/account/licenses/lic_abc",
		License: mail.LicenseKey{Name: "Mailguard Standard", Key: "SK1.eyJ2IjoxfQ.c2ln", Machines: "up to 3 machines", Term: "perpetual"}},
	"manual_invoice": mail.ManualInvoiceData{SiteName: "Milterworks", OrderNumber: "2026-0043", Total: "EUR 290.00",
		InvoiceNumber: "INV-2026-0043", PaymentInstructions: "Bank: Example Bank\nIBAN: DE00 0000 0000 0000 0000 00\nBIC: EXAMPLEXXX",
		PortalURL: "https://shop.example.com/account/orders/2026-0043"},
	"renewal_failed": mail.RenewalFailedData{SiteName: "Milterworks", OrderNumber: "Q7K2-M9PX", AccountURL: "https://shop.example.com/account/licenses",
		Licenses: []mail.RenewalLicense{{Name: "Mailguard <Professional>", License: "lic_abc", Expires: "1 March 2027", GraceEnds: "15 March 2027"}}},
	"renewal_reminder": mail.RenewalReminderData{SiteName: "Milterworks", Days: 7, RenewURL: "https://shop.example.com/account/licenses/lic_abc/renew",
		License: mail.RenewalLicense{Name: "Mailguard Professional", License: "lic_abc", Expires: "1 March 2027", GraceEnds: "15 March 2027"}},
	"staff_reset": mail.StaffResetData{SiteName: "Milterworks", Link: "https://shop.example.com/staff/setup?token=t0k"},
}

func TestRenderEveryTemplate(t *testing.T) {
	names := mail.Templates()
	if len(names) == 0 {
		t.Fatal("no templates parsed")
	}
	// Every file in templates/ belongs to a rendered message (or is the
	// HTML layout, which every message uses).
	used := map[string]bool{"layout.html": true}
	for _, name := range names {
		data, ok := samples[name]
		if !ok {
			t.Errorf("template %s has no sample data in this test: add one", name)
			continue
		}
		subject, text, html, err := mail.Render(name, data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		used[name+".txt"], used[name+".html"] = true, true
		if subject == "" || strings.ContainsAny(subject, "\r\n") || !strings.Contains(subject, "Milterworks") {
			t.Errorf("%s: subject %q", name, subject)
		}
		if !strings.Contains(text, "Milterworks") || strings.Contains(text, "{{") || strings.Contains(text, "<no value>") {
			t.Errorf("%s: text part:\n%s", name, text)
		}
		if !strings.HasPrefix(html, "<!doctype html>") || !strings.Contains(html, "<title>"+strings.ReplaceAll(subject, "&", "&amp;")) {
			t.Errorf("%s: HTML part does not start with the layout and title:\n%s", name, html)
		}
		// No tracking pixels, no remote images, no scripts.
		for _, bad := range []string{"<img", "<script", "url(", "<link", "<iframe"} {
			if strings.Contains(strings.ToLower(html), bad) {
				t.Errorf("%s: HTML part contains %q", name, bad)
			}
		}
		// The link the message is about appears as is in the text part.
		if link := sampleLink(data); link != "" && !strings.Contains(text, link) {
			t.Errorf("%s: text part lacks %s", name, link)
		}
	}
	// Data is escaped in HTML, and kept as is in text.
	_, text, html, _ := mail.Render("order_confirmation", samples["order_confirmation"])
	if !strings.Contains(html, "Mailguard &lt;Professional&gt;") || !strings.Contains(text, "Mailguard <Professional>") {
		t.Errorf("escaping: text\n%s\nhtml\n%s", text, html)
	}
	_, _, html, _ = mail.Render("manual_invoice", samples["manual_invoice"])
	if !strings.Contains(html, "Bank: Example Bank<br>IBAN") {
		t.Errorf("payment instructions lose their lines:\n%s", html)
	}
	_, _, html, _ = mail.Render("signin", samples["signin"])
	if !strings.Contains(html, `href="https://shop.example.com/account/signin?token=abc%3c&amp;%3e"`) {
		t.Errorf("sign-in link not escaped as a URL:\n%s", html)
	}

	files, err := fs.Glob(os.DirFS("templates"), "*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !used[filepath.Base(f)] {
			t.Errorf("template file %s is never rendered", f)
		}
	}
	for name := range samples {
		if !slices.Contains(names, name) {
			t.Errorf("sample %s names no template", name)
		}
	}
}

func sampleLink(data any) string {
	switch d := data.(type) {
	case mail.SignInData:
		return d.Link
	case mail.StaffResetData:
		return d.Link
	case mail.EmailChangeData:
		return d.Link
	case mail.OrderConfirmationData:
		return d.PortalURL
	case mail.ManualInvoiceData:
		return d.PortalURL
	case mail.LicenseKeyData:
		return d.PortalURL
	case mail.RenewalFailedData:
		return d.AccountURL
	case mail.RenewalReminderData:
		return d.RenewURL
	}
	return ""
}

func TestRenderRefusesUnknownAndIncompleteData(t *testing.T) {
	if _, _, _, err := mail.Render("nope", nil); err == nil {
		t.Error("an unknown template rendered")
	}
	// A map without a field the template needs is an error, not "<no value>".
	if _, _, _, err := mail.Render("signin", map[string]any{"SiteName": "X"}); err == nil {
		t.Error("missing data rendered")
	}
	// A subject stays on one line whatever the data holds.
	subject, _, _, err := mail.Render("signin", mail.SignInData{SiteName: "Evil\r\nBcc: victim@example.com", Link: "https://x.example/", ExpiresMinutes: 1})
	if err != nil || strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject %q, %v", subject, err)
	}
}

func TestCompose(t *testing.T) {
	m, err := mail.Compose("signin", "bob@example.com", samples["signin"])
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != mail.Transactional || m.Template != "signin" || m.To != "bob@example.com" || m.Subject == "" || m.Text == "" || m.HTML == "" {
		t.Fatalf("%+v", m)
	}
	if _, err := m.Validate(); err != nil {
		t.Fatal(err)
	}
}
