package mail_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// zoneTXT reads a zone-file line `NAME. IN TXT "a" "b"` back into its name
// and value (the strings joined, as a resolver returns them).
func zoneTXT(t *testing.T, line string) (name, value string) {
	t.Helper()
	m := regexp.MustCompile(`^(\S+)\.\s+IN\s+TXT\s+((?:"[^"]*"\s*)+)$`).FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		t.Fatalf("not a TXT record line: %q", line)
	}
	for _, q := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(m[2], -1) {
		if len(q[1]) > 255 {
			t.Errorf("a TXT string of %d bytes: DNS allows 255", len(q[1]))
		}
		value += q[1]
	}
	return m[1], value
}

// lookupFor answers DKIM key queries for name only, like DNS would.
func lookupFor(name, value string) func(string) ([]string, error) {
	return func(q string) ([]string, error) {
		if q != name {
			return nil, fmt.Errorf("no such record %s", q)
		}
		return []string{value}, nil
	}
}

// dkimSender makes a DKIM-signing sender to sink with a new key of
// keyType, and returns the lookup a receiver would use.
func dkimSender(t *testing.T, sink *testutil.SMTPSink, keyType string) (*mail.SMTPSender, func(string) ([]string, error)) {
	t.Helper()
	key, _, err := mail.GenerateDKIMKey(keyType)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mail.NewDKIMSigner("milterworks.example", "sk1", key)
	if err != nil {
		t.Fatal(err)
	}
	record, err := mail.DKIMRecord(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	name, value := zoneTXT(t, mail.DKIMZoneLine("sk1", "milterworks.example", record))
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone,
		Clock: clock.NewFixed(start), Timeout: 5 * time.Second, DKIM: signer})
	if err != nil {
		t.Fatal(err)
	}
	return s, lookupFor(name, value)
}

func bulkOutgoing() mail.Outgoing {
	m := outgoing()
	m.Kind, m.UnsubscribeURL = mail.Bulk, "https://shop.milterworks.example/unsubscribe/tok123"
	m.Attachments = []mail.Attachment{{Filename: "notes.txt", ContentType: "text/plain", Data: []byte("release notes\n")}}
	return m
}

func verify(t *testing.T, data []byte, lookup func(string) ([]string, error)) []*dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return vs
}

// TestDKIMSignedBulkMailVerifies sends a bulk message with one-click
// unsubscribe headers through a real SMTP relay and verifies what the
// relay received as a receiver would, with the published record; any
// change to the unsubscribe headers or the body breaks the signature.
func TestDKIMSignedBulkMailVerifies(t *testing.T) {
	for _, keyType := range []string{"ed25519", "rsa"} {
		t.Run(keyType, func(t *testing.T) {
			sink := testutil.StartSMTP(t)
			s, lookup := dkimSender(t, sink, keyType)
			if err := s.Send(context.Background(), bulkOutgoing()); err != nil {
				t.Fatal(err)
			}
			got := sink.WaitFor(1, 5*time.Second)
			data := got[0].Data
			if got[0].Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || len(got[0].Attachments) != 1 {
				t.Fatalf("not the bulk message with its attachment: %v", got[0].Header)
			}

			vs := verify(t, data, lookup)
			if len(vs) != 1 || vs[0].Err != nil {
				t.Fatalf("verifications %+v", vs)
			}
			if vs[0].Domain != "milterworks.example" {
				t.Errorf("d=%s", vs[0].Domain)
			}
			signed := map[string]bool{}
			for _, k := range vs[0].HeaderKeys {
				signed[strings.ToLower(k)] = true
			}
			for _, k := range []string{"from", "to", "subject", "date", "message-id", "mime-version", "content-type",
				"list-unsubscribe", "list-unsubscribe-post"} {
				if !signed[k] {
					t.Errorf("%s is not signed (h=%v)", k, vs[0].HeaderKeys)
				}
			}
			sig := got[0].Header.Get("DKIM-Signature")
			if !strings.Contains(sig, "c=relaxed/relaxed") || !strings.Contains(sig, "a="+keyType+"-sha256") {
				t.Errorf("signature %q", sig)
			}

			tampered := map[string][]byte{
				"unsubscribe header changed": bytes.Replace(data, []byte("tok123"), []byte("evil99"), 1),
				"one-click removed":          bytes.Replace(data, []byte("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), nil, 1),
				"second unsubscribe added":   append([]byte("List-Unsubscribe: <https://evil.example/u>\r\n"), data...),
				"body changed":               bytes.Replace(data, []byte("Hello Bob"), []byte("Hello Eve"), 1),
				"subject added":              append([]byte("Subject: Urgent\r\n"), data...),
			}
			for name, b := range tampered {
				if bytes.Equal(b, data) {
					t.Fatalf("%s: nothing was changed", name)
				}
				vs := verify(t, b, lookup)
				if len(vs) != 1 || vs[0].Err == nil {
					t.Errorf("%s: the signature still verifies", name)
				}
			}
			// Only the published key verifies: another selector's
			// record does not.
			other, _, _ := mail.GenerateDKIMKey(keyType)
			rec, _ := mail.DKIMRecord(other.Public())
			if vs := verify(t, data, lookupFor("sk1._domainkey.milterworks.example", rec)); vs[0].Err == nil {
				t.Error("verified with another key")
			}
		})
	}
}

// TestUnsignedWithoutKey: without a key the message carries no
// signature and is built as before.
func TestUnsignedWithoutKey(t *testing.T) {
	sink := testutil.StartSMTP(t)
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, Clock: clock.NewFixed(start)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), bulkOutgoing()); err != nil {
		t.Fatal(err)
	}
	got := sink.WaitFor(1, 5*time.Second)[0]
	if bytes.Contains(got.Data, []byte("DKIM-Signature")) {
		t.Fatal("signed without a key")
	}
	if got.Header.Get("List-Unsubscribe") != "<https://shop.milterworks.example/unsubscribe/tok123>" || got.Text != "Hello Bob" {
		t.Fatalf("received %v %q", got.Header, got.Text)
	}
}

// TestDKIMZoneLine: RSA values are split into strings of 255 bytes that
// join back into the record.
func TestDKIMZoneLine(t *testing.T) {
	key, _, err := mail.GenerateDKIMKey("rsa")
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := mail.DKIMRecord(key.Public())
	line := mail.DKIMZoneLine("Sel", "Example.com.", rec)
	if !strings.HasPrefix(line, `sel._domainkey.example.com. IN TXT "v=DKIM1; k=rsa; p=`) || strings.Count(line, `"`) < 4 {
		t.Fatalf("line %q", line)
	}
	if _, v := zoneTXT(t, line); v != rec {
		t.Fatalf("joined %q, want %q", v, rec)
	}
}

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadDKIMKeyRefuses: a missing, garbled, PKCS#1, short RSA or ECDSA
// key is refused with a message that says what to do.
func TestLoadDKIMKeyRefuses(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	short, _ := x509.MarshalPKCS8PrivateKey(rsa1024)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	garbled := filepath.Join(t.TempDir(), "garbled")
	if err := os.WriteFile(garbled, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ path, want string }{
		"missing":     {filepath.Join(t.TempDir(), "none.pem"), "dkim-keygen"},
		"not PEM":     {garbled, "not a PEM file"},
		"PKCS#1":      {writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa1024)), "openssl pkcs8 -topk8"},
		"RSA 1024":    {writePEM(t, "PRIVATE KEY", short), "1024 bits"},
		"ECDSA":       {writePEM(t, "PRIVATE KEY", ecDER), "Ed25519 or RSA"},
		"bad PKCS#8":  {writePEM(t, "PRIVATE KEY", []byte("junk")), "not a valid PKCS#8"},
		"certificate": {writePEM(t, "CERTIFICATE", []byte("junk")), "not a PKCS#8"},
	}
	for name, c := range cases {
		_, err := mail.LoadDKIMKey(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: %v, want an error naming the file and %q", name, err, c.want)
		}
	}
	for _, keyType := range []string{"ed25519", "rsa"} {
		_, pemBytes, err := mail.GenerateDKIMKey(keyType)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "ok.pem")
		if err := os.WriteFile(p, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		if k, err := mail.LoadDKIMKey(p); err != nil || k == nil {
			t.Errorf("%s: %v", keyType, err)
		}
	}
	if _, err := mail.NewDKIMSigner("milterworks.example", "sk1", rsa1024); err == nil || !strings.Contains(err.Error(), "2048") {
		t.Errorf("1024-bit signer: %v", err)
	}
	key, _, _ := mail.GenerateDKIMKey("ed25519")
	for _, bad := range [][2]string{{"localhost", "sk1"}, {"exa mple.com", "sk1"}, {"example.com", "sk 1"}, {"example.com", ""}, {"example.com", "a;b"}} {
		if _, err := mail.NewDKIMSigner(bad[0], bad[1], key); err == nil {
			t.Errorf("domain %q selector %q accepted", bad[0], bad[1])
		}
	}
	if os.Geteuid() != 0 { // root reads any file
		p := writePEM(t, "PRIVATE KEY", short)
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := mail.LoadDKIMKey(p); err == nil || !strings.Contains(err.Error(), "cannot be read") {
			t.Errorf("unreadable: %v", err)
		}
	}
}

// BenchmarkDKIMSign: the cost signing adds to each message (a bulk
// message with text and HTML parts), for docs/benchmarks.md's notice run.
func BenchmarkDKIMSign(b *testing.B) {
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "localhost", TLS: mail.TLSNone, Clock: clock.NewFixed(start)})
	if err != nil {
		b.Fatal(err)
	}
	m := bulkOutgoing()
	m.Attachments = nil
	raw, err := s.Build(m)
	if err != nil {
		b.Fatal(err)
	}
	for _, keyType := range []string{"ed25519", "rsa"} {
		key, _, err := mail.GenerateDKIMKey(keyType)
		if err != nil {
			b.Fatal(err)
		}
		signer, err := mail.NewDKIMSigner("milterworks.example", "sk1", key)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(keyType, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := signer.Sign([]byte(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
