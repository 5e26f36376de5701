package requestlog

import (
	"fmt"
	"testing"
)

// TestDescribeRemembersBoundedly: the memory of recent user agents never
// holds more than describeCache of them, and answers as a parse would.
func TestDescribeRemembersBoundedly(t *testing.T) {
	for i := range 3 * describeCache {
		ua := fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%d.0", i, i)
		if got, want := Describe(ua), describe(ua); got != want {
			t.Fatalf("Describe(%q) = %+v, describe = %+v", ua, got, want)
		}
		if got, want := Describe(ua), describe(ua); got != want {
			t.Fatalf("Describe(%q) again = %+v, describe = %+v", ua, got, want)
		}
		recent.Lock()
		n := len(recent.m)
		recent.Unlock()
		if n > describeCache {
			t.Fatalf("%d user agents remembered, at most %d", n, describeCache)
		}
	}
}

// BenchmarkParse: describing a user agent not remembered (the parse).
func BenchmarkParse(b *testing.B) {
	uas := []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"curl/8.5.0",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		describe(uas[i%len(uas)])
	}
}
