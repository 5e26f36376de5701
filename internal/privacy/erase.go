package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
)

// Processor is a recipient that deletes, when asked, the record it keeps
// of a person under the key we hold for them there (Column.ProcessorRef).
// payments.Stripe is one (it deletes the Stripe customer).
type Processor interface {
	DeleteCustomer(ctx context.Context, ref string) error
}

// Processors are the processors this deployment has configured, by
// recipient ID ("stripe"). A recipient missing here is not asked; the
// report says so.
type Processors map[string]Processor

// EraseRequest asks for the erasure of one subject.
type EraseRequest struct {
	Subject SubjectRef
	// By says who erases and how, for the audit entry written in the
	// erasure's transaction: ActorType, ActorID, SourceNet and Detail (the
	// channel, such as "privacy center"). Erase sets the rest.
	By audit.Entry
	// DryRun only counts and reports: nothing changes, nobody is asked.
	DryRun bool
}

// ErasureStep is what erasure does, or did, to one table (or, for a table
// whose legal hold covers only some rows, to one part of it).
type ErasureStep struct {
	Table       string
	Description string
	// Action is "deleted" (whole rows), "minimised" (personal columns
	// blanked, the rest kept under legal hold), "anonymised" (the row stays
	// without identifying data) or "nothing" (no rows).
	Action string
	Rows   int64
	// Blanked are the columns overwritten in kept rows; Held the columns
	// kept under legal hold, with why and until when. Column names, for
	// staff and the command line.
	Blanked   []string
	Held      []string
	HeldWhy   string
	HeldUntil time.Time
	// Erased and Kept name in words the kinds of data removed and kept
	// ("Billing address"), from the inventory's categories: what the
	// person is shown.
	Erased, Kept []string
	// NotHeld marks the rows of a table outside its legal hold (orders
	// never invoiced), erased though the table's other rows are kept.
	NotHeld bool
}

// Sentence says in plain words what happened to these rows, for the
// person whose data it was.
func (s ErasureStep) Sentence() string {
	what := strings.TrimSuffix(s.Description, ".")
	if s.NotHeld {
		what += " (not invoiced, so not a tax record)"
	}
	switch s.Action {
	case "nothing":
		return what + ": nothing was held."
	case "deleted":
		return fmt.Sprintf("%s: %s deleted.", what, plural(s.Rows, "record"))
	case "anonymised":
		return fmt.Sprintf("%s: %s removed from %s, which no longer identify you.", what, wordList(s.Erased), plural(s.Rows, "record"))
	}
	out := fmt.Sprintf("%s (%s): %s kept until %s at the latest (why: %s)", what, plural(s.Rows, "record"), wordList(s.Kept),
		s.HeldUntil.Format("2 January 2006"), s.HeldWhy)
	if len(s.Erased) > 0 {
		out += "; " + wordList(s.Erased) + " removed"
	}
	return out + "."
}

// ProcessorRef is one key an erasure found at a processor and what came
// of asking the processor to delete the record behind it.
type ProcessorRef struct {
	Recipient string // recipient ID
	Name      string // the recipient's name
	Ref       string
	Deleted   bool
	// Problem says why it was not deleted: the processor is not
	// configured here, or its answer. For staff and logs, not for the
	// person.
	Problem string
}

// ErasureReport says, table by table, what erasure removed and what it
// kept, why and until when: the person is told exactly this.
type ErasureReport struct {
	Subject SubjectRef
	At      time.Time
	DryRun  bool
	Steps   []ErasureStep
	// Processors are the subject's keys at processors (read before
	// erasure blanked them) and whether the processor deleted each.
	Processors []ProcessorRef
	// AskRecipients received some of the erased data, keep their own copy
	// (a mail relay's delivery logs) and were not told through an API:
	// staff ask them to erase it.
	AskRecipients []Recipient
}

// Removed are the steps that deleted or anonymised something and kept
// nothing under legal hold.
func (r ErasureReport) Removed() []ErasureStep {
	var out []ErasureStep
	for _, s := range r.Steps {
		if s.Rows > 0 && len(s.Kept) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// Kept are the steps that keep data under legal hold.
func (r ErasureReport) Kept() []ErasureStep {
	var out []ErasureStep
	for _, s := range r.Steps {
		if s.Rows > 0 && len(s.Kept) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// ProcessorsLeft are the keys whose record the processor did not delete.
func (r ErasureReport) ProcessorsLeft() []ProcessorRef {
	var out []ProcessorRef
	for _, p := range r.Processors {
		if !p.Deleted {
			out = append(out, p)
		}
	}
	return out
}

// StaffToDo lists what staff must still do by hand, one line each.
func (r ErasureReport) StaffToDo() []string {
	var out []string
	for _, p := range r.ProcessorsLeft() {
		out = append(out, fmt.Sprintf("delete %s customer %s by hand (%s)", p.Name, p.Ref, p.Problem))
	}
	for _, rc := range r.AskRecipients {
		out = append(out, fmt.Sprintf("ask %s to erase its own copies (such as delivery logs)", rc.Name))
	}
	return out
}

// Changed counts the steps that changed rows.
func (r ErasureReport) Changed() int {
	n := 0
	for _, s := range r.Steps {
		if s.Rows > 0 {
			n++
		}
	}
	return n
}

// Erase is the one erasure of a subject, used by the privacy center, the
// requests workflow and the command line. In one transaction it removes
// the subject's personal data as the inventory declares and appends the
// audit entry that records it, so the erasure and its record commit
// together; a failure part-way changes nothing and can be run again.
// Then it asks each processor holding a key for the person (Column.
// ProcessorRef) to delete its record, through procs, and reports what
// could not be done and which recipients keep copies staff must ask about.
//
// Per table: rows whose personal columns are all "delete" are deleted;
// otherwise deletable and anonymisable columns are overwritten with their
// Blank and legal-hold columns stay, to be purged when their retention
// ends. Rows are found by conditions on the subject's key (subqueries
// through parents), never by lists of row keys, so memory and statement
// size do not grow with the number of rows; tables linked through a parent
// go before it, the account itself last, so that every condition still
// finds its rows when its turn comes.
//
// On SQLite the database runs with secure_delete, so freed content is
// overwritten, and the WAL is checkpointed and truncated afterwards. On
// PostgreSQL old row versions stay in the files until VACUUM FULL (see
// docs/architecture.md).
func Erase(ctx context.Context, d *db.DB, inv Inventory, req EraseRequest, procs Processors, now time.Time) (ErasureReport, error) {
	s := req.Subject
	rep := ErasureReport{Subject: s, At: now.UTC(), DryRun: req.DryRun}
	var refs []ProcessorRef
	var erasedRecipients []string
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		rep.Steps, refs, erasedRecipients = nil, nil, nil
		for _, t := range erasureOrder(inv, s.Kind) {
			steps, tr, recips, err := eraseTable(ctx, tx, inv, t, s, now, req.DryRun)
			if err != nil {
				return err
			}
			rep.Steps = append(rep.Steps, steps...)
			refs = append(refs, tr...)
			for _, r := range recips {
				if !slices.Contains(erasedRecipients, r) {
					erasedRecipients = append(erasedRecipients, r)
				}
			}
		}
		if req.DryRun {
			return errDryRun
		}
		e := req.By
		e.At, e.Action, e.SubjectType = now, "privacy.erased", string(s.Kind)
		e.SubjectID = strconv.FormatInt(s.ID, 10)
		if e.ActorType == "" {
			e.ActorType = audit.ActorSystem
		}
		detail := fmt.Sprintf("%d tables changed", rep.Changed())
		if len(refs) > 0 {
			detail += fmt.Sprintf("; %d processor reference(s) to delete", len(refs))
		}
		if e.Detail != "" {
			detail = e.Detail + ": " + detail
		}
		e.Detail = detail
		if _, err := audit.Append(ctx, tx, e); err != nil {
			return err
		}
		// Last, so that the ledger's file gets the entry only once the rest
		// of the transaction is done (ledger.go).
		return recordErasure(ctx, tx, d.DataDir(), s, now)
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return rep, fmt.Errorf("erase: %w", err)
	}
	if !req.DryRun && d.Dialect == db.SQLite {
		// Move everything out of the WAL into the secure-deleted database
		// file and truncate the WAL, so no old page image survives there.
		if _, err := d.Writer().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return rep, fmt.Errorf("erase: checkpoint: %w", err)
		}
	}
	told := map[string]bool{} // recipients told through an API, without failure
	for _, p := range refs {
		proc := procs[p.Recipient]
		switch {
		case req.DryRun:
			p.Problem = "dry run"
		case proc == nil:
			p.Problem = "not configured here"
		default:
			if err := proc.DeleteCustomer(ctx, p.Ref); err != nil {
				p.Problem = err.Error()
			} else {
				p.Deleted = true
			}
		}
		if _, seen := told[p.Recipient]; !seen || !p.Deleted {
			told[p.Recipient] = p.Deleted
		}
		rep.Processors = append(rep.Processors, p)
	}
	for _, id := range erasedRecipients {
		r, ok := inv.Recipient(id)
		if !ok || r.AllStored || told[id] {
			continue
		}
		rep.AskRecipients = append(rep.AskRecipients, r)
	}
	if len(refs) > 0 && !req.DryRun {
		// What the processors did is recorded too; the keys themselves
		// are not, the person's record being gone.
		counts := map[string][2]int{}
		for _, p := range rep.Processors {
			c := counts[p.Recipient]
			if p.Deleted {
				c[0]++
			} else {
				c[1]++
			}
			counts[p.Recipient] = c
		}
		var parts []string
		for _, id := range sortedKeys(counts) {
			parts = append(parts, fmt.Sprintf("%s: %d deleted, %d left to staff", id, counts[id][0], counts[id][1]))
		}
		e := req.By
		e.At, e.Action, e.SubjectType, e.SubjectID = now, "privacy.erased_at_processors", string(s.Kind), strconv.FormatInt(s.ID, 10)
		if e.ActorType == "" {
			e.ActorType = audit.ActorSystem
		}
		e.Detail = strings.Join(parts, "; ")
		if err := audit.Record(ctx, d, e); err != nil {
			return rep, fmt.Errorf("erase: record the processors' answers: %w", err)
		}
	}
	return rep, nil
}

var errDryRun = errors.New("dry run")

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// erasureOrder lists the tables holding data of kind, deepest children
// first (corrections before invoices before orders), then tables linked
// directly, the account table (linked by "id") last: each table's
// condition goes through its parents' link columns, which must not have
// been blanked yet.
func erasureOrder(inv Inventory, kind Subject) []Table {
	var out []Table
	for _, t := range inv.Tables {
		if l, ok := t.linkFor(kind); ok && l.Unlinkable == "" && l.declared() {
			out = append(out, t)
		}
	}
	rank := func(t Table) int {
		l, _ := t.linkFor(kind)
		if l.Column == "id" {
			return -1
		}
		return inv.linkDepth(t, kind)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) > rank(out[j]) })
	return out
}

// linkDepth is how many parent links lead from t to a table linked
// directly to subjects of kind.
func (inv Inventory) linkDepth(t Table, kind Subject) int {
	n := 0
	for n < 10 {
		l, ok := t.linkFor(kind)
		if !ok || l.Parent == "" {
			break
		}
		p, ok := inv.Table(l.Parent)
		if !ok {
			break
		}
		t, n = p, n+1
	}
	return n
}

// group is a part of a table erasure treats alike: all its rows, or, for
// a table whose hold covers only some rows, those held and the others.
type group struct {
	cond string // extra SQL condition ("" = none)
	held bool   // whether the legal hold applies
}

func (inv Inventory) groups(t Table, kind Subject) []group {
	if t.HeldWith == "" {
		return []group{{held: true}}
	}
	child, _ := inv.Table(t.HeldWith)
	col := ""
	for _, sl := range child.links() {
		if sl.Link.Parent == t.Name {
			col = sl.Link.ParentColumn
			break
		}
	}
	exists := fmt.Sprintf("EXISTS (SELECT 1 FROM %s h WHERE h.%s = %s.id)", child.Name, col, t.Name)
	return []group{{cond: exists, held: true}, {cond: "NOT " + exists, held: false}}
}

// eraseTable erases the subject's rows of t and returns the steps, the
// processor keys read before the change, and the recipients of erased
// data.
func eraseTable(ctx context.Context, tx *sql.Tx, inv Inventory, t Table, s SubjectRef, now time.Time, dryRun bool) ([]ErasureStep, []ProcessorRef, []string, error) {
	var args []any
	where, ok := inv.subjectWhere(t, s, &args)
	if !ok {
		return nil, nil, nil, nil
	}
	// Processor keys first: the update below blanks them.
	var refs []ProcessorRef
	for _, c := range t.Columns {
		if c.ProcessorRef == "" {
			continue
		}
		found, err := distinctValues(ctx, tx, t.Name, c.Name, where, args)
		if err != nil {
			return nil, nil, nil, err
		}
		r, _ := inv.Recipient(c.ProcessorRef)
		for _, v := range found {
			if !slices.ContainsFunc(refs, func(p ProcessorRef) bool { return p.Recipient == r.ID && p.Ref == v }) {
				refs = append(refs, ProcessorRef{Recipient: r.ID, Name: r.Name, Ref: v})
			}
		}
	}
	var steps []ErasureStep
	var recips []string
	for _, g := range inv.groups(t, s.Kind) {
		w := where
		if g.cond != "" {
			w = "(" + where + ") AND " + g.cond
		}
		step, rc, err := eraseGroup(ctx, tx, t, s.Kind, g, w, args, now, dryRun)
		if err != nil {
			return nil, nil, nil, err
		}
		if step.Rows > 0 || len(steps) == 0 && g.held && g.cond == "" {
			steps = append(steps, step)
		}
		recips = append(recips, rc...)
	}
	if len(steps) == 0 {
		steps = []ErasureStep{{Table: t.Name, Description: t.Description, Action: "nothing"}}
	}
	return steps, refs, recips, nil
}

func distinctValues(ctx context.Context, tx *sql.Tx, table, col, where string, args []any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT `+col+` FROM `+table+` WHERE (`+where+`) AND `+col+` IS NOT NULL AND `+col+` <> ''`, args...)
	if err != nil {
		return nil, fmt.Errorf("read processor references in %s: %w", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func eraseGroup(ctx context.Context, tx *sql.Tx, t Table, kind Subject, g group, where string, args []any, now time.Time, dryRun bool) (ErasureStep, []string, error) {
	step := ErasureStep{Table: t.Name, Description: t.Description, NotHeld: !g.held}
	var sets, all, erasedRecips []string
	anonymise, keepsPlain := false, false
	setArgs := slices.Clone(args)
	for _, c := range t.Columns {
		if !c.Personal {
			continue
		}
		if !c.of(kind) {
			// Another kind of subject's column: in the rows of this kind
			// (the link's When says whose a row is) it holds nothing.
			continue
		}
		all = appendNew(all, c.Category.Label())
		e := c.Erasure
		if e == LegalHold && !g.held {
			e = c.IfNotHeld
		}
		switch e {
		case "":
			keepsPlain = true // identifies no one once the links are gone
			continue
		case LegalHold:
			step.Held = append(step.Held, c.Name)
			step.Kept = appendNew(step.Kept, c.Category.Label())
			if until := holdUntil(c.Retention, now); until.After(step.HeldUntil) {
				step.HeldUntil, step.HeldWhy = until, c.Retention.Why
			}
			continue
		case EraseAnonymise:
			anonymise = true
			if c.Blank == BlankKeep {
				continue
			}
		}
		sets = append(sets, c.Name+" = "+c.Blank.sql(now, &setArgs))
		step.Blanked = append(step.Blanked, c.Name)
		step.Erased = appendNew(step.Erased, c.Category.Label())
		erasedRecips = append(erasedRecips, c.Recipients...)
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+t.Name+` WHERE `+where, args...).Scan(&step.Rows); err != nil {
		return step, nil, fmt.Errorf("count %s rows: %w", t.Name, err)
	}
	switch {
	case step.Rows == 0:
		step.Action, step.Blanked, step.Held, step.Erased, step.Kept = "nothing", nil, nil, nil, nil
		return step, nil, nil
	case len(step.Held) == 0 && !anonymise && !keepsPlain:
		step.Action, step.Blanked, step.Erased = "deleted", nil, all
		if !dryRun {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE `+where, args...); err != nil {
				return step, nil, fmt.Errorf("delete %s rows: %w", t.Name, err)
			}
		}
		var recips []string
		for _, c := range t.Columns {
			recips = append(recips, c.Recipients...)
		}
		return step, recips, nil
	case len(step.Held) > 0:
		step.Action = "minimised"
	default:
		step.Action = "anonymised"
	}
	if len(sets) > 0 && !dryRun {
		if _, err := tx.ExecContext(ctx, `UPDATE `+t.Name+` SET `+strings.Join(sets, ", ")+` WHERE `+where, setArgs...); err != nil {
			return step, nil, fmt.Errorf("erase %s columns: %w", t.Name, err)
		}
	}
	return step, erasedRecips, nil
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

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// wordList joins kinds of data for the middle of a sentence: "a, b and
// c", each lower-cased where it is a word, not an acronym.
func wordList(words []string) string {
	w := slices.Clone(words)
	for i := range w {
		// "Billing address" reads "billing address" inside a sentence;
		// "VAT identification number" stays as it is.
		if len(w[i]) > 1 && w[i][1] >= 'a' && w[i][1] <= 'z' {
			w[i] = strings.ToLower(w[i][:1]) + w[i][1:]
		}
	}
	switch len(w) {
	case 0:
		return "nothing"
	case 1:
		return w[0]
	}
	return strings.Join(w[:len(w)-1], ", ") + " and " + w[len(w)-1]
}
