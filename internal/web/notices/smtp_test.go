package notices_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/unsubscribe"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestARealSMTPServerReceivesTheNotice: a notice written and sent in the
// console, dispatched and delivered by the outbox worker to a real SMTP
// server, arrives as bulk mail with both parts, the one-click
// unsubscribe headers and a link naming its recipient row.
func TestARealSMTPServerReceivesTheNotice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		holder(t, s, "ada@example.com")
		path := created(t, owner, url.Values{"kind": {"security"}, "subject": {"Mailguard 2.4.1: update now"},
			"body":    {"Version **2.4.1** fixes CVE-2026-1.\n\n<script>alert(1)</script>\n\n[Read more](https://milterworks.example/cve)"},
			"product": {"mailguard"}, "states": {"active"}})
		res, _ := owner.Post(t, path+"/send", nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("send: %d", res.StatusCode)
		}
		base, _ := url.Parse("https://shop.milterworks.example")
		secret := []byte("0123456789abcdef0123456789abcdef")
		clk := clock.NewFixed(s.Clock.Now())
		if o, err := (&notices.Sender{DB: d, Clock: clk, Rate: notices.DefaultRate, BaseURL: base, Secret: secret, Site: "Milterworks"}).RunOnce(ctx); err != nil || o.Queued != 1 {
			t.Fatalf("dispatch: %+v, %v", o, err)
		}
		sink := testutil.StartSMTP(t)
		snd, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, Timeout: 5 * time.Second, SendTimeout: 10 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: d, Sender: snd, Clock: clk, From: "Milterworks <shop@milterworks.example>", ID: "w1", Batch: 10}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got := sink.WaitFor(1, 10*time.Second)
		m := got[0]
		if m.To[0] != "ada@example.com" || m.Subject != "Mailguard 2.4.1: update now" {
			t.Fatalf("received %v %q", m.To, m.Subject)
		}
		lu := m.Header.Get("List-Unsubscribe")
		if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(lu, "https://shop.milterworks.example/unsubscribe/") ||
			m.Header.Get("Precedence") != "bulk" {
			t.Fatalf("headers: List-Unsubscribe %q, Post %q, Precedence %q", lu, m.Header.Get("List-Unsubscribe-Post"), m.Header.Get("Precedence"))
		}
		link := strings.Trim(strings.Split(lu, ",")[0], "<> ")
		tok, err := unsubscribe.Parse(secret, strings.TrimPrefix(link, "https://shop.milterworks.example/unsubscribe/"))
		if err != nil || tok.Notice == 0 || tok.Purpose != "notices" {
			t.Fatalf("the link %s: %+v, %v", link, tok, err)
		}
		if !strings.Contains(m.HTML, "<strong>2.4.1</strong>") || strings.Contains(m.HTML, "<script") || !strings.Contains(m.HTML, `href="`+link+`"`) {
			t.Fatalf("HTML part:\n%s", m.HTML)
		}
		if !strings.Contains(m.Text, "Version **2.4.1** fixes") || !strings.Contains(m.Text, "Unsubscribe: "+link) {
			t.Fatalf("text part:\n%s", m.Text)
		}
		res, body := owner.Get(t, path+"/messages?status=sent")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "ada@example.com") {
			t.Fatalf("the message is not shown as sent:\n%s", body)
		}
	})
}
