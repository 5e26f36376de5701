package licensetest_test

import (
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
	"github.com/storekeep/storekeep/sdk/go/httpsig"
	"github.com/storekeep/storekeep/sdk/go/licensetest"
)

// TestFakeRefusesBadRequests: the fake answers bad requests as the document says (400
// BAD_REQUEST, signed, nothing changed), including a replayed nonce.
func TestFakeRefusesBadRequests(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	srv := licensetest.NewTestServer(t)
	srv.SetClock(func() time.Time { return now })
	key := srv.Issue(licensetest.Spec{Product: "p", Edition: "e", IssuedAt: now, MaxMachines: 1})
	v := srv.Issuer.Verifier()
	post := func(path, body string) (int, license.Code) {
		t.Helper()
		resp, err := srv.Server.Client().Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if _, err := httpsig.VerifyResponse(resp.StatusCode, resp.Header, b, func(kid string) (ed25519.PublicKey, bool) { return v.PublicKey(kid) }); err != nil {
			t.Fatalf("%s %s: unsigned answer: %v", path, body, err)
		}
		var a struct{ Code license.Code }
		json.Unmarshal(b, &a)
		return resp.StatusCode, a.Code
	}
	nonce := strings.Repeat("n", 20)
	for _, c := range []struct{ path, body string }{
		{"/api/v1/machines/activate", `not json`},
		{"/api/v1/machines/activate", `{"key":"` + key + `","fingerprint":"f","nonce":"` + nonce + `","admin":true}`},
		{"/api/v1/machines/activate", `{"key":"` + key + `","fingerprint":"f","nonce":"short"}`},
		{"/api/v1/machines/activate", `{"key":"` + key + `","fingerprint":"f","nonce":"` + strings.Repeat("n", 129) + `"}`},
		{"/api/v1/machines/activate", `{"key":"` + strings.Repeat("A", 17<<10) + `","nonce":"` + nonce + `"}`},
		{"/api/v1/licenses/validate", `{"key":"` + key + `","hostname":"h","nonce":"` + nonce + `"}`},
	} {
		if st, code := post(c.path, c.body); st != 400 || code != license.CodeBadRequest {
			t.Errorf("%.80s: %d %s", c.body, st, code)
		}
	}
	if m := srv.Machines(key); len(m) != 0 {
		t.Fatal("a refused request changed something", m)
	}
	body := `{"key":"` + key + `","fingerprint":"f","nonce":"` + nonce + `"}`
	if st, code := post("/api/v1/machines/activate", body); st != 200 || code != license.CodeValid {
		t.Fatal(st, code)
	}
	if st, code := post("/api/v1/machines/activate", body); st != 400 || code != license.CodeBadRequest {
		t.Fatal("replayed nonce:", st, code)
	}
	if st, _ := post("/api/v1/nope", body); st != http.StatusNotFound {
		t.Fatal(st)
	}
}
