package mail_test

import (
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/mail"
)

func TestVERPAddressAndParse(t *testing.T) {
	v := mail.VERP{Secret: []byte("installation secret"), Domain: "Milterworks.example"}
	a := v.Address(4711)
	if !strings.HasPrefix(a, "bounces+4711-") || !strings.HasSuffix(a, "@milterworks.example") {
		t.Fatalf("address %q", a)
	}
	for _, in := range []string{a, strings.ToUpper(a), "<" + a + ">"} {
		if id, ok := v.Parse(in); !ok || id != 4711 {
			t.Errorf("Parse(%q) = %d, %v", in, id, ok)
		}
	}
	// Without a configured domain, any domain is read (the From domain
	// varies with the settings); the MAC still decides.
	if id, ok := (mail.VERP{Secret: v.Secret}).Parse(a); !ok || id != 4711 {
		t.Errorf("Parse without domain = %d, %v", id, ok)
	}
	local, _, _ := strings.Cut(a, "@")
	mac := local[strings.LastIndexByte(local, '-')+1:]
	other := mail.VERP{Secret: []byte("another installation"), Domain: "milterworks.example"}
	for _, bad := range []string{
		strings.Replace(a, "4711", "4712", 1),                     // another message, same MAC
		strings.Replace(a, mac, strings.Repeat("0", len(mac)), 1), // forged MAC
		other.Address(4711),                                       // another installation's
		strings.Replace(a, "milterworks.example", "evil.example", 1),
		"bounces@milterworks.example", "bounces+4711@milterworks.example", "bounces+-abc@milterworks.example",
		"bounces+04711-" + mac + "@milterworks.example", "support+4711-" + mac + "@milterworks.example",
		"", "@", "bounces+4711-" + mac, "bounces+99999999999999999999-" + mac + "@milterworks.example",
	} {
		if id, ok := v.Parse(bad); ok {
			t.Errorf("Parse(%q) = %d, true; want refused", bad, id)
		}
	}
	if !v.IsBounceAddress("Bounces@milterworks.example") || !v.IsBounceAddress(a) || v.IsBounceAddress("support@milterworks.example") ||
		v.IsBounceAddress("bounces@other.example") {
		t.Error("IsBounceAddress")
	}
	custom := mail.VERP{Secret: v.Secret, Local: "rp", Domain: "bounce.milterworks.example"}
	if a := custom.Address(1); !strings.HasPrefix(a, "rp+1-") || !strings.HasSuffix(a, "@bounce.milterworks.example") {
		t.Errorf("custom %q", a)
	}
	if (mail.VERP{Secret: v.Secret}).Address(1) != "" {
		t.Error("an address without a domain")
	}
}

func FuzzVERPParse(f *testing.F) {
	v := mail.VERP{Secret: []byte("k"), Domain: "example.com"}
	f.Add(v.Address(1))
	f.Add("bounces+1-000000000000@example.com")
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := v.Parse(s)
		if ok && !strings.EqualFold(strings.Trim(strings.TrimSpace(s), "<>"), v.Address(id)) {
			t.Fatalf("Parse(%q) = %d, but that message's address is %q", s, id, v.Address(id))
		}
	})
}
