package inbound

import (
	"html"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/requests"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		subject, text string
		kind          requests.Kind
		word          string
	}{
		{"", "please delete my data", requests.Erasure, "delete"},
		{"Right to be forgotten", "", requests.Erasure, "forgotten"},
		{"Request", "Please send me a copy of my data.", requests.Access, "copy"},
		{"Copyright question", "", requests.Access, ""}, // "copy" is a whole word only
		{"", "What data do you hold about me?", requests.Access, "what data"},
		{"Data export", "then delete it", requests.Portability, "export"}, // the subject first
		{"", "I withdraw my consent and want you to delete everything", requests.Withdrawal, "withdraw"},
		{"UNSUBSCRIBE", "", requests.Withdrawal, "unsubscribe"},
		{"", "My address is wrong, please correct it", requests.Rectification, "correct"},
		{"", "Rectification of my name", requests.Rectification, "rectification"},
		{"", "Please restrict processing", requests.Restriction, "restrict"},
		{"", "I object to direct marketing", requests.Objection, "object"},
		{"", "Data portability request", requests.Portability, "portability"},
		{"Hello", "Who are you?", requests.Access, ""},
		{"", "Löschung / ERASE-my-data", requests.Erasure, "erase"},
	}
	for _, c := range cases {
		k, w := Classify(c.subject, c.text)
		if k != c.kind || w != c.word {
			t.Errorf("Classify(%q, %q) = %s %q, want %s %q", c.subject, c.text, k, w, c.kind, c.word)
		}
	}
}

func TestParse(t *testing.T) {
	multipart := "From: =?utf-8?q?J=C3=BCrgen?= <Juergen@Example.DE>\r\n" +
		"Subject: =?utf-8?q?L=C3=B6schen?= bitte\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n" +
		"--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{}</style></head><body><p>HTML &amp; text</p><script>x()</script></body></html>\r\n" +
		"--b2--\r\n" +
		"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=id.pdf\r\n\r\nSECRET-ATTACHMENT\r\n" +
		"--b1--\r\n"
	m, err := Parse([]byte(multipart))
	if err != nil {
		t.Fatal(err)
	}
	if m.From != "juergen@example.de" || m.Subject != "Löschen bitte" || m.Text != "HTML & text" {
		t.Fatalf("%+v", m)
	}

	quoted := "From: a@example.com\r\nSubject: re\r\n\r\nDelete it.\r\n\r\n> old text\r\n-- \r\nsignature: please export\r\n"
	if m, err = Parse([]byte(quoted)); err != nil || m.Text != "Delete it." {
		t.Fatalf("%+v %v", m, err)
	}

	long := "From: a@example.com\r\nSubject: " + strings.Repeat("s", 500) + "\r\n\r\n" + strings.Repeat("line\r\n", 100)
	if m, err = Parse([]byte(long)); err != nil || strings.Count(m.Text, "\n") != noteLines-1 || utf8.RuneCountInString(m.Subject) != subjectRunes {
		t.Fatalf("%+v %v", m, err)
	}

	for _, bad := range []string{"", "garbage", "Subject: x\r\n\r\nbody", "From: x\r\n\r\n", "From: a@b.example, c@d.example\r\n\r\n", "From: <>\r\n\r\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestStripHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`<div>Hello<br>World</div><!-- c --><title>T</title><p class="x">&lt;b&gt;  spaced   out</p>`, "\nHello\nWorld\n\n<b> spaced out\n"},
		// A ">" inside a quoted attribute value does not end the tag.
		{`<a title="1 > 0" href="x">Delete</a> my data`, "Delete my data"},
		{`<img alt='a>b' src=x>Hi`, "Hi"},
		{`<p data-x="<b>">text</p>`, "\ntext\n"},
		// A ">" in a comment or a script does not end it either.
		{`<!-- a > b -->kept<script>if (a > b) { x = "</p>" }</script> too`, "kept too"},
		{`<head><meta name="a" content="b > c"><title>Inbox > 1</title></head><body>Body</body>`, "Body"},
		{`<ul><li>one</li><li>two</li></ul>`, "\n\none\ntwo\n"},
		{`unclosed <b`, "unclosed"},
		{`<style>p > a { color: red }</style>x &amp; y &#x41;`, "x & y A"},
	} {
		if got := StripHTML(tc.in); got != tc.want {
			t.Errorf("StripHTML(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzStripHTML: any input is reduced without panicking to trimmed,
// collapsed lines; the value of a quoted attribute never reaches the text,
// whatever it holds, and escaped text comes out as it went in.
func FuzzStripHTML(f *testing.F) {
	f.Add(`a > b " ' < c`, "Delete my data")
	f.Add(`<script>`, `x < y & z > w`)
	f.Add(`--><!--`, "  spaced \t out\r\nline  ")
	f.Add(``, "")
	f.Fuzz(func(t *testing.T, attr, text string) {
		for _, s := range []string{attr, text} {
			for _, line := range strings.Split(StripHTML(s), "\n") {
				if line != strings.TrimSpace(line) || strings.Contains(line, "  ") {
					t.Fatalf("StripHTML(%q): line %q not collapsed", s, line)
				}
			}
		}
		if strings.ContainsRune(text, 0) || !utf8.ValidString(text) || !utf8.ValidString(attr) {
			return // the tokenizer replaces NUL and passes invalid bytes through as they are
		}
		attr = strings.ReplaceAll(attr, `"`, "")
		doc := `<p title="` + attr + `">` + html.EscapeString(text) + `</p>`
		norm := strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
		if got, want := StripHTML(doc), collapseSpaces("\n"+norm+"\n"); got != want {
			t.Fatalf("StripHTML(%q) = %q, want %q", doc, got, want)
		}
	})
}

// FuzzParse: any input is parsed or refused without panicking, and what
// comes out fits the note.
func FuzzParse(f *testing.F) {
	f.Add([]byte("From: Ann <ann@example.com>\r\nSubject: delete\r\n\r\nplease delete my data\r\n"))
	f.Add([]byte("From: a@example.com\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>copy<script>\r\n--x--\r\n"))
	f.Add([]byte("From: a@example.com\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nL=F6schen\r\n"))
	f.Add([]byte("From: =?x-unknown?q?x?= <a@example.com>\r\nSubject: =?utf-8?b?////?=\r\n\r\n\x00\xff"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if m.From == "" || !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) ||
			utf8.RuneCountInString(m.Subject) > subjectRunes || utf8.RuneCountInString(m.Text) > noteRunes {
			t.Fatalf("%+v", m)
		}
		kind, word := Classify(m.Subject, m.Text)
		if !kind.Valid() {
			t.Fatalf("kind %q", kind)
		}
		note := Note(m, kind, word)
		if utf8.RuneCountInString(note) > 4000 || !utf8.ValidString(note) {
			t.Fatalf("note of %d characters", utf8.RuneCountInString(note))
		}
	})
}

// FuzzClassify: any text gets a valid kind, and the word that decided
// occurs in the text.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"please delete my data", "What data?", "copyright", "ÜNSUBSCRIBE", "\xff object"} {
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, subject, text string) {
		kind, word := Classify(subject, text)
		if !kind.Valid() {
			t.Fatalf("kind %q", kind)
		}
		if word != "" && !strings.Contains(normalise(subject)+" "+normalise(text), word) {
			t.Fatalf("word %q not in the text", word)
		}
	})
}
