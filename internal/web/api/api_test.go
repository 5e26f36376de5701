package api_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

const (
	validate   = "/api/v1/licenses/validate"
	activate   = "/api/v1/machines/activate"
	deactivate = "/api/v1/machines/deactivate"
	checkIn    = "/api/v1/machines/check-in"
	fileURL    = "/api/v1/licenses/file"
)

type obj = map[string]any

// TestLicenseLifecycle goes through every endpoint with a good key: each
// answer is checked by send (signed, nonce, no-store, OpenAPI).
func TestLicenseLifecycle(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		f := newFixture(t, s)
		l := f.issue(t, licensing.Policy{Kind: licensing.Term, TermMonths: 12, UpdatesMonths: 12, GraceDays: 14,
			MaxMachines: 2, Entitlements: []string{"dkim", "malware-scan"}})

		a := post(t, s, validate, obj{"key": l.Key, "nonce": nonce()}, 200, "VALID")
		if a.License == nil || a.License.License != l.LicenseID || a.License.Product != "mailguard" || a.License.Edition != "professional" ||
			a.License.State != "active" || a.License.Max != 2 || a.License.Exp != l.ExpiresAt.Unix() || a.License.KID != webtest.LicenseKeys.ActiveKID() ||
			strings.Join(a.License.Ent, ",") != "dkim,malware-scan" || a.Machine != nil {
			t.Fatalf("validate: %+v %+v", a, a.License)
		}
		post(t, s, validate, obj{"key": l.Key, "product": "mailguard", "entitlements": []string{"dkim"}, "nonce": nonce()}, 200, "VALID")
		post(t, s, validate, obj{"key": l.Key, "entitlements": []string{"dkim", "spf"}, "nonce": nonce()}, 200, "ENTITLEMENTS_MISSING")
		post(t, s, validate, obj{"key": l.Key, "fingerprint": "host-a", "nonce": nonce()}, 200, "NOT_ACTIVATED")

		a = post(t, s, activate, obj{"key": l.Key, "fingerprint": "host-a", "hostname": "mx1.example.com", "platform": "linux/amd64", "nonce": nonce()}, 200, "VALID")
		if a.Machine == nil || a.Machine.ID == 0 || a.Machine.ActivatedAt != s.Clock.Now().Unix() {
			t.Fatalf("activate: %+v", a.Machine)
		}
		// Activating the same machine again keeps its one seat.
		post(t, s, activate, obj{"key": l.Key, "fingerprint": "host-a", "nonce": nonce()}, 200, "VALID")
		post(t, s, activate, obj{"key": l.Key, "fingerprint": "host-b", "nonce": nonce()}, 200, "VALID")
		post(t, s, activate, obj{"key": l.Key, "fingerprint": "host-c", "nonce": nonce()}, 200, "TOO_MANY_MACHINES")
		if n := machines(t, s); n != 2 {
			t.Fatalf("%d machines, want 2", n)
		}
		a = post(t, s, validate, obj{"key": l.Key, "fingerprint": "host-a", "nonce": nonce()}, 200, "VALID")
		if a.Machine == nil {
			t.Fatal("validate with an activated fingerprint names no machine")
		}
		post(t, s, validate, obj{"key": l.Key, "fingerprint": "host-c", "nonce": nonce()}, 200, "FINGERPRINT_SCOPE_MISMATCH")

		s.Clock.Advance(time.Hour)
		a = post(t, s, checkIn, obj{"key": l.Key, "fingerprint": "host-a", "version": "2.4.1", "nonce": nonce()}, 200, "VALID")
		if a.Machine == nil || a.Machine.LastCheckIn != s.Clock.Now().Unix() {
			t.Fatalf("check-in: %+v", a.Machine)
		}
		post(t, s, checkIn, obj{"key": l.Key, "fingerprint": "host-c", "nonce": nonce()}, 200, "NOT_ACTIVATED")

		a = post(t, s, fileURL, obj{"key": l.Key, "fingerprint": "host-a", "nonce": nonce()}, 200, "VALID")
		fp, err := licensing.ParseFile(webtest.LicenseKeys, []byte(a.File))
		if err != nil || fp.License != l.LicenseID || fp.Fingerprint != licensing.FingerprintHash("host-a") || fp.State != licensing.StateActive {
			t.Fatalf("file: %+v, %v\n%s", fp, err, a.File)
		}
		a = post(t, s, fileURL, obj{"key": l.Key, "nonce": nonce()}, 200, "VALID")
		if fp, err := licensing.ParseFile(webtest.LicenseKeys, []byte(a.File)); err != nil || fp.Fingerprint != "" {
			t.Fatalf("unbound file: %+v, %v", fp, err)
		}
		post(t, s, fileURL, obj{"key": l.Key, "fingerprint": "host-c", "nonce": nonce()}, 200, "NOT_ACTIVATED")

		a = post(t, s, deactivate, obj{"key": l.Key, "fingerprint": "host-a", "nonce": nonce()}, 200, "VALID")
		if a.License == nil || a.Machine != nil {
			t.Fatalf("deactivate: %+v", a)
		}
		post(t, s, deactivate, obj{"key": l.Key, "fingerprint": "host-a", "nonce": nonce()}, 200, "NOT_ACTIVATED")
		post(t, s, activate, obj{"key": l.Key, "fingerprint": "host-c", "nonce": nonce()}, 200, "VALID")

		// Expiry: in grace, then expired; the state is an answer (200).
		s.Clock.Set(l.ExpiresAt.Add(time.Hour))
		a = post(t, s, validate, obj{"key": l.Key, "nonce": nonce()}, 200, "IN_GRACE")
		if a.License.State != "in_grace" || a.License.Grace != l.ExpiresAt.AddDate(0, 0, 14).Unix() {
			t.Fatalf("in grace: %+v", a.License)
		}
		s.Clock.Set(l.ExpiresAt.AddDate(0, 0, 15))
		post(t, s, validate, obj{"key": l.Key, "nonce": nonce()}, 200, "EXPIRED")
		a = post(t, s, fileURL, obj{"key": l.Key, "nonce": nonce()}, 200, "EXPIRED")
		if fp, err := licensing.ParseFile(webtest.LicenseKeys, []byte(a.File)); err != nil || fp.State != licensing.StateExpired {
			t.Fatalf("expired file: %+v, %v", fp, err)
		}

		if _, err := licensing.Suspend(t.Context(), d, f.ownerID, l.ID, "chargeback", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		post(t, s, validate, obj{"key": l.Key, "nonce": nonce()}, 200, "SUSPENDED")
		if _, err := licensing.Revoke(t.Context(), d, f.ownerID, l.ID, "fraud", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		post(t, s, validate, obj{"key": l.Key, "nonce": nonce()}, 200, "REVOKED")
	})
}

// TestBadKeys: every kind of bad key gets its code, with status 200 (the
// request was answered), and changes nothing.
func TestBadKeys(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		f := newFixture(t, s)
		l := f.issue(t, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: 1})
		parts := strings.Split(l.Key, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])

		// The payload changed (a bigger machine limit), the signature kept.
		bigger := strings.Replace(string(payload), `"max":1`, `"max":999`, 1)
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(bigger)) + "." + parts[2]
		// The changed payload signed again by someone else's key, still
		// naming our key id.
		_, other, _ := ed25519.GenerateKey(nil)
		resigned := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(bigger)) + "." +
			base64.RawURLEncoding.EncodeToString(ed25519.Sign(other, append([]byte("storekeep-license-key-v1\x00"), bigger...)))
		// A well-made key of a key id we do not know.
		stranger, err := licensing.MakeKey(licensing.NewKeyring(other).Signer(), licensing.Payload{License: l.LicenseID, Product: "mailguard", Edition: "professional"})
		if err != nil {
			t.Fatal(err)
		}
		// Signed by our key, for a license that does not exist.
		unknown, err := licensing.MakeKey(webtest.LicenseKeys.Signer(), licensing.Payload{License: "lic_aaaaaaaaaaaaaaaaaaaaaaaaaa", Product: "mailguard", Edition: "professional"})
		if err != nil {
			t.Fatal(err)
		}
		before := state(t, s)
		cases := []struct{ name, key, code string }{
			{"malformed", "not a key", "INVALID_KEY"},
			{"other prefix", "SK2." + parts[1] + "." + parts[2], "INVALID_KEY"},
			{"truncated", l.Key[:len(l.Key)-5], "INVALID_KEY"},
			{"payload cut", parts[0] + "." + parts[1][:10] + "." + parts[2], "INVALID_KEY"},
			{"tampered", tampered, "INVALID_KEY"},
			{"re-signed", resigned, "INVALID_KEY"},
			{"too long", l.Key + strings.Repeat("A", 4096), "INVALID_KEY"},
			{"unknown key id", stranger, "UNKNOWN_KEY_ID"},
			{"no such license", unknown, "NOT_FOUND"},
		}
		for i, c := range cases {
			for _, path := range []string{validate, activate, deactivate, checkIn, fileURL} {
				// From a network per case: bad keys count per network
				// (TestBadKeysRateLimited).
				n := nonce()
				cl := send(t, s, http.MethodPost, path, obj{"key": c.key, "fingerprint": "host-a", "nonce": n}, nil, netAddr(i), n)
				wantAnswer(t, cl, 200, c.code)
				if a := cl.ans; a.License != nil || a.Machine != nil || a.File != "" {
					t.Fatalf("%s at %s: answer tells a license: %+v", c.name, path, a)
				}
			}
		}
		post(t, s, validate, obj{"key": l.Key, "product": "othermilter", "nonce": nonce()}, 200, "WRONG_PRODUCT")
		post(t, s, activate, obj{"key": l.Key, "product": "othermilter", "fingerprint": "host-a", "nonce": nonce()}, 400, "BAD_REQUEST")
		if after := state(t, s); after != before {
			t.Fatalf("bad keys changed the database: %s -> %s", before, after)
		}
		post(t, s, activate, obj{"key": l.Key, "fingerprint": "host-a", "nonce": nonce()}, 200, "VALID")
		if after := state(t, s); after == before {
			t.Fatal("the good activation changed nothing")
		}
		before = state(t, s)
		post(t, s, activate, obj{"key": l.Key, "fingerprint": "host-b", "nonce": nonce()}, 200, "TOO_MANY_MACHINES")
		if after := state(t, s); after != before {
			t.Fatalf("refused activation changed the database: %s -> %s", before, after)
		}
	})
}

// TestBadBodies: a body that cannot be read is 400 BAD_REQUEST, signed,
// with the nonce echoed when it was readable, and changes nothing.
func TestBadBodies(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		f := newFixture(t, s)
		l := f.issue(t, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: 3})
		good := `{"key":"` + l.Key + `","fingerprint":"host-a","nonce":"nonce-0123456789ab"}`
		before := state(t, s)
		cases := []struct {
			name, body, nonce, says string
		}{
			{"empty", ``, "", "not JSON"},
			{"not JSON", `key=` + l.Key, "", "not JSON"},
			{"truncated", good[:len(good)-4], "", "ends too early"},
			{"array", `[` + good + `]`, "", "JSON object"},
			{"two values", good + good, "", "nothing after it"},
			{"trailing garbage", good + ` x`, "", "nothing after it"},
			{"unknown member", strings.Replace(good, `"fingerprint"`, `"seats":9,"fingerprint"`, 1), "nonce-0123456789ab", `"seats"`},
			{"member twice", strings.Replace(good, `"fingerprint"`, `"key":"x","fingerprint"`, 1), "nonce-0123456789ab", "twice"},
			{"member in other case", strings.Replace(good, `"key"`, `"Key"`, 1), "nonce-0123456789ab", `"Key"`},
			{"wrong type", strings.Replace(good, `"host-a"`, `42`, 1), "nonce-0123456789ab", "must be a string"},
			{"null", strings.Replace(good, `"host-a"`, `null`, 1), "nonce-0123456789ab", "missing"},
			{"huge", `{"key":"` + strings.Repeat("A", 17<<10) + `","fingerprint":"a","nonce":"nonce-0123456789ab"}`, "", "larger than 16384 bytes"},
			{"no nonce", `{"key":"` + l.Key + `","fingerprint":"host-a"}`, "", "nonce"},
			{"short nonce", strings.Replace(good, "nonce-0123456789ab", "short", 1), "", "16 to 128"},
			{"long nonce", strings.Replace(good, "nonce-0123456789ab", strings.Repeat("n", 129), 1), "", "16 to 128"},
			{"nonce with a space", strings.Replace(good, "nonce-0123456789ab", "nonce 0123456789ab", 1), "", "visible ASCII"},
			{"nonce of another type", strings.Replace(good, `"nonce-0123456789ab"`, `12345678901234567890`, 1), "", "must be a string"},
			{"no key", `{"fingerprint":"host-a","nonce":"nonce-0123456789ab"}`, "nonce-0123456789ab", `"key" is missing`},
			{"no fingerprint", `{"key":"` + l.Key + `","nonce":"nonce-0123456789ab"}`, "nonce-0123456789ab", `"fingerprint" is missing`},
			{"control character", strings.Replace(good, `"host-a"`, `"host\u0000a"`, 1), "nonce-0123456789ab", "NUL"},
			{"line break", `{"key":"` + l.Key + `","fingerprint":"host-a","hostname":"mx1\nX-Evil: 1","nonce":"nonce-0123456789ab"}`, "nonce-0123456789ab", "line break"},
			{"direction override", `{"key":"` + l.Key + `","fingerprint":"host-a","platform":"linux\u202e","nonce":"nonce-0123456789ab"}`, "nonce-0123456789ab", "direction"},
			{"invalid UTF-8", "{\"key\":\"" + l.Key + "\",\"fingerprint\":\"host-\xff\",\"nonce\":\"nonce-0123456789ab\"}", "nonce-0123456789ab", "could not be read"},
			{"fingerprint too long", strings.Replace(good, `"host-a"`, `"`+strings.Repeat("f", 513)+`"`, 1), "nonce-0123456789ab", "too long"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// The document refuses what it can express: everything
				// but a member given twice (a JSON parser keeps the last),
				// the size cap and the rules of typed text.
				if !map[string]bool{"member twice": true, "huge": true, "control character": true, "line break": true,
					"direction override": true, "invalid UTF-8": true}[c.name] {
					req := httptest.NewRequest(http.MethodPost, activate, strings.NewReader(c.body))
					req.Header.Set("Content-Type", "application/json")
					if ok, _ := openAPI(t).ValidateHttpRequest(req); ok {
						t.Errorf("the OpenAPI document takes the body the server refuses: %.200s", c.body)
					}
				}
				cl := send(t, s, http.MethodPost, activate, c.body, nil, "", c.nonce)
				wantAnswer(t, cl, 400, "BAD_REQUEST")
				if !strings.Contains(cl.ans.Message, c.says) {
					t.Fatalf("message %q does not say %q", cl.ans.Message, c.says)
				}
			})
		}
		// Not declared as JSON.
		cl := send(t, s, http.MethodPost, activate, good, http.Header{"Content-Type": {"text/plain"}}, "", "")
		wantAnswer(t, cl, 400, "BAD_REQUEST")
		// A form with text no one types is refused by the core, and the
		// refusal is signed like the API's own.
		cl = send(t, s, http.MethodPost, activate, "key=a%00b", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "", "")
		wantAnswer(t, cl, 400, "BAD_REQUEST")
		if after := state(t, s); after != before {
			t.Fatalf("bad bodies changed the database: %s -> %s", before, after)
		}
		if machines(t, s) != 0 {
			t.Fatal("a machine was activated")
		}
	})
}

// TestReplayedNonce: the same nonce answered again is fine for the server
// (it keeps no nonces); the signature covers the nonce, so an answer
// captured for one request does not pass as the answer to another.
func TestReplayedNonce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		f := newFixture(t, s)
		l := f.issue(t, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: 3})
		n := nonce()
		first := send(t, s, http.MethodPost, validate, obj{"key": l.Key, "nonce": n}, nil, "", n)
		again := send(t, s, http.MethodPost, validate, obj{"key": l.Key, "nonce": n}, nil, "", n)
		wantAnswer(t, first, 200, "VALID")
		wantAnswer(t, again, 200, "VALID")
		// The captured answer, offered to a request with another nonce,
		// says the old nonce under a valid signature; changing its nonce
		// breaks the signature.
		fresh := nonce()
		if first.ans.Nonce == fresh || first.res.Header.Get("Storekeep-Nonce") == fresh {
			t.Fatal("nonces repeat")
		}
		first.res.Header.Set("Storekeep-Nonce", fresh)
		if _, err := httpsigVerify(first); err == nil {
			t.Fatal("an answer whose nonce was replaced still verifies")
		}
	})
}

// TestActivationRateLimits: activations count per license and per network;
// over the limit the answer is 429 RATE_LIMITED with Retry-After, and
// nothing changes.
func TestActivationRateLimits(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		f := newFixture(t, s)
		s.Clock.Set(webtest.Start.Add(4 * time.Minute)) // 6 minutes left in the 10-minute window
		l := f.issue(t, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: 0})
		// Per license: 20 from 20 networks pass, the 21st is refused.
		for i := range 20 {
			n := nonce()
			c := send(t, s, http.MethodPost, activate, obj{"key": l.Key, "fingerprint": "host-" + string(rune('a'+i)), "nonce": n}, nil, netAddr(i), n)
			wantAnswer(t, c, 200, "VALID")
		}
		before := state(t, s)
		n := nonce()
		c := send(t, s, http.MethodPost, activate, obj{"key": l.Key, "fingerprint": "host-z", "nonce": n}, nil, netAddr(99), n)
		wantAnswer(t, c, 429, "RATE_LIMITED")
		if ra := c.res.Header.Get("Retry-After"); ra != "360" {
			t.Fatalf("Retry-After %q, want 360", ra)
		}
		if after := state(t, s); after != before {
			t.Fatalf("a limited activation changed the database: %s -> %s", before, after)
		}
		// Validation of the same license is not limited by activations.
		post(t, s, validate, obj{"key": l.Key, "nonce": nonce()}, 200, "VALID")
		// The next window opens again.
		s.Clock.Set(webtest.Start.Add(10 * time.Minute))
		n = nonce()
		wantAnswer(t, send(t, s, http.MethodPost, activate, obj{"key": l.Key, "fingerprint": "host-z", "nonce": n}, nil, netAddr(99), n), 200, "VALID")

		// Per network: 60 activations of many licenses from one network.
		s.Clock.Set(webtest.Start.Add(20 * time.Minute))
		keys := make([]string, 4)
		for i := range keys {
			keys[i] = f.issue(t, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: 0}).Key
		}
		for i := range 60 {
			n := nonce()
			wantAnswer(t, send(t, s, http.MethodPost, activate, obj{"key": keys[i%4], "fingerprint": "net-host", "nonce": n}, nil, "198.51.100.7:4000", n), 200, "VALID")
		}
		n = nonce()
		c = send(t, s, http.MethodPost, activate, obj{"key": keys[0], "fingerprint": "net-host-2", "nonce": n}, nil, "198.51.100.200:4000", n)
		wantAnswer(t, c, 429, "RATE_LIMITED")
		// Another network is not held up.
		n = nonce()
		wantAnswer(t, send(t, s, http.MethodPost, activate, obj{"key": keys[0], "fingerprint": "net-host-2", "nonce": n}, nil, "203.0.113.9:4000", n), 200, "VALID")
	})
}

// TestBadKeysRateLimited: keys that are not ours or not known count per
// network; over the limit they are answered 429, good keys still answer.
func TestBadKeysRateLimited(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		f := newFixture(t, s)
		l := f.issue(t, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: 1})
		for range 30 {
			post(t, s, validate, obj{"key": "SK1.guess.guess", "nonce": nonce()}, 200, "INVALID_KEY")
		}
		c := post(t, s, validate, obj{"key": "SK1.guess.guess", "nonce": nonce()}, 429, "RATE_LIMITED")
		if c.License != nil {
			t.Fatal("a limited answer tells a license")
		}
		post(t, s, checkIn, obj{"key": "SK1.guess.guess", "fingerprint": "a", "nonce": nonce()}, 429, "RATE_LIMITED")
		// Good keys are never counted, so they still answer.
		post(t, s, validate, obj{"key": l.Key, "nonce": nonce()}, 200, "VALID")
	})
}

func netAddr(i int) string {
	return "10." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250) + ".1:5000"
}

func httpsigVerify(c call) (verified, error) {
	return verifyAnswer(c.res.StatusCode, c.res.Header, c.body, webtest.LicenseKeys.PublicKey)
}
