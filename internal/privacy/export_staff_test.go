package privacy_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestStaffExportHoldsTheirMail: the mail Storekeep sent a staff member
// (a password reset, queued as the console's reset page queues it) is in
// their export, and not in the export of a customer with the same
// address; erasing the staff member removes it. Before, the outbox was
// linked to customers only, and a staff member's export missed it.
func TestStaffExportHoldsTheirMail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const addr = "ops@milterworks.example"
		var acct staff.Account
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			if acct, err = staff.Create(ctx, tx, addr, "Ops Person", staff.Owner, t0); err != nil {
				return err
			}
			if _, err := staff.IssueToken(ctx, tx, acct.ID, staff.ResetToken, t0); err != nil {
				return err
			}
			m, err := mail.Compose("staff_reset", acct.Email, mail.StaffResetData{SiteName: "M", Link: "https://x/staff/setup?t=secret"})
			if err != nil {
				return err
			}
			m.StaffID = acct.ID
			_, err = mail.Enqueue(ctx, tx, m, t0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// A customer who uses the same address gets a sign-in link.
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := mail.Enqueue(ctx, tx, mail.Message{Kind: mail.Transactional, Template: "signin", To: addr, Subject: "Sign in", Text: "link"}, t0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		mailOf := func(ref privacy.SubjectRef) []string {
			e, err := privacy.Collect(ctx, d, privacy.Declared, settings.Defaults(), ref, t0)
			if err != nil {
				t.Fatal(err)
			}
			var templates []string
			for _, tb := range e.Tables {
				if tb.Name == "outbox" {
					for _, r := range tb.Rows {
						templates = append(templates, r["template"].(string))
						if _, ok := r["text_body"]; ok {
							t.Errorf("the export holds a mail's text")
						}
					}
				}
			}
			return templates
		}
		if got := mailOf(privacy.SubjectRef{Kind: privacy.Staff, ID: acct.ID, Email: acct.Email}); len(got) != 1 || got[0] != "staff_reset" {
			t.Fatalf("the staff member's export holds the mails %v, want their password reset", got)
		}
		if got := mailOf(privacy.SubjectRef{Kind: privacy.Customer, Email: addr}); len(got) != 1 || got[0] != "signin" {
			t.Fatalf("the customer's export holds the mails %v, want only the sign-in link", got)
		}
		rep := erase(t, d, privacy.SubjectRef{Kind: privacy.Staff, ID: acct.ID, Email: acct.Email}, nil)
		if st := stepOf(rep, "outbox"); st.Rows != 1 {
			t.Fatalf("outbox step of the staff erasure: %+v", st)
		}
		var left int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE staff_id = $1`, acct.ID).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d staff mails left after erasure, %v", left, err)
		}
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE template = 'signin'`).Scan(&left); err != nil || left != 1 {
			t.Fatalf("the customer's mail went with the staff erasure: %d, %v", left, err)
		}
	})
}
