package notices

import (
	"bytes"
	"html/template"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Content is a notice rendered for mail: the subject, a plain-text part
// and an HTML part.
type Content struct {
	Subject string
	Text    string
	HTML    string
}

// md converts Markdown without raw HTML (goldmark's default: raw HTML is
// left out, and javascript:, vbscript:, file: and data: links are
// dropped); GFM adds tables, strikethrough and autolinks.
var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

// sanitiser is the second line: whatever goldmark emits passes
// bluemonday's policy for user-generated content, so a gap in one is not
// a script in the reader's mail.
var sanitiser = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowURLSchemes("https", "http", "mailto")
	return p
})

// BodyHTML renders the Markdown body as safe HTML.
func BodyHTML(src string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return template.HTML(sanitiser().SanitizeBytes(buf.Bytes())), nil // safe: sanitised above
}

var layout = template.Must(template.New("notice").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em; margin: 0 auto; padding: 1em; color: #222">
{{.Body}}
<hr style="border: none; border-top: 1px solid #ccc; margin-top: 2em">
<p style="font-size: 0.85em; color: #666">{{.Why}}{{if .Unsubscribe}} <a href="{{.Unsubscribe}}">Unsubscribe</a>{{end}}</p>
</body></html>
`))

// Render makes the notice's mail for one recipient: why they receive it
// and their unsubscribe link go in the footer of both parts. The plain
// text is the Markdown itself, which is written to be read as text.
func Render(n Notice, site, unsubscribeURL string) (Content, error) {
	body, err := BodyHTML(n.Body)
	if err != nil {
		return Content{}, err
	}
	why := reason(n.Kind, site)
	var h bytes.Buffer
	if err := layout.Execute(&h, struct {
		Subject     string
		Body        template.HTML
		Why         string
		Unsubscribe string
	}{n.Subject, body, why, unsubscribeURL}); err != nil {
		return Content{}, err
	}
	var t strings.Builder
	t.WriteString(strings.TrimSpace(strings.ReplaceAll(n.Body, "\r\n", "\n")))
	t.WriteString("\n\n-- \n")
	t.WriteString(why)
	if unsubscribeURL != "" {
		t.WriteString("\nUnsubscribe: ")
		t.WriteString(unsubscribeURL)
	}
	t.WriteString("\n")
	return Content{Subject: n.Subject, Text: t.String(), HTML: h.String()}, nil
}

// reason says in the footer why the recipient gets this mail.
func reason(k Kind, site string) string {
	if site == "" {
		site = "us"
	}
	switch k {
	case Security:
		// The unsubscribe link records an objection to the notices,
		// which stops product updates; security notices are essential
		// and still come while the license is in force. Say so.
		return "You receive this security notice because you hold a license from " + site + " for the software it concerns. " +
			"Security notices go to every holder of a license in force; the link below stops our other product updates."
	case ProductUpdate:
		return "You receive this product update because you hold a license from " + site + "."
	}
	return "You receive this because you subscribed to this list at " + site + "."
}
