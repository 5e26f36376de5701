package privacy

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// ReviewRow is one table in the data review: how much personal data it
// holds, how old the oldest is, and how much is past its retention (which
// the purge should have removed: a sign that it does not run).
type ReviewRow struct {
	Table       string
	Subject     Subject
	Description string
	Rows        int64
	Oldest      time.Time // zero when the table is empty or has no date
	Expired     int64     // rows past the retention of all their personal data
	Retention   string
}

// Review reports, for every table holding personal data, what the vendor
// holds and whether anything outlived its retention: the regular review
// of collection and storage the policy promises (`storekeep privacy
// review`).
func Review(ctx context.Context, q db.Querier, inv Inventory, now time.Time) ([]ReviewRow, error) {
	var out []ReviewRow
	for _, t := range inv.Tables {
		var first *Column
		for i, c := range t.Columns {
			if c.Personal {
				first = &t.Columns[i]
				break
			}
		}
		if first == nil {
			continue
		}
		r := ReviewRow{Table: t.Name, Subject: t.reviewSubject(), Description: t.Description, Retention: first.Retention.Describe()}
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+t.Name).Scan(&r.Rows); err != nil {
			return nil, fmt.Errorf("review %s: %w", t.Name, err)
		}
		if t.Dated != "" && r.Rows > 0 {
			var oldest sql.NullTime
			// ORDER BY rather than min(): SQLite keeps the column's type
			// (a timestamp) only for a plain column.
			if err := q.QueryRowContext(ctx, `SELECT `+t.Dated+` FROM `+t.Name+` WHERE `+t.Dated+` IS NOT NULL ORDER BY `+t.Dated+` LIMIT 1`).Scan(&oldest); err != nil && err != sql.ErrNoRows {
				return nil, fmt.Errorf("review %s: %w", t.Name, err)
			}
			if oldest.Valid {
				r.Oldest = oldest.Time.UTC()
			}
			if cut, ok := tableCutoff(t, now); ok {
				if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+t.Name+` WHERE `+t.Dated+` < $1`, cut).Scan(&r.Expired); err != nil {
					return nil, fmt.Errorf("review %s: %w", t.Name, err)
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// reviewSubject is whose data the table holds, for the review: several
// kinds are joined ("customer, staff").
func (t Table) reviewSubject() Subject {
	var kinds []string
	for _, k := range t.SubjectKinds() {
		kinds = append(kinds, string(k))
	}
	return Subject(strings.Join(kinds, ", "))
}
