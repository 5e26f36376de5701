package unsubscribe_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/unsubscribe"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestSignParse(t *testing.T) {
	for _, tok := range []unsubscribe.Token{
		{Customer: 42, Purpose: "notices"},
		{Subscriber: 7, Purpose: "marketing", List: 3, Notice: 991},
	} {
		s := unsubscribe.Sign(secret, tok)
		got, err := unsubscribe.Parse(secret, s)
		if err != nil || got != tok {
			t.Fatalf("Parse(Sign(%+v)) = %+v, %v", tok, got, err)
		}
		if _, err := unsubscribe.Parse([]byte("another installation's secret.."), s); !errors.Is(err, unsubscribe.ErrInvalid) {
			t.Fatalf("another secret: %v", err)
		}
		// Every single-character change is refused.
		for i := range s {
			b := []byte(s)
			b[i] ^= 1
			if got, err := unsubscribe.Parse(secret, string(b)); err == nil {
				t.Fatalf("changed at %d: accepted %+v", i, got)
			}
		}
	}
}

func TestForgedTokensAreRefused(t *testing.T) {
	good := unsubscribe.Sign(secret, unsubscribe.Token{Customer: 1, Purpose: "notices"})
	_, mac, _ := strings.Cut(good, ".")
	for _, s := range []string{"", ".", "x", good + "x", "Mi4wLm5vdGljZXMuMC4w." + mac, strings.Repeat("a", 300)} {
		if _, err := unsubscribe.Parse(secret, s); !errors.Is(err, unsubscribe.ErrInvalid) {
			t.Errorf("Parse(%q) = %v", s, err)
		}
	}
}

func TestURL(t *testing.T) {
	base, _ := url.Parse("https://shop.example.com")
	u := unsubscribe.URL(base, secret, unsubscribe.Token{Customer: 1, Purpose: "notices"})
	if !strings.HasPrefix(u, "https://shop.example.com/unsubscribe/") {
		t.Fatal(u)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(unsubscribe.Sign(secret, unsubscribe.Token{Customer: 1, Purpose: "notices"}))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := unsubscribe.Parse(secret, s)
		if err == nil && unsubscribe.Sign(secret, tok) != s {
			t.Fatalf("%q accepted as %+v, which signs differently", s, tok)
		}
	})
}
