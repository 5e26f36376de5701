package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
)

// Every message is a pair of files in templates/: NAME.txt, executed with
// text/template, which also defines the "subject" template, and NAME.html,
// executed with html/template inside layout.html, defining "content". The
// HTML part is plain markup with inline styles: no scripts, no tracking
// pixels, no remote images.
//
//go:embed templates
var templateFS embed.FS

// htmlLayout is the frame every HTML part is placed in.
const htmlLayout = "layout.html"

// The data each template expects. Render accepts any value with these
// fields (a struct or a map); these types name them for callers. Amounts
// are strings formatted by the caller, such as "EUR 290.00".
type (
	// SignInData is for "signin": a one-time sign-in link for a customer.
	SignInData struct {
		SiteName       string
		Link           string
		ExpiresMinutes int
	}
	// EmailChangeData is for "email_change", sent to the new address.
	EmailChangeData struct {
		SiteName string
		Link     string
		NewEmail string
	}
	// OrderLine is one line of an order in "order_confirmation".
	OrderLine struct {
		Name   string
		Amount string
	}
	// OrderConfirmationData is for "order_confirmation", sent once an
	// order is paid.
	OrderConfirmationData struct {
		SiteName      string
		OrderNumber   string
		Lines         []OrderLine
		Total         string
		InvoiceNumber string
		PortalURL     string
		// Licenses are the license keys the order issued, with how to
		// activate them.
		Licenses []LicenseKey
	}
	// LicenseKey is one license key in "order_confirmation".
	LicenseKey struct {
		Name     string // what was bought (the order line)
		Key      string
		Machines string // "up to 3 machines", "any number of machines"
		Term     string // "perpetual", "until 1 March 2027"
		// Renewed: the order renewed this license (the key the customer
		// has keeps working, now to Term) rather than issuing it.
		Renewed bool
	}
	// LicenseKeyData is for "license_key": a license key sent again at the
	// holder's request from their account.
	LicenseKeyData struct {
		SiteName string
		License  LicenseKey
		// PortalURL is the license's page in the account.
		PortalURL string
	}
	// ManualInvoiceData is for "manual_invoice": an invoice to pay by bank
	// transfer. PaymentInstructions may span several lines.
	ManualInvoiceData struct {
		SiteName            string
		OrderNumber         string
		Total               string
		InvoiceNumber       string
		PaymentInstructions string
		PortalURL           string
	}
	// RenewalLicense is one license in the renewal mails.
	RenewalLicense struct {
		Name      string // product and edition, e.g. "QuillGuard Milter Professional"
		License   string // lic_..., as the account shows it
		Expires   string // "1 March 2027"
		GraceEnds string // "" when the license has no grace period
	}
	// RenewalFailedData is for "renewal_failed": the automatic renewal's
	// payment failed.
	RenewalFailedData struct {
		SiteName    string
		OrderNumber string // the order that started the subscription
		Licenses    []RenewalLicense
		AccountURL  string // the account's licenses page
	}
	// RenewalReminderData is for "renewal_reminder": a term license not
	// renewed automatically expires soon.
	RenewalReminderData struct {
		SiteName string
		License  RenewalLicense
		Days     int    // days until it expires
		RenewURL string // the page that places the renewal order
	}
	// StaffResetData is for "staff_reset": a password link for a staff
	// account.
	StaffResetData struct {
		SiteName string
		Link     string
	}
)

// messageTemplates is one message's parsed pair.
type messageTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// parsed holds every message's templates, parsed once on first use; a
// broken template fails the package's tests and the first Render.
var parsed = sync.OnceValues(parseTemplates)

func templateFuncs() (texttemplate.FuncMap, htmltemplate.FuncMap) {
	lines := func(s string) []string { return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") }
	// subject is replaced at render time by the message's subject.
	subject := func() string { return "" }
	return texttemplate.FuncMap{"lines": lines}, htmltemplate.FuncMap{"lines": lines, "subject": subject}
}

func parseTemplates() (map[string]messageTemplates, error) {
	files, err := fs.Glob(templateFS, "templates/*")
	if err != nil {
		return nil, err
	}
	textFuncs, htmlFuncs := templateFuncs()
	out := map[string]messageTemplates{}
	for _, f := range files {
		base := path.Base(f)
		name, ok := strings.CutSuffix(base, ".txt")
		if !ok {
			if base != htmlLayout && !slices.Contains(files, "templates/"+strings.TrimSuffix(base, ".html")+".txt") {
				return nil, fmt.Errorf("mail: template %s has no .txt part", base)
			}
			continue
		}
		t, err := texttemplate.New(base).Funcs(textFuncs).Option("missingkey=error").ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("mail: parse %s: %w", base, err)
		}
		if t.Lookup("subject") == nil {
			return nil, fmt.Errorf("mail: %s defines no \"subject\"", base)
		}
		h, err := htmltemplate.New(htmlLayout).Funcs(htmlFuncs).Option("missingkey=error").
			ParseFS(templateFS, "templates/"+htmlLayout, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: parse %s.html: %w", name, err)
		}
		if h.Lookup("content") == nil {
			return nil, fmt.Errorf("mail: %s.html defines no \"content\"", name)
		}
		out[name] = messageTemplates{text: t, html: h}
	}
	if len(out) == 0 {
		return nil, errors.New("mail: no templates found")
	}
	return out, nil
}

// Templates lists the names of the message templates, sorted.
func Templates() []string {
	ts, err := parsed()
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(ts))
	for n := range ts {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Render executes the message template name with data and returns the
// subject (on one line), the text part and the HTML part.
func Render(name string, data any) (subject, text, html string, err error) {
	ts, err := parsed()
	if err != nil {
		return "", "", "", err
	}
	mt, ok := ts[name]
	if !ok {
		return "", "", "", fmt.Errorf("mail: no template named %q", name)
	}
	var buf bytes.Buffer
	if err := mt.text.ExecuteTemplate(&buf, "subject", data); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s subject: %w", name, err)
	}
	// A subject is one line whatever the data holds: a line break in a
	// header would let data add headers of its own.
	subject = strings.Join(strings.Fields(buf.String()), " ")
	buf.Reset()
	if err := mt.text.Execute(&buf, data); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s.txt: %w", name, err)
	}
	text = buf.String()
	h, err := mt.html.Clone()
	if err != nil {
		return "", "", "", fmt.Errorf("mail: render %s.html: %w", name, err)
	}
	h.Funcs(htmltemplate.FuncMap{"subject": func() string { return subject }})
	buf.Reset()
	if err := h.Execute(&buf, data); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s.html: %w", name, err)
	}
	return subject, text, buf.String(), nil
}

// Compose renders the template name with data into a transactional
// message to the address to, ready for Enqueue. Set CustomerID or StaffID,
// DedupKey and, for bulk mail, Kind and UnsubscribeURL on the result.
func Compose(name, to string, data any) (Message, error) {
	subject, text, html, err := Render(name, data)
	if err != nil {
		return Message{}, err
	}
	return Message{Kind: Transactional, Template: name, To: to, Subject: subject, Text: text, HTML: html}, nil
}
