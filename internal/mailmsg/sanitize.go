package mailmsg

import (
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// policy is the one sanitiser of message HTML, built once (a bluemonday
// Policy is safe for concurrent use once built). It keeps text formatting,
// lists, tables and links; it drops every image and other resource (a
// remote image is a tracking pixel, and the staff console's CSP would
// block it anyway), style attributes and elements, classes and IDs (which
// could reach the console's CSS and scripts), forms, scripts and frames.
var policy = newPolicy()

var langTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$`)

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "div", "span", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins",
		"sub", "sup", "small", "big", "mark", "abbr", "cite", "q", "code", "kbd", "samp", "var", "pre",
		"blockquote", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
		"table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th", "colgroup", "col", "address", "center")
	p.AllowAttrs("dir").Matching(bluemonday.Direction).Globally()
	p.AllowAttrs("lang").Matching(langTag).Globally()
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).Globally()
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("span").Matching(bluemonday.Integer).OnElements("col", "colgroup")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(false)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AddSpaceWhenStrippingTag(true)
	return p
}

// sanitizeHTML balances the markup (an unclosed table of a truncated part
// must not swallow the console's page around it), then sanitises it.
func sanitizeHTML(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return policy.Sanitize(s)
	}
	var b strings.Builder
	if body := findBody(doc); body != nil {
		for c := body.FirstChild; c != nil; c = c.NextSibling {
			if err := html.Render(&b, c); err != nil {
				return policy.Sanitize(s)
			}
		}
	}
	return strings.TrimSpace(policy.Sanitize(b.String()))
}

func findBody(n *html.Node) *html.Node {
	if n.Type == html.ElementNode && n.Data == "body" {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if b := findBody(c); b != nil {
			return b
		}
	}
	return nil
}
