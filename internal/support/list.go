package support

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
)

// Filter selects tickets for the console's list.
type Filter struct {
	// State is one state, "active" (new or open), "all", or "" for every
	// ticket not closed.
	State    string
	Assignee int64 // 0 any; -1 unassigned
	Tag      string
	// Query finds tickets by number ("#12" or "12"), by the customer's
	// address, or by the words of their subject and messages (each word
	// as a prefix, all words required).
	Query      string
	CustomerID int64
	Overdue    bool // only tickets past a response target
	// Before pages on: tickets updated before the last one shown.
	Before Cursor
	Limit  int // 0 = 50
}

// Cursor is a position in the list (newest update first).
type Cursor struct {
	UpdatedAt int64 // Unix microseconds
	ID        int64
}

// Page is one page of the list.
type Page struct {
	Tickets []Ticket
	Next    Cursor // zero when there is no more
}

// maxWords caps the words of a search.
const maxWords = 8

// List returns the tickets the filter selects, most recently updated
// first, a page at a time (keyset paging: as fast on page 100 as on 1).
func (d *Desk) List(ctx context.Context, f Filter) (Page, error) {
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch f.State {
	case "":
		where = append(where, "t.state <> 'closed'")
	case "all":
	case "active":
		where = append(where, "t.state IN ('new', 'open')")
	default:
		if !State(f.State).Valid() {
			return Page{}, fmt.Errorf("support: unknown state %q", f.State)
		}
		where = append(where, "t.state = "+arg(f.State))
	}
	switch {
	case f.Assignee > 0:
		where = append(where, "t.assignee_id = "+arg(f.Assignee))
	case f.Assignee < 0:
		where = append(where, "t.assignee_id IS NULL")
	}
	if f.CustomerID != 0 {
		where = append(where, "t.customer_id = "+arg(f.CustomerID))
	}
	if f.Tag != "" {
		where = append(where, "EXISTS (SELECT 1 FROM support_tags g WHERE g.ticket_id = t.id AND g.tag = "+arg(strings.ToLower(f.Tag))+")")
	}
	if f.Overdue {
		where = append(where, overdueSQL("t.", arg(d.now())))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		cond, ok, err := d.searchCondition(ctx, q, arg)
		if err != nil {
			return Page{}, err
		}
		if !ok {
			return Page{}, nil
		}
		where = append(where, cond)
	}
	if f.Before.ID != 0 {
		u := arg(microsToTime(f.Before.UpdatedAt))
		where = append(where, "(t.updated_at < "+u+" OR (t.updated_at = "+u+" AND t.id < "+arg(f.Before.ID)+"))")
	}
	q := `SELECT ` + ticketColumns + ticketFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY t.updated_at DESC, t.id DESC LIMIT " + arg(limit+1)
	rows, err := d.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("support: list tickets: %w", err)
	}
	defer rows.Close()
	var p Page
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return Page{}, fmt.Errorf("support: list tickets: %w", err)
		}
		p.Tickets = append(p.Tickets, t)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if err := rows.Close(); err != nil {
		return Page{}, err
	}
	if len(p.Tickets) > limit {
		p.Tickets = p.Tickets[:limit]
		last := p.Tickets[limit-1]
		p.Next = Cursor{UpdatedAt: last.UpdatedAt.UnixMicro(), ID: last.ID}
	}
	if err := d.fillTags(ctx, p.Tickets); err != nil {
		return Page{}, err
	}
	return p, nil
}

// denseMatches is the number of matching messages (or subjects) from which a word
// search reads the tickets newest first and checks each (see
// searchCondition) rather than collecting every match and sorting it.
const denseMatches = 2000

// searchCondition is the WHERE condition of a search: a ticket number, an
// address, or words. ok is false for a query that can match nothing.
//
// Every word must occur in the ticket: in its subject or in one of its
// messages (not necessarily the same one). There are two ways to find
// the newest tickets holding a word, and each is slow where the other is
// fast (docs/benchmarks.md, "Support desk: ticket list and search at
// 100,000 tickets"): collecting every match and sorting it costs in
// proportion to the matches (1.5 s for a word in most of 100,000 tickets
// on SQLite), while reading the tickets newest first and checking each
// costs in proportion to the tickets read before a page is full (the
// whole table for a word found nowhere). So each word's matches are
// counted first, up to denseMatches, from the full-text indexes: when
// one word is rare its few tickets are the candidates (sparse) and the
// other words are checked on each (dense); when all are common, the
// tickets are read newest first and every word checked on each.
func (d *Desk) searchCondition(ctx context.Context, q string, arg func(any) string) (string, bool, error) {
	if n, err := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64); err == nil {
		if n <= 0 {
			return "", false, nil
		}
		return "t.id = " + arg(n), true, nil
	}
	if e, err := emailaddr.NormaliseEmail(q); err == nil {
		return "t.email = " + arg(e), true, nil
	}
	words := searchWords(q)
	if len(words) == 0 {
		return "", false, nil
	}
	rarest, fewest := 0, denseMatches
	for i, w := range words {
		n, err := d.countWord(ctx, w)
		if err != nil {
			return "", false, fmt.Errorf("support: search: %w", err)
		}
		if n == 0 {
			return "", false, nil // a word found nowhere: nothing matches
		}
		if n < fewest {
			rarest, fewest = i, n
		}
	}
	var conds []string
	for i, w := range words {
		if i == rarest && fewest < denseMatches {
			conds = append(conds, d.sparseWord(w, arg))
		} else {
			conds = append(conds, d.denseWord(w, arg))
		}
	}
	return strings.Join(conds, " AND "), true, nil
}

// countWord counts the messages and subjects holding word (as a prefix),
// up to denseMatches of each, from the full-text indexes.
func (d *Desk) countWord(ctx context.Context, word string) (int, error) {
	limit := strconv.Itoa(denseMatches)
	if d.DB.Dialect == db.Postgres {
		// The expressions are those of the GIN indexes (00028), so that the
		// indexes serve them.
		return d.countIndexed(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM support_messages WHERE to_tsvector('simple', body_text) @@ to_tsquery('simple', $1) LIMIT `+
			limit+`) m) + (SELECT count(*) FROM (SELECT 1 FROM support_tickets WHERE to_tsvector('simple', subject) @@ to_tsquery('simple', $1) LIMIT `+limit+`) s)`, word+":*")
	}
	var n int
	err := d.DB.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM support_messages_fts WHERE support_messages_fts MATCH $1 LIMIT `+limit+
		`)) + (SELECT count(*) FROM (SELECT 1 FROM support_tickets_fts WHERE support_tickets_fts MATCH $1 LIMIT `+limit+`))`, `"`+word+`"*`).Scan(&n)
	return n, err
}

// sparseWord is the condition that a ticket holds word, for a rare word:
// the tickets of its matches, collected from the indexes.
func (d *Desk) sparseWord(word string, arg func(any) string) string {
	if d.DB.Dialect == db.Postgres {
		tq := "to_tsquery('simple', " + arg(word+":*") + ")"
		return "t.id IN (SELECT s.id FROM support_tickets s WHERE to_tsvector('simple', s.subject) @@ " + tq +
			" UNION SELECT m.ticket_id FROM support_messages m WHERE to_tsvector('simple', m.body_text) @@ " + tq + ")"
	}
	mq := arg(`"` + word + `"*`)
	return "(t.id IN (SELECT rowid FROM support_tickets_fts WHERE support_tickets_fts MATCH " + mq + ") OR t.id IN (SELECT m.ticket_id FROM support_messages m " +
		"WHERE m.id IN (SELECT rowid FROM support_messages_fts WHERE support_messages_fts MATCH " + mq + ")))"
}

// denseWord is the condition that a ticket holds word, checked on the
// ticket itself: its subject, then its own messages.
func (d *Desk) denseWord(word string, arg func(any) string) string {
	if d.DB.Dialect == db.Postgres {
		tq := "to_tsquery('simple', " + arg(word+":*") + ")"
		// OFFSET 0 keeps PostgreSQL from turning the EXISTS into a hash of
		// every matching message (read from the heap: 0.45 s for a word in
		// most messages), so that it stops when the page is full.
		return "(to_tsvector('simple', t.subject) @@ " + tq + " OR EXISTS (SELECT 1 FROM support_messages m WHERE m.ticket_id = t.id AND to_tsvector('simple', m.body_text) @@ " +
			tq + " OFFSET 0))"
	}
	mq := arg(`"` + word + `"*`)
	// The + keeps SQLite from using the IN list to search the index, which
	// would walk every match for every ticket.
	return "(t.id IN (SELECT rowid FROM support_tickets_fts WHERE support_tickets_fts MATCH " + mq + ") OR EXISTS (SELECT 1 FROM support_messages m WHERE m.ticket_id = t.id AND +m.id IN " +
		"(SELECT rowid FROM support_messages_fts WHERE support_messages_fts MATCH " + mq + ")))"
}

// countIndexed runs a count of matches on PostgreSQL with sequential scans
// off: with a LIMIT the planner would rather read the table and compute
// each message's tsvector until it has enough (0.45 s for 2,000 matches
// of a common word) than build the bitmap from the GIN index (0.05 s).
func (d *Desk) countIndexed(ctx context.Context, q string, args ...any) (int, error) {
	tx, err := d.DB.Reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		return 0, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// searchWords splits a query into words of letters and digits, lower
// case, each at least 2 characters: nothing else reaches the full-text
// syntax of either database.
func searchWords(q string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) < 2 {
			continue
		}
		if len(w) > 60 {
			w = w[:60]
		}
		out = append(out, w)
		if len(out) == maxWords {
			break
		}
	}
	return out
}

// fillTags reads the tags of a page of tickets in one query.
func (d *Desk) fillTags(ctx context.Context, ts []Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	idx := map[int64]int{}
	ph := make([]string, len(ts))
	args := make([]any, len(ts))
	for i, t := range ts {
		idx[t.ID] = i
		ts[i].Tags = []string{}
		ph[i] = "$" + strconv.Itoa(i+1)
		args[i] = t.ID
	}
	rows, err := d.DB.QueryContext(ctx, `SELECT ticket_id, tag FROM support_tags WHERE ticket_id IN (`+strings.Join(ph, ", ")+`) ORDER BY tag`, args...)
	if err != nil {
		return fmt.Errorf("support: read tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return err
		}
		ts[idx[id]].Tags = append(ts[idx[id]].Tags, tag)
	}
	return rows.Err()
}

// Counts are the numbers the console's support page shows.
type Counts struct {
	New, Open, Waiting, Solved int
	Overdue, Parked            int
}

// overdueSQL is Ticket.Overdue as a condition on the ticket columns
// (prefixed with prefix) at the time in parameter now.
func overdueSQL(prefix, now string) string {
	return prefix + "state IN ('new', 'open') AND ((" + prefix + "first_response_at IS NULL AND " + prefix + "first_response_due < " + now + ") OR " +
		prefix + "resolution_due < " + now + ")"
}

// Count counts tickets by state, the overdue ones and the parked mail. The
// states are named rather than "not closed" so that support_tickets_state
// serves the count: it reads the few open tickets, not all of them.
func (d *Desk) Count(ctx context.Context) (Counts, error) {
	var c Counts
	now := d.now()
	err := d.DB.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN state = 'new' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'waiting' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'solved' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN `+overdueSQL("", "$1")+` THEN 1 ELSE 0 END), 0)
		FROM support_tickets WHERE state IN ('new', 'open', 'waiting', 'solved')`, now).Scan(&c.New, &c.Open, &c.Waiting, &c.Solved, &c.Overdue)
	if err != nil {
		return c, fmt.Errorf("support: count tickets: %w", err)
	}
	err = d.DB.QueryRowContext(ctx, `SELECT count(*) FROM support_parked WHERE state = 'parked'`).Scan(&c.Parked)
	return c, err
}

func microsToTime(us int64) time.Time { return time.UnixMicro(us).UTC() }
