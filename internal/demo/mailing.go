package demo

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/lists"
	"github.com/storekeep/storekeep/internal/notices"
)

// Subscribers are the made-up readers of the demo's newsletter and
// release announcements; each confirmed by the link mailed to them, as
// on the real site.
var Subscribers = []struct{ Email, List string }{
	{"reader.one@example.net", lists.NewsletterKey},
	{"reader.two@example.net", lists.NewsletterKey},
	{"postmaster@relay.example.org", lists.NewsletterKey},
}

var demoConfirm = regexp.MustCompile(`/newsletter/confirm\?t=([A-Za-z0-9_-]+)`)

// SeedMailing gives the demo's mailing area something to show: newsletter
// subscribers (double opt-in, confirmed), and two drafts, a security
// notice to the QuillGuard license holders and a newsletter, which a
// visitor of the console previews, tests and sends (the demo's dispatcher
// delivers into the mail viewer). Drafts, not sent: the demo's sample
// customers' mail is what its browser tests read. It does nothing when
// notices exist.
func SeedMailing(ctx context.Context, d *db.DB, now time.Time) (bool, error) {
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM notices`).Scan(&n); err != nil {
		return false, fmt.Errorf("check demo notices: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	for _, s := range Subscribers {
		l, err := lists.Find(ctx, d, s.List)
		if err != nil {
			return false, err
		}
		if err := lists.Subscribe(ctx, d, lists.Request{List: l, Email: s.Email, Wording: lists.Wording(l, Vendor.Name), PolicySeq: 1,
			SiteName: Vendor.Name, BaseURL: "http://127.0.0.1"}, now); err != nil {
			return false, fmt.Errorf("demo subscriber: %w", err)
		}
		var text string
		if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE template = 'list-confirm' AND to_addr = $1 ORDER BY id DESC LIMIT 1`,
			s.Email).Scan(&text); err != nil {
			return false, fmt.Errorf("demo subscriber's confirmation: %w", err)
		}
		m := demoConfirm.FindStringSubmatch(text)
		if m == nil {
			return false, fmt.Errorf("demo subscriber: no confirmation link in the mail")
		}
		if _, err := lists.Confirm(ctx, d, m[1], now); err != nil {
			return false, fmt.Errorf("demo subscriber: %w", err)
		}
	}
	owner := audit.System()
	if _, err := notices.Create(ctx, d, owner, notices.Input{Kind: notices.Security,
		Subject: "Security notice: update QuillGuard Milter to 2.4.1",
		Body: "QuillGuard Milter before **2.4.1** can be made to stop filtering by a message with a malformed " +
			"`Content-Type` header.\n\nUpdate to 2.4.1 from your account's downloads page or the package repository " +
			"(`apt-get update && apt-get install quillguard`). No configuration change is needed.",
		Audience: notices.Audience{Product: "quillguard"}}, now); err != nil {
		return false, fmt.Errorf("demo security notice: %w", err)
	}
	nl, err := lists.Find(ctx, d, lists.NewsletterKey)
	if err != nil {
		return false, err
	}
	if _, err := notices.Create(ctx, d, owner, notices.Input{Kind: notices.Newsletter, Subject: "QuillGuard news, winter 2026",
		Body: "## What is new\n\n- DMARC reports in QuillGuard Reports\n- Faster greylisting\n\nThank you for reading.", ListID: nl.ID}, now); err != nil {
		return false, fmt.Errorf("demo newsletter: %w", err)
	}
	return true, nil
}
