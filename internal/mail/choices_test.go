package mail_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestChoicesStopBulkMail: an objection to product notices and a withdrawn
// newsletter consent each stop the mail they concern, and only that.
func TestChoicesStopBulkMail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		try := func(purpose string) error {
			return d.Tx(ctx, func(tx *sql.Tx) error {
				m := mail.Message{Kind: mail.Bulk, Template: "announcement", To: "c@example.com", Subject: "News", Text: "Hello",
					CustomerID: 9, Purpose: purpose, UnsubscribeURL: "https://shop.example.com/unsubscribe/x"}
				_, err := mail.Enqueue(ctx, tx, m, now)
				return err
			})
		}
		if err := try("notices"); err != nil {
			t.Fatalf("a notice without objection: %v", err)
		}
		if err := try("marketing"); !errors.Is(err, mail.ErrNotPermitted) {
			t.Fatalf("a newsletter without consent: %v", err)
		}
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			return privacy.SetChoice(ctx, tx, privacy.Declared, 9, privacy.ChoiceObjection, "notices", true, "", now)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := try("notices"); !errors.Is(err, mail.ErrNotPermitted) {
			t.Fatalf("a notice after the objection: %v", err)
		}
		var n int
		d.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d messages queued, want only the one sent before the objection", n)
		}
	})
}
