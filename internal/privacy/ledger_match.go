package privacy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/storekeep/storekeep/internal/db"
)

// LedgerSubjects finds in the database q the subjects that entries name:
// it hashes, under key, every account number and email address the
// inventory links to a subject of each kind the entries mention, and
// keeps those whose hash an entry holds. An entry that matches nothing
// names someone the database does not hold (erased already, or never
// there). For an account found by its number, the address it has in q is
// erased too when it differs from the one the entry names (the address
// may have changed since the copy was made).
//
// Restore uses it on a restored backup and erases each subject found with
// Erase, so the same rules and legal holds apply.
func LedgerSubjects(ctx context.Context, q db.Querier, inv Inventory, key LedgerKey, entries []LedgerEntry) ([]SubjectRef, error) {
	var kinds []Subject
	for _, e := range entries {
		if !slices.Contains(kinds, e.Kind) {
			kinds = append(kinds, e.Kind)
		}
	}
	var out []SubjectRef
	add := func(r SubjectRef) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, kind := range kinds {
		wantID, wantEmail := map[string]bool{}, map[string]bool{}
		for _, e := range entries {
			if e.Kind != kind {
				continue
			}
			if e.SubjectHash != "" {
				wantID[e.SubjectHash] = true
			}
			if e.EmailHash != "" {
				wantEmail[e.EmailHash] = true
			}
		}
		ids, emails := map[string]int64{}, map[string]string{}
		var account *Table
		for _, t := range inv.Tables {
			l, ok := t.linkFor(kind)
			if !ok || l.Unlinkable != "" || l.Parent != "" {
				continue
			}
			if l.Column == "id" {
				account = &t
			}
			if l.Column != "" && len(wantID) > 0 {
				err := eachValue(ctx, q, t.Name, l.Column, func(v string) {
					var id int64
					if _, err := fmt.Sscan(v, &id); err == nil && wantID[key.SubjectHash(kind, id)] {
						ids[key.SubjectHash(kind, id)] = id
					}
				})
				if err != nil {
					return nil, err
				}
			}
			if l.EmailColumn != "" && len(wantEmail) > 0 {
				err := eachValue(ctx, q, t.Name, l.EmailColumn, func(v string) {
					if h := key.EmailHash(v); wantEmail[h] {
						emails[h] = strings.ToLower(strings.TrimSpace(v))
					}
				})
				if err != nil {
					return nil, err
				}
			}
		}
		for _, e := range entries {
			if e.Kind != kind {
				continue
			}
			r := SubjectRef{Kind: kind, ID: ids[e.SubjectHash], Email: emails[e.EmailHash]}
			if r.ID == 0 && r.Email == "" {
				continue
			}
			add(r)
			if r.ID != 0 && account != nil && account.Link.EmailColumn != "" {
				var cur string
				err := q.QueryRowContext(ctx, `SELECT `+account.Link.EmailColumn+` FROM `+account.Name+` WHERE id = $1`, r.ID).Scan(&cur)
				if err == nil && cur != "" && !strings.EqualFold(cur, r.Email) {
					add(SubjectRef{Kind: kind, ID: r.ID, Email: strings.ToLower(cur)})
				}
			}
		}
	}
	return out, nil
}

// eachValue calls fn with each distinct non-empty value of table.column.
func eachValue(ctx context.Context, q db.Querier, table, column string, fn func(string)) error {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT CAST(`+column+` AS TEXT) FROM `+table+` WHERE `+column+` IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("read %s.%s: %w", table, column, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		if v != "" {
			fn(v)
		}
	}
	return rows.Err()
}
