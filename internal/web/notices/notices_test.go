package notices_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

var noticeID = regexp.MustCompile(`^/staff/notices/(\d+)\?done=`)

// created posts the compose form and returns the new notice's path.
func created(t *testing.T, b *webtest.Browser, form url.Values) string {
	t.Helper()
	res, body := b.Post(t, "/staff/notices", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", res.StatusCode, body)
	}
	m := noticeID.FindStringSubmatch(res.Header.Get("Location"))
	if m == nil {
		t.Fatalf("create redirected to %s", res.Header.Get("Location"))
	}
	return "/staff/notices/" + m[1]
}

func holder(t *testing.T, s *webtest.Site, email string) {
	t.Helper()
	_, c := webtest.SignedInCustomer(t, s, email)
	webtest.IssueLicense(t, s, c.ID, "standard", false)
}

func TestConsoleNoticeFlow(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		owner := webtest.NewBrowser(s)
		om := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		owner.SignIn(t, om)
		holder(t, s, "ada@example.com")
		holder(t, s, "bob@example.com")

		res, body := owner.Get(t, "/staff/notices")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if !strings.Contains(body, "No notice yet") {
			t.Fatalf("empty list:\n%s", body)
		}
		res, body = owner.Get(t, "/staff/notices/new?kind=security")
		webtest.WantStatus(t, res, body, http.StatusOK)

		// A refused form keeps what was typed.
		res, body = owner.Post(t, "/staff/notices", url.Values{"kind": {"security"}, "subject": {""}, "body": {"text"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		if !strings.Contains(body, "Write a subject") {
			t.Fatalf("refusal:\n%s", body)
		}

		path := created(t, owner, url.Values{"kind": {"security"}, "subject": {"Mailguard 2.4.1 fixes a header injection"},
			"body": {"Update **now**.\n\n<script>alert(1)</script>\n\n[details](javascript:alert(2))"}, "product": {"mailguard"},
			"states": {"active", "in_grace"}})
		res, body = owner.Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusOK)
		for _, want := range []string{"<strong>now</strong>", "would go to <strong>2</strong> people"} {
			if !strings.Contains(body, want) {
				t.Errorf("notice page lacks %q", want)
			}
		}
		// The plain-text part shows the Markdown as text (escaped); no
		// script element and no javascript: link reach the page.
		if strings.Contains(body, "<script>alert") || strings.Contains(body, `href="javascript`) {
			t.Fatalf("the preview runs script:\n%s", body)
		}

		// Edit: another product empties the audience; sending it is refused.
		res, body = owner.Get(t, path+"/edit")
		webtest.WantStatus(t, res, body, http.StatusOK)
		res, _ = owner.Post(t, path+"/edit", url.Values{"kind": {"security"}, "subject": {"Nobody"}, "body": {"x"}, "product": {"nothing"}})
		webtest.WantRedirect(t, res, path+"?done=saved")
		res, body = owner.Post(t, path+"/send", nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		if !strings.Contains(body, "nothing was queued") {
			t.Fatalf("empty audience:\n%s", body)
		}
		res, _ = owner.Post(t, path+"/edit", url.Values{"kind": {"security"}, "subject": {"Mailguard 2.4.1 fixes a header injection"},
			"body": {"Update **now**."}, "product": {"mailguard"}, "states": {"active"}})
		webtest.WantRedirect(t, res, path+"?done=saved")

		// Test send to oneself.
		res, _ = owner.Post(t, path+"/test", nil)
		webtest.WantRedirect(t, res, path+"?done=tested")
		var to, subject string
		d.QueryRowContext(ctx, `SELECT to_addr, subject FROM outbox WHERE template = 'notice_test'`).Scan(&to, &subject)
		if to != "owner@milterworks.example" || !strings.HasPrefix(subject, "[Test] ") {
			t.Fatalf("test send went to %q with %q", to, subject)
		}

		// Schedule, then back to draft; a time in the past is refused.
		res, body = owner.Post(t, path+"/schedule", url.Values{"send_at": {"2020-01-01T09:00"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = owner.Post(t, path+"/schedule", url.Values{"send_at": {"yesterday"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = owner.Post(t, path+"/schedule", url.Values{"send_at": {s.Clock.Now().AddDate(0, 0, 1).Format("2006-01-02T15:04")}})
		webtest.WantRedirect(t, res, path+"?done=scheduled")
		res, body = owner.Get(t, "/staff/notices")
		if !strings.Contains(body, "scheduled (") {
			t.Fatalf("list does not show the schedule:\n%s", body)
		}
		res, _ = owner.Post(t, path+"/schedule", url.Values{"unschedule": {"1"}})
		webtest.WantRedirect(t, res, path+"?done=unscheduled")

		// Send, pause, resume.
		res, _ = owner.Post(t, path+"/send", nil)
		webtest.WantRedirect(t, res, path+"?done=sending")
		res, _ = owner.Post(t, path+"/send", nil)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("second send: %d", res.StatusCode)
		}
		res, _ = owner.Post(t, path+"/pause", nil)
		webtest.WantRedirect(t, res, path+"?done=paused")
		res, body = owner.Get(t, path)
		if !strings.Contains(body, `id="resume"`) || !strings.Contains(body, `<td>2</td>`) {
			t.Fatalf("paused page:\n%s", body)
		}
		res, _ = owner.Post(t, path+"/resume", nil)
		webtest.WantRedirect(t, res, path+"?done=resumed")

		base, _ := url.Parse("https://shop.example")
		snd := &notices.Sender{DB: d, Clock: clock.NewFixed(s.Clock.Now()), Rate: notices.DefaultRate, BaseURL: base, Secret: []byte("0123456789abcdef0123456789abcdef")}
		if o, err := snd.RunOnce(ctx); err != nil || o.Queued != 2 {
			t.Fatalf("dispatch: %+v, %v", o, err)
		}
		res, body = owner.Get(t, path)
		if !strings.Contains(body, "Every message is in the outbox") {
			t.Fatalf("sent page:\n%s", body)
		}
		res, body = owner.Get(t, path+"/messages?status=queued")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if !strings.Contains(body, "ada@example.com") || !strings.Contains(body, "bob@example.com") {
			t.Fatalf("messages:\n%s", body)
		}
		if len(webtest.AuditActions(t, d, "personal_data.view")) == 0 {
			t.Fatal("the recipients' list was not recorded as a view")
		}
		for _, a := range []string{"notice.created", "notice.updated", "notice.test_sent", "notice.scheduled", "notice.unscheduled", "notice.started", "notice.paused", "notice.resumed"} {
			if len(webtest.AuditActions(t, d, a)) == 0 {
				t.Errorf("no audit entry %s", a)
			}
		}
	})
}

func TestNoticesPermission(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	for _, c := range []struct {
		role staff.Role
		want int
	}{{staff.Support, http.StatusOK}, {staff.Finance, http.StatusForbidden}, {staff.Analyst, http.StatusForbidden}} {
		b := webtest.NewBrowser(s)
		b.SignIn(t, webtest.AddStaff(t, s, string(c.role)+"@milterworks.example", c.role, true))
		res, _ := b.Get(t, "/staff/notices")
		if res.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.role, res.StatusCode, c.want)
		}
		res, _ = b.Post(t, "/staff/notices", url.Values{"kind": {"security"}, "subject": {"x"}, "body": {"x"}})
		if c.want == http.StatusForbidden && res.StatusCode != http.StatusForbidden {
			t.Errorf("%s may create a notice: %d", c.role, res.StatusCode)
		}
	}
}

// TestReleaseStartsADraftAnnouncement: the release page's button makes a
// draft from the notes; nothing is sent, and a second press opens it.
func TestReleaseStartsADraftAnnouncement(t *testing.T) {
	d := testutil.SQLite(t)
	s, rs := webtest.ReleaseSite(t, d)
	owner := webtest.NewBrowser(s)
	owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
	draft, err := rs.Create(context.Background(), staffActor(), releases.NewRelease{Product: "mailguard", Version: "2.5.0", Channel: releases.Stable, Notes: "Faster."})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := owner.Post(t, "/staff/releases/"+webtest.Itoa(draft.ID)+"/announce", nil)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("a draft release announced: %d", res.StatusCode)
	}
	rel := webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "2.4.1", Channel: releases.Stable, Notes: "Fixes **CVE-2026-1**."},
		map[string][]byte{"mailguard-2.4.1.bin": []byte("binary")})
	res, body := owner.Get(t, "/staff/releases/"+webtest.Itoa(rel.ID))
	if !strings.Contains(body, `action="/staff/releases/`+webtest.Itoa(rel.ID)+`/announce"`) {
		t.Fatalf("the release page has no announce button:\n%s", body)
	}
	res, _ = owner.Post(t, "/staff/releases/"+webtest.Itoa(rel.ID)+"/announce", nil)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=release") {
		t.Fatalf("announce: %d %s", res.StatusCode, loc)
	}
	res, body = owner.Get(t, loc)
	if !strings.Contains(body, "Mailguard 2.4.1 released") || !strings.Contains(body, "<strong>CVE-2026-1</strong>") || !strings.Contains(body, `id="status">draft`) {
		t.Fatalf("draft announcement:\n%s", body)
	}
	res, _ = owner.Post(t, "/staff/releases/"+webtest.Itoa(rel.ID)+"/announce", nil)
	if res.StatusCode != http.StatusSeeOther || strings.Contains(res.Header.Get("Location"), "done=release") {
		t.Fatalf("second press: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	var n int
	d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE template = 'notice'`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d messages sent by a release", n)
	}
}

func staffActor() audit.Actor { return audit.System() }
