package token

import "testing"

func TestTokensAreRandomAndHashed(t *testing.T) {
	a, ha := New()
	b, _ := New()
	if a == b || len(a) != 43 || ha != Hash(a) || ha == a {
		t.Fatalf("tokens %q %q, hash %q", a, b, ha)
	}
}
