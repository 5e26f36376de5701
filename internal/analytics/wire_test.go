package analytics

import (
	"encoding/json"
	"strings"
	"testing"
)

// The wire decoder against encoding/json, the reference it replaces.

func jsonWire(body []byte) (wire, bool) {
	var w wire
	if err := json.Unmarshal(body, &w); err != nil {
		return wire{}, false
	}
	return w, true
}

func TestDecodeWire(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
		want wire
	}{
		{`{"t":"v","id":"0123456789abcdef","p":"/a","r":"https://x.example/","q":"utm_source=x","w":1280}`, true,
			wire{T: "v", ID: "0123456789abcdef", P: "/a", R: "https://x.example/", Q: "utm_source=x", W: 1280}},
		{` { "t" : "e" , "id":"ab", "ms" : 1.5e3 } `, true, wire{T: "e", ID: "ab", MS: 1500}},
		{`{}`, true, wire{}},
		{`{"p":"\/caf\u00e9 \"x\" \\ \n\t\b\f\r"}`, true, wire{P: "/café \"x\" \\ \n\t\b\f\r"}},
		{`{"p":"\ud83d\ude00"}`, true, wire{P: "😀"}},
		{`{"p":"é"}`, true, wire{P: "é"}},
		{`{"w":-0}`, true, wire{}},
		{`{"w":0.5E-1}`, true, wire{W: 0.05}},
		// Refused: encoding/json refuses these too.
		{``, false, wire{}},
		{`{`, false, wire{}},
		{`{"t":"v",}`, false, wire{}},
		{`{"t":"v"}x`, false, wire{}},
		{`{"t":1}`, false, wire{}},
		{`{"w":"1"}`, false, wire{}},
		{`{"w":01}`, false, wire{}},
		{`{"w":+1}`, false, wire{}},
		{`{"w":1.}`, false, wire{}},
		{`{"w":.5}`, false, wire{}},
		{`{"w":1e}`, false, wire{}},
		{`{"w":1e400}`, false, wire{}},
		{`{"w":NaN}`, false, wire{}},
		{`{"p":"a` + "\x01" + `"}`, false, wire{}},
		{`{"p":"\x"}`, false, wire{}},
		{`{"p":"\u12"}`, false, wire{}},
		{`{"p":"abc`, false, wire{}},
		{`[]`, false, wire{}},
		// Refused here, accepted by encoding/json: stricter on purpose.
		{`{"t":"v","t":"e"}`, false, wire{}},
		{`{"x":1}`, false, wire{}},
		{`{"T":"v"}`, false, wire{}},
		{`{"t":null}`, false, wire{}},
		{`{"p":"\ud83d"}`, false, wire{}},
		{`{"p":"\ude00\ud83d"}`, false, wire{}},
		{`{"p":"` + "\xff" + `"}`, false, wire{}},
	} {
		got, ok := decodeWire([]byte(c.body))
		if ok != c.ok || got != c.want {
			t.Errorf("decodeWire(%q) = %+v, %v; want %+v, %v", c.body, got, ok, c.want, c.ok)
		}
	}
}

// FuzzDecodeWire: whatever decodeWire accepts, encoding/json accepts and
// reads the same; and what encoding/json writes of any wire it read,
// decodeWire reads back alike.
//
//	go test ./internal/analytics -run '^$' -fuzz FuzzDecodeWire -fuzztime 60s
func FuzzDecodeWire(f *testing.F) {
	for _, s := range []string{
		`{"t":"v","id":"0123456789abcdef","p":"/products/milter","r":"https://a.example/","q":"utm_source=x","w":1280}`,
		`{"t":"e","id":"0123456789abcdef","ms":1000}`,
		`{"p":"\ud83d\ude00\u0000\"","w":-1.25e-3}`,
		` {"q" : "" , "ms":0} `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := decodeWire(body)
		ref, refOK := jsonWire(body)
		if ok {
			if !refOK {
				t.Fatalf("decodeWire accepted %q, encoding/json refuses it", body)
			}
			if got != ref {
				t.Fatalf("%q: decodeWire %+v, encoding/json %+v", body, got, ref)
			}
		}
		if !refOK {
			return
		}
		canon, err := json.Marshal(ref)
		if err != nil {
			return // a value encoding/json cannot write back (none expected)
		}
		back, ok := decodeWire(canon)
		if !ok {
			if strings.ContainsRune(string(canon), '\uFFFD') {
				return // encoding/json replaced invalid text, which is refused here
			}
			t.Fatalf("decodeWire refuses encoding/json's own %q", canon)
		}
		if back != ref {
			t.Fatalf("%q: decodeWire %+v, encoding/json %+v", canon, back, ref)
		}
	})
}

func BenchmarkDecodeWire(b *testing.B) {
	body := []byte(`{"t":"v","id":"0123456789abcdef","p":"/products/mailguard","r":"https://news.example.org/x","q":"utm_source=news","w":1280}`)
	b.Run("decodeWire", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodeWire(body); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := jsonWire(body); !ok {
				b.Fatal("refused")
			}
		}
	})
}
