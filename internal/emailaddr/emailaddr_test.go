package emailaddr_test

import (
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/refuse"
)

func TestNormaliseEmail(t *testing.T) {
	for in, want := range map[string]string{
		"  Ada@Example.COM ":     "ada@example.com",
		"first.last+tag@mail.io": "first.last+tag@mail.io",
	} {
		got, err := emailaddr.NormaliseEmail(in)
		if err != nil || got != want {
			t.Errorf("NormaliseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ada", "ada@localhost", "Ada <ada@example.com>", "ada@example.com, bob@example.com",
		"ada@example.com\r\nBcc: x@example.com", `"a b"@example.com`, strings.Repeat("a", 250) + "@example.com"} {
		got, err := emailaddr.NormaliseEmail(bad)
		if rf, ok := refuse.As(err); !ok || rf.Kind != refuse.Invalid || rf.Field != "email" {
			t.Errorf("NormaliseEmail(%q) = %q, %v; want a refusal about the email field", bad, got, err)
		}
	}
}
