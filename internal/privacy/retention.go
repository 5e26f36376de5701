package privacy

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
)

// PurgeStep says what the retention purge did to one table.
type PurgeStep struct {
	Table  string
	Cutoff time.Time
	Action string // "deleted" or "blanked"
	Rows   int64
}

// cutoff is the date before which data kept under r has expired at now:
// data dated earlier is past its retention. ok is false for retention
// rules the purge cannot apply by date (counted from the end of an account
// or from the last activity, or not stored at all).
func cutoff(r Retention, now time.Time) (time.Time, bool) {
	if r.Years == 0 && r.Months == 0 && r.Days == 0 {
		return time.Time{}, false // no period: the domain code removes it
	}
	expiry := now.UTC().AddDate(-r.Years, -r.Months, -r.Days)
	switch r.From {
	case FromCollection, FromRequest:
		return expiry, true
	case FromEndOfYear:
		// Data from year Y expires at the end of Y plus the period: all
		// years before the one the expiry date falls in have ended.
		return time.Date(expiry.Year(), 1, 1, 0, 0, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

// Purge deletes, or blanks, personal data whose retention period has
// ended, table by table, as the inventory declares: rows whose personal
// columns all share one expired rule are deleted; otherwise the expired
// columns are blanked. A parent row goes only once none of its dated
// children is still within its own period (an order stays while its
// invoice must be kept). It runs as a periodic job on every instance;
// running it twice, or on two instances at once, does no harm.
func Purge(ctx context.Context, d *db.DB, inv Inventory, now time.Time) ([]PurgeStep, error) {
	var steps []PurgeStep
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		// Deepest children first (corrections before invoices before
		// orders), so no row goes while another still points to it.
		ordered := slices.Clone(inv.Tables)
		sort.SliceStable(ordered, func(i, j int) bool { return inv.depth(ordered[i]) > inv.depth(ordered[j]) })
		var total int64
		for _, t := range ordered {
			s, err := purgeTable(ctx, tx, inv, t, now)
			if err != nil {
				return err
			}
			for _, st := range s {
				total += st.Rows
			}
			steps = append(steps, s...)
		}
		if total == 0 {
			return nil
		}
		// The purge is itself recorded, which also continues the audit
		// chain when it removed the log's oldest entries.
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, ActorType: audit.ActorSystem, Action: "retention.purged",
			Detail: fmt.Sprintf("%d rows past their retention", total)})
		return err
	})
	return steps, err
}

func purgeTable(ctx context.Context, tx *sql.Tx, inv Inventory, t Table, now time.Time) ([]PurgeStep, error) {
	if t.Dated == "" {
		return nil, nil // follows its parent through ON DELETE CASCADE
	}
	type group struct {
		cut  time.Time
		cols []Column
	}
	var groups []group
	personal, purgeable := 0, 0
	for _, c := range t.Columns {
		if !c.Personal {
			continue
		}
		personal++
		if c.Retention.Years == 0 && c.Retention.Months == 0 && c.Retention.Days == 0 && c.Retention.From != NotStored {
			// No period: the domain code removes it when its use ends (a
			// used code); it does not hold the row back.
			purgeable++
			continue
		}
		cut, ok := cutoff(c.Retention, now)
		if !ok {
			continue
		}
		purgeable++
		found := false
		for i := range groups {
			if groups[i].cut.Equal(cut) {
				groups[i].cols = append(groups[i].cols, c)
				found = true
			}
		}
		if !found {
			groups = append(groups, group{cut: cut, cols: []Column{c}})
		}
	}
	if len(groups) == 0 {
		return nil, nil
	}
	var steps []PurgeStep
	if purgeable == personal && len(groups) == 1 {
		cut := groups[0].cut
		where, args := t.Dated+" < $1", []any{cut}
		if t.Chained != "" {
			where = fmt.Sprintf("%s <= (SELECT max(%s) FROM %s WHERE %s < $1)", t.Chained, t.Chained, t.Name, t.Dated)
		}
		// Keep a parent while a dated child of it is still kept.
		for _, child := range inv.Tables {
			if child.Link.Parent != t.Name || child.Dated == "" {
				continue
			}
			childCut, ok := tableCutoff(child, now)
			if !ok {
				continue
			}
			args = append(args, childCut)
			where += fmt.Sprintf(" AND NOT EXISTS (SELECT 1 FROM %s c WHERE c.%s = %s.id AND c.%s >= $%d)",
				child.Name, child.Link.ParentColumn, t.Name, child.Dated, len(args))
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE `+where, args...)
		if err != nil {
			return nil, fmt.Errorf("purge %s: %w", t.Name, err)
		}
		n, _ := res.RowsAffected()
		return append(steps, PurgeStep{Table: t.Name, Cutoff: cut, Action: "deleted", Rows: n}), nil
	}
	for _, g := range groups {
		var sets, guards []string
		for _, c := range g.cols {
			// Only columns that declare their blank explicitly are
			// overwritten here: the purge cannot tell a text column from
			// a timestamp.
			switch c.Blank {
			case "''":
				sets, guards = append(sets, c.Name+" = ''"), append(guards, c.Name+" <> ''")
			case "NULL":
				sets, guards = append(sets, c.Name+" = NULL"), append(guards, c.Name+" IS NOT NULL")
			}
		}
		if len(sets) == 0 {
			continue
		}
		res, err := tx.ExecContext(ctx, `UPDATE `+t.Name+` SET `+strings.Join(sets, ", ")+` WHERE `+t.Dated+` < $1 AND (`+strings.Join(guards, " OR ")+`)`, g.cut)
		if err != nil {
			return nil, fmt.Errorf("purge %s: %w", t.Name, err)
		}
		n, _ := res.RowsAffected()
		steps = append(steps, PurgeStep{Table: t.Name, Cutoff: g.cut, Action: "blanked", Rows: n})
	}
	return steps, nil
}

// tableCutoff is the cutoff of a table whose personal data shares one
// rule.
func tableCutoff(t Table, now time.Time) (time.Time, bool) {
	for _, c := range t.Columns {
		if c.Personal {
			if cut, ok := cutoff(c.Retention, now); ok {
				return cut, true
			}
		}
	}
	return time.Time{}, false
}

// depth is how many parent links lead from t to a table linked directly.
func (inv Inventory) depth(t Table) int {
	d := 0
	for t.Link.Parent != "" && d < 10 {
		p, ok := inv.Table(t.Link.Parent)
		if !ok {
			break
		}
		t, d = p, d+1
	}
	return d
}
