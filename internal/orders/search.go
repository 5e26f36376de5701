package orders

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Query selects orders for the console's search and export. Empty fields
// select everything; the conditions are and-ed.
type Query struct {
	// Number is an order number, whole ("Q7K2-M9PX"; case and the dash
	// do not matter).
	Number string
	// Customer is a whole email address (found by the index on the
	// billing address), or part of the buyer's email address or name
	// (read newest first until a page is full).
	Customer string
	// ProductID keeps orders with a line of the product.
	ProductID int64
	Status    Status
	// From and To bound the time the order was placed: From <= t < To.
	From, To time.Time
	// After is the last order of the previous page; zero for the first.
	After Cursor
	// Limit is the page size (at most 500; 0 for 50).
	Limit int
}

// Cursor is a place in the list, newest first: the order placed at At
// with row id ID. Pages are keyset pages: the next one starts after the
// cursor, so a page link stays right while orders are placed, and the
// database seeks to it through the index on (created_at, id) however
// deep it is.
type Cursor struct {
	At time.Time
	ID int64
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == 0 }

// String is the cursor for a page link: "unix-nanoseconds.id".
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.At.UnixNano(), 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ErrBadCursor refuses a page link that is not one of ours.
var ErrBadCursor = refuse.New(refuse.Invalid, "bad_cursor", "The page link is damaged; start again from the first page.")

// ParseCursor reads a cursor of String; "" is the first page.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	ns, id, ok := strings.Cut(s, ".")
	n, err1 := strconv.ParseInt(ns, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || i <= 0 {
		return Cursor{}, ErrBadCursor
	}
	return Cursor{At: time.Unix(0, n).UTC(), ID: i}, nil
}

// NormaliseNumber is an order number as stored: upper case, with its dash.
func NormaliseNumber(s string) string {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
	if len(s) == 8 {
		return s[:4] + "-" + s[4:]
	}
	return s
}

// where builds the condition of q with its arguments.
func (q Query) where() (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Number != "" {
		conds = append(conds, "number = "+arg(NormaliseNumber(q.Number)))
	}
	if c := strings.TrimSpace(q.Customer); c != "" {
		if strings.Contains(c, "@") && !strings.ContainsAny(c, " %_") && strings.Index(c, "@") > 0 && !strings.HasSuffix(c, "@") {
			// A whole address: the index on billing_email finds it. The
			// stored address keeps the case it was typed in, so the
			// folded comparison follows for mixed case.
			conds = append(conds, "(billing_email = "+arg(c)+" OR billing_email = "+arg(strings.ToLower(c))+")")
		} else {
			p := arg(db.ContainsPattern(c))
			conds = append(conds, "(fold_case(billing_email) LIKE "+p+` ESCAPE '\' OR fold_case(billing_name) LIKE `+p+` ESCAPE '\')`)
		}
	}
	if q.ProductID != 0 {
		conds = append(conds, `EXISTS (SELECT 1 FROM order_lines l JOIN prices pr ON pr.id = l.price_id JOIN editions e ON e.id = pr.edition_id
			WHERE l.order_id = orders.id AND e.product_id = `+arg(q.ProductID)+`)`)
	}
	if q.Status != "" {
		conds = append(conds, "status = "+arg(string(q.Status)))
	}
	if !q.From.IsZero() {
		conds = append(conds, "created_at >= "+arg(q.From.UTC()))
	}
	if !q.To.IsZero() {
		conds = append(conds, "created_at < "+arg(q.To.UTC()))
	}
	if !q.After.IsZero() {
		// The first term is a range the index seeks to on both databases;
		// the second leaves out the cursor's own time's newer rows.
		at, id := arg(q.After.At.UTC()), arg(q.After.ID)
		conds = append(conds, "created_at <= "+at+" AND (created_at < "+at+" OR id < "+id+")")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// searchSQL is what follows "SELECT ... FROM orders" in the query of one
// page of q, newest first: one row more than the page, to tell whether
// there is another.
func (q Query) searchSQL() (string, []any, int) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	where, args := q.where()
	return where + ` ORDER BY created_at DESC, id DESC LIMIT ` + strconv.Itoa(limit+1), args, limit
}

// Search returns one page of the orders q selects, newest first, with
// their lines, and the cursor of the next page (zero on the last).
func Search(ctx context.Context, qr db.Querier, q Query) ([]Order, Cursor, error) {
	text, args, limit := q.searchSQL()
	list, err := list(ctx, qr, text, args...)
	if err != nil {
		return nil, Cursor{}, err
	}
	var next Cursor
	if len(list) > limit {
		list = list[:limit]
		last := list[len(list)-1]
		next = Cursor{At: last.CreatedAt, ID: last.ID}
	}
	return list, next, nil
}

// SearchPlan is the SQL and arguments of q's page, for the plan checks.
func SearchPlan(q Query) (string, []any) {
	text, args, _ := q.searchSQL()
	return `SELECT ` + orderColumns + ` FROM orders` + text, args
}

// Each calls fn with every order q selects, newest first, a page of 500
// at a time (q.Limit and q.After are ignored): the export streams from it
// without holding all orders, or one long read, open.
func Each(ctx context.Context, qr db.Querier, q Query, fn func([]Order) error) error {
	q.Limit, q.After = 500, Cursor{}
	for {
		page, next, err := Search(ctx, qr, q)
		if err != nil {
			return err
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if next.IsZero() {
			return nil
		}
		q.After = next
	}
}

// CustomerTotals is what one customer ordered: every order counted, and
// the totals of those paid (and not refunded) per currency.
type CustomerTotals struct {
	Orders int
	Paid   map[string]int64 // currency → total in minor units
}

// TotalsByCustomer returns the totals of the customers ids (at most a
// page of them), from the index on (customer_id, status, currency,
// total_minor).
func TotalsByCustomer(ctx context.Context, q db.Querier, ids []int64) (map[int64]CustomerTotals, error) {
	out := make(map[int64]CustomerTotals, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in := make([]string, len(ids))
	for i, id := range ids {
		in[i] = strconv.FormatInt(id, 10) // integers of ours: safe in the text
	}
	rows, err := q.QueryContext(ctx, `SELECT customer_id, status, currency, count(*), sum(total_minor) FROM orders
		WHERE customer_id IN (`+strings.Join(in, ", ")+`) GROUP BY customer_id, status, currency`)
	if err != nil {
		return nil, fmt.Errorf("customer totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var st Status
		var cur string
		var n int
		var sum int64
		if err := rows.Scan(&id, &st, &cur, &n, &sum); err != nil {
			return nil, fmt.Errorf("customer totals: %w", err)
		}
		t := out[id]
		t.Orders += n
		if st == Paid || st == Disputed {
			if t.Paid == nil {
				t.Paid = map[string]int64{}
			}
			t.Paid[cur] += sum
		}
		out[id] = t
	}
	return out, rows.Err()
}
