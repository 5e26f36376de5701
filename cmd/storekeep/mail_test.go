package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// printedRecord finds the TXT record in dkim-keygen's output and returns
// its name and value as a resolver would (the quoted strings joined).
func printedRecord(t *testing.T, out string) (name, value string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^(\S+)\. IN TXT ((?:"[^"]*" ?)+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no TXT record in the output:\n%s", out)
	}
	for _, q := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(m[2], -1) {
		if len(q[1]) > 255 {
			t.Errorf("a string of %d bytes in the record: DNS allows 255", len(q[1]))
		}
		value += q[1]
	}
	return m[1], value
}

// TestMailDKIMKeygen: the key file is new, mode 0600 and loads; the
// printed record has the form to publish; an existing file is never
// overwritten; mistakes say what to do and write nothing.
func TestMailDKIMKeygen(t *testing.T) {
	ctx := context.Background()
	for _, keyType := range []string{"ed25519", "rsa"} {
		dir := t.TempDir()
		out := filepath.Join(dir, "dkim.pem")
		said, err := execute(t, ctx, "mail", "dkim-keygen", "--domain", "Shop.Example", "--selector", "sk2026", "--type", keyType, "--out", out)
		if err != nil {
			t.Fatalf("%s: %v\n%s", keyType, err, said)
		}
		name, value := printedRecord(t, said)
		if name != "sk2026._domainkey.shop.example" || !strings.HasPrefix(value, "v=DKIM1; k="+keyType+"; p=") {
			t.Errorf("%s: record %s %q", keyType, name, value)
		}
		if keyType == "rsa" && !strings.Contains(said, `" "`) {
			t.Errorf("an RSA record in one string:\n%s", said)
		}
		for _, want := range []string{"--dkim-domain shop.example --dkim-selector sk2026 --dkim-key " + out, "dig +short TXT sk2026._domainkey.shop.example", "mode 0600"} {
			if !strings.Contains(said, want) {
				t.Errorf("%s: output lacks %q:\n%s", keyType, want, said)
			}
		}
		info, err := os.Stat(out)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: key file %v, %v; want mode 0600", keyType, info, err)
		}
		key, err := mail.LoadDKIMKey(out)
		if err != nil {
			t.Fatal(err)
		}
		if rec, _ := mail.DKIMRecord(key.Public()); rec != value {
			t.Errorf("%s: printed record is not the key's", keyType)
		}
		before, _ := os.ReadFile(out)
		_, err = execute(t, ctx, "mail", "dkim-keygen", "--domain", "shop.example", "--selector", "sk2027", "--out", out)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "exists already") {
			t.Fatalf("overwrite: %v", err)
		}
		if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
			t.Fatal("the existing key was changed")
		}
	}

	dir := t.TempDir()
	bad := map[string]struct {
		args []string
		want string
	}{
		"no flags":       {nil, "missing --domain (e.g. --domain example.com), --selector"},
		"no out":         {[]string{"--domain", "shop.example", "--selector", "s1"}, "missing --out"},
		"bad type":       {[]string{"--domain", "shop.example", "--selector", "s1", "--type", "dsa", "--out", filepath.Join(dir, "a")}, "use ed25519 or rsa"},
		"bad domain":     {[]string{"--domain", "shop example", "--selector", "s1", "--out", filepath.Join(dir, "b")}, "not a domain name"},
		"bad selector":   {[]string{"--domain", "shop.example", "--selector", "s_1", "--out", filepath.Join(dir, "c")}, "letters, digits and hyphens"},
		"no such folder": {[]string{"--domain", "shop.example", "--selector", "s1", "--type", "ed25519", "--out", filepath.Join(dir, "none", "k.pem")}, "create it first"},
	}
	for name, c := range bad {
		_, err := execute(t, ctx, append([]string{"mail", "dkim-keygen"}, c.args...)...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a usage error saying %q", name, err, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused runs wrote %v", entries)
	}
}

// TestDKIMSignedThroughTheWorker: a key from dkim-keygen, configured as
// serve's flags are, signs a bulk message the outbox worker sends to a
// real SMTP relay, and the signature verifies against the record
// dkim-keygen printed, covering the unsubscribe headers.
func TestDKIMSignedThroughTheWorker(t *testing.T) {
	ctx := context.Background()
	for _, keyType := range []string{"ed25519", "rsa"} {
		t.Run(keyType, func(t *testing.T) {
			keyFile := filepath.Join(t.TempDir(), "dkim.pem")
			said, err := execute(t, ctx, "mail", "dkim-keygen", "--domain", "shop.example", "--selector", "sk1", "--type", keyType, "--out", keyFile)
			if err != nil {
				t.Fatal(err)
			}
			name, value := printedRecord(t, said)
			lookup := func(q string) ([]string, error) {
				if q != name {
					return nil, errors.New("NXDOMAIN " + q)
				}
				return []string{value}, nil
			}

			d := testutil.SQLite(t)
			sink := testutil.StartSMTP(t)
			m, err := mail.Compose("signin", "bob@example.com", mail.SignInData{SiteName: "Shop", Link: "https://shop.example/s", ExpiresMinutes: 15})
			if err != nil {
				t.Fatal(err)
			}
			m.Kind, m.UnsubscribeURL = mail.Bulk, "https://shop.example/unsubscribe/tok"
			if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := mail.Enqueue(ctx, tx, m, time.Now()); return err }); err != nil {
				t.Fatal(err)
			}
			cfg := &config.Config{SMTPHost: sink.Host(), SMTPPort: sink.Port(), SMTPFrom: "Shop <news@shop.example>",
				DKIMDomain: "shop.example", DKIMSelector: "sk1", DKIMKey: keyFile}
			var logs bytes.Buffer
			_, stop, err := startMailWorker(ctx, cfg, d, slog.New(slog.NewTextHandler(&logs, nil)), false)
			if err != nil {
				t.Fatal(err)
			}
			got := sink.WaitFor(1, 10*time.Second)
			stop()
			if !strings.Contains(logs.String(), "signing outgoing mail with DKIM") || strings.Contains(logs.String(), "not signed") {
				t.Errorf("log:\n%s", logs.String())
			}
			pemKey, _ := os.ReadFile(keyFile)
			if body := strings.Split(string(pemKey), "\n")[1]; strings.Contains(logs.String(), body) {
				t.Error("the key is in the log")
			}
			data := got[0].Data
			vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{LookupTXT: lookup})
			if err != nil || len(vs) != 1 || vs[0].Err != nil {
				t.Fatalf("verify: %v %+v\n%s", err, vs, data)
			}
			keys := strings.ToLower(strings.Join(vs[0].HeaderKeys, ":"))
			for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"} {
				if !strings.Contains(":"+keys+":", ":"+h+":") {
					t.Errorf("%s not signed: h=%s", h, keys)
				}
			}
			for name, b := range map[string][]byte{
				"unsubscribe address": bytes.Replace(data, []byte("/unsubscribe/tok"), []byte("/unsubscribe/xyz"), 1),
				"body":                append(bytes.Clone(data), "P.S. a line added on the way\r\n"...),
			} {
				if bytes.Equal(b, data) {
					t.Fatalf("%s: nothing changed", name)
				}
				vs, _ := dkim.VerifyWithOptions(bytes.NewReader(b), &dkim.VerifyOptions{LookupTXT: lookup})
				if len(vs) != 1 || vs[0].Err == nil {
					t.Errorf("tampered %s still verifies", name)
				}
			}
		})
	}
}

// TestDKIMConfigRefused: half a DKIM configuration, or a key that is
// missing, of the wrong kind or too short, stops the start with what to
// do; no key at all sends unsigned mail and says so.
func TestDKIMConfigRefused(t *testing.T) {
	ctx := context.Background()
	d := testutil.SQLite(t)
	dir := t.TempDir()

	for _, cfg := range []config.Config{
		{Addr: "127.0.0.1:0", SMTPPort: 587, DKIMKey: "k.pem"},
		{Addr: "127.0.0.1:0", SMTPPort: 587, DKIMDomain: "shop.example", DKIMSelector: "s1"},
	} {
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "go together") {
			t.Errorf("%+v: %v", cfg, err)
		}
	}

	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(short)
	shortFile := filepath.Join(dir, "short.pem")
	pkcs1File := filepath.Join(dir, "pkcs1.pem")
	_ = os.WriteFile(shortFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	_ = os.WriteFile(pkcs1File, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(short)}), 0o600)
	good := filepath.Join(dir, "good.pem")
	if _, err := execute(t, ctx, "mail", "dkim-keygen", "--domain", "shop.example", "--selector", "s1", "--type", "ed25519", "--out", good); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		filepath.Join(dir, "none.pem"): "storekeep mail dkim-keygen",
		shortFile:                      "1024 bits",
		pkcs1File:                      "openssl pkcs8",
	} {
		for _, demo := range []bool{false, true} {
			cfg := &config.Config{SMTPHost: "127.0.0.1", SMTPPort: 25, DKIMDomain: "shop.example", DKIMSelector: "s1", DKIMKey: key}
			_, _, err := startMailWorker(ctx, cfg, d, slog.New(slog.DiscardHandler), demo)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s (demo %v): %v, want %q", key, demo, err, want)
			}
		}
	}
	cfg := &config.Config{SMTPHost: "127.0.0.1", SMTPPort: 25, DKIMDomain: "shop example", DKIMSelector: "s1", DKIMKey: good}
	if _, _, err := startMailWorker(ctx, cfg, d, slog.New(slog.DiscardHandler), false); err == nil || !strings.Contains(err.Error(), "--dkim-domain") {
		t.Errorf("bad domain: %v", err)
	}

	// No key: unsigned, said once at start-up; a key for another domain
	// than the sender's is a warning.
	var logs bytes.Buffer
	_, stop, err := startMailWorker(ctx, &config.Config{SMTPHost: "127.0.0.1", SMTPPort: 25}, d, slog.New(slog.NewTextHandler(&logs, nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if !strings.Contains(logs.String(), "outgoing mail is not signed") {
		t.Errorf("log:\n%s", logs.String())
	}
	logs.Reset()
	cfg = &config.Config{SMTPHost: "127.0.0.1", SMTPPort: 25, SMTPFrom: "shop@other.example", DKIMDomain: "shop.example", DKIMSelector: "s1", DKIMKey: good}
	_, stop, err = startMailWorker(ctx, cfg, d, slog.New(slog.NewTextHandler(&logs, nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if !strings.Contains(logs.String(), "DMARC") {
		t.Errorf("no alignment warning:\n%s", logs.String())
	}
}
