package httpsig

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestDocExample checks the signature base example of docs/license-format.md against Base.
func TestDocExample(t *testing.T) {
	b, err := os.ReadFile("../../../docs/license-format.md")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("no docs/license-format.md")
	}
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for l := range strings.Lines(string(b)) {
		l = strings.TrimSuffix(l, "\n")
		if strings.HasPrefix(l, `    "@status": `) || len(lines) > 0 && len(lines) < 5 {
			lines = append(lines, strings.TrimPrefix(l, "    "))
		}
	}
	if len(lines) != 5 {
		t.Fatalf("no example in the document: %q", lines)
	}
	h := http.Header{}
	h.Set("Date", "Tue, 20 Apr 2021 02:07:56 GMT")
	h.Set("Content-Digest", ContentDigest([]byte(`{"hello": "world"}`)))
	h.Set(NonceHeader, "0123456789abcdef0123")
	base, err := Base(Message{Status: 200, Header: h}, Params{Components: ResponseComponents,
		Params: []Param{{"created", int64(1618884473)}, {"keyid", "0011223344556677"}, {"alg", "ed25519"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(lines, "\n"); string(base) != want {
		t.Fatalf("document:\n%s\nBase:\n%s", want, base)
	}
}
