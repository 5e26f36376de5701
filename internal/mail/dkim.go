package mail

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM signing of outgoing mail (RFC 6376, Ed25519 per RFC 8463), with
// github.com/emersion/go-msgauth. docs/mail-deliverability.md says how to
// make a key, publish it and rotate it.

// MinRSABits is the smallest RSA key accepted for signing. RFC 8301 makes
// receivers accept 1024 bits, but that size is considered breakable and
// large mailbox providers treat it as weak; 2048 is what they ask for.
const MinRSABits = 2048

// dkimSignedHeaders are the header fields a signature covers whenever the
// message has them: the ones RFC 6376 §5.4.1 recommends, the MIME
// headers, and the unsubscribe headers, which RFC 8058 §4 requires to be
// signed so that no one on the way can point them elsewhere.
var dkimSignedHeaders = []string{
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
	"In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Precedence", "Auto-Submitted",
	// Gmail's feedback loop wants Feedback-ID signed by the sender.
	"Feedback-ID",
}

// dkimOversigned are named once more in h= than the message has them
// (RFC 6376 §5.4.2): a copy of one of them added on the way, such as a
// second List-Unsubscribe put above ours, breaks the signature instead of
// being shown to the reader.
var dkimOversigned = map[string]bool{
	"from": true, "reply-to": true, "subject": true, "date": true, "to": true, "cc": true, "message-id": true,
	"mime-version": true, "content-type": true, "content-transfer-encoding": true,
	"list-unsubscribe": true, "list-unsubscribe-post": true,
}

// DKIMSigner signs messages for one domain with one key. Its methods are
// safe for concurrent use.
type DKIMSigner struct {
	domain, selector string
	key              crypto.Signer
}

// NewDKIMSigner checks its arguments and returns a signer. key must be an
// Ed25519 key or an RSA key of at least MinRSABits.
func NewDKIMSigner(domain, selector string, key crypto.Signer) (*DKIMSigner, error) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	if !validDNSName(domain) || !strings.Contains(domain, ".") {
		return nil, fmt.Errorf("DKIM domain %q is not a domain name: give the domain of the sender address, e.g. example.com", domain)
	}
	if !validDNSName(selector) {
		return nil, fmt.Errorf("DKIM selector %q is not usable: use letters, digits and hyphens, e.g. sk2026", selector)
	}
	if err := checkDKIMKey(key); err != nil {
		return nil, err
	}
	return &DKIMSigner{domain: domain, selector: strings.ToLower(selector), key: key}, nil
}

// Domain is the signing domain (d=).
func (s *DKIMSigner) Domain() string { return s.domain }

// Selector is the selector (s=).
func (s *DKIMSigner) Selector() string { return s.selector }

// KeyType is "ed25519" or "rsa".
func (s *DKIMSigner) KeyType() string { return dkimKeyType(s.key.Public()) }

// Sign returns the DKIM-Signature header field for msg (CRLF line ends,
// headers and body), ending in CRLF: prepend it to the message.
// Canonicalisation is relaxed/relaxed, so re-folded headers and changed
// trailing whitespace on the way do not break the signature.
func (s *DKIMSigner) Sign(msg []byte) (string, error) {
	opts := &dkim.SignOptions{
		Domain:                 s.domain,
		Selector:               s.selector,
		Signer:                 s.key,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             dkimHeaderKeys(msg),
	}
	signer, err := dkim.NewSigner(opts)
	if err != nil {
		return "", fmt.Errorf("mail: DKIM: %w", err)
	}
	if _, err := signer.Write(msg); err != nil {
		_ = signer.Close()
		return "", fmt.Errorf("mail: DKIM: %w", err)
	}
	if err := signer.Close(); err != nil {
		return "", fmt.Errorf("mail: DKIM: %w", err)
	}
	return signer.Signature(), nil
}

// dkimHeaderKeys lists the fields of dkimSignedHeaders msg has, each as
// often as it occurs, plus once more for the oversigned ones.
func dkimHeaderKeys(msg []byte) []string {
	head := msg
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		head = msg[:i+2]
	}
	count := map[string]int{}
	for line := range bytes.SplitSeq(head, []byte("\r\n")) {
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if i := bytes.IndexByte(line, ':'); i > 0 {
			count[strings.ToLower(strings.TrimSpace(string(line[:i])))]++
		}
	}
	var keys []string
	for _, k := range dkimSignedHeaders {
		n := count[strings.ToLower(k)]
		if dkimOversigned[strings.ToLower(k)] {
			n++
		}
		for range n {
			keys = append(keys, k)
		}
	}
	return keys
}

// LoadDKIMKey reads a PEM file holding a PKCS#8 private key ("BEGIN
// PRIVATE KEY"), Ed25519 or RSA of at least MinRSABits, as `storekeep
// mail dkim-keygen` writes it. Its errors name the file and say what to
// do, never the key.
func LoadDKIMKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("DKIM key %s does not exist: create one with `storekeep mail dkim-keygen --domain DOMAIN --selector SELECTOR --out %s`, or leave --dkim-domain, --dkim-selector and --dkim-key empty to send unsigned mail", path, path)
	} else if err != nil {
		return nil, fmt.Errorf("DKIM key %s cannot be read (%v): make it readable by the user Storekeep runs as, with mode 0600", path, errors.Unwrap(err))
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("DKIM key %s is not a PEM file: give the file `storekeep mail dkim-keygen` wrote (\"BEGIN PRIVATE KEY\")", path)
	}
	if block.Type != "PRIVATE KEY" {
		hint := ""
		if block.Type == "RSA PRIVATE KEY" {
			hint = "; convert it with `openssl pkcs8 -topk8 -nocrypt -in OLD -out NEW`"
		}
		return nil, fmt.Errorf("DKIM key %s holds a %q block, not a PKCS#8 private key (\"BEGIN PRIVATE KEY\")%s", path, block.Type, hint)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("DKIM key %s is not a valid PKCS#8 private key: create a new one with `storekeep mail dkim-keygen`", path)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("DKIM key %s holds a %T key: DKIM signs with Ed25519 or RSA; create one with `storekeep mail dkim-keygen`", path, k)
	}
	if err := checkDKIMKey(signer); err != nil {
		return nil, fmt.Errorf("DKIM key %s: %w", path, err)
	}
	return signer, nil
}

// checkDKIMKey accepts Ed25519 keys and RSA keys of MinRSABits or more.
func checkDKIMKey(key crypto.Signer) error {
	if key == nil {
		return errors.New("no DKIM key given")
	}
	switch pub := key.Public().(type) {
	case ed25519.PublicKey:
		return nil
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < MinRSABits {
			return fmt.Errorf("the RSA key has %d bits, fewer than the %d receivers ask for: create a new key with `storekeep mail dkim-keygen --type rsa` (or --type ed25519) and publish its record under a new selector", bits, MinRSABits)
		}
		return nil
	default:
		return fmt.Errorf("a %T key cannot sign DKIM: use Ed25519 or RSA (`storekeep mail dkim-keygen`)", pub)
	}
}

func dkimKeyType(pub crypto.PublicKey) string {
	switch pub.(type) {
	case ed25519.PublicKey:
		return "ed25519"
	case *rsa.PublicKey:
		return "rsa"
	}
	return fmt.Sprintf("%T", pub)
}

// GenerateDKIMKey makes a new signing key: keyType is "ed25519" or "rsa"
// (2048 bits). It returns the key and its PKCS#8 PEM encoding.
func GenerateDKIMKey(keyType string) (crypto.Signer, []byte, error) {
	var key crypto.Signer
	switch keyType {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		key = k
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, MinRSABits)
		if err != nil {
			return nil, nil, err
		}
		key = k
	default:
		return nil, nil, fmt.Errorf("key type %q is not ed25519 or rsa", keyType)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// DKIMRecord is the TXT record that publishes pub: its value, such as
// "v=DKIM1; k=ed25519; p=...". RSA keys are published as
// SubjectPublicKeyInfo, as RFC 6376 §3.6.1 has it.
func DKIMRecord(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k), nil
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	}
	return "", fmt.Errorf("a %T key cannot sign DKIM", pub)
}

// DKIMZoneLine is the record for a zone file:
//
//	SELECTOR._domainkey.DOMAIN. IN TXT "v=DKIM1; k=ed25519; p=..."
//
// A value longer than 255 bytes (an RSA key) is split into several quoted
// strings of at most 255 bytes, which DNS joins back into one value (RFC
// 7208 §3.3 and RFC 6376 §3.6.2.2 rely on this).
func DKIMZoneLine(selector, domain, record string) string {
	var parts []string
	for len(record) > 255 {
		parts = append(parts, `"`+record[:255]+`"`)
		record = record[255:]
	}
	parts = append(parts, `"`+record+`"`)
	return DKIMRecordName(selector, domain) + ". IN TXT " + strings.Join(parts, " ")
}

// DKIMRecordName is where the key of selector is published:
// SELECTOR._domainkey.DOMAIN.
func DKIMRecordName(selector, domain string) string {
	return strings.ToLower(selector) + "._domainkey." + strings.TrimSuffix(strings.ToLower(domain), ".")
}

// validDNSName accepts host names of letters, digits and hyphens, in
// labels of 1 to 63 characters.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
