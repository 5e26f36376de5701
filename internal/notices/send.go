package notices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
)

// Start writes the notice's recipients (its audience now, in one INSERT
// ... SELECT) and hands it to the dispatcher. Only a draft or scheduled
// notice starts, once: the status changes first, conditionally, so two
// instances starting one notice start it once. An empty audience is
// ErrEmptyAudience and changes nothing.
func Start(ctx context.Context, d *db.DB, lists ListAudience, by audit.Actor, id int64, now time.Time) (int64, error) {
	var count int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'sending', started_at = $1, updated_at = $1, note = ''
			WHERE id = $2 AND status IN ('draft', 'scheduled')`, now.UTC(), id)
		if err != nil {
			return fmt.Errorf("start notice: %w", err)
		}
		if err := oneRow(ctx, tx, res, id); err != nil {
			return err
		}
		n, err := ByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if n.Kind.ToList() {
			if lists == nil {
				return refuse.New(refuse.Conflict, "notice_no_lists", "Mailing lists are not available on this site: the notice cannot go to a list.")
			}
			count, err = lists.InsertRecipients(ctx, tx, n.ID, n.ListID, now.UTC())
		} else {
			count, err = insertHolders(ctx, tx, n, now)
		}
		if err != nil {
			return err
		}
		if count == 0 {
			return ErrEmptyAudience
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notices SET recipients = $1 WHERE id = $2`, count, id); err != nil {
			return err
		}
		return record(ctx, tx, by, "notice.started", id, fmt.Sprintf("%d recipients", count), now)
	})
	if err != nil {
		return 0, err
	}
	return count, nil
}

// Schedule makes a draft start by itself at when (the dispatcher starts
// it); a zero when turns a scheduled notice back into a draft.
func Schedule(ctx context.Context, d *db.DB, by audit.Actor, id int64, when, now time.Time) error {
	if !when.IsZero() && !when.After(now) {
		return refuse.Field("send_at", "Choose a time in the future, or send the notice now.")
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		action, detail := "notice.scheduled", when.UTC().Format(time.RFC3339)
		if when.IsZero() {
			action, detail = "notice.unscheduled", ""
			res, err = tx.ExecContext(ctx, `UPDATE notices SET status = 'draft', send_at = NULL, updated_at = $1 WHERE id = $2 AND status = 'scheduled'`, now.UTC(), id)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE notices SET status = 'scheduled', send_at = $1, note = '', updated_at = $2 WHERE id = $3 AND status IN ('draft', 'scheduled')`,
				when.UTC(), now.UTC(), id)
		}
		if err != nil {
			return fmt.Errorf("schedule notice: %w", err)
		}
		if err := oneRow(ctx, tx, res, id); err != nil {
			return err
		}
		return record(ctx, tx, by, action, id, detail, now)
	})
}

// Pause stops the dispatcher moving the notice's recipients into the
// outbox; what is in the outbox already goes out.
func Pause(ctx context.Context, d *db.DB, by audit.Actor, id int64, now time.Time) error {
	return setStatus(ctx, d, by, id, Sending, Paused, "notice.paused", now)
}

// Resume lets a paused notice go on where it stopped.
func Resume(ctx context.Context, d *db.DB, by audit.Actor, id int64, now time.Time) error {
	return setStatus(ctx, d, by, id, Paused, Sending, "notice.resumed", now)
}

func setStatus(ctx context.Context, d *db.DB, by audit.Actor, id int64, from, to Status, action string, now time.Time) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notices SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4`, string(to), now.UTC(), id, string(from))
		if err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		if err := oneRow(ctx, tx, res, id); err != nil {
			return err
		}
		return record(ctx, tx, by, action, id, "", now)
	})
}

// TestSend queues the notice, as its recipients will read it, to the
// staff member's own address, marked as a test in the subject. It is
// transactional mail to staff: no unsubscribe link, since there is no
// subscription; the footer shows where the recipients' link will be.
func TestSend(ctx context.Context, d *db.DB, by audit.Actor, id, staffID int64, staffEmail, site string, now time.Time) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		n, err := ByID(ctx, tx, id)
		if err != nil {
			return err
		}
		c, err := Render(n, site, "")
		if err != nil {
			return err
		}
		_, err = mail.Enqueue(ctx, tx, mail.Message{Kind: mail.Transactional, Template: "notice_test", To: staffEmail,
			Subject: "[Test] " + c.Subject, Text: c.Text + "(Each recipient's copy ends with their unsubscribe link.)\n", HTML: c.HTML, StaffID: staffID}, now)
		if err != nil {
			return err
		}
		return record(ctx, tx, by, "notice.test_sent", id, "", now)
	})
}

// FromRelease starts the announcement of a published release as a draft
// to the list: the release notes as its text, a person to review and
// send it. A second draft for the same release is refused.
func FromRelease(ctx context.Context, d *db.DB, by audit.Actor, releaseID, listID int64, base *url.URL, now time.Time) (int64, error) {
	rel, err := releases.ByID(ctx, d, releaseID)
	if errors.Is(err, releases.ErrNotFound) {
		return 0, refuse.New(refuse.NotFound, "release_not_found", "There is no such release.")
	}
	if err != nil {
		return 0, err
	}
	if rel.Draft() || !rel.YankedAt.IsZero() {
		return 0, ErrState.With("Only a published release can be announced.")
	}
	var existing int64
	err = d.QueryRowContext(ctx, `SELECT id FROM notices WHERE release_id = $1 ORDER BY id LIMIT 1`, releaseID).Scan(&existing)
	if err == nil {
		return existing, refuse.New(refuse.Conflict, "notice_release_exists", "This release has an announcement already: edit that one.")
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	name := rel.ProductName
	if name == "" {
		name = rel.Product
	}
	body := fmt.Sprintf("%s %s is out.\n\n%s\n", name, rel.Version, rel.Notes)
	if base != nil {
		body += fmt.Sprintf("\nDownload it from your account: %s/account\n", base.String())
	}
	in := Input{Kind: Release, Subject: fmt.Sprintf("%s %s released", name, rel.Version), Body: body, ListID: listID}
	if listID <= 0 {
		in.ListID = 0
	}
	// A draft may lack its list until a person chooses one; check the rest.
	probe := in
	if probe.ListID == 0 {
		probe.ListID = 1
	}
	if err := probe.check(); err != nil {
		return 0, err
	}
	return createTx(ctx, d, by, in, releaseID, now)
}
