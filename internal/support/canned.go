package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Canned is a canned reply: a text staff start a reply from. "{name}"
// and "{ticket}" in it are filled in with the customer's name and the
// ticket's number.
type Canned struct {
	ID    int64
	Title string
	Body  string
}

// Fill puts a ticket's values into a canned reply's placeholders.
func (c Canned) Fill(t Ticket) string {
	name := t.Name
	if name == "" {
		name = "there"
	}
	return strings.NewReplacer("{name}", name, "{ticket}", t.Number()).Replace(c.Body)
}

// ListCanned lists the canned replies by title.
func (d *Desk) ListCanned(ctx context.Context) ([]Canned, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT id, title, body FROM support_canned ORDER BY title`)
	if err != nil {
		return nil, fmt.Errorf("support: list canned replies: %w", err)
	}
	defer rows.Close()
	var out []Canned
	for rows.Next() {
		var c Canned
		if err := rows.Scan(&c.ID, &c.Title, &c.Body); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CannedByID reads one canned reply.
func (d *Desk) CannedByID(ctx context.Context, id int64) (Canned, error) {
	var c Canned
	err := d.DB.QueryRowContext(ctx, `SELECT id, title, body FROM support_canned WHERE id = $1`, id).Scan(&c.ID, &c.Title, &c.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// SaveCanned creates (ID 0) or changes a canned reply.
func (d *Desk) SaveCanned(ctx context.Context, c Canned, by audit.Actor) (Canned, error) {
	c.Title = oneLine(c.Title, 100)
	c.Body = cleanText(c.Body)
	if c.Title == "" {
		return c, refuse.Field("title", "give the canned reply a title")
	}
	if strings.TrimSpace(c.Body) == "" {
		return c, refuse.Field("body", "the canned reply is empty")
	}
	err := d.DB.Tx(ctx, func(tx *sql.Tx) error {
		now := d.now()
		var err error
		if c.ID == 0 {
			err = tx.QueryRowContext(ctx, `INSERT INTO support_canned (title, body, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (title) DO NOTHING RETURNING id`, c.Title, c.Body, now).Scan(&c.ID)
		} else {
			err = tx.QueryRowContext(ctx, `UPDATE support_canned SET title = $2, body = $3, updated_at = $4 WHERE id = $1 RETURNING id`,
				c.ID, c.Title, c.Body, now).Scan(&c.ID)
		}
		if errors.Is(err, sql.ErrNoRows) {
			if c.ID == 0 {
				return refuse.Field("title", "a canned reply with this title exists: choose another title")
			}
			return ErrNotFound
		}
		if err != nil {
			if strings.Contains(strings.ToLower(err.Error()), "unique") {
				return refuse.Field("title", "a canned reply with this title exists: choose another title")
			}
			return fmt.Errorf("support: save canned reply: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "support.canned_saved", SubjectType: "support_canned",
			SubjectID: strconv.FormatInt(c.ID, 10)}.By(by))
		return err
	})
	return c, err
}

// DeleteCanned deletes a canned reply.
func (d *Desk) DeleteCanned(ctx context.Context, id int64, by audit.Actor) error {
	return d.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM support_canned WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: d.now(), Action: "support.canned_deleted", SubjectType: "support_canned",
			SubjectID: strconv.FormatInt(id, 10)}.By(by))
		return err
	})
}
