package requestlog_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/storekeep/storekeep/internal/requestlog"
)

// TestDescribeRealUserAgents: real user agents of the browsers, devices,
// crawlers and command-line clients a shop sees, as
// github.com/mileusna/useragent and Describe's own rules read them.
func TestDescribeRealUserAgents(t *testing.T) {
	for _, c := range []struct {
		ua   string
		want requestlog.Browser
	}{
		// Desktops.
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87", requestlog.Browser{Family: "Edge", Version: "126", Device: "desktop"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", requestlog.Browser{Family: "Firefox", Version: "128", Device: "desktop"}},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", requestlog.Browser{Family: "Firefox", Version: "127", Device: "desktop"}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", requestlog.Browser{Family: "Safari", Version: "17", Device: "desktop"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", requestlog.Browser{Family: "Opera", Version: "111", Device: "desktop"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Vivaldi/6.8", requestlog.Browser{Family: "Vivaldi", Version: "6", Device: "desktop"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 YaBrowser/24.1.0.0 Safari/537.36", requestlog.Browser{Family: "Yandex Browser", Version: "24", Device: "desktop"}},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", requestlog.Browser{Family: "Chrome", Version: "126", Device: "desktop"}},
		// The parser takes IE 11 and Chromium browsers with a token of
		// their own for something else; Describe corrects them.
		{"Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko", requestlog.Browser{Family: "IE", Version: "11", Device: "desktop"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) SomeApp/1.2.3 Chrome/120.0.6099.291 Electron/28.3.3 Safari/537.36", requestlog.Browser{Family: "Chrome", Version: "120", Device: "desktop"}},
		// Phones.
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", requestlog.Browser{Family: "Chrome", Version: "126", Device: "mobile"}},
		{"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", requestlog.Browser{Family: "Samsung Browser", Version: "25", Device: "mobile"}},
		{"Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0", requestlog.Browser{Family: "Firefox", Version: "128", Device: "mobile"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.153 Mobile/15E148 Safari/604.1", requestlog.Browser{Family: "Chrome", Version: "126", Device: "mobile"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/128.0 Mobile/15E148 Safari/605.1.15", requestlog.Browser{Family: "Firefox", Version: "128", Device: "mobile"}},
		{"Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 EdgA/126.0.0.0", requestlog.Browser{Family: "Edge", Version: "126", Device: "mobile"}},
		{"Mozilla/5.0 (Linux; Android 12; CUBOT X50) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", requestlog.Browser{Family: "Chrome", Version: "126", Device: "mobile"}},
		{"Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16", requestlog.Browser{Family: "Opera Mini", Version: "36", Device: "mobile"}},
		// Tablets: the parser counts every Android as a phone; Chromium
		// browsers on tablets leave out "Mobile".
		{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", requestlog.Browser{Family: "Safari", Version: "17", Device: "tablet"}},
		{"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", requestlog.Browser{Family: "Chrome", Version: "126", Device: "tablet"}},
		{"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Safari/537.36", requestlog.Browser{Family: "Samsung Browser", Version: "25", Device: "tablet"}},
		{"Mozilla/5.0 (Android 14; Tablet; rv:128.0) Gecko/128.0 Firefox/128.0", requestlog.Browser{Family: "Firefox", Version: "128", Device: "tablet"}},
		{"Mozilla/5.0 (Linux; Android 13; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/126.4.1 like Chrome/126.0.6478.153 Safari/537.36", requestlog.Browser{Family: "Amazon Silk", Version: "126", Device: "tablet"}},
		// Televisions, sticks and consoles.
		{"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36", requestlog.Browser{Family: "Samsung Browser", Version: "4", Device: "tv"}},
		{"Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager", requestlog.Browser{Family: "Chrome", Version: "79", Device: "tv"}},
		{"Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7633) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.230 Safari/537.36", requestlog.Browser{Family: "Chrome", Version: "120", Device: "tv"}},
		{"Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 CrKey/1.56.500000", requestlog.Browser{Family: "Chrome", Version: "114", Device: "tv"}},
		{"Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15", requestlog.Browser{Family: "Safari", Version: "13", Device: "tv"}},
		// Crawlers, monitors, headless browsers, command-line clients and
		// HTTP libraries.
		{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", bot},
		{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", bot},
		{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36", bot},
		{"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", bot},
		{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", bot},
		{"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", bot},
		{"Twitterbot/1.0", bot},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.6478.126 Safari/537.36", bot},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Chrome-Lighthouse", bot},
		{"Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", bot},
		{"Wget/1.21.4", bot},
		{"python-requests/2.32.3", bot},
		{"Python-urllib/3.12", bot},
		{"Go-http-client/1.1", bot},
		{"Go-http-client/2.0", bot},
		{"okhttp/4.12.0", bot},
		{"Java/17.0.2", bot},
		{"WhatsApp/2.23.20.0", bot},
		// Unknown: nothing of the header is kept (the parser would name
		// it by the whole header).
		{"Mozilla/5.0", requestlog.Browser{}},
		{"SomeClient/1.0 (Linux)", requestlog.Browser{Device: "desktop"}},
	} {
		if got := requestlog.Describe(c.ua); got != c.want {
			t.Errorf("Describe(%q) = %+v, want %+v", c.ua, got, c.want)
		}
	}
}

var bot = requestlog.Browser{Family: "bot", Device: "bot"}

// TestDescribeConcurrently: Describe is called from the writer and from
// every beacon at once; what it remembers gives the same answers (run
// with -race).
func TestDescribeConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				ua := fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", i%700, i%700)
				want := requestlog.Browser{Family: "Firefox", Version: fmt.Sprint(i % 700), Device: "desktop"}
				if got := requestlog.Describe(ua); got != want {
					t.Errorf("goroutine %d: Describe(%q) = %+v, want %+v", g, ua, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkDescribe: a site's few user agents, as the writer and the
// analytics' beacons describe them (Describe remembers recent ones).
func BenchmarkDescribe(b *testing.B) {
	uas := []string{firefox, chrome, safari, curl, google}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		requestlog.Describe(uas[i%len(uas)])
	}
}
