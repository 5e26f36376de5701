package mailmsg

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// file is what a test expects of one kept or skipped file.
type file struct {
	name, ctype string
	size        int64
	inline      bool
	reason      string // for skipped files
}

// corpusCase states what Parse must read from one fixture of
// testdata/corpus. Every field is checked: a zero value means "none".
type corpusCase struct {
	file       string
	from, name string
	subject    string
	messageID  string
	inReplyTo  []string
	references []string
	cc         []string
	replyTo    []string
	auto       string // AutoReason; "" means AutoReply is false
	autoSub    string
	precedence string
	listID     string
	report     string // ReportType; "" means Report is false
	spam       string // Spam.Reason; "" means not flagged
	has        []string
	hasNot     []string
	reply      string   // "" means the whole Text
	html       []string // substrings the sanitised HTML must hold
	noHTML     bool     // the message has no HTML part
	files      []file
	skipped    []file
	problems   []string
}

var corpus = []corpusCase{
	{
		file: "outlook-desktop.eml", from: "hans.meier@example.net", name: "Meier, Hans",
		subject:    "AW: RE: Aktivierung schlägt fehl [#1042]",
		messageID:  "000001db8cf0$5a3b2c10$0eb18430$@example.net",
		inReplyTo:  []string{"CAF9k2m1.support.1042@example.com"},
		references: []string{"CAF9k2m1.support.1042@example.com", "AM6PR08MB4567B9D2A1C3@AM6PR08MB4567.eurprd08.prod.example.net"},
		has:        []string{"Antwort – die Lizenz lässt sich", "From: Storekeep Support"},
		reply:      "Hallo,\n\nvielen Dank für die schnelle Antwort – die Lizenz lässt sich jetzt aktivieren.\nEine Frage noch: gilt der Schlüssel auch für den zweiten Server?\n\nGrüße\nHans Meier",
		html:       []string{"<b>From:</b> Storekeep Support &lt;support@example.com&gt;"},
		files:      []file{{name: "winmail.dat", ctype: "application/ms-tnef", size: 81}},
	},
	{
		file: "outlook-oof.eml", from: "anna.schmidt@example.net", name: "Anna Schmidt",
		subject:    "Automatische Antwort: Ihre Anfrage [#1043]",
		messageID:  "6d1e2f3a9b7c4e58a0f1b2c3d4e5f607@EX01.corp.example.net",
		inReplyTo:  []string{"ticket.1043.3f9a@example.com"},
		references: []string{"ticket.1043.3f9a@example.com"},
		auto:       "Auto-Submitted: auto-generated", autoSub: "auto-generated",
		has:   []string{"nicht im Büro"},
		reply: "Ich bin bis zum 10. März nicht im Büro und lese meine E-Mails nicht.\nIn dringenden Fällen wenden Sie sich bitte an it@example.net.\n\nAnna Schmidt",
		html:  []string{"<div>Ich bin bis zum 10. März"},
	},
	{
		file: "outlook-oof-legacy.eml", from: "p.lang@example.org", name: "Peter Lang",
		subject:   "Out of Office: Ihre Anfrage [#1044]",
		messageID: "2A9F0C44D1B7E04C8E6A0C3F1B2D9E8801234567@exch07.example.org",
		auto:      "X-Auto-Response-Suppress: all",
		reply:     "I am out of the office until Monday, 10 March. I will answer your message\nwhen I return.\n\nPeter Lang",
		noHTML:    true,
	},
	{
		file: "gmail.eml", from: "juergen.weiss@example.org", name: "Jürgen Weiß",
		subject:    "Re: License activation [#1040]",
		messageID:  "CAHx7qM3d8kZp0-vR1a2b3c4d5e6f7g8h9i0j=k@mail.example.org",
		inReplyTo:  []string{"ticket.1040.8c21@example.com"},
		references: []string{"ticket.1040.8c21@example.com"},
		has:        []string{"support@example.com> wrote:\n\n> Hello Jürgen,"},
		reply:      "Hi,\n\nthanks, that worked! The license is active on both machines now.\n\nOne more thing: can I move it to a new server next month without asking you?\n\nBest,\nJürgen",
		html:       []string{`<a href="mailto:support@example.com" rel="nofollow noreferrer">`, "<blockquote><div>Hello Jürgen,</div>"},
	},
	{
		file: "gmail-attachment.eml", from: "maria.rossi@example.org", name: "Maria Rossi",
		subject:   "Installer error",
		messageID: "CAJk3pR9x-Yq2Wm8tLs4Nn6Bb0Vc1Xz7Aa5Ss3Dd9Ff2Gg@mail.example.org",
		cc:        []string{"it@example.org", "ops@example.org"},
		reply:     "Hello,\n\nthe installer stops with the error in the screenshot. I attached the invoice too.\n\nRegards,\nMaria",
		html:      []string{`<div dir="ltr">Hello,`},
		files: []file{
			{name: "Screenshot 2025-03-05 at 09.38.12.png", ctype: "image/png", size: 70},
			{name: "Rechnung_2025-0042_über.pdf", ctype: "application/pdf", size: 218},
		},
	},
	{
		file: "apple-mail.eml", from: "lena.vogel@example.net", name: "Lena Vogel",
		subject:    "Re: Your order SK-2025-0311",
		messageID:  "3F2E1D0C-B9A8-4765-8432-10FEDCBA9876@example.net",
		inReplyTo:  []string{"order.0311.77ab@example.com"},
		references: []string{"order.0311.77ab@example.com"},
		has:        []string{"> On 3 Mar 2025, at 16:20, Storekeep Support <support@example.com> wrote:\n> \n> Hello Lena,"},
		reply:      "Hi,\n\nthe download link in my account gives a 404 since this morning. Screenshot below.\n\nThanks,\nLena",
		html:       []string{"<blockquote><div>On 3 Mar 2025"},
		hasNot:     []string{"cid:"},
		files:      []file{{name: "Screenshot.png", ctype: "image/png", size: 70, inline: true}},
	},
	{
		file: "thunderbird-flowed.eml", from: "karl@example.org", name: "Karl Berg",
		subject:    "Re: Repository key expired?",
		messageID:  "5b8e2c1a-7d3f-4e9a-b1c2-3d4e5f6a7b8c@example.org",
		inReplyTo:  []string{"ticket.1050.aa01@example.com"},
		references: []string{"ticket.1050.aa01@example.com"},
		has: []string{
			"after I installed the new key from the download page. The message is below;", // soft breaks joined
			"> the key was renewed on 1 March; please download it again from your account.",
			"\n-- \nKarl Berg", // the signature delimiter keeps its space
		},
		reply:  "Hello,\n\napt-get update still complains about the signature after I installed the new key from the download page. The message is below; it is the same on both Debian 12 machines.\n\nFrom here on it is apt's output:\nW: GPG error: https://apt.example.com stable InRelease: The following signatures were invalid: EXPKEYSIG 0123456789ABCDEF\n\nKarl",
		noHTML: true,
	},
	{
		file: "postfix-bounce.eml", from: "mailer-daemon@mx.example.com", name: "Mail Delivery System",
		subject:   "Undelivered Mail Returned to Sender",
		messageID: "20250304124507.4B1F23C0A5@mx.example.com",
		auto:      "Auto-Submitted: auto-replied", autoSub: "auto-replied",
		report: "delivery-status",
		has:    []string{"User unknown in virtual"},
		hasNot: []string{"We have received your message"}, // the returned message is not this one's text
		noHTML: true,
		files: []file{
			{name: "attachment-1.txt", ctype: "message/delivery-status", size: 455},
			{name: "attachment-2.eml", ctype: "message/rfc822", size: 484},
		},
	},
	{
		file: "exchange-ndr.eml", from: "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e@example.org", name: "Microsoft Outlook",
		subject:    "Undeliverable: Your ticket [#1046]",
		messageID:  "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d@EX02.corp.example.org",
		inReplyTo:  []string{"ticket.1046.c8d4@example.com"},
		references: []string{"ticket.1046.c8d4@example.com"},
		report:     "delivery-status", // X-Auto-Response-Suppress alone is no auto-reply
		has:        []string{"Your message to nobody@example.org couldn't be delivered."},
		html:       []string{"<td><b>Your message to nobody@example.org couldn&#39;t be delivered.</b></td>"},
		hasNot:     []string{"<img", "products.example.net"},
		files: []file{
			{name: "attachment-1.txt", ctype: "message/delivery-status", size: 321},
			{name: "attachment-2.txt", ctype: "text/rfc822-headers", size: 145},
		},
	},
	{
		file: "arf-feedback.eml", from: "abuse@example.net", name: "Abuse Desk",
		subject:   "FW: Ihre Rechnung",
		messageID: "arf.20250306080001.1234@feedback.example.net",
		report:    "feedback-report",
		has:       []string{"This is an email abuse report"},
		hasNot:    []string{"Ihre Rechnung liegt bei"},
		noHTML:    true,
		files: []file{
			{name: "attachment-1.txt", ctype: "message/feedback-report", size: 241},
			{name: "attachment-2.eml", ctype: "message/rfc822", size: 264, inline: true},
		},
	},
	{
		file: "vacation.eml", from: "tom.klein@example.net", name: "Tom Klein",
		subject:    "Auto: Re: Your ticket [#1047]",
		messageID:  "dovecot-sieve-1741165333-123456-0@mail.example.net",
		inReplyTo:  []string{"ticket.1047.d9e5@example.com"},
		references: []string{"ticket.1047.d9e5@example.com"},
		auto:       "Auto-Submitted: auto-replied", autoSub: "auto-replied", precedence: "bulk",
		reply:  "I am on holiday until 17 March and will read your message then.",
		noHTML: true,
	},
	{
		file: "calendar-invite.eml", from: "olga.novak@example.org", name: "Olga Novak",
		subject:   "Invitation: Migration call @ Mon 10 Mar 2025 10am - 10:30am (CET) (support@example.com)",
		messageID: "calendar-4f3c2b1a-0987@example.org",
		replyTo:   []string{"olga.novak@example.org"},
		reply:     "Migration call\nMonday 10 March 2025 · 10:00 – 10:30am\nTime zone: Europe/Berlin\n\nLet us go through the migration of our licenses.", // delsp=yes joined
		hasNot:    []string{"BEGIN:VCALENDAR"},
		html:      []string{"<p>Migration call</p>"},
		files: []file{
			{name: "attachment-1.ics", ctype: "text/calendar", size: 584},
			{name: "invite.ics", ctype: "application/ics", size: 584},
		},
	},
	{
		file: "pgp-signed.eml", from: "felix@example.net", name: "Felix Braun",
		subject:   "Signed: question about the repository key",
		messageID: "7c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f@example.net",
		reply:     "Hello,\n\nwhich fingerprint should the repository key have?\n\nFelix",
		noHTML:    true,
		files:     []file{{name: "OpenPGP_signature.asc", ctype: "application/pgp-signature", size: 201}},
	},
	{
		file: "pgp-encrypted.eml", from: "felix@example.net", name: "Felix Braun",
		subject:   "...",
		messageID: "0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7@example.net",
		noHTML:    true,
		files: []file{
			{name: "attachment-1.asc", ctype: "application/pgp-encrypted", size: 12},
			{name: "encrypted.asc", ctype: "application/octet-stream", size: 203, inline: true},
		},
		problems: []string{"encrypted message: read the raw message"},
	},
	{
		file: "smime-signed.eml", from: "julia.weber@example.org", name: "Weber, Julia",
		subject:   "Renewal of our subscription",
		messageID: "DB9PR01MB7654A1B2C3D4E5F6@DB9PR01MB7654.eurprd01.prod.example.org",
		reply:     "Hello,\n\nplease renew our subscription for another year. PO number 4711.\n\nJulia Weber",
		noHTML:    true,
		files:     []file{{name: "smime.p7s", ctype: "application/x-pkcs7-signature", size: 144}},
	},
	{
		file: "japanese-iso2022jp.eml", from: "t.yamada@example.net", name: "山田 太郎",
		subject:   "ライセンスの再発行",
		messageID: "20250307100000.ABCD1234@example.net",
		reply:     "サポートご担当者様\n\nお世話になっております。\nライセンスキーの再発行をお願いできますでしょうか。\n\n山田太郎",
		noHTML:    true,
	},
	{
		file: "unknown-charset.eml", from: "someone@example.org", name: "Someone",
		subject:   "Licence question",
		messageID: "unknown-charset-1@example.org",
		reply:     "Hello, my licence key SK-1234 does not work.\nCaf\uFFFD cr\uFFFDme",
		noHTML:    true,
		problems:  []string{"a text part has an unknown charset (x-mac-klingon): it is shown undecoded"},
	},
	{
		file: "broken-mime.eml", from: "broken@example.net", name: "Broken Client",
		subject:   "log file",
		messageID: "broken.1@example.net",
		reply:     "Here is the log file you asked for.",
		noHTML:    true,
		files:     []file{{name: "server.log.gz", ctype: "application/octet-stream", size: 513}},
		problems: []string{
			"the message ends inside a MIME part (truncated, or no closing boundary): an attachment may be incomplete",
			"the MIME structure is broken (a missing or damaged boundary): kept what came before",
		},
	},
	{
		file: "exe-attachment.eml", from: "invoices@example.net", name: "Invoice Dept",
		subject:   "Your invoice",
		messageID: "exe.1@example.net",
		reply:     "Please open the attached invoice.",
		noHTML:    true,
		files:     []file{{name: "readme.txt", ctype: "text/plain", size: 11}},
		skipped: []file{
			{name: "invoice.exe", ctype: "application/octet-stream", size: 103, reason: ReasonRefused},
			{name: "invoice.pdf", ctype: "application/pdf", size: 103, reason: ReasonRefused}, // sniffed: MZ
		},
	},
	{
		file: "marketing-html.eml", from: "deals@example.net", name: "Deals",
		subject:   "Spring offer: 20 % off",
		messageID: "mk.20250310.1@mailer.example.net",
		reply:     "Spring offer: 20 % off\n\nDear customer, upgrade your Storekeep licence today.\n\nSee the offer\n\nUnsubscribe\nLog in\nHover",
		hasNot:    []string{"document.cookie", "Spring offer</title>"},
		html: []string{
			`<a href="https://example.com/offer?utm_source=mail" rel="nofollow noreferrer noopener" target="_blank">See the offer</a>`,
			"<p>Dear customer, upgrade your <b>Storekeep</b> licence today.</p>",
		},
	},
	{
		file: "spamassassin.eml", from: "winner@example.net", name: "Lottery",
		subject:   "***SPAM*** You have won",
		messageID: "spam.1@example.net",
		spam:      "X-Spam-Flag: yes",
		reply:     "Send us your bank details to claim the prize.",
		noHTML:    true,
	},
	{
		file: "mailing-list.eml", from: "nina@example.org", name: "Nina Hart",
		subject:   "[storekeep-users] Release 4.2 and the APT repository",
		messageID: "list-post-42@example.org",
		auto:      "Precedence: list", precedence: "list", listID: "users.lists.example.org",
		has:    []string{"users mailing list"},
		reply:  "Has anyone upgraded to 4.2 with the new repository key yet?\n\nNina\n_______________________________________________\nusers mailing list\nusers@lists.example.org\nhttps://lists.example.org/mailman/listinfo/users",
		noHTML: true,
	},
}

// unsafeHTML must never be in Message.HTML.
var unsafeHTML = []string{"<script", "onerror", "onclick", "onmouseover", "javascript:", "<img", "<form", "<input",
	"<iframe", "<style", "style=", "<svg", "track.example.net", "evil.example.net", "class="}

func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{}
	for _, c := range corpus {
		tested[c.file] = true
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata/corpus", c.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkCase(t, c, m)
		})
	}
	for _, f := range files {
		if !tested[filepath.Base(f)] {
			t.Errorf("%s has no case in corpus", f)
		}
	}
}

func checkCase(t *testing.T, c corpusCase, m *Message) {
	t.Helper()
	eq := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	eqs := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	eq("From", m.From, c.from)
	eq("FromName", m.FromName, c.name)
	eq("Subject", m.Subject, c.subject)
	eq("MessageID", m.MessageID, c.messageID)
	eqs("InReplyTo", m.InReplyTo, c.inReplyTo)
	eqs("References", m.References, c.references)
	eqs("To", m.To, toOf(c))
	eqs("Cc", m.Cc, c.cc)
	eqs("ReplyTo", m.ReplyTo, c.replyTo)
	if m.AutoReply != (c.auto != "") || m.AutoReason != c.auto {
		t.Errorf("AutoReply = %v %q, want %q", m.AutoReply, m.AutoReason, c.auto)
	}
	eq("AutoSubmitted", m.AutoSubmitted, c.autoSub)
	eq("Precedence", m.Precedence, c.precedence)
	eq("ListID", m.ListID, c.listID)
	if m.Report != (c.report != "") || m.ReportType != c.report {
		t.Errorf("Report = %v %q, want %q", m.Report, m.ReportType, c.report)
	}
	if m.Spam.Flagged != (c.spam != "") || m.Spam.Reason != c.spam {
		t.Errorf("Spam = %+v, want %q", m.Spam, c.spam)
	}
	if m.Date.IsZero() {
		t.Error("no Date")
	}
	for _, s := range c.has {
		if !strings.Contains(m.Text, s) {
			t.Errorf("Text does not hold %q:\n%s", s, m.Text)
		}
	}
	for _, s := range c.hasNot {
		if strings.Contains(m.Text, s) || strings.Contains(m.HTML, s) {
			t.Errorf("Text or HTML holds %q", s)
		}
	}
	if c.reply == "" {
		eq("Reply(Text)", Reply(m.Text), m.Text) // nothing quoted: all of it
	} else {
		eq("Reply(Text)", Reply(m.Text), c.reply)
	}
	if c.noHTML != (m.HTML == "") {
		t.Errorf("HTML = %q, want none: %v", m.HTML, c.noHTML)
	}
	for _, s := range c.html {
		if !strings.Contains(m.HTML, s) {
			t.Errorf("HTML does not hold %q:\n%s", s, m.HTML)
		}
	}
	for _, s := range unsafeHTML {
		if strings.Contains(strings.ToLower(m.HTML), s) {
			t.Errorf("HTML holds %q:\n%s", s, m.HTML)
		}
	}
	var got []file
	for _, a := range m.Attachments {
		got = append(got, file{name: a.Filename, ctype: a.ContentType, size: a.Size, inline: a.Inline})
		if int64(len(a.Data)) != a.Size {
			t.Errorf("%s: %d bytes of data, Size %d", a.Filename, len(a.Data), a.Size)
		}
	}
	if !slices.Equal(got, c.files) {
		t.Errorf("Attachments = %+v, want %+v", got, c.files)
	}
	got = nil
	for _, s := range m.Skipped {
		got = append(got, file{name: s.Filename, ctype: s.ContentType, size: s.Size, reason: s.Reason})
	}
	if !slices.Equal(got, c.skipped) {
		t.Errorf("Skipped = %+v, want %+v", got, c.skipped)
	}
	eqs("Problems", m.Problems, c.problems)
}

// toOf is the To of each fixture: the support address, but for the ones
// written otherwise.
func toOf(c corpusCase) []string {
	switch c.file {
	case "arf-feedback.eml":
		return []string{"abuse-reports@example.com"}
	case "mailing-list.eml":
		return []string{"users@lists.example.org"}
	}
	return []string{"support@example.com"}
}
