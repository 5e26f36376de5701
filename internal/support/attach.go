package support

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
)

// MailAttacher attaches to a staff reply the files the staff member
// uploaded with it, read from the ticket at send time (the outbox keeps
// no files). It attaches nothing to other mail.
type MailAttacher struct{ DB *db.DB }

// Attachments implements mail.Attacher.
func (a MailAttacher) Attachments(ctx context.Context, m mail.Queued) ([]mail.Attachment, error) {
	id, ok := strings.CutPrefix(m.DedupKey, "support-reply:")
	if m.Template != "support-reply" || !ok {
		return nil, nil
	}
	mid, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, nil
	}
	rows, err := a.DB.QueryContext(ctx, `SELECT filename, content_type, data FROM support_attachments WHERE message_id = $1 ORDER BY id`, mid)
	if err != nil {
		return nil, fmt.Errorf("support: read a reply's attachments: %w", err)
	}
	defer rows.Close()
	var out []mail.Attachment
	for rows.Next() {
		var f mail.Attachment
		if err := rows.Scan(&f.Filename, &f.ContentType, &f.Data); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
