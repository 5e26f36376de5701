package mailmsg

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestReply(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"no quote", "Just a question.\n", "Just a question."},
		{"gmail one line", "Yes, thanks.\n\nOn Mon, Mar 3, 2025 at 2:02 PM Support <support@example.com> wrote:\n> old\n", "Yes, thanks."},
		{"gmail wrapped", "Yes.\n\nOn Mon, 3 Mar 2025 at 14:02, Storekeep Support <\nsupport@example.com> wrote:\n\n> old\n", "Yes."},
		{"wrapped over three lines", "Yes.\n\nOn Mon, 3 Mar 2025 at 14:02, A very long display name of the\nsupport team of Storekeep <\nsupport@example.com> wrote:\n", "Yes."},
		{"thunderbird", "Fine.\n\nOn 05.03.25 09:10, Storekeep Support wrote:\n> old\n", "Fine."},
		{"german gmail", "Danke!\n\nAm Mo., 3. März 2025 um 14:02 Uhr schrieb Support <support@example.com>:\n> alt\n", "Danke!"},
		{"german apple", "Danke!\n\n> Am 03.03.2025 um 14:02 schrieb Support <support@example.com>:\n> \n> alt\n", "Danke!"},
		{"french gmail", "Merci.\n\nLe lun. 3 mars 2025 à 14:02, Support <support@example.com> a écrit :\n> ancien\n", "Merci."},
		{"french nbsp", "Merci.\n\nLe lun. 3 mars 2025 à 14:02, Support <support@example.com> a\u00a0écrit\u00a0:\n", "Merci."},
		{"outlook original message", "Please call me.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n", "Please call me."},
		{"outlook german original", "Bitte anrufen.\n\n-----Ursprüngliche Nachricht-----\nVon: Support\n", "Bitte anrufen."},
		{"outlook header block", "Done.\n\nFrom: Storekeep Support <support@example.com>\nSent: Tuesday, March 4, 2025 10:12 AM\nTo: Hans\nSubject: RE: x\n\nold", "Done."},
		{"outlook underscores", "Done.\n\n________________________________\nFrom: Storekeep Support <support@example.com>\nSent: Tuesday, March 4, 2025 10:12 AM\n", "Done."},
		{"outlook german header", "Erledigt.\n\nVon: Storekeep Support <support@example.com>\nGesendet: Dienstag, 4. März 2025 10:12\nAn: Hans\n", "Erledigt."},
		{"outlook french header", "Fait.\n\nDe : Storekeep Support <support@example.com>\nEnvoyé : mardi 4 mars 2025 10:12\n", "Fait."},
		{"new outlook bold", "Done.\n\n*From:* Support <support@example.com>\n*Date:* Tuesday, 4 March 2025 at 10:12\n", "Done."},
		{"apple quote", "Thanks,\nLena\n\n> On 3 Mar 2025, at 16:20, Support <support@example.com> wrote:\n> \n> old\n", "Thanks,\nLena"},
		{"attribution without date", "Ok.\n\nSupport <support@example.com> wrote:\n> old\n", "Ok."},
		{"signature", "Hello,\nthe key fails.\n-- \nKarl Berg\nExample Ltd\n", "Hello,\nthe key fails."},
		{"signature without space", "Hello.\n--\nKarl\n", "Hello."},
		{"crlf", "Yes.\r\n\r\nOn Mon, 3 Mar 2025, Support wrote:\r\n> old\r\n", "Yes."},
		{"bottom posted", "On Mon, 3 Mar 2025, Support wrote:\n> Did it work?\n\nYes, it did.\n", "Yes, it did."},
		{"only a quote", "> only quoted\n> text\n", "> only quoted\n> text"},
		{"only a signature", "-- \nKarl\n", "-- \nKarl"},
		{"from line in prose is kept", "From: the log\nit says error 5\n", "From: the log\nit says error 5"},
		{"from here is not a header", "From here on:\nSent: nothing\n", "From here on:\nSent: nothing"},
		{"on without wrote", "On Monday the key stopped working.\nPlease help.\n", "On Monday the key stopped working.\nPlease help."},
		{"forward is kept", "See below.\n\n---------- Forwarded message ---------\nFrom: Admin <admin@example.org>\nThe error.\n", "See below.\n\n---------- Forwarded message ---------\nFrom: Admin <admin@example.org>\nThe error."},
		{"blank", "  \n\t\n", ""},
		{"empty", "", ""},
	}
	for _, c := range cases {
		if got := Reply(c.in); got != c.want {
			t.Errorf("%s: Reply(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func FuzzReply(f *testing.F) {
	for _, s := range []string{"a\n\nOn Mon, X <\nx@example.com> wrote:\n> b", "-- \n", "> x\ny", "From: a\nSent: b", "___________\nFrom: x", "Am x schrieb y:\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Reply(s)
		if strings.TrimSpace(s) != "" && got == "" {
			t.Fatalf("Reply(%q) is empty", s)
		}
		if got != strings.TrimSpace(got) {
			t.Fatalf("Reply(%q) = %q is not trimmed", s, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Reply(%q) = %q is not valid UTF-8", s, got)
		}
		if len(got) > len(s) {
			t.Fatalf("Reply(%q) = %q is longer than its input", s, got)
		}
	})
}
