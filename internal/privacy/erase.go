package privacy

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// ErasureStep is what erasure does, or did, to one table.
type ErasureStep struct {
	Table       string
	Description string
	// Action is "deleted" (whole rows), "minimised" (personal columns
	// blanked, the rest kept under legal hold), "anonymised" (the row stays
	// without identifying data) or "nothing" (no rows).
	Action string
	Rows   int64
	// Blanked are the columns overwritten in kept rows.
	Blanked []string
	// Held are the columns kept under legal hold, with why and until when.
	Held      []string
	HeldWhy   string
	HeldUntil time.Time
}

// ErasureReport says, table by table, what erasure removed and what it
// kept, why and until when: the customer is told exactly this.
type ErasureReport struct {
	Subject SubjectRef
	At      time.Time
	DryRun  bool
	Steps   []ErasureStep
	// ProcessorRefs are the subject's references at processors (Stripe
	// customer IDs), read before erasure blanked them, so that the caller
	// can ask the processors to erase too.
	ProcessorRefs map[string][]string
	// Recipients are the recipients (by ID) that received some of the
	// erased data and keep their own copy (a mail relay's delivery logs):
	// staff must ask them to erase it where no API does.
	Recipients []string
}

// Erase removes the subject's personal data as the inventory declares, in
// one transaction: an erasure that fails part-way changes nothing and can
// simply be run again. With dryRun it only counts and reports.
//
// Per table: rows whose personal columns are all "delete" are deleted;
// otherwise deletable and anonymisable columns are overwritten with their
// Blank and legal-hold columns stay, to be purged when their retention
// ends. Tables linked through a parent go first, the account itself last.
//
// On SQLite the database runs with secure_delete, so freed content is
// overwritten, and the WAL is checkpointed and truncated afterwards: no
// copy of erased values stays in the files.
func Erase(ctx context.Context, d *db.DB, inv Inventory, s SubjectRef, now time.Time, dryRun bool) (ErasureReport, error) {
	rep := ErasureReport{Subject: s, At: now.UTC(), DryRun: dryRun, ProcessorRefs: map[string][]string{}}
	tables := erasureOrder(inv, s.Kind)
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		// Resolve the rows before any change: children are found through
		// their parents, whose link columns erasure may blank.
		where := map[string]string{}
		args := map[string][]any{}
		for _, t := range tables {
			var a []any
			w, ok := inv.subjectWhere(t, s, &a)
			if !ok {
				continue
			}
			ids, err := matchIDs(ctx, tx, t, w, a)
			if err != nil {
				return err
			}
			where[t.Name], args[t.Name] = ids.where, ids.args
		}
		if err := collectProcessorRefs(ctx, tx, inv, where, args, rep.ProcessorRefs); err != nil {
			return err
		}
		for _, t := range tables {
			w, ok := where[t.Name]
			if !ok {
				continue
			}
			step, err := eraseTable(ctx, tx, t, w, args[t.Name], now, dryRun)
			if err != nil {
				return err
			}
			rep.Steps = append(rep.Steps, step)
			if step.Rows > 0 {
				for _, c := range t.Columns {
					for _, id := range c.Recipients {
						if r, ok := inv.Recipient(id); ok && !r.AllStored && !slices.Contains(rep.Recipients, id) {
							rep.Recipients = append(rep.Recipients, id)
						}
					}
				}
			}
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && err != errDryRun {
		return rep, fmt.Errorf("erase: %w", err)
	}
	if !dryRun && d.Dialect == db.SQLite {
		// Move everything out of the WAL into the secure-deleted database
		// file and truncate the WAL, so no old page image survives there.
		if _, err := d.Writer().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return rep, fmt.Errorf("erase: checkpoint: %w", err)
		}
	}
	return rep, nil
}

var errDryRun = fmt.Errorf("dry run")

// erasureOrder lists the subject's tables: those linked through a parent
// first, then those linked directly, the account table (linked by "id")
// last, so that nothing refers to a row already changed.
func erasureOrder(inv Inventory, kind Subject) []Table {
	var out []Table
	for _, t := range inv.Tables {
		if t.Subject == kind && t.Link.Unlinkable == "" && t.Link.declared() {
			out = append(out, t)
		}
	}
	rank := func(t Table) int {
		switch {
		case t.Link.Parent != "":
			return 0
		case t.Link.Column == "id":
			return 2
		}
		return 1
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

type matched struct {
	where string
	args  []any
}

// matchIDs turns the link condition into a fixed list of row keys, so that
// later steps still find the rows after their link columns changed.
func matchIDs(ctx context.Context, tx *sql.Tx, t Table, where string, args []any) (matched, error) {
	key := keyColumn(t)
	rows, err := tx.QueryContext(ctx, `SELECT `+key+` FROM `+t.Name+` WHERE `+where, args...)
	if err != nil {
		return matched{}, fmt.Errorf("find %s rows: %w", t.Name, err)
	}
	defer rows.Close()
	var keys []any
	for rows.Next() {
		var k any
		if err := rows.Scan(&k); err != nil {
			return matched{}, err
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return matched{}, err
	}
	if len(keys) == 0 {
		return matched{where: "1 = 0"}, nil
	}
	ph := make([]string, len(keys))
	for i := range keys {
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	return matched{where: key + " IN (" + strings.Join(ph, ", ") + ")", args: keys}, nil
}

// keyColumn is the column that identifies a row: "id", or the first
// column for tables keyed otherwise (payment_events: its event ID).
func keyColumn(t Table) string {
	for _, c := range t.Columns {
		if c.Name == "id" || c.Name == "seq" {
			return c.Name
		}
	}
	for _, c := range t.Columns {
		if c.Name == "event_id" {
			return c.Name
		}
	}
	return t.Columns[0].Name
}

func collectProcessorRefs(ctx context.Context, tx *sql.Tx, inv Inventory, where map[string]string, args map[string][]any, out map[string][]string) error {
	for _, t := range inv.Tables {
		w, ok := where[t.Name]
		if !ok {
			continue
		}
		for _, c := range t.Columns {
			if c.Category != "user.payment.reference" || c.Name != "processor_customer" {
				continue
			}
			rows, err := tx.QueryContext(ctx, `SELECT DISTINCT `+c.Name+` FROM `+t.Name+` WHERE `+w+` AND `+c.Name+` <> ''`, args[t.Name]...)
			if err != nil {
				return fmt.Errorf("read processor references: %w", err)
			}
			for rows.Next() {
				var ref string
				if err := rows.Scan(&ref); err != nil {
					rows.Close()
					return err
				}
				for _, r := range c.Recipients {
					out[r] = append(out[r], ref)
				}
			}
			rows.Close()
		}
	}
	return nil
}

func eraseTable(ctx context.Context, tx *sql.Tx, t Table, where string, args []any, now time.Time, dryRun bool) (ErasureStep, error) {
	step := ErasureStep{Table: t.Name, Description: t.Description}
	var sets, held []string
	anonymise := false
	setArgs := append([]any(nil), args...)
	for _, c := range t.Columns {
		if !c.Personal {
			continue
		}
		switch c.Erasure {
		case LegalHold:
			held = append(held, c.Name)
			if until := holdUntil(c.Retention, now); until.After(step.HeldUntil) {
				step.HeldUntil, step.HeldWhy = until, c.Retention.Why
			}
			continue
		case EraseAnonymise:
			anonymise = true
		}
		expr := "''"
		switch c.Blank {
		case "":
		case "NULL":
			expr = "NULL"
		case "NOW":
			setArgs = append(setArgs, now.UTC())
			expr = fmt.Sprintf("$%d", len(setArgs))
		default:
			expr = c.Blank
		}
		sets = append(sets, c.Name+" = "+expr)
		step.Blanked = append(step.Blanked, c.Name)
	}
	step.Held = held
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+t.Name+` WHERE `+where, args...).Scan(&step.Rows); err != nil {
		return step, fmt.Errorf("count %s rows: %w", t.Name, err)
	}
	switch {
	case step.Rows == 0:
		step.Action, step.Blanked, step.Held = "nothing", nil, nil
		return step, nil
	case len(held) == 0 && !anonymise:
		step.Action, step.Blanked = "deleted", nil
		if !dryRun {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE `+where, args...); err != nil {
				return step, fmt.Errorf("delete %s rows: %w", t.Name, err)
			}
		}
		return step, nil
	case len(held) > 0:
		step.Action = "minimised"
	default:
		step.Action = "anonymised"
	}
	if len(sets) > 0 && !dryRun {
		if _, err := tx.ExecContext(ctx, `UPDATE `+t.Name+` SET `+strings.Join(sets, ", ")+` WHERE `+where, setArgs...); err != nil {
			return step, fmt.Errorf("erase %s columns: %w", t.Name, err)
		}
	}
	return step, nil
}

// holdUntil is the latest date data kept under r may be kept when it
// arose before now: an upper bound the retention purge then enforces per
// record.
func holdUntil(r Retention, now time.Time) time.Time {
	t := now.UTC()
	if r.From == FromEndOfYear {
		t = time.Date(t.Year(), 12, 31, 0, 0, 0, 0, time.UTC)
	}
	return t.AddDate(r.Years, r.Months, r.Days)
}
