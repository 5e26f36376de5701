package requestlog

import (
	"strings"

	"github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
)

// Browser is what the request log keeps of a user agent: the browser's
// family ("Firefox"; "bot" for crawlers, monitors and command-line
// clients; "" when unknown), its major version ("128"), and the device
// class ("desktop", "mobile", "tablet", "tv", "bot" or "").
type Browser struct {
	Family, Version, Device string
}

// parser is medama-io/go-useragent's trie: NewParser builds it once
// (about 50 ms, the first time) and returns the same one after; it is
// safe for concurrent use.
func parser() *useragent.Parser { return useragent.NewParser() }

// Describe derives a Browser from a raw user agent. Only the major
// version is kept: the full version string narrows a visitor down far
// more and tells nothing a security review needs.
func Describe(ua string) Browser {
	if ua == "" {
		return Browser{}
	}
	a := parser().Parse(cut(ua, maxHeader))
	if a.IsBot() {
		return Browser{Family: "bot", Device: "bot"}
	}
	b := Browser{Family: family(a.Browser()), Device: strings.ToLower(string(a.Device()))}
	if b.Family != "" {
		b.Version = digits(a.BrowserVersionMajor())
	}
	return b
}

// family is the parser's browser name, from its closed list.
func family(b agents.Browser) string {
	return cut(string(b), 40)
}

// digits keeps a version only when it is a short number.
func digits(v string) string {
	if v == "" || len(v) > 6 {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return ""
		}
	}
	return v
}
