package httpsig

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// RFC 9421 Appendix B.1.4, test-key-ed25519 (the JWK's "d", base64url).
const rfcSeed = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"

func rfcKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	seed, err := base64.RawURLEncoding.DecodeString(rfcSeed)
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// TestRFC9421B26 reproduces RFC 9421 Appendix B.2.6 ("Signing a Request Using ed25519")
// byte for byte: Ed25519 is deterministic, so the same base under the same key must give the
// RFC's published signature.
func TestRFC9421B26(t *testing.T) {
	key := rfcKey(t)
	if got := base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey)); got != "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs" {
		t.Fatalf("public key %s", got)
	}
	h := http.Header{}
	h.Set("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", "18")
	m := Message{Method: "POST", Path: "/foo", Authority: "example.com", Header: h}
	p := Params{
		Components: []string{"date", "@method", "@path", "@authority", "content-type", "content-length"},
		Params:     []Param{{"created", int64(1618884473)}, {"keyid", "test-key-ed25519"}},
	}
	base, err := Base(m, p)
	if err != nil {
		t.Fatal(err)
	}
	want := `"date": Tue, 20 Apr 2021 02:07:55 GMT` + "\n" +
		`"@method": POST` + "\n" +
		`"@path": /foo` + "\n" +
		`"@authority": example.com` + "\n" +
		`"content-type": application/json` + "\n" +
		`"content-length": 18` + "\n" +
		`"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`
	if string(base) != want {
		t.Fatalf("base:\n%s\nwant:\n%s", base, want)
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, base))
	const published = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
	if sig != published {
		t.Fatalf("signature %s, RFC says %s", sig, published)
	}
	// And the parser reads the RFC's Signature-Input back to the same serialisation.
	d, err := ParseDictionary(`sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := d.Get("sig-b26")
	q := Params{Params: in.Params}
	for _, it := range in.List {
		q.Components = append(q.Components, it.Value.(string))
	}
	s1, _ := q.Serialize()
	s2, _ := p.Serialize()
	if s1 != s2 {
		t.Fatalf("reparsed %s, want %s", s1, s2)
	}
}

// TestRFC9530Digest is the example of RFC 9530 (and RFC 9421 Appendix B): the body
// {"hello": "world"}.
func TestRFC9530Digest(t *testing.T) {
	body := []byte(`{"hello": "world"}`)
	const want = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
	if got := ContentDigest(body); got != want {
		t.Fatalf("got %s", got)
	}
	if err := CheckContentDigest("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:, "+want, body); err != nil {
		t.Fatal(err)
	}
	if err := CheckContentDigest(want, []byte(`{"hello": "World"}`)); err == nil {
		t.Fatal("a changed body passed")
	}
	if err := CheckContentDigest("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:", body); err == nil {
		t.Fatal("no sha-256 passed")
	}
}

// TestResponseBaseByHand writes the signature base of a Storekeep response by hand, from the
// format of RFC 9421 §2.5, independently of Base, and checks SignResponse signs exactly it.
func TestResponseBaseByHand(t *testing.T) {
	key := rfcKey(t)
	body := []byte(`{"hello": "world"}`)
	h := http.Header{}
	if err := SignResponse(h, 200, body, "0123456789abcdef0123", "Tue, 20 Apr 2021 02:07:56 GMT", 1618884473, "test-key-ed25519", key); err != nil {
		t.Fatal(err)
	}
	hand := "\"@status\": 200\n" +
		"\"content-digest\": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:\n" +
		"\"date\": Tue, 20 Apr 2021 02:07:56 GMT\n" +
		"\"storekeep-nonce\": 0123456789abcdef0123\n" +
		"\"@signature-params\": (\"@status\" \"content-digest\" \"date\" \"storekeep-nonce\");created=1618884473;keyid=\"test-key-ed25519\";alg=\"ed25519\""
	if got := h.Get("Signature-Input"); got != `sk=("@status" "content-digest" "date" "storekeep-nonce");created=1618884473;keyid="test-key-ed25519";alg="ed25519"` {
		t.Fatalf("Signature-Input %s", got)
	}
	want := "sk=:" + base64.StdEncoding.EncodeToString(ed25519.Sign(key, []byte(hand))) + ":"
	if got := h.Get("Signature"); got != want {
		t.Fatalf("Signature %s, want %s", got, want)
	}
	pub := key.Public().(ed25519.PublicKey)
	lookup := func(kid string) (ed25519.PublicKey, bool) { return pub, kid == "test-key-ed25519" }
	sig, err := VerifyResponse(200, h, body, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Created != 1618884473 || sig.KeyID != "test-key-ed25519" {
		t.Fatalf("%+v", sig)
	}
	// Multiple field lines, and another signature from a proxy, still verify.
	h2 := h.Clone()
	h2.Add("Signature-Input", `proxy=("@status");created=1;keyid="p"`)
	h2.Add("Signature", `proxy=:AAAA:`)
	if _, err := VerifyResponse(200, h2, body, lookup); err != nil {
		t.Fatal(err)
	}
	// Each change is caught.
	for name, mut := range map[string]func(h http.Header) (int, []byte){
		"status": func(h http.Header) (int, []byte) { return 201, body },
		"body":   func(h http.Header) (int, []byte) { return 200, []byte(`{"hello": "w0rld"}`) },
		"digest": func(h http.Header) (int, []byte) {
			h.Set("Content-Digest", ContentDigest([]byte("x")))
			return 200, []byte("x")
		},
		"date":     func(h http.Header) (int, []byte) { h.Set("Date", "Tue, 20 Apr 2021 02:07:57 GMT"); return 200, body },
		"nonce":    func(h http.Header) (int, []byte) { h.Set(NonceHeader, "0123456789abcdef0124"); return 200, body },
		"no nonce": func(h http.Header) (int, []byte) { h.Del(NonceHeader); return 200, body },
		"created": func(h http.Header) (int, []byte) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), "1618884473", "1618884474", 1))
			return 200, body
		},
		"fewer components": func(h http.Header) (int, []byte) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), ` "storekeep-nonce"`, "", 1))
			return 200, body
		},
		"alg": func(h http.Header) (int, []byte) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), `alg="ed25519"`, `alg="rsa-v1_5-sha256"`, 1))
			return 200, body
		},
		"token alg": func(h http.Header) (int, []byte) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), `alg="ed25519"`, `alg=ed25519`, 1))
			return 200, body
		},
		"keyid": func(h http.Header) (int, []byte) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), `test-key-ed25519`, `other`, 1))
			return 200, body
		},
		"signature": func(h http.Header) (int, []byte) {
			h.Set("Signature", "sk=:"+base64.StdEncoding.EncodeToString(make([]byte, 64))+":")
			return 200, body
		},
		"garbage": func(h http.Header) (int, []byte) { h.Set("Signature", "sk=:%%%:"); return 200, body },
	} {
		h3 := h.Clone()
		status, b := mut(h3)
		if _, err := VerifyResponse(status, h3, b, lookup); err == nil {
			t.Errorf("%s: changed response verified", name)
		}
	}
}

func TestEmptyNonceLine(t *testing.T) {
	h := http.Header{}
	h.Set(NonceHeader, "")
	v, err := Message{Header: h}.ComponentValue("storekeep-nonce")
	if err != nil || v != "" {
		t.Fatalf("%q %v", v, err)
	}
}

func TestParseDictionary(t *testing.T) {
	for _, bad := range []string{"", "a=", "a=(", `a="x`, "A=1", "a=1,", "a=1.5", "a=:YQ", "a=(1 2", `a=("x"`, "a=?2", "a=1234567890123456"} {
		if _, err := ParseDictionary(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	d, err := ParseDictionary(`a=1, b;x=?0, c=(1 "two" three);p="q", d=:YWJj:, a=2`)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 4 || d[0].Item != int64(2) || d[1].Item != true || len(d[2].List) != 3 || string(d[3].Item.([]byte)) != "abc" {
		t.Fatalf("%+v", d)
	}
}

func FuzzParseDictionary(f *testing.F) {
	f.Add(`sk=("@status" "content-digest" "date" "storekeep-nonce");created=1618884473;keyid="k";alg="ed25519"`)
	f.Add(`sk=:AAAA:, x=?1`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDictionary(s)
		if err != nil {
			return
		}
		for _, m := range d {
			if m.List != nil {
				var p Params
				p.Params = m.Params
				for _, it := range m.List {
					if s, ok := it.Value.(string); ok {
						p.Components = append(p.Components, s)
					}
				}
				_, _ = p.Serialize()
			}
		}
	})
}

// FuzzVerifyResponse feeds hostile headers and bodies to VerifyResponse: it must not panic,
// and whatever it accepts must carry a signature that verifies under the test key.
func FuzzVerifyResponse(f *testing.F) {
	seed, _ := base64.RawURLEncoding.DecodeString(rfcSeed)
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	body := []byte(`{"code":"VALID","nonce":"0123456789abcdef0123"}`)
	h := http.Header{}
	SignResponse(h, 200, body, "0123456789abcdef0123", "Tue, 20 Apr 2021 02:07:56 GMT", 1618884473, "k", key)
	f.Add(200, h.Get("Content-Digest"), h.Get("Date"), h.Get(NonceHeader), h.Get("Signature-Input"), h.Get("Signature"), body)
	f.Add(429, "sha-256=:AAAA:", "", "", `sk=("@status");created=1;keyid="k";alg="ed25519"`, "sk=:AAAA:", []byte("{}"))
	f.Fuzz(func(t *testing.T, status int, digest, date, nonce, input, sig string, body []byte) {
		h := http.Header{}
		h.Set("Content-Digest", digest)
		h.Set("Date", date)
		h.Set(NonceHeader, nonce)
		h.Set("Signature-Input", input)
		h.Set("Signature", sig)
		got, err := VerifyResponse(status, h, body, func(kid string) (ed25519.PublicKey, bool) { return pub, kid == "k" })
		if err != nil {
			return
		}
		if got.KeyID != "k" {
			t.Fatalf("accepted keyid %q", got.KeyID)
		}
	})
}

// TestFieldValuesCanonical: RFC 9421 §2.1 for a header field: each line
// trimmed, several lines joined with ", ", obsolete folding a space.
func TestFieldValuesCanonical(t *testing.T) {
	h := http.Header{}
	h["X-Folded"] = []string{"  one\r\n two\r\n\tthree ", "\tsecond line "}
	got, err := Message{Header: h}.ComponentValue("x-folded")
	if want := "one two three, second line"; err != nil || got != want {
		t.Fatalf("ComponentValue = %q, %v; want %q", got, err, want)
	}
}
