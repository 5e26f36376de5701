package license_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
	"github.com/storekeep/storekeep/sdk/go/licensetest"
)

var (
	t0       = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	baseSpec = licensetest.Spec{
		ID:           "lic_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		Product:      "example-milter",
		Edition:      "pro",
		Entitlements: []string{"malware-scan", "dkim"},
		IssuedAt:     t0,
		ExpiresAt:    t0.AddDate(1, 0, 0),
		UpdatesUntil: t0.AddDate(1, 0, 0),
		MaxMachines:  3,
	}
)

func codeOf(err error) license.Code { return license.CodeOf(err) }

// rawSign signs a payload following the document, with crypto only (not the SDK's token
// package), so that the SDK and this test cannot share a mistake.
func rawSign(k ed25519.PrivateKey, prefix, domain string, payload []byte) string {
	msg := append(append([]byte(domain), 0), payload...)
	sig := ed25519.Sign(k, msg)
	enc := base64.RawURLEncoding
	return prefix + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(sig)
}

func kidOf(k ed25519.PrivateKey) string {
	sum := sha256.Sum256(k.Public().(ed25519.PublicKey))
	return hex.EncodeToString(sum[:8])
}

// TestKeyVector pins a key made from the fixed test seed: the kid derivation, the payload
// bytes in the document's order, and the whole key, checked with crypto/ed25519 directly.
func TestKeyVector(t *testing.T) {
	k := licensetest.TestKey(0)
	iss := licensetest.NewIssuer()
	if iss.KeyID() != kidOf(k) || len(iss.KeyID()) != 16 {
		t.Fatalf("kid %s, want %s", iss.KeyID(), kidOf(k))
	}
	wantPayload := `{"v":1,"kid":"` + kidOf(k) + `","lic":"lic_ABCDEFGHIJKLMNOPQRSTUVWXYZ","prd":"example-milter","ed":"pro","ent":["dkim","malware-scan"],"iat":1796112000,"exp":1827648000,"upd":1827648000,"max":3}`
	if got := string(iss.KeyPayload(baseSpec)); got != wantPayload {
		t.Fatalf("payload\n%s\nwant\n%s", got, wantPayload)
	}
	key := iss.Key(baseSpec)
	if want := rawSign(k, "SK1", "storekeep-license-key-v1", []byte(wantPayload)); key != want {
		t.Fatalf("key\n%s\nwant\n%s", key, want)
	}
	if strings.ContainsAny(key, "=+/") {
		t.Fatal("key is not base64url without padding")
	}
	l, err := iss.Verifier().VerifyKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if l.ID != baseSpec.ID || l.Product != "example-milter" || l.Edition != "pro" || !l.Entitled("dkim") || !l.Entitled("malware-scan") ||
		l.Entitled("spam") || !l.IssuedAt.Equal(t0) || !l.ExpiresAt.Equal(t0.AddDate(1, 0, 0)) || l.MaxMachines != 3 || l.Version != 1 ||
		l.KeyID != kidOf(k) || l.Key != key || l.Perpetual() || l.Code != license.CodeValid {
		t.Fatalf("%+v", l)
	}
	if !l.CoversRelease(t0.AddDate(0, 6, 0)) || l.CoversRelease(t0.AddDate(2, 0, 0)) {
		t.Fatal("updates window")
	}
	// White space around a pasted key is fine.
	if _, err := iss.Verifier().VerifyKey("  " + key + "\n"); err != nil {
		t.Fatal(err)
	}
}

func TestVerifierFromJSON(t *testing.T) {
	iss := licensetest.NewIssuerWith(licensetest.TestKey(0), licensetest.TestKey(1))
	doc := iss.KeySetJSON()
	v, err := license.NewVerifierFromJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyKey(iss.Key(baseSpec)); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"not json":  `{`,
		"no keys":   `{"keys":[]}`,
		"alg":       `{"keys":[{"kid":"0011223344556677","alg":"RSA","public_key":"AAAA"}]}`,
		"short key": `{"keys":[{"kid":"0011223344556677","alg":"Ed25519","public_key":"AAAA"}]}`,
		"wrong kid": strings.Replace(string(doc), kidOf(licensetest.TestKey(0)), "0000000000000000", 1),
		"padding":   strings.Replace(string(doc), `"}`, `="}`, 1),
	} {
		if _, err := license.NewVerifierFromJSON([]byte(doc)); codeOf(err) != license.CodeInvalidKey {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestVerifyKeyBadInput(t *testing.T) {
	iss := licensetest.NewIssuer()
	v := iss.Verifier()
	k0, k1 := licensetest.TestKey(0), licensetest.TestKey(1)
	good := iss.Key(baseSpec)
	payload := string(iss.KeyPayload(baseSpec))
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding
	withPayload := func(p string) string { return rawSign(k0, "SK1", "storekeep-license-key-v1", []byte(p)) }
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := map[string]struct {
		key  string
		code license.Code
	}{
		"empty":                {"", license.CodeInvalidKey},
		"one part":             {"SK1", license.CodeInvalidKey},
		"two parts":            {"SK1." + parts[1], license.CodeInvalidKey},
		"four parts":           {good + ".x", license.CodeInvalidKey},
		"prefix SK2":           {"SK2." + parts[1] + "." + parts[2], license.CodeInvalidKey},
		"prefix lower":         {"sk1." + parts[1] + "." + parts[2], license.CodeInvalidKey},
		"file prefix":          {"SKF1." + parts[1] + "." + parts[2], license.CodeInvalidKey},
		"padding":              {good + "==", license.CodeInvalidKey},
		"std base64":           {"SK1." + base64.StdEncoding.EncodeToString([]byte(payload)) + "." + parts[2], license.CodeInvalidKey},
		"line break inside":    {"SK1." + parts[1][:10] + "\n" + parts[1][10:] + "." + parts[2], license.CodeInvalidKey},
		"space inside":         {"SK1." + parts[1][:10] + " " + parts[1][10:] + "." + parts[2], license.CodeInvalidKey},
		"truncated signature":  {good[:len(good)-4], license.CodeInvalidKey},
		"truncated payload":    {"SK1." + parts[1][:len(parts[1])-8] + "." + parts[2], license.CodeInvalidKey},
		"empty payload":        {"SK1.." + parts[2], license.CodeInvalidKey},
		"flipped payload":      {"SK1." + flip(parts[1], 40) + "." + parts[2], license.CodeInvalidKey},
		"flipped signature":    {"SK1." + parts[1] + "." + flip(parts[2], 10), license.CodeInvalidKey},
		"non-canonical b64":    {"SK1." + parts[1] + "." + parts[2][:len(parts[2])-1] + nextB64(parts[2][len(parts[2])-1]), license.CodeInvalidKey},
		"re-signed, other key": {rawSign(k1, "SK1", "storekeep-license-key-v1", []byte(payload)), license.CodeInvalidKey},
		"unknown kid": {rawSign(k1, "SK1", "storekeep-license-key-v1",
			[]byte(strings.Replace(payload, kidOf(k0), kidOf(k1), 1))), license.CodeUnknownKeyID},
		"file domain": {rawSign(k0, "SK1", "storekeep-license-file-v1", []byte(payload)), license.CodeInvalidKey},
		"no domain":   {"SK1." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(ed25519.Sign(k0, []byte(payload))), license.CodeInvalidKey},
		"version 2":   {withPayload(strings.Replace(payload, `"v":1`, `"v":2`, 1)), license.CodeInvalidKey},
		"version 1.0": {withPayload(strings.Replace(payload, `"v":1`, `"v":1.0`, 1)), license.CodeInvalidKey},
		"no version":  {withPayload(strings.Replace(payload, `"v":1,`, ``, 1)), license.CodeInvalidKey},
		"no max":      {withPayload(strings.Replace(payload, `,"max":3`, ``, 1)), license.CodeInvalidKey},
		"twice":       {withPayload(strings.Replace(payload, `"max":3`, `"max":3,"max":0`, 1)), license.CodeInvalidKey},
		"negative":    {withPayload(strings.Replace(payload, `"max":3`, `"max":-3`, 1)), license.CodeInvalidKey},
		"exponent":    {withPayload(strings.Replace(payload, `"max":3`, `"max":3e0`, 1)), license.CodeInvalidKey},
		"huge number": {withPayload(strings.Replace(payload, `"max":3`, `"max":99999999999999999999`, 1)), license.CodeInvalidKey},
		"string max":  {withPayload(strings.Replace(payload, `"max":3`, `"max":"3"`, 1)), license.CodeInvalidKey},
		"ent string":  {withPayload(strings.Replace(payload, `["dkim","malware-scan"]`, `"dkim"`, 1)), license.CodeInvalidKey},
		"ent numbers": {withPayload(strings.Replace(payload, `["dkim","malware-scan"]`, `[1]`, 1)), license.CodeInvalidKey},
		"array":       {withPayload(`[` + payload + `]`), license.CodeInvalidKey},
		"not json":    {withPayload(payload[:len(payload)-1]), license.CodeInvalidKey},
		"trailing":    {withPayload(payload + `{}`), license.CodeInvalidKey},
		"bad utf-8":   {withPayload(strings.Replace(payload, "pro", "pr\xff", 1)), license.CodeInvalidKey},
		"too long":    {"SK1." + strings.Repeat("A", 4100) + "." + parts[2], license.CodeInvalidKey},
		"huge":        {strings.Repeat("A", 10<<20), license.CodeInvalidKey},
	}
	for name, c := range cases {
		l, err := v.VerifyKey(c.key)
		if codeOf(err) != c.code {
			t.Errorf("%s: got %v (%v), want %s", name, codeOf(err), err, c.code)
		}
		if err != nil && l.ID != "" {
			t.Errorf("%s: a refused key returned a license", name)
		}
		var e *license.Error
		if err != nil && (!errorsAs(err, &e) || e.Message == "") {
			t.Errorf("%s: error without a message", name)
		}
	}
}

func nextB64(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[(strings.IndexByte(alphabet, c)+1)%64])
}

// TestVerifyKeyTolerant: members in any order, unknown members (also ones that differ from a
// known one only by case, which a case-insensitive decoder would mistake), escapes in names.
func TestVerifyKeyTolerant(t *testing.T) {
	k0 := licensetest.TestKey(0)
	v := licensetest.NewIssuer().Verifier()
	kid := kidOf(k0)
	for name, p := range map[string]string{
		"reordered": `{"max":0,"upd":0,"exp":0,"iat":1796112000,"ent":[],"ed":"std","prd":"p","lic":"lic_X","kid":"` + kid + `","v":1}`,
		"unknown":   `{"v":1,"kid":"` + kid + `","lic":"lic_X","prd":"p","ed":"std","ent":[],"iat":1796112000,"exp":0,"upd":0,"max":0,"new":{"a":[1,2,{"b":"}"}]},"x":null,"y":true,"z":-1.5e3,"s":"\"\\"}`,
		"case":      `{"v":1,"kid":"` + kid + `","lic":"lic_X","prd":"p","ed":"std","ent":[],"iat":1796112000,"exp":0,"upd":0,"max":0,"MAX":7,"Exp":5}`,
		"escapes":   `{"v":1,"kid":"` + kid + `","lic":"lic_X","prd":"p","\u0065d":"std","ent":["a\u00e9"],"iat":1796112000,"exp":0,"upd":0,"max":0}`,
		"null ent":  `{"v":1,"kid":"` + kid + `","lic":"lic_X","prd":"p","ed":"std","ent":null,"iat":1796112000,"exp":0,"upd":0,"max":0}`,
		"spaces":    " {\n \"v\" : 1 ,\"kid\":\"" + kid + `","lic":"lic_X","prd":"p","ed":"std","ent":[ ],"iat":1796112000,"exp":0,"upd":0,"max":0 } `,
	} {
		l, err := v.VerifyKey(rawSign(k0, "SK1", "storekeep-license-key-v1", []byte(p)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if l.ID != "lic_X" || l.Edition != "std" || l.MaxMachines != 0 || !l.Perpetual() || !l.CoversRelease(t0.AddDate(50, 0, 0)) {
			t.Errorf("%s: %+v", name, l)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	old := licensetest.NewIssuerWith(licensetest.TestKey(0))
	oldKey := old.Key(baseSpec)
	cur := licensetest.NewIssuerWith(licensetest.TestKey(1), licensetest.TestKey(0))
	v := cur.Verifier()
	for _, k := range []string{oldKey, cur.Key(baseSpec)} {
		if _, err := v.VerifyKey(k); err != nil {
			t.Fatal(err)
		}
	}
	// A verifier that only knows the new key refuses the old one by kid.
	if _, err := licensetest.NewIssuerWith(licensetest.TestKey(1)).Verifier().VerifyKey(oldKey); codeOf(err) != license.CodeUnknownKeyID {
		t.Fatal(err)
	}
}

func fileSpec(iss *licensetest.Issuer) licensetest.FileSpec {
	return licensetest.FileSpec{
		Key:         iss.Key(baseSpec),
		License:     baseSpec,
		IssuedAt:    t0,
		ExpiresAt:   t0.AddDate(0, 1, 0),
		GraceUntil:  baseSpec.ExpiresAt.AddDate(0, 0, 14),
		Fingerprint: "machine-a",
	}
}

// TestFileVector checks the file format by hand: armour lines, 64-character lines, the
// members, and the signature with crypto/ed25519 directly.
func TestFileVector(t *testing.T) {
	iss := licensetest.NewIssuer()
	f := fileSpec(iss)
	file := iss.File(f)
	lines := strings.Split(strings.TrimSuffix(string(file), "\n"), "\n")
	if lines[0] != "-----BEGIN STOREKEEP LICENSE FILE-----" || lines[len(lines)-1] != "-----END STOREKEEP LICENSE FILE-----" {
		t.Fatalf("armour:\n%s", file)
	}
	tok := ""
	for i, l := range lines[1 : len(lines)-1] {
		if len(l) > 64 || i < len(lines)-3 && len(l) != 64 {
			t.Fatalf("line %d has %d characters", i, len(l))
		}
		tok += l
	}
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	pub := licensetest.TestKey(0).Public().(ed25519.PublicKey)
	if parts[0] != "SKF1" || !ed25519.Verify(pub, append([]byte("storekeep-license-file-v1\x00"), payload...), sig) {
		t.Fatal("file signature is not over the file domain")
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("machine-a"))
	if m["typ"] != "file" || m["key"] != f.Key || m["st"] != "active" || m["fp"] != hex.EncodeToString(sum[:]) ||
		m["fiat"] != float64(t0.Unix()) || m["fexp"] != float64(t0.AddDate(0, 1, 0).Unix()) || m["grace"] != float64(f.GraceUntil.Unix()) {
		t.Fatalf("%s", payload)
	}
	l, err := iss.Verifier().VerifyFile(file, "machine-a", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if l.Code != license.CodeValid || l.State != license.StateActive || l.ID != baseSpec.ID || l.Key != f.Key ||
		!l.FileExpiresAt.Equal(f.ExpiresAt) || !l.GraceUntil.Equal(f.GraceUntil) || l.FingerprintSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("%+v", l)
	}
}

func TestVerifyFile(t *testing.T) {
	iss := licensetest.NewIssuer()
	v := iss.Verifier()
	k0 := licensetest.TestKey(0)
	base := fileSpec(iss)
	now := t0.Add(time.Hour)
	type tc struct {
		file []byte
		fp   string
		now  time.Time
		code license.Code // "" = accepted with VALID
	}
	mod := func(f func(*licensetest.FileSpec)) []byte {
		s := base
		f(&s)
		return iss.File(s)
	}
	good := iss.File(base)
	payload := string(iss.FilePayload(base))
	cases := map[string]tc{
		"good":                {good, "machine-a", now, ""},
		"crlf and junk":       {[]byte("Here is your file:\r\n\r\n" + strings.ReplaceAll(string(good), "\n", " \r\n\r\n") + "-- \r\nthe shop\r\n"), "machine-a", now, ""},
		"indented":            {[]byte(strings.ReplaceAll(string(good), "\n", "\n\t  ")), "machine-a", now, ""},
		"one line":            {[]byte("-----BEGIN STOREKEEP LICENSE FILE-----\n" + strings.Join(strings.Split(string(good), "\n")[1:len(strings.Split(string(good), "\n"))-2], "") + "\n-----END STOREKEEP LICENSE FILE-----"), "machine-a", now, ""},
		"any machine":         {mod(func(s *licensetest.FileSpec) { s.Fingerprint = "" }), "whatever", now, ""},
		"other machine":       {good, "machine-b", now, license.CodeFingerprintScopeMismatch},
		"no fingerprint":      {good, "", now, license.CodeFingerprintScopeMismatch},
		"file expired":        {good, "machine-a", base.ExpiresAt.Add(time.Second), license.CodeFileExpired},
		"file's last second":  {good, "machine-a", base.ExpiresAt, ""},
		"issued 23h ahead":    {good, "machine-a", t0.Add(-23 * time.Hour), ""},
		"issued 25h ahead":    {good, "machine-a", t0.Add(-25 * time.Hour), license.CodeClockSkew},
		"suspended":           {mod(func(s *licensetest.FileSpec) { s.State = license.StateSuspended }), "machine-a", now, license.CodeSuspended},
		"revoked":             {mod(func(s *licensetest.FileSpec) { s.State = license.StateRevoked }), "machine-a", now, license.CodeRevoked},
		"expired state":       {mod(func(s *licensetest.FileSpec) { s.State = license.StateExpired }), "machine-a", now, license.CodeExpired},
		"in grace state":      {mod(func(s *licensetest.FileSpec) { s.State = license.StateInGrace }), "machine-a", now, license.CodeInGrace},
		"unknown state":       {mod(func(s *licensetest.FileSpec) { s.State = "frozen" }), "machine-a", now, license.CodeInvalidKey},
		"no end":              {[]byte(strings.Replace(string(good), "-----END STOREKEEP LICENSE FILE-----", "", 1)), "machine-a", now, license.CodeInvalidKey},
		"no begin":            {[]byte(strings.Replace(string(good), "-----BEGIN STOREKEEP LICENSE FILE-----", "", 1)), "machine-a", now, license.CodeInvalidKey},
		"empty":               {nil, "machine-a", now, license.CodeInvalidKey},
		"tampered":            {[]byte(strings.Replace(string(good), "\n", "\nA", 2)), "machine-a", now, license.CodeInvalidKey},
		"key as file":         {[]byte("-----BEGIN STOREKEEP LICENSE FILE-----\n" + base.Key + "\n-----END STOREKEEP LICENSE FILE-----\n"), "machine-a", now, license.CodeInvalidKey},
		"key domain":          {[]byte("-----BEGIN STOREKEEP LICENSE FILE-----\n" + rawSign(k0, "SKF1", "storekeep-license-key-v1", []byte(payload)) + "\n-----END STOREKEEP LICENSE FILE-----\n"), "machine-a", now, license.CodeInvalidKey},
		"typ key":             {iss.SignFilePayload([]byte(strings.Replace(payload, `"typ":"file"`, `"typ":"key"`, 1))), "machine-a", now, license.CodeInvalidKey},
		"no fp member":        {iss.SignFilePayload([]byte(strings.Replace(payload, `,"fp":"`+license.FingerprintHash("machine-a")+`"`, "", 1))), "machine-a", now, license.CodeInvalidKey},
		"fexp zero":           {mod(func(s *licensetest.FileSpec) { s.ExpiresAt = time.Time{} }), "machine-a", now, license.CodeInvalidKey},
		"inner key bad":       {mod(func(s *licensetest.FileSpec) { s.Key = s.Key[:len(s.Key)-3] }), "machine-a", now, license.CodeInvalidKey},
		"inner key other lic": {mod(func(s *licensetest.FileSpec) { o := baseSpec; o.ID = "lic_OTHER"; s.Key = iss.Key(o) }), "machine-a", now, license.CodeInvalidKey},
		"too large":           {append(good, make([]byte, 16<<10)...), "machine-a", now, license.CodeInvalidKey},
		"unknown members":     {mod(func(s *licensetest.FileSpec) { s.Extra = map[string]any{"seats": []int{1}, "ST": "revoked"} }), "machine-a", now, ""},
		"two armours":         {append(append([]byte{}, good...), mod(func(s *licensetest.FileSpec) { s.State = license.StateRevoked })...), "machine-a", now, ""},
	}
	for name, c := range cases {
		l, err := v.VerifyFile(c.file, c.fp, c.now)
		want := c.code
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case want == "" && l.Code != license.CodeValid:
			t.Errorf("%s: code %s", name, l.Code)
		case want == license.CodeInGrace && (err != nil || l.Code != license.CodeInGrace):
			t.Errorf("%s: %v %s", name, err, l.Code)
		case want != "" && want != license.CodeInGrace && codeOf(err) != want:
			t.Errorf("%s: got %v, want %s", name, err, want)
		}
	}
}

// TestFileLicenseExpiry: an active license past its expiry is IN_GRACE until the grace end,
// then EXPIRED; without grace it is EXPIRED at once; a perpetual one never expires.
func TestFileLicenseExpiry(t *testing.T) {
	iss := licensetest.NewIssuer()
	v := iss.Verifier()
	exp := baseSpec.ExpiresAt
	grace := exp.AddDate(0, 0, 14)
	mk := func(spec licensetest.Spec, grace time.Time) []byte {
		return iss.File(licensetest.FileSpec{Key: iss.Key(spec), License: spec, IssuedAt: exp.AddDate(0, -1, 0), ExpiresAt: exp.AddDate(0, 2, 0), GraceUntil: grace})
	}
	withGrace := mk(baseSpec, grace)
	for _, c := range []struct {
		file []byte
		now  time.Time
		code license.Code
	}{
		{withGrace, exp, license.CodeValid},
		{withGrace, exp.Add(time.Second), license.CodeInGrace},
		{withGrace, grace, license.CodeInGrace},
		{withGrace, grace.Add(time.Second), license.CodeExpired},
		{mk(baseSpec, time.Time{}), exp.Add(time.Second), license.CodeExpired},
	} {
		l, err := v.VerifyFile(c.file, "", c.now)
		if l.Code != c.code || (err != nil) != (c.code == license.CodeExpired) || err != nil && codeOf(err) != c.code {
			t.Errorf("at %s: %s %v, want %s", c.now, l.Code, err, c.code)
		}
	}
	perp := baseSpec
	perp.ExpiresAt = time.Time{}
	if l, err := v.VerifyFile(mk(perp, time.Time{}), "", exp.AddDate(0, 1, 0)); err != nil || l.Code != license.CodeValid || !l.Perpetual() {
		t.Fatal(l, err)
	}
}

func TestFileKeyRotation(t *testing.T) {
	old := licensetest.NewIssuerWith(licensetest.TestKey(0))
	cur := licensetest.NewIssuerWith(licensetest.TestKey(1), licensetest.TestKey(0))
	f := licensetest.FileSpec{Key: old.Key(baseSpec), License: baseSpec, IssuedAt: t0, ExpiresAt: t0.AddDate(0, 1, 0)}
	l, err := cur.Verifier().VerifyFile(cur.File(f), "", t0)
	if err != nil || l.KeyID != old.KeyID() || l.FileKeyID != cur.KeyID() {
		t.Fatal(l, err)
	}
}

func TestErrorType(t *testing.T) {
	_, err := licensetest.NewIssuer().Verifier().VerifyKey("nope")
	var e *license.Error
	if !errorsAs(err, &e) || e.Code != license.CodeInvalidKey || !strings.HasPrefix(err.Error(), "INVALID_KEY: ") {
		t.Fatal(err)
	}
	if !errorsIs(err, &license.Error{Code: license.CodeInvalidKey}) || errorsIs(err, &license.Error{Code: license.CodeExpired}) {
		t.Fatal("errors.Is by code")
	}
}
