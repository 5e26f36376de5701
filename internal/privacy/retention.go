package privacy

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
)

// PurgeStep says what the retention purge did to one table.
type PurgeStep struct {
	Table  string
	Cutoff time.Time
	Action string // "deleted", or "truncated COLUMN" for addresses shortened to their network
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
	case FromCollection, FromRequest, FromClosed:
		return expiry, true
	case FromEndOfYear:
		// Data from year Y expires at the end of Y plus the period: all
		// years before the one the expiry date falls in have ended.
		return time.Date(expiry.Year(), 1, 1, 0, 0, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

// Purge deletes personal data whose retention period has ended, table by
// table, as the inventory declares. The personal columns of a dated table
// share one retention rule (Validate insists), so expired data goes row by
// row. A parent row goes only once none of its dated children is still
// within its own period (an order stays while its invoice must be kept).
// It runs as a periodic job on every instance; running it twice, or on two
// instances at once, does no harm.
func Purge(ctx context.Context, d *db.DB, inv Inventory, now time.Time) ([]PurgeStep, error) {
	// Deepest children first (corrections before invoices before
	// orders), so no row goes while another still points to it.
	ordered := slices.Clone(inv.Tables)
	sort.SliceStable(ordered, func(i, j int) bool { return inv.depth(ordered[i]) > inv.depth(ordered[j]) })

	// Addresses are shortened first, each batch in a transaction of its
	// own: a shortened address is marked done by its "/", so a batch that
	// committed is never redone and one that did not changes nothing. One
	// transaction over millions of rows (a request log imported with full
	// addresses, or a shorter --log-address-days) would hold the SQLite
	// writer for minutes and make every other write time out.
	var truncated []PurgeStep
	var total int64
	for _, t := range ordered {
		if t.Dated == "" {
			continue
		}
		s, err := truncateTable(ctx, d, t, now)
		if err != nil {
			return truncated, err
		}
		for _, st := range s {
			total += st.Rows
		}
		truncated = append(truncated, s...)
	}

	var steps []PurgeStep
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		steps = slices.Clone(truncated)
		deleted := int64(0)
		for _, t := range ordered {
			if t.Dated == "" {
				continue // follows its parent through ON DELETE CASCADE
			}
			s, err := deleteExpired(ctx, tx, inv, t, now)
			if err != nil {
				return err
			}
			for _, st := range s {
				deleted += st.Rows
			}
			steps = append(steps, s...)
		}
		if total+deleted == 0 {
			return nil
		}
		// The purge is itself recorded, which also continues the audit
		// chain when it removed the log's oldest entries.
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, ActorType: audit.ActorSystem, Action: "retention.purged",
			Detail: fmt.Sprintf("%d rows past their retention", total+deleted)})
		return err
	})
	return steps, err
}

// truncateBatch is how many addresses one step of truncateTable shortens,
// in one transaction.
const truncateBatch = 500

// truncateTable shortens the network addresses of t's columns with a
// TruncateAfter once it has passed: to the network, computed here (the
// dialects have no common function for it), in batches so memory stays
// bounded and the writer is held briefly. A shortened value holds a "/",
// which marks it done.
func truncateTable(ctx context.Context, d *db.DB, t Table, now time.Time) ([]PurgeStep, error) {
	var steps []PurgeStep
	for _, c := range t.Columns {
		cut, ok := cutoff(c.TruncateAfter, now)
		if !ok {
			continue
		}
		var n int64
		for {
			var done int
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				var err error
				done, err = truncateBatchOf(ctx, tx, t, c, cut)
				return err
			})
			if err != nil {
				return steps, fmt.Errorf("truncate %s.%s: %w", t.Name, c.Name, err)
			}
			n += int64(done)
			if done < truncateBatch {
				break
			}
		}
		steps = append(steps, PurgeStep{Table: t.Name, Cutoff: cut, Action: "truncated " + c.Name, Rows: n})
	}
	return steps, nil
}

// truncateBatchOf shortens up to truncateBatch addresses of column c and
// returns how many it shortened.
func truncateBatchOf(ctx context.Context, tx *sql.Tx, t Table, c Column, cut time.Time) (int, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT id, %[1]s FROM %[2]s WHERE %[3]s < $1 AND %[1]s <> '' AND %[1]s NOT LIKE '%%/%%' ORDER BY id LIMIT %[4]d`,
		c.Name, t.Name, t.Dated, truncateBatch), cut)
	if err != nil {
		return 0, err
	}
	type change struct {
		id  int64
		net string
	}
	var batch []change
	for rows.Next() {
		var id int64
		var addr string
		if err := rows.Scan(&id, &addr); err != nil {
			_ = rows.Close()
			return 0, err
		}
		batch = append(batch, change{id, networkOf(addr)})
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, ch := range batch {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE id = $2`, t.Name, c.Name), ch.net, ch.id); err != nil {
			return 0, err
		}
	}
	return len(batch), nil
}

// networkOf is an address's network as the audit log keeps it (IPv4 /24,
// IPv6 /48); anything that is not an address becomes "unknown/0", which
// identifies no one and is not looked at again.
func networkOf(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if n := audit.Network(ip); err == nil && n != "" {
		return n
	}
	return "unknown/0"
}

// truncateProblems says what stops the purge from shortening a column's
// addresses: TruncateAfter is for network addresses of a dated table, and
// must be shorter than the row's retention.
func (t Table) truncateProblems() []string {
	var probs []string
	ref := time.Date(2001, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range t.Columns {
		r := c.TruncateAfter
		if r == (Retention{}) {
			continue
		}
		tcut, ok := cutoff(r, ref)
		switch {
		case !ok:
			probs = append(probs, fmt.Sprintf("%s.%s: TruncateAfter must be a period counted from collection", t.Name, c.Name))
		case c.Category != "user.network.ip" || !c.Personal:
			probs = append(probs, fmt.Sprintf("%s.%s: only personal network addresses (user.network.ip) are truncated", t.Name, c.Name))
		case t.Dated == "":
			probs = append(probs, fmt.Sprintf("%s.%s: TruncateAfter needs the table's Dated column to count from", t.Name, c.Name))
		default:
			if rcut, ok := cutoff(c.Retention, ref); ok && !tcut.After(rcut) {
				probs = append(probs, fmt.Sprintf("%s.%s: TruncateAfter must be shorter than the retention, or the row goes first", t.Name, c.Name))
			}
		}
	}
	return probs
}

// deleteExpired deletes t's rows past their retention.
func deleteExpired(ctx context.Context, tx *sql.Tx, inv Inventory, t Table, now time.Time) ([]PurgeStep, error) {
	cut, ok := tableCutoff(t, now)
	if !ok {
		return nil, nil // kept until the domain code removes it
	}
	where, args := t.Dated+" < $1", []any{cut}
	if t.Chained != "" {
		where = fmt.Sprintf("%s <= (SELECT max(%s) FROM %s WHERE %s < $1)", t.Chained, t.Chained, t.Name, t.Dated)
	}
	// Keep a parent while a dated child of it is still kept.
	for _, child := range inv.Tables {
		pl := child.parentLink()
		if pl.Parent != t.Name || child.Dated == "" {
			continue
		}
		childCut, ok := tableCutoff(child, now)
		if !ok {
			continue
		}
		args = append(args, childCut)
		where += fmt.Sprintf(" AND NOT EXISTS (SELECT 1 FROM %s c WHERE c.%s = %s.id AND c.%s >= $%d)",
			child.Name, pl.ParentColumn, t.Name, child.Dated, len(args))
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("purge %s: %w", t.Name, err)
	}
	n, _ := res.RowsAffected()
	return []PurgeStep{{Table: t.Name, Cutoff: cut, Action: "deleted", Rows: n}}, nil
}

// tableCutoff is the cutoff of a dated table: that of the one retention
// rule its personal columns share. ok is false when the rule is not a
// period counted from a date.
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

// purgeProblems says what stops the purge from applying a dated table's
// retention row by row: every personal column must either have no period
// (the domain code removes it) or keep to the same period counted from a
// date. Validate reports them.
func (t Table) purgeProblems() []string {
	if t.Dated == "" {
		return nil
	}
	ref := time.Date(2001, 3, 1, 0, 0, 0, 0, time.UTC) // any instant compares rules
	var probs []string
	var first *Column
	var firstCut time.Time
	for i, c := range t.Columns {
		r := c.Retention
		if !c.Personal || (r.Years == 0 && r.Months == 0 && r.Days == 0 && r.From != NotStored) {
			continue
		}
		cut, ok := cutoff(r, ref)
		switch {
		case !ok:
			probs = append(probs, fmt.Sprintf("%s.%s: the purge deletes %s rows by %s, so its retention must be a period counted from collection, a request or the end of the year",
				t.Name, c.Name, t.Name, t.Dated))
		case first == nil:
			first, firstCut = &t.Columns[i], cut
		case !cut.Equal(firstCut):
			probs = append(probs, fmt.Sprintf("%s.%s: keeps to another retention than %s.%s, but the purge deletes whole rows: give them one rule or split the table",
				t.Name, c.Name, t.Name, first.Name))
		}
	}
	return probs
}

// depth is how many parent links lead from t to a table linked directly.
func (inv Inventory) depth(t Table) int {
	d := 0
	for t.parentLink().Parent != "" && d < 10 {
		p, ok := inv.Table(t.parentLink().Parent)
		if !ok {
			break
		}
		t, d = p, d+1
	}
	return d
}

// parentLink is the first of the table's links that goes through a parent
// table (the rows of a child belong to its parent's row, whoever's it is).
func (t Table) parentLink() Link {
	for _, sl := range t.links() {
		if sl.Link.Parent != "" {
			return sl.Link
		}
	}
	return Link{}
}
