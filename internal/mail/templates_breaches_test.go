package mail_test

import (
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/breaches"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/review"
)

// The breach deadline warning and the monthly review reminder, with the
// data types their senders use.
func init() {
	samples["breach_deadline"] = breaches.DeadlineMail{SiteName: "Milterworks", Number: 4, Title: "Backup <copied>",
		Discovered: "1 December 2026, 09:00 UTC", Deadline: "4 December 2026, 09:00 UTC", Hours: 20, Link: "https://x/staff/breaches/4"}
	samples["privacy_review_reminder"] = review.ReminderMail{SiteName: "Milterworks", Month: "December 2026", LastReview: "3 November 2026",
		Link: "https://x/staff/review"}
}

func TestBreachDeadlineMailSaysWhenAndWhere(t *testing.T) {
	subject, text, html, err := mail.Render("breach_deadline", samples["breach_deadline"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(subject, "20 hour(s) left") || !strings.Contains(text, "4 December 2026, 09:00 UTC") ||
		!strings.Contains(html, "Backup &lt;copied&gt;") || !strings.Contains(text, "https://x/staff/breaches/4") {
		t.Fatalf("warning:\n%s\n%s\n%s", subject, text, html)
	}
	over := samples["breach_deadline"].(breaches.DeadlineMail)
	over.Overdue = true
	subject, text, _, _ = mail.Render("breach_deadline", over)
	if !strings.Contains(subject, "have passed") || !strings.Contains(text, "20 hour(s) ago") {
		t.Fatalf("overdue warning:\n%s\n%s", subject, text)
	}
}
