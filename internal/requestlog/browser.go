package requestlog

import (
	"bytes"
	"strings"
	"sync"

	"github.com/mileusna/useragent"
)

// Browser is what the request log keeps of a user agent: the browser's
// family ("Firefox"; "bot" for crawlers, monitors and command-line
// clients; "" when unknown), its major version ("128"), and the device
// class ("desktop", "mobile", "tablet", "tv", "bot" or "").
type Browser struct {
	Family, Version, Device string
}

// Describe derives a Browser from a raw user agent with
// mileusna/useragent, which matches the header's tokens and keeps no
// large structure alive (a trie-based parser did, and every GC cycle had
// to mark it). Only the major version is kept: the full version string
// narrows a visitor down far more and tells nothing a security review
// needs. The last describeCache user agents are remembered: a parse
// costs a few microseconds and a dozen small allocations, and a site
// sees the same few browsers again and again. Safe for concurrent use.
func Describe(ua string) Browser {
	if ua == "" {
		return Browser{}
	}
	ua = cut(ua, maxHeader)
	recent.Lock()
	b, ok := recent.m[ua]
	recent.Unlock()
	if ok {
		return b
	}
	b = describe(ua)
	recent.Lock()
	if recent.m == nil || len(recent.m) >= describeCache {
		recent.m = make(map[string]Browser, describeCache)
	}
	// A copy: the key must not keep the request's header alive.
	recent.m[strings.Clone(ua)] = b
	recent.Unlock()
	return b
}

// describeCache is how many user agents Describe remembers; the map is
// emptied when it is full, so its memory stays bounded (at most about
// 150 KiB, with every user agent at its 512-byte cap).
const describeCache = 256

// recent is what Describe remembers.
var recent struct {
	sync.Mutex
	m map[string]Browser
}

// describe is Describe without the memory; ua is at most maxHeader
// bytes.
func describe(ua string) Browser {
	a := useragent.Parse(ua)
	var buf [maxHeader]byte
	low := lower(&buf, ua)
	if a.Bot || isClient(low) {
		return Browser{Family: "bot", Device: "bot"}
	}
	b := Browser{Family: families[a.Name], Device: device(ua, low, &a)}
	if b.Family != "" {
		b.Version = major(a.Version)
	}
	// What the parser misses: Amazon's Silk ("Silk/126.4.1 like
	// Chrome/126..."), which it takes for Safari; Internet Explorer 11,
	// which names itself only by "Trident/7.0; rv:11.0"; and Chromium
	// browsers that add a token of their own (Chromecast's "CrKey/1.56",
	// Electron), which it names by that token: Chrome, with Chrome's
	// version.
	if v, ok := after(ua, " Silk/"); ok {
		b.Family, b.Version = "Amazon Silk", major(v)
	} else if b.Family == "" && strings.Contains(ua, "Trident/") {
		v, _ := after(ua, "rv:")
		b.Family, b.Version = "IE", major(v)
	} else if v, ok := after(ua, " Chrome/"); ok && b.Family == "" {
		b.Family, b.Version = "Chrome", major(v)
	}
	// A copy: a version cut from ua must not keep the header alive in
	// the memory of recent user agents.
	b.Version = strings.Clone(b.Version)
	return b
}

// after is what follows the first token in ua up to the next space, ';'
// or ')'.
func after(ua, token string) (string, bool) {
	i := strings.Index(ua, token)
	if i < 0 {
		return "", false
	}
	v := ua[i+len(token):]
	if j := strings.IndexAny(v, " ;)"); j >= 0 {
		v = v[:j]
	}
	return v, true
}

// families maps the parser's names to the ones the log keeps: a closed
// list, so a name the parser makes up from an unknown token (for an
// unknown client it returns the whole header as the name) is never
// stored. The names are those the log has kept since it began ("IE",
// "Android Browser"), so rows before and after the parser change compare.
var families = map[string]string{
	useragent.Chrome:           "Chrome",
	useragent.Edge:             "Edge",
	useragent.Firefox:          "Firefox",
	useragent.InternetExplorer: "IE",
	useragent.Opera:            "Opera",
	useragent.OperaTouch:       "Opera",
	useragent.OperaMini:        "Opera Mini",
	useragent.Safari:           "Safari",
	useragent.Vivaldi:          "Vivaldi",
	useragent.SamsungBrowser:   "Samsung Browser",
	"Huawei Browser":           "Huawei Browser",
	"Android browser":          "Android Browser",
	"Miui Browser":             "Miui Browser",
	"YaBrowser":                "Yandex Browser",
	"Silk":                     "Amazon Silk",
	"Falkon":                   "Falkon",
	"NintendoBrowser":          "Nintendo Browser",
	useragent.FacebookApp:      "Facebook App",
	useragent.InstagramApp:     "Instagram App",
	useragent.TiktokApp:        "TikTok App",
}

// clients are tokens (lower case) of automated clients the parser does
// not flag as bots itself: command-line tools, HTTP libraries, headless
// browsers, crawlers and monitors; and "bot" anywhere but in CUBOT, who
// makes phones.
var clients = byteWords(
	"spider", "crawl", "slurp", "headless", "lighthouse", "pagespeed",
	"curl", "wget", "httpie", "python", "go-http-client", "java/", "okhttp",
	"apache-httpclient", "libwww", "node-fetch", "axios", "undici", "ruby",
	"php", "guzzle", "facebookexternalhit", "facebookcatalog", "whatsapp",
	"phantomjs", "monitor", "uptime", "scan",
)

// isClient reports whether low, a user agent in lower case, names an
// automated client.
func isClient(low []byte) bool {
	return containsAny(low, clients) || bytes.Count(low, bot) > bytes.Count(low, cubot)
}

var bot, cubot = []byte("bot"), []byte("cubot")

// tvs are tokens of television sets, streaming sticks ("; AFT" starts
// the model of an Amazon Fire TV) and game consoles, which the parser
// counts as desktops or phones.
var tvs = byteWords(
	"smart-tv", "smarttv", "smart tv", "hbbtv", "web0s", "webos.tv", "crkey",
	"appletv", "apple tv", "roku", "bravia", "googletv", "android tv",
	"; aft", "playstation", "xbox", "nintendo wiiu", "large screen",
)

// device is the device class of ua (low in lower case) as parsed in a.
func device(ua string, low []byte, a *useragent.UserAgent) string {
	switch {
	case containsAny(low, tvs):
		return "tv"
	case a.Tablet:
		return "tablet"
	case a.OS == useragent.Android && strings.Contains(ua, "Chrome/") && !strings.Contains(ua, "Mobile"):
		// Chromium's browsers on Android tablets leave out "Mobile"
		// (Chrome's documented convention); the parser counts every
		// Android as a phone.
		return "tablet"
	case a.Mobile:
		return "mobile"
	case a.Desktop:
		return "desktop"
	}
	return ""
}

// major keeps a version's first number, when it is a short one.
func major(v string) string {
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v = v[:i]
	}
	return digits(v)
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

// lower is ua in ASCII lower case, in buf (ua is at most maxHeader
// bytes, so a caller's array on the stack does: nothing is allocated).
func lower(buf *[maxHeader]byte, ua string) []byte {
	b := buf[:copy(buf[:], ua)]
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// containsAny reports whether s contains one of the words.
func containsAny(s []byte, words [][]byte) bool {
	for _, w := range words {
		if bytes.Contains(s, w) {
			return true
		}
	}
	return false
}

// byteWords is words as byte slices, for bytes.Contains.
func byteWords(words ...string) [][]byte {
	b := make([][]byte, len(words))
	for i, w := range words {
		b[i] = []byte(w)
	}
	return b
}
