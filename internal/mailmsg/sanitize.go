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

// sanitizeHTML sanitises the HTML, then balances its tags: an unclosed
// table of a truncated part must not swallow the console's page around
// it, nor a stray end tag close the console's own elements.
func sanitizeHTML(s string) string {
	return strings.TrimSpace(balance(policy.Sanitize(s)))
}

// maxOpen bounds the elements kept open, and how far an end tag looks for
// its start: the work stays linear in the input.
const maxOpen = 64

// balance rewrites HTML so that every element is closed, in order: end
// tags without a start are dropped, elements left open are closed where
// an enclosing one ends and at the end. html.Parse would do it too, but
// its adoption of misnested formatting elements is quadratic and grows
// the output. The markup is re-serialised by the tokenizer, escaped.
func balance(s string) string {
	var b strings.Builder
	var open []string
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			for i := len(open) - 1; i >= 0; i-- {
				b.WriteString("</" + open[i] + ">")
			}
			return b.String()
		case html.TextToken:
			b.WriteString(html.EscapeString(string(z.Text())))
		case html.SelfClosingTagToken:
			b.WriteString(z.Token().String())
		case html.StartTagToken:
			t := z.Token()
			if voidElements[t.Data] {
				b.WriteString(t.String())
				continue
			}
			if len(open) == maxOpen {
				continue // its end tag finds no start and is dropped too
			}
			open = append(open, t.Data)
			b.WriteString(t.String())
		case html.EndTagToken:
			name, _ := z.TagName()
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] != string(name) {
					continue
				}
				for j := len(open) - 1; j >= i; j-- {
					b.WriteString("</" + open[j] + ">")
				}
				open = open[:i]
				break
			}
		}
	}
}

// voidElements have no end tag.
var voidElements = map[string]bool{"br": true, "hr": true, "col": true, "img": true, "wbr": true,
	"area": true, "base": true, "embed": true, "input": true, "link": true, "meta": true, "source": true, "track": true}
