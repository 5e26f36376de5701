package input_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestClean(t *testing.T) {
	name := input.Spec{Field: "name", Label: "The name", Max: 10, Required: true}
	addr := input.Spec{Field: "address", Label: "The address", Max: 30, Multiline: true}
	tests := []struct {
		spec    input.Spec
		in      string
		want    string
		refused string // part of the message; "" for accepted
	}{
		{name, "  Bea Buyer ", "Bea Buyer", ""},
		{name, "Zoë Ñúñez", "Zoë Ñúñez", ""},
		{name, "李小龍", "李小龍", ""},
		{name, "דוד כהן", "דוד כהן", ""},
		{name, "👩‍💻 Bea", "👩‍💻 Bea", ""}, // ZWJ sequences stay
		{name, "0123456789", "0123456789", ""},
		{name, "01234567890", "", "at most 10 characters"},
		{name, "ÄÄÄÄÄÄÄÄÄÄ", "ÄÄÄÄÄÄÄÄÄÄ", ""}, // characters, not bytes
		{name, "   ", "", "missing"},
		{name, "Bea\x00", "", "NUL"},
		{name, "Bea\xff", "", "not text"},
		{name, "Bea\nEvil", "", "line break"},
		{name, "Bea\rEvil", "", "line break"},
		{name, "Bea\tB", "", "tab"},
		{name, "Bea\u0085", "", "control"},
		{name, "Bea\x7f", "", "control"},
		{name, "Bea\u202eevil", "", "direction"},
		{name, "\u2066Bea\u2069", "", "direction"},
		{name, "Bea\u200f", "", "direction"},
		{name, "Bea\u2028B", "", "line break"},
		{name, "Bea\ufffd", "", "could not be read"},
		{addr, "1 Main St\r\nTown\r\n", "1 Main St\nTown", ""},
		{addr, "\n\n 1 Main St \rTown  \n\n", "1 Main St\nTown", ""},
		{addr, "1 Main St\nTown\x00", "", "NUL"},
		{addr, "1 Main St\n\u202eTown", "", "direction"},
		{addr, "1 Main St\tTown", "", "tab"},
		{addr, strings.Repeat("x", 31), "", "at most 30"},
		{addr, strings.Repeat("x", 100000), "", "too long"},
		{input.Spec{}, "", "", ""}, // optional, no label
		{input.Spec{Field: "name", Label: "The name", Required: true, Missing: "The name: enter it."}, " ", "", "enter it"},
	}
	for _, tt := range tests {
		got, err := tt.spec.Clean(tt.in)
		if tt.refused == "" {
			if err != nil || got != tt.want {
				t.Errorf("Clean(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		r, ok := refuse.As(err)
		if !ok || r.Kind != refuse.Invalid || !strings.Contains(r.Msg, tt.refused) || got != "" {
			t.Errorf("Clean(%q) = %q, %v; want a refusal saying %q", tt.in, got, err, tt.refused)
			continue
		}
		if r.Field != tt.spec.Field && tt.spec.Field != "" {
			t.Errorf("refusal of %q names field %q, want %q", tt.in, r.Field, tt.spec.Field)
		}
		if !strings.HasPrefix(r.Msg, tt.spec.Label) {
			t.Errorf("refusal %q does not name the field as %q", r.Msg, tt.spec.Label)
		}
	}
}

func TestProblemsGatherEveryField(t *testing.T) {
	var p input.Problems
	name, company, city := "Bea\u202e", "Ok GmbH", "Town\x00"
	p.Clean(input.Spec{Field: "name", Label: "The name"}, &name)
	p.Clean(input.Spec{Field: "company", Label: "The company"}, &company)
	p.Clean(input.Spec{Field: "city", Label: "The city"}, &city)
	p.Add(nil)
	p.Add(errors.New("The country is unknown."))
	if len(p.List()) != 3 || p.List()[0].Field != "name" || p.List()[1].Field != "city" || p.Messages()[2] != "The country is unknown." {
		t.Fatalf("problems = %+v", p.List())
	}
	if company != "Ok GmbH" || !errors.Is(p.Err(), refuse.Field("name", "")) {
		t.Fatalf("company %q, err %v", company, p.Err())
	}
	var none input.Problems
	if none.Err() != nil {
		t.Fatal("no problems, but an error")
	}
}

// FuzzClean: whatever arrives, Clean does not panic, and what it accepts is
// valid UTF-8 without NUL or refused characters, within the limit, stable
// (cleaning it again changes nothing), one line when asked, and taken by
// PostgreSQL (when STOREKEEP_TEST_POSTGRES is set) without an error.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"Bea Buyer", "1 Main St\r\nTown", "\x00", "\xff\xfe", "a\u202eb", "\u2066x\u2069", "a\rb", "日本語",
		"👩‍💻", "\u0085", "x\u2028y", "\ufeff", strings.Repeat("é", 201), "  \n\n  ", "\xed\xa0\x80"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	var d *db.DB
	if os.Getenv(testutil.PostgresEnv) != "" {
		d = testutil.Postgres(f)
		if _, err := d.ExecContext(context.Background(), `CREATE TABLE input_fuzz (v TEXT NOT NULL)`); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, in string, multiline bool) {
		s := input.Spec{Field: "f", Label: "The field", Max: 200, Multiline: multiline}
		out, err := s.Clean(in)
		if err != nil {
			if _, ok := refuse.As(err); !ok || out != "" {
				t.Fatalf("Clean(%q) = %q, %v: want a refusal and no text", in, out, err)
			}
			return
		}
		if !utf8.ValidString(out) || utf8.RuneCountInString(out) > 200 {
			t.Fatalf("Clean(%q) accepted %q", in, out)
		}
		for _, r := range out {
			if !(input.Allowed(r) || (multiline && r == '\n')) {
				t.Fatalf("Clean(%q) accepted %q with %U", in, out, r)
			}
		}
		if again, err := s.Clean(out); err != nil || again != out {
			t.Fatalf("cleaning %q again gave %q, %v", out, again, err)
		}
		if d != nil {
			if _, err := d.ExecContext(context.Background(), `INSERT INTO input_fuzz (v) VALUES ($1)`, out); err != nil {
				t.Fatalf("PostgreSQL refused accepted text %q: %v", out, err)
			}
		}
	})
}
