package notices

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
)

// Audience is whom a security notice or product update goes to: the
// holders of licenses that match every filter set. A customer holding
// several matching licenses gets one message.
type Audience struct {
	// Product is the product's slug; "" is every product.
	Product string `json:"product,omitempty"`
	// Editions are edition slugs; none is every edition.
	Editions []string `json:"editions,omitempty"`
	// States are license states as internal/licensing defines them:
	// active, in_grace, expired; none means active and in grace.
	// Suspended and revoked licenses are never in an audience.
	States []licensing.State `json:"states,omitempty"`
	// Updates is "" (any), "current" (the updates window is open: no end,
	// or an end after now) or "lapsed" (it has ended).
	Updates string `json:"updates,omitempty"`
	// VersionBelow, when set, keeps only licenses with a machine that
	// reported, at its last check-in, an installed version lower than
	// this semantic version: the machines a fix in it concerns. Machines
	// that reported no version, or one that is not a semantic version,
	// are not in such an audience.
	VersionBelow string `json:"version_below,omitempty"`
}

// The values of Audience.Updates.
const (
	UpdatesAny     = ""
	UpdatesCurrent = "current"
	UpdatesLapsed  = "lapsed"
)

// AudienceStates are the license states an audience can choose.
var AudienceStates = []licensing.State{licensing.StateActive, licensing.StateInGrace, licensing.StateExpired}

func (a Audience) states() []licensing.State {
	if len(a.States) == 0 {
		return []licensing.State{licensing.StateActive, licensing.StateInGrace}
	}
	return a.States
}

func (a Audience) check() error {
	for _, s := range a.States {
		if !slices.Contains(AudienceStates, s) {
			return refuse.Field("states", "A license state is active, in grace or expired.")
		}
	}
	if a.Updates != UpdatesAny && a.Updates != UpdatesCurrent && a.Updates != UpdatesLapsed {
		return refuse.Field("updates", "The updates window is any, current or lapsed.")
	}
	if a.VersionBelow != "" {
		if _, err := releases.ParseVersion(a.VersionBelow); err != nil {
			return refuse.Field("version_below", "The version is a semantic version, such as 2.4.1.")
		}
	}
	if len(a.Product) > 64 || len(a.Editions) > 50 {
		return refuse.Field("product", "Choose a product and at most 50 editions.")
	}
	return nil
}

// args collects a statement's parameters and names them $1, $2, ...,
// which both databases read.
type args []any

func (p *args) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

func (p *args) in(vs []string) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = p.add(v)
	}
	return "(" + strings.Join(ph, ", ") + ")"
}

// holders writes the query of the audience's customers: SELECT c.id,
// c.email FROM customers c WHERE ..., as of now. The license states are
// licensing's (License.stateAt): active when it does not expire or
// expires after now, in grace when it expired but expires_at plus its
// grace days is after now, else expired. The grace period's end is
// compared per distinct grace_days value (read first; a handful), with
// the cut-off computed in Go as licensing computes it, so both databases
// run the same text and no date arithmetic in SQL can drift from Go's.
func (a Audience) holders(ctx context.Context, q db.Querier, p *args, kind Kind, now time.Time) (string, error) {
	now = now.UTC()
	var lw []string
	lw = append(lw, "l.customer_id = c.id", "l.status = 'active'")
	if a.Product != "" {
		lw = append(lw, "l.product = "+p.add(a.Product))
	}
	if len(a.Editions) > 0 {
		lw = append(lw, "l.edition IN "+p.in(a.Editions))
	}
	nowP := p.add(now)
	// Parameters are added only where the text uses them: PostgreSQL
	// cannot type a parameter the statement never mentions.
	inGrace := ""
	graceCond := func() (string, error) {
		if inGrace != "" {
			return inGrace, nil
		}
		graceDays, err := distinctGrace(ctx, q)
		if err != nil {
			return "", err
		}
		inGrace = "1 = 0"
		if len(graceDays) > 0 {
			var g []string
			for _, days := range graceDays {
				g = append(g, "(l.grace_days = "+p.add(days)+" AND l.expires_at > "+p.add(now.AddDate(0, 0, -days))+")")
			}
			inGrace = "(" + strings.Join(g, " OR ") + ")"
		}
		return inGrace, nil
	}
	var st []string
	for _, s := range a.states() {
		switch s {
		case licensing.StateActive:
			st = append(st, "(l.expires_at IS NULL OR l.expires_at > "+nowP+")")
		case licensing.StateInGrace, licensing.StateExpired:
			g, err := graceCond()
			if err != nil {
				return "", err
			}
			if s == licensing.StateExpired {
				g = "NOT " + g
			}
			st = append(st, "(l.expires_at <= "+nowP+" AND "+g+")")
		}
	}
	lw = append(lw, "("+strings.Join(st, " OR ")+")")
	switch a.Updates {
	case UpdatesCurrent:
		lw = append(lw, "(l.updates_until IS NULL OR l.updates_until > "+nowP+")")
	case UpdatesLapsed:
		lw = append(lw, "l.updates_until <= "+nowP)
	}
	if a.VersionBelow != "" {
		vs, err := versionsBelow(ctx, q, a.Product, a.VersionBelow)
		if err != nil {
			return "", err
		}
		if len(vs) == 0 {
			lw = append(lw, "1 = 0")
		} else {
			lw = append(lw, "EXISTS (SELECT 1 FROM license_machines m WHERE m.license_id = l.id AND m.version IN "+p.in(vs)+")")
		}
	}
	// Choices known now are honoured here, so the audience count is what
	// will be sent; the dispatcher checks them again for each message.
	objection := ""
	if !kind.Essential() {
		objection = " OR (sc.choice = 'objection' AND sc.purpose = 'notices')"
	}
	return `SELECT c.id, c.email FROM customers c
		WHERE EXISTS (SELECT 1 FROM licenses l WHERE ` + strings.Join(lw, " AND ") + `)
		AND NOT EXISTS (SELECT 1 FROM subject_choices sc WHERE sc.customer_id = c.id AND sc.active AND (sc.choice = 'restriction'` + objection + `))`, nil
}

func distinctGrace(ctx context.Context, q db.Querier) ([]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT grace_days FROM licenses WHERE grace_days > 0 ORDER BY grace_days`)
	if err != nil {
		return nil, fmt.Errorf("audience: grace periods: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var g int
		if err := rows.Scan(&g); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// versionsBelow reads the distinct installed versions machines reported
// (of the product's licenses) and keeps the semantic versions lower than
// below: a list as long as the versions in the field, not the machines.
func versionsBelow(ctx context.Context, q db.Querier, product, below string) ([]string, error) {
	limit, err := releases.ParseVersion(below)
	if err != nil {
		return nil, err
	}
	query, a := `SELECT DISTINCT m.version FROM license_machines m WHERE m.version <> ''`, []any{}
	if product != "" {
		query, a = `SELECT DISTINCT m.version FROM license_machines m JOIN licenses l ON l.id = m.license_id WHERE m.version <> '' AND l.product = $1`, []any{product}
	}
	rows, err := q.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, fmt.Errorf("audience: versions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if v, err := releases.ParseVersion(s); err == nil && v.Compare(limit) < 0 {
			out = append(out, s)
		}
	}
	return out, rows.Err()
}

// ListAudience is the mailing lists' side of release announcements and
// newsletters (internal/lists satisfies it; the lead wires it into
// Sender and the console). Both methods see only confirmed subscribers
// whose consent is in force.
type ListAudience interface {
	// InsertRecipients adds the list's confirmed subscribers to the
	// notice's recipients in one INSERT ... SELECT in tx:
	//
	//	INSERT INTO notice_recipients (notice_id, customer_id, subscriber_id, email, created_at)
	//	SELECT CAST($1 AS BIGINT), ..., ..., ..., $3 FROM <subscribers> WHERE list_id = $2 AND <confirmed, not withdrawn>
	//	ON CONFLICT (notice_id, email) DO NOTHING
	//
	// (customer_id NULL for a subscriber without an account,
	// subscriber_id their subscription's id, created_at now, from which
	// the row's retention counts) and returns the number of rows
	// inserted.
	InsertRecipients(ctx context.Context, tx *sql.Tx, noticeID, listID int64, now time.Time) (int64, error)
	// CountSubscribers is how many InsertRecipients would insert now.
	CountSubscribers(ctx context.Context, q db.Querier, listID int64) (int64, error)
	// Lists names the lists a notice can go to, for the compose form.
	Lists(ctx context.Context, q db.Querier) ([]MailingList, error)
}

// MailingList is a list as the compose form shows it.
type MailingList struct {
	ID   int64
	Name string
}

// Count is the size of the notice's audience now: the preview staff see
// before sending. A list kind without Lists counts 0.
func Count(ctx context.Context, q db.Querier, lists ListAudience, n Notice, now time.Time) (int64, error) {
	if n.Kind.ToList() {
		if lists == nil || n.ListID == 0 {
			return 0, nil
		}
		return lists.CountSubscribers(ctx, q, n.ListID)
	}
	var p args
	sel, err := n.Audience.holders(ctx, q, &p, n.Kind, now)
	if err != nil {
		return 0, err
	}
	var c int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+sel+`) a`, p...).Scan(&c); err != nil {
		return 0, fmt.Errorf("count audience: %w", err)
	}
	return c, nil
}

// insertHolders writes the license holders of the audience as the
// notice's recipients, in one statement.
func insertHolders(ctx context.Context, tx *sql.Tx, n Notice, now time.Time) (int64, error) {
	p := args{n.ID, now.UTC()}
	sel, err := n.Audience.holders(ctx, tx, &p, n.Kind, now)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO notice_recipients (notice_id, customer_id, email, created_at)
		SELECT CAST($1 AS BIGINT), a.id, a.email, $2 FROM (`+sel+`) a`, p...)
	if err != nil {
		return 0, fmt.Errorf("queue notice %d: %w", n.ID, err)
	}
	return res.RowsAffected()
}
