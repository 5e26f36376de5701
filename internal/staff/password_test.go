package staff

import (
	"strings"
	"testing"
	"time"
)

// fastArgon2 keeps unit tests quick; the cost itself is measured by the
// benchmark.
var fastArgon2 = Argon2Params{Time: 1, MemoryK: 1024, Threads: 1, KeyLen: 32}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery staple", fastArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	for pw, want := range map[string]bool{"correct horse battery staple": true, "correct horse battery stapl": false, "": false} {
		ok, err := VerifyPassword(pw, h)
		if err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	h2, _ := HashPassword("correct horse battery staple", fastArgon2)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyRejectsTamperedHashes(t *testing.T) {
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=1,p=1$!!!$aGFzaA"} {
		if ok, err := VerifyPassword("x", bad); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	if CheckPasswordPolicy("short") == nil || CheckPasswordPolicy(strings.Repeat("x", 300)) == nil {
		t.Fatal("policy accepted a too short or too long password")
	}
	if err := CheckPasswordPolicy("a long passphrase"); err != nil {
		t.Fatal(err)
	}
}

func TestTOTPAcceptsEachCodeOnce(t *testing.T) {
	k, err := NewTOTPKey("Storekeep", "owner@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 10, 0, time.UTC)
	code, _ := TOTPCode(k.Secret(), now)
	step, ok := CheckTOTP(k.Secret(), code, now, 0)
	if !ok || step != TOTPStep(now) {
		t.Fatalf("current code refused: %v %v", step, ok)
	}
	if _, ok := CheckTOTP(k.Secret(), code, now, step); ok {
		t.Fatal("a code was accepted twice")
	}
	// One step of drift is tolerated, two are not.
	if _, ok := CheckTOTP(k.Secret(), code, now.Add(30*time.Second), 0); !ok {
		t.Fatal("code from the previous step refused")
	}
	if _, ok := CheckTOTP(k.Secret(), code, now.Add(90*time.Second), 0); ok {
		t.Fatal("expired code accepted")
	}
	if _, ok := CheckTOTP(k.Secret(), "12345", now, 0); ok {
		t.Fatal("short code accepted")
	}
}

// BenchmarkHashPassword measures the cost of one argon2id hash with the
// production parameters; the target is tens of milliseconds. (The same
// cost is paid by VerifyPassword at every sign-in.)
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", RecommendedArgon2); err != nil {
			b.Fatal(err)
		}
	}
}
