// Package audit is the append-only, tamper-evident record of what staff did
// and of every view of a customer's personal data: who, what, about whom,
// when and from which network.
//
// Entries form a hash chain: each entry's hash covers its own fields and the
// previous entry's hash, so changing, removing or reordering an entry breaks
// every hash after it, which Verify (and `storekeep audit verify`) detects.
// One row, audit_head, holds the latest sequence number and hash; every
// append updates it inside the caller's transaction, so appends from
// several instances queue on its row lock and form one chain.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// Actor types.
const (
	ActorStaff    = "staff"
	ActorSystem   = "system"
	ActorCustomer = "customer"
)

// Entry is one line of the audit log.
type Entry struct {
	Seq         int64
	At          time.Time
	ActorType   string
	ActorID     int64 // 0 when there is none (system)
	Action      string
	SubjectType string
	SubjectID   string
	Detail      string
	SourceNet   string // the actor's network (see Network), not the full address
	PrevHash    string
	Hash        string
}

// Actor is who did what an entry records: a member of staff, a customer
// or the system (the command line, periodic work), and the network they
// acted from. Build one with Staff, Customer or System and put it on an
// entry with Entry.By:
//
//	audit.Append(ctx, tx, audit.Entry{At: now, Action: "staff.created",
//		SubjectType: "staff", SubjectID: id}.By(audit.Staff(sess.ID).From(net)))
type Actor struct {
	Type string // ActorStaff, ActorCustomer or ActorSystem
	ID   int64  // 0 for the system
	Net  string // see Network; "" when there is none
}

// Staff is the member of staff with account id.
func Staff(id int64) Actor { return Actor{Type: ActorStaff, ID: id} }

// Customer is the customer with account id.
func Customer(id int64) Actor { return Actor{Type: ActorCustomer, ID: id} }

// System is Storekeep itself: the command line and periodic work.
func System() Actor { return Actor{Type: ActorSystem} }

// From returns a with the network it acted from (see Network).
func (a Actor) From(net string) Actor {
	a.Net = net
	return a
}

// By returns e recorded as done by a: its actor type, ID and network.
func (e Entry) By(a Actor) Entry {
	e.ActorType, e.ActorID, e.SourceNet = a.Type, a.ID, a.Net
	return e
}

// Network reduces an address to its network (IPv4 /24, IPv6 /48): enough to
// tell an office from an unexpected country, without recording the
// person's exact address.
func Network(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	bits := 24
	if ip.Is6() {
		bits = 48
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// canonical is the text an entry's hash covers. Fields are length-prefixed
// so that no two different entries share a text.
func (e Entry) canonical() string {
	var b strings.Builder
	for _, f := range []string{
		strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), e.ActorType,
		strconv.FormatInt(e.ActorID, 10), e.Action, e.SubjectType, e.SubjectID, e.Detail, e.SourceNet, e.PrevHash,
	} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return b.String()
}

func (e Entry) computeHash() string {
	sum := sha256.Sum256([]byte(e.canonical()))
	return hex.EncodeToString(sum[:])
}

// Append adds e to the log inside tx and returns it with its sequence
// number and hashes. The caller's change and its audit entry commit or
// roll back together.
func Append(ctx context.Context, tx *sql.Tx, e Entry) (Entry, error) {
	if e.Action == "" || (e.ActorType != ActorStaff && e.ActorType != ActorSystem && e.ActorType != ActorCustomer) {
		return e, fmt.Errorf("audit: an entry needs an action and a known actor type (got %q, %q)", e.Action, e.ActorType)
	}
	// PostgreSQL keeps microseconds: hash what will be stored.
	e.At = e.At.UTC().Truncate(time.Microsecond)
	err := tx.QueryRowContext(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&e.Seq, &e.PrevHash)
	if err != nil {
		return e, fmt.Errorf("audit: advance chain head: %w", err)
	}
	e.Hash = e.computeHash()
	var actor any
	if e.ActorID != 0 {
		actor = e.ActorID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor_type, actor_id, action, subject_type, subject_id, detail, source_net, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.Seq, e.At, e.ActorType, actor, e.Action, e.SubjectType, e.SubjectID, e.Detail, e.SourceNet, e.PrevHash, e.Hash); err != nil {
		return e, fmt.Errorf("audit: insert entry: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return e, fmt.Errorf("audit: update chain head: %w", err)
	}
	return e, nil
}

// Record appends e in a transaction of its own.
func Record(ctx context.Context, d *db.DB, e Entry) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		_, err := Append(ctx, tx, e)
		return err
	})
}

const columns = `seq, at, actor_type, COALESCE(actor_id, 0), action, subject_type, subject_id, detail, source_net, prev_hash, hash`

func scan(rows *sql.Rows) (Entry, error) {
	var e Entry
	err := rows.Scan(&e.Seq, &e.At, &e.ActorType, &e.ActorID, &e.Action, &e.SubjectType, &e.SubjectID, &e.Detail, &e.SourceNet, &e.PrevHash, &e.Hash)
	e.At = e.At.UTC()
	return e, err
}

// ErrBroken reports where the chain does not hold.
type ErrBroken struct {
	Seq    int64
	Reason string
}

func (e *ErrBroken) Error() string {
	return fmt.Sprintf("audit log broken at entry %d: %s", e.Seq, e.Reason)
}

// Verify walks the whole chain in order and checks every entry's hash, its
// link to the previous entry, that no sequence number is missing, and that
// the head names the last entry. The first entry's link is taken as given:
// retention purges remove the oldest entries, and the chain from there on
// still proves itself. progress, if not nil, is called every 1000 entries.
func Verify(ctx context.Context, q db.Querier, progress func(n int64)) (int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("audit: read log: %w", err)
	}
	defer rows.Close()
	var n int64
	var prev Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return n, fmt.Errorf("audit: read entry: %w", err)
		}
		if n > 0 {
			if e.Seq != prev.Seq+1 {
				return n, &ErrBroken{Seq: prev.Seq + 1, Reason: "entry missing"}
			}
			if e.PrevHash != prev.Hash {
				return n, &ErrBroken{Seq: e.Seq, Reason: "does not link to the entry before it"}
			}
		}
		if e.computeHash() != e.Hash {
			return n, &ErrBroken{Seq: e.Seq, Reason: "content does not match its hash (changed after it was written)"}
		}
		prev = e
		n++
		if progress != nil && n%1000 == 0 {
			progress(n)
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("audit: read log: %w", err)
	}
	var headSeq int64
	var headHash string
	if err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return n, fmt.Errorf("audit: read chain head: %w", err)
	}
	if headSeq != prev.Seq || headHash != prev.Hash {
		return n, &ErrBroken{Seq: headSeq, Reason: "the newest entries were removed (the head records a later entry)"}
	}
	return n, nil
}

// Filter selects entries for the console and the CSV export. Zero fields
// match everything.
type Filter struct {
	ActorID     int64
	Action      string // prefix, e.g. "staff." or "customer.view"
	SubjectType string
	SubjectID   string
	From, To    time.Time // To is exclusive
	Limit       int       // default 100, at most 10000
	BeforeSeq   int64     // for paging backwards from the newest
}

// List returns entries matching f, newest first.
func List(ctx context.Context, q db.Querier, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.ActorID != 0 {
		arg("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		arg(`action LIKE ? ESCAPE '\'`, db.EscapeLike(f.Action)+"%")
	}
	if f.SubjectType != "" {
		arg("subject_type = ?", f.SubjectType)
	}
	if f.SubjectID != "" {
		arg("subject_id = ?", f.SubjectID)
	}
	if !f.From.IsZero() {
		arg("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		arg("at < ?", f.To.UTC())
	}
	if f.BeforeSeq > 0 {
		arg("seq < ?", f.BeforeSeq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	q2 := `SELECT ` + columns + ` FROM audit_log`
	if len(where) > 0 {
		q2 += ` WHERE ` + strings.Join(where, " AND ")
	}
	q2 += ` ORDER BY seq DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := q.QueryContext(ctx, q2, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// IsBroken reports whether err says the chain does not hold.
func IsBroken(err error) bool {
	var b *ErrBroken
	return errors.As(err, &b)
}
