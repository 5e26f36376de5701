package privacy

import (
	"context"
	"fmt"
	"sort"

	"github.com/storekeep/storekeep/internal/db"
)

// CategoryCount is how much data of one category the database holds: the
// rows of each table that holds it, and the people they belong to where
// the table names them by account. It is the first estimate of what a
// breach of that kind of data affects (Art. 33(3)(a) GDPR asks for the
// approximate numbers of people and records).
type CategoryCount struct {
	Category Category
	Label    string
	Tables   []TableCount
	// Records is the sum of the tables' rows; Subjects the largest number
	// of distinct people in one of them (the same person is in several
	// tables, so the sum would overcount).
	Records, Subjects int64
}

// TableCount is one table's share of a category.
type TableCount struct {
	Table    string
	Subject  Subject
	Rows     int64
	Subjects int64 // distinct account IDs or addresses; 0 when the table cannot tell
}

// CountByCategory counts, for every category the inventory declares in a
// table, the rows and people held, so that an owner recording a breach
// starts from figures rather than guesses.
func CountByCategory(ctx context.Context, q db.Querier, inv Inventory) ([]CategoryCount, error) {
	byCat := map[Category]*CategoryCount{}
	counted := map[string]TableCount{}
	for _, t := range inv.Tables {
		cats := map[Category]bool{}
		for _, c := range t.Columns {
			if c.Personal {
				cats[c.Category] = true
			}
		}
		if len(cats) == 0 {
			continue
		}
		tc, ok := counted[t.Name]
		if !ok {
			tc = TableCount{Table: t.Name, Subject: t.reviewSubject()}
			if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+t.Name).Scan(&tc.Rows); err != nil {
				return nil, fmt.Errorf("count %s: %w", t.Name, err)
			}
			if l := t.Link; l.Parent == "" && l.Unlinkable == "" && (l.Column != "" || l.EmailColumn != "") && tc.Rows > 0 {
				col := l.Column
				if col == "" {
					col = l.EmailColumn
				}
				if err := q.QueryRowContext(ctx, `SELECT count(DISTINCT `+col+`) FROM `+t.Name).Scan(&tc.Subjects); err != nil {
					return nil, fmt.Errorf("count %s: %w", t.Name, err)
				}
			}
			counted[t.Name] = tc
		}
		for c := range cats {
			cc := byCat[c]
			if cc == nil {
				cc = &CategoryCount{Category: c, Label: c.Label()}
				byCat[c] = cc
			}
			cc.Tables = append(cc.Tables, tc)
			cc.Records += tc.Rows
			cc.Subjects = max(cc.Subjects, tc.Subjects)
		}
	}
	out := make([]CategoryCount, 0, len(byCat))
	for _, cc := range byCat {
		out = append(out, *cc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Category < out[j].Category })
	return out, nil
}

// Hold is one table whose data is kept under legal hold: erasure
// leaves these columns until their retention ends.
type Hold struct {
	Table   string
	Columns []string
	Why     string // the declared reason for the period
	Until   string // the retention in words
	Rows    int64  // rows the hold covers now
}

// LegalHolds lists the legal holds in force: every table with legal-hold
// columns and how many of its rows they cover (for a table whose hold is
// limited to some rows, HeldWith, only those).
func LegalHolds(ctx context.Context, q db.Querier, inv Inventory) ([]Hold, error) {
	var out []Hold
	for _, t := range inv.Tables {
		h := Hold{Table: t.Name}
		for _, c := range t.Columns {
			if c.Personal && c.Erasure == LegalHold {
				h.Columns = append(h.Columns, c.Name)
				if h.Why == "" {
					h.Why, h.Until = c.Retention.Why, c.Retention.Describe()
				}
			}
		}
		if len(h.Columns) == 0 {
			continue
		}
		query := `SELECT count(*) FROM ` + t.Name
		if t.HeldWith != "" {
			if child, ok := inv.Table(t.HeldWith); ok {
				for _, sl := range child.links() {
					if sl.Link.Parent == t.Name {
						query += ` WHERE id IN (SELECT ` + sl.Link.ParentColumn + ` FROM ` + child.Name + `)`
						break
					}
				}
			}
		}
		if err := q.QueryRowContext(ctx, query).Scan(&h.Rows); err != nil {
			return nil, fmt.Errorf("legal holds %s: %w", t.Name, err)
		}
		out = append(out, h)
	}
	return out, nil
}
