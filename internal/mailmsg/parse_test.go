package mailmsg

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// msg builds a raw message from header lines and a body, with CRLF.
func msg(headers []string, body string) []byte {
	return []byte(strings.Join(headers, "\r\n") + "\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n"))
}

func TestParseFrom(t *testing.T) {
	cases := []struct {
		from      []string
		want      string
		wantName  string
		wantError error
	}{
		{[]string{"From: A@Example.COM"}, "a@example.com", "", nil},
		{[]string{"From: =?utf-8?q?J=C3=BCrgen?= <j@example.com>"}, "j@example.com", "Jürgen", nil},
		{[]string{"From: \"Line\r\n\tbreak\" <j@example.com>"}, "j@example.com", "Line break", nil},
		{[]string{"From: Müller, Hans <h@example.com>"}, "h@example.com", "Müller, Hans", nil}, // unquoted comma: read leniently
		{[]string{"From: a@example.com (Alice)"}, "a@example.com", "Alice", nil},
		{[]string{"Subject: x"}, "", "", ErrNoFrom},
		{[]string{"From: "}, "", "", ErrNoFrom},
		{[]string{"From: a@example.com, b@example.com"}, "", "", ErrManyFrom},
		{[]string{"From: a@example.com", "From: b@example.com"}, "", "", ErrManyFrom},
		{[]string{"From: not an address"}, "", "", ErrBadFrom},
		{[]string{"From: <a@localhost>"}, "", "", ErrBadFrom},
		{[]string{"From: <a@b@example.com>"}, "", "", ErrBadFrom},
	}
	for _, c := range cases {
		m, err := Parse(msg(c.from, "x"), Limits{})
		if !errors.Is(err, c.wantError) {
			t.Errorf("%q: error %v, want %v", c.from, err, c.wantError)
			continue
		}
		if err == nil && (m.From != c.want || m.FromName != c.wantName) {
			t.Errorf("%q: From %q %q, want %q %q", c.from, m.From, m.FromName, c.want, c.wantName)
		}
	}
	for _, raw := range []string{"", "\r\n\r\nbody", "no header at all", " leading space: x\r\n\r\n", "\x00\x01: x\r\n\r\n"} {
		if _, err := Parse([]byte(raw), Limits{}); !errors.Is(err, ErrBadHeader) {
			t.Errorf("Parse(%q): %v, want ErrBadHeader", raw, err)
		}
	}
	huge := "From: a@example.com\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\nx"
	if _, err := Parse([]byte(huge), Limits{}); !errors.Is(err, ErrBadHeader) {
		t.Errorf("a 2 MiB header: %v, want ErrBadHeader", err)
	}
}

func TestParseHeaders(t *testing.T) {
	var refs []string
	for i := range 80 {
		refs = append(refs, fmt.Sprintf("<r%d@example.com>", i))
	}
	raw := []byte("From ignored@example.com Tue Mar  4 12:00:00 2025\n" + // a pipe transport's envelope line
		"From: a@example.com\nTo: \"B\" <B@example.com>, undisclosed-recipients:;\nCc: bad address, c@example.com\n" +
		"Reply-To: R@example.org\nMessage-ID: garbage\nIn-Reply-To: <x@example.com> (comment) <y@example.com>\n" +
		"References: " + strings.Join(refs[:40], "\n ") + "\nReferences: " + strings.Join(refs[40:], " ") + "\n" +
		"Subject: " + strings.Repeat("é", 400) + "\nDate: yesterday\nList-Id: plain-id.example.org\n\nbody")
	m, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{"r0@example.com"}, func() []string {
		var s []string
		for i := 31; i < 80; i++ {
			s = append(s, fmt.Sprintf("r%d@example.com", i))
		}
		return s
	}()...)
	switch {
	case m.From != "a@example.com":
		t.Errorf("From %q", m.From)
	case !slices.Equal(m.To, []string{"b@example.com"}):
		t.Errorf("To %q", m.To)
	case !slices.Equal(m.ReplyTo, []string{"r@example.org"}):
		t.Errorf("ReplyTo %q", m.ReplyTo)
	case m.MessageID != "":
		t.Errorf("MessageID %q", m.MessageID)
	case !slices.Equal(m.InReplyTo, []string{"x@example.com", "y@example.com"}):
		t.Errorf("InReplyTo %q", m.InReplyTo)
	case !slices.Equal(m.References, want):
		t.Errorf("References %q", m.References)
	case utf8.RuneCountInString(m.Subject) != 300 || !strings.HasSuffix(m.Subject, "é…"):
		t.Errorf("Subject of %d runes", utf8.RuneCountInString(m.Subject))
	case !m.Date.IsZero():
		t.Errorf("Date %v", m.Date)
	case m.ListID != "plain-id.example.org":
		t.Errorf("ListID %q", m.ListID)
	case m.Text != "body":
		t.Errorf("Text %q", m.Text)
	}
	// net/mail refuses the whole Cc for one bad address.
	if m.Cc != nil || !slices.Equal(m.Problems, []string{"the Cc header cannot be read", "the Date header cannot be read"}) {
		t.Errorf("Cc %q, Problems %q", m.Cc, m.Problems)
	}
}

func TestAutoReplyAndSpam(t *testing.T) {
	cases := []struct {
		headers    []string
		auto, spam string
	}{
		{[]string{"Auto-Submitted: no"}, "", ""},
		{[]string{"Auto-Submitted: Auto-Replied; owner-email=\"x@example.com\""}, "Auto-Submitted: auto-replied", ""},
		{[]string{"Auto-Submitted: auto-notified"}, "Auto-Submitted: auto-notified", ""},
		{[]string{"X-Autoreply: yes"}, "X-Autoreply: yes", ""},
		{[]string{"X-Autorespond: Out of office"}, "X-Autorespond: out", ""},
		{[]string{"Precedence: junk"}, "Precedence: junk", ""},
		{[]string{"Precedence: auto_reply"}, "Precedence: auto_reply", ""},
		{[]string{"Precedence: first-class"}, "", ""},
		// Exchange marks mail it sends for a person with this too.
		{[]string{"X-Auto-Response-Suppress: All"}, "", ""},
		{[]string{"X-Auto-Response-Suppress: DR, OOF", "X-MS-Exchange-Inbox-Rules-Loop: a@example.com"}, "X-Auto-Response-Suppress: oof", ""},
		{[]string{"X-Auto-Response-Suppress: RN, NRN", "X-MS-Exchange-Inbox-Rules-Loop: a@example.com"}, "", ""},
		{[]string{"X-Spam-Flag: NO"}, "", ""},
		{[]string{"X-Spam-Status: No, score=1.0"}, "", ""},
		{[]string{"X-Spam-Status: Yes, score=9.1 required=5.0"}, "", "X-Spam-Status: yes"},
		{[]string{"X-Spam: Yes"}, "", "X-Spam: yes"},
		{[]string{"X-Spamd-Result: default: True [16.20 / 15.00]; BAYES_SPAM(5.10)"}, "", "X-Spamd-Result: default: true"},
		{[]string{"X-Spamd-Result: default: False [1.20 / 15.00]"}, "", ""},
		{[]string{"X-Rspamd-Action: add header"}, "", "X-Rspamd-Action: add header"},
		{[]string{"X-Rspamd-Action: no action"}, "", ""},
		{[]string{"X-Spam-Flag: NO", "X-Spam-Flag: YES"}, "", "X-Spam-Flag: yes"},
	}
	for _, c := range cases {
		m, err := Parse(msg(append([]string{"From: a@example.com"}, c.headers...), "x"), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if m.AutoReply != (c.auto != "") || m.AutoReason != c.auto {
			t.Errorf("%q: AutoReply %v %q, want %q", c.headers, m.AutoReply, m.AutoReason, c.auto)
		}
		if m.Spam.Flagged != (c.spam != "") || m.Spam.Reason != c.spam {
			t.Errorf("%q: Spam %+v, want %q", c.headers, m.Spam, c.spam)
		}
	}
	m, _ := Parse(msg([]string{"From: a@example.com", "Content-Type: message/delivery-status"}, "Action: failed"), Limits{})
	if !m.Report || m.ReportType != "delivery-status" {
		t.Errorf("message/delivery-status: Report %v %q", m.Report, m.ReportType)
	}
	m, _ = Parse(msg([]string{"From: a@example.com", "Content-Type: multipart/report; report-type=Disposition-Notification; boundary=b"},
		"--b\nContent-Type: text/plain\n\nRead.\n--b--\n"), Limits{})
	if !m.Report || m.ReportType != "disposition-notification" || m.Text != "Read." {
		t.Errorf("MDN: Report %v %q, Text %q", m.Report, m.ReportType, m.Text)
	}
}

func TestSafeFilename(t *testing.T) {
	long := strings.Repeat("ä", 150) + ".pdf"
	cases := []struct{ in, ct, want string }{
		{"report.pdf", "application/pdf", "report.pdf"},
		{"../../etc/passwd", "", "passwd"},
		{`C:\Users\x\Desktop\a.png`, "", "a.png"},
		{"..hidden", "", "hidden"},
		{"...", "image/png", "attachment-3.png"},
		{"", "application/pdf", "attachment-3.pdf"},
		{"", "application/x-unknown", "attachment-3"},
		{"a\x00b\x1fc\u202Efdp.exe", "", "abcfdp.exe"},
		{"trailing.exe. . ", "", "trailing.exe"},
		{"what?<>|*:\".txt", "", "what_______.txt"},
		{"tab\tand\nnewline.txt", "", "tabandnewline.txt"},
		{"  many   spaces  .txt", "", "many spaces .txt"},
		{"\xff\xfe.txt", "", "_.txt"},
		{long, "", strings.Repeat("ä", 98) + ".pdf"},
	}
	for _, c := range cases {
		got := safeFilename(c.in, 3, c.ct)
		if got != c.want {
			t.Errorf("safeFilename(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > maxFilenameBytes || !utf8.ValidString(got) {
			t.Errorf("safeFilename(%q) = %q: %d bytes", c.in, got, len(got))
		}
	}
}

func TestFilenameEncodings(t *testing.T) {
	body := "--b\nContent-Type: text/plain\n\nhi\n" +
		// RFC 2231, with a charset and continuations
		"--b\nContent-Type: application/pdf\nContent-Disposition: attachment;\n filename*0*=UTF-8''%C3%9Cber;\n filename*1=sicht.pdf\n\n%PDF-1.4\n" +
		// RFC 2047 in the name parameter, no disposition
		"--b\nContent-Type: text/csv; name=\"=?ISO-8859-1?Q?Pr=E4mien.csv?=\"\n\na,b\n" +
		// unquoted name with spaces, which mime.ParseMediaType refuses
		"--b\nContent-Type: image/png\nContent-Disposition: attachment; filename=my screen shot.png\n\nPNG\n" +
		// refused by the name, whatever the type says
		"--b\nContent-Type: image/jpeg\nContent-Disposition: attachment; filename=\"photo.jpg.js\"\n\nalert(1)\n" +
		// an ELF program with a harmless name
		"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"notes.txt\"\n\n\x7fELF\x02\x01\n" +
		"--b--\n"
	m, err := Parse(msg([]string{"From: a@example.com", "Content-Type: multipart/mixed; boundary=b"}, body), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range m.Attachments {
		names = append(names, a.Filename+" "+a.ContentType)
	}
	if want := []string{"Übersicht.pdf application/pdf", "Prämien.csv text/csv", "my screen shot.png image/png"}; !slices.Equal(names, want) {
		t.Errorf("kept %q, want %q", names, want)
	}
	names = nil
	for _, s := range m.Skipped {
		names = append(names, s.Filename+" "+s.Reason)
	}
	if want := []string{"photo.jpg.js " + ReasonRefused, "notes.txt " + ReasonRefused}; !slices.Equal(names, want) {
		t.Errorf("skipped %q, want %q", names, want)
	}
}

func TestLimits(t *testing.T) {
	var body strings.Builder
	body.WriteString("--b\nContent-Type: text/plain\n\n" + strings.Repeat("x", 100) + "\n")
	for i := range 5 {
		fmt.Fprintf(&body, "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=f%d.bin\nContent-Transfer-Encoding: base64\n\n%s\n",
			i, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'a'}, 10*(i+1))))
	}
	body.WriteString("--b--\n")
	raw := msg([]string{"From: a@example.com", "Content-Type: multipart/mixed; boundary=b"}, body.String())

	m, err := Parse(raw, Limits{MaxAttachment: 30, MaxAttachments: 2, MaxTextBytes: 40})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range m.Attachments {
		got = append(got, fmt.Sprintf("%s %d", a.Filename, a.Size))
	}
	for _, s := range m.Skipped {
		got = append(got, fmt.Sprintf("%s %d %s", s.Filename, s.Size, s.Reason))
	}
	want := []string{"f0.bin 10", "f1.bin 20", "f2.bin 30 " + ReasonTooMany, "f3.bin 40 " + ReasonTooMany, "f4.bin 50 " + ReasonTooMany}
	if !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	if m.Text != strings.Repeat("x", 40) {
		t.Errorf("Text %q", m.Text)
	}

	m, _ = Parse(raw, Limits{MaxAttachment: 25})
	got = nil
	for _, s := range m.Skipped {
		got = append(got, fmt.Sprintf("%s %d %s", s.Filename, s.Size, s.Reason))
	}
	if want := []string{"f2.bin 30 " + ReasonTooLarge, "f3.bin 40 " + ReasonTooLarge, "f4.bin 50 " + ReasonTooLarge}; !slices.Equal(got, want) {
		t.Errorf("skipped %q, want %q", got, want)
	}

	m, _ = Parse(raw, Limits{MaxParts: 3}) // the multipart, the text, one file
	if len(m.Attachments) != 1 || !slices.Contains(m.Problems, "the message has more MIME parts than are read: the rest is only in the raw message") {
		t.Errorf("MaxParts 3: %d attachments, problems %q", len(m.Attachments), m.Problems)
	}
}

func TestDeepNesting(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i+1)
	}
	m, err := Parse(msg([]string{"From: a@example.com", "Content-Type: multipart/mixed; boundary=b0"}, b.String()), Limits{MaxParts: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(m.Problems, "the MIME parts are nested too deep: the inner ones are only in the raw message") {
		t.Errorf("problems %q", m.Problems)
	}
}

// TestLargeMessage reads a 50 MB message whose one attachment is over the
// limit: the attachment is skipped with its size, and what Parse allocates
// follows the attachment limit, not the message's size.
func TestLargeMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 50 MB message")
	}
	raw := hugeMessage(50 << 20)
	for _, limit := range []int64{0, 1 << 20} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, err := Parse(raw, Limits{MaxAttachment: limit})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Skipped) != 1 || m.Skipped[0].Reason != ReasonTooLarge || m.Skipped[0].Size != hugeAttachment(50<<20) || len(m.Attachments) != 0 {
			t.Fatalf("Skipped %+v, %d attachments", m.Skipped, len(m.Attachments))
		}
		if m.Text != "See the attached dump." {
			t.Errorf("Text %q", m.Text)
		}
		// Reading up to the limit grows a buffer to it (a few times
		// over, counting the garbage); the 50 MB are never held.
		if limit == 0 {
			limit = DefaultMaxAttachment
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("limit %d MiB: %d MiB allocated", limit>>20, alloc>>20)
		if alloc > uint64(5*limit+4<<20) {
			t.Errorf("limit %d MiB: Parse allocated %d MiB for a %d MiB message", limit>>20, alloc>>20, len(raw)>>20)
		}
	}
}

// hugeAttachment is the decoded size of hugeMessage(n)'s attachment.
func hugeAttachment(n int) int64 { return int64(n/4*3) / 57 * 57 }

func hugeMessage(n int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attached dump.\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=core.dump\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xAB}, 57)) + "\r\n"
	for range hugeAttachment(n) / 57 {
		b.WriteString(line)
	}
	b.WriteString("--b--\r\n")
	return b.Bytes()
}

func TestBodyEncodings(t *testing.T) {
	cases := []struct {
		name    string
		headers []string
		body    string
		text    string
		problem string
	}{
		{"latin-1 without charset", nil, "Gr\xfc\xdfe", "Grüße", ""},
		{"shift_jis", []string{"Content-Type: text/plain; charset=Shift_JIS"}, "\x83\x89\x83C\x83Z\x83\x93\x83X", "ライセンス", ""},
		{"qp utf-8", []string{"Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"}, "Gr=C3=BC=\n=C3=9Fe", "Grüße", ""},
		{"bad base64", []string{"Content-Transfer-Encoding: base64"}, "SGVsbG8g\nd29y*bGQ=\n!!!", "Hello world", ""},
		{"unknown encoding", []string{"Content-Transfer-Encoding: x-uuencode"}, "begin 644 x", "begin 644 x", "a part has an unknown transfer encoding: it is kept undecoded"},
		{"controls", nil, "a\x00b\x1b[31mc\nd\re\u2028f\tg", "ab[31mc\nd\ne\nf\tg", ""},
		{"html only", []string{"Content-Type: text/html"}, "<p>One<br>two</p><ul><li>three</li></ul><blockquote>old</blockquote>", "One\ntwo\n\n- three\n\n> old", ""},
		{"inline pgp", nil, "-----BEGIN PGP MESSAGE-----\nhQ\n-----END PGP MESSAGE-----", "-----BEGIN PGP MESSAGE-----\nhQ\n-----END PGP MESSAGE-----", "the text holds an inline PGP encrypted message: read the raw message"},
		{"clearsigned", nil, "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nHello\n-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nHello\n-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----", ""},
		{"smime enveloped", []string{"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m", "Content-Transfer-Encoding: base64"}, "MIAGCSqGSIb3DQEHA6CAMIACAQAx", "", "S/MIME encrypted or opaque-signed message: read the raw message"},
		{"no boundary", []string{"Content-Type: multipart/mixed"}, "just text", "just text", "a multipart part has no boundary: it is read as text"},
		{"boundary never used", []string{"Content-Type: multipart/mixed; boundary=zz"}, "just text", "", "a multipart part has no parts: its boundary never appears"},
	}
	for _, c := range cases {
		m, err := Parse(msg(append([]string{"From: a@example.com"}, c.headers...), c.body), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Text != c.text {
			t.Errorf("%s: Text %q, want %q", c.name, m.Text, c.text)
		}
		if c.problem != "" && !slices.Contains(m.Problems, c.problem) || c.problem == "" && len(m.Problems) > 0 && c.name != "bad base64" {
			t.Errorf("%s: Problems %q, want %q", c.name, m.Problems, c.problem)
		}
	}
}

func TestSanitizeHTML(t *testing.T) {
	cases := []struct{ in, want string }{
		{`<p style="color:red" class="x" id="y">a</p>`, `<p>a</p>`},
		{`<a href="https://example.com/x">l</a>`, `<a href="https://example.com/x" rel="nofollow noreferrer noopener" target="_blank">l</a>`},
		{`<a href="javascript:alert(1)">l</a>`, `l`},
		{`<a href="/relative">l</a>`, `l`},
		{`<img src="https://t.example.net/p.gif">x`, `x`},
		{`<img src="data:image/png;base64,AAAA">x`, `x`},
		{`<table><tr><td>unclosed`, `<table><tr><td>unclosed</td></tr></table>`},
		{`</div></div><p>x`, `<p>x</p>`},
		{`<b><i>x</b>y</i>`, `<b><i>x</i></b>y`},
		{`<p>a &lt;script&gt; &amp; b</p>`, `<p>a &lt;script&gt; &amp; b</p>`},
		{`<scr<script>ipt>alert(1)</script>`, `ipt&gt;alert(1)`},
		{`<math><mi xlink:href="javascript:1">x</mi></math>`, `x`},
		{`<td colspan="2" onclick="x()">c</td>`, `<td colspan="2">c</td>`},
		{`<table><tr><td colspan="2" onclick="x()">c</td></tr></table>`, `<table><tr><td colspan="2">c</td></tr></table>`},
		{`<base href="https://evil.example.net/"><meta http-equiv="refresh" content="0;url=https://evil.example.net">t`, `t`},
	}
	for _, c := range cases {
		if got := sanitizeHTML(c.in); got != c.want {
			t.Errorf("sanitizeHTML(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func corpusFiles(tb testing.TB) [][]byte {
	files, err := filepath.Glob("testdata/corpus/*.eml")
	if err != nil || len(files) == 0 {
		tb.Fatal("no corpus", err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, b := range corpusFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, Limits{MaxAttachment: 1 << 16, MaxAttachments: 4, MaxTextBytes: 1 << 12, MaxParts: 50})
		if err != nil {
			if m != nil {
				t.Fatal("a message with an error")
			}
			return
		}
		if !utf8.ValidString(m.Text) || len(m.Text) > 1<<12 {
			t.Fatalf("Text: %d bytes, valid %v", len(m.Text), utf8.ValidString(m.Text))
		}
		for _, r := range m.Text {
			if r < ' ' && r != '\n' && r != '\t' || r == 0x7f {
				t.Fatalf("Text holds %U", r)
			}
		}
		if strings.ContainsAny(m.Subject, "\r\n") || strings.ContainsAny(m.FromName, "\r\n") {
			t.Fatalf("Subject %q or FromName %q on more than one line", m.Subject, m.FromName)
		}
		if m.From == "" || m.From != strings.ToLower(m.From) {
			t.Fatalf("From %q", m.From)
		}
		if len(m.Attachments) > 4 {
			t.Fatalf("%d attachments", len(m.Attachments))
		}
		for _, a := range m.Attachments {
			if a.Filename == "" || strings.ContainsAny(a.Filename, "/\\\x00") || strings.HasPrefix(a.Filename, ".") || len(a.Filename) > maxFilenameBytes || a.Size > 1<<16 {
				t.Fatalf("attachment %q of %d bytes", a.Filename, a.Size)
			}
		}
		lower := strings.ToLower(m.HTML)
		for _, s := range []string{"<script", "<img", "<iframe", "<style", "<form", " on", "javascript:"} {
			if strings.Contains(lower, s) && !strings.Contains(strings.ToLower(html2text(m.HTML)), s) {
				t.Fatalf("HTML holds %q: %s", s, m.HTML)
			}
		}
		_ = Reply(m.Text)
	})
}

// html2text is the text of sanitised HTML, where "<script" may only
// appear escaped.
func html2text(s string) string { return strings.NewReplacer("&lt;", "<", "&gt;", ">").Replace(s) }

func BenchmarkParse(b *testing.B) {
	msgs := corpusFiles(b)
	var n int64
	for _, m := range msgs {
		n += int64(len(m))
	}
	b.SetBytes(n / int64(len(msgs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := Parse(msgs[i%len(msgs)], Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
