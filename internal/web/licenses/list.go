package licenses

import (
	"net/http"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// row is one license of the list with its customer and seats.
type row struct {
	licensing.License
	Customer customers.Customer // zero when none (erased, or issued to nobody)
	Seats    int
}

// listPage is the content of list.html.
type listPage struct {
	Query     string
	Rows      []row
	CanManage bool
}

// list shows the newest licenses, or those a search finds by license id,
// key, or the customer's email address or name.
func (s *handler) list(w http.ResponseWriter, r *http.Request) error {
	q, err := input.Line("q", "The search", 1000, r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	ls, err := licensing.Search(ctx, s.db, q, 100, s.clock.Now())
	if err != nil {
		return err
	}
	page := listPage{Query: q, CanManage: web.StaffSession(r).Account.Role.Can(staff.PermLicensesManage)}
	ids := make([]int64, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	seats, err := licensing.SeatsUsed(ctx, s.db, ids)
	if err != nil {
		return err
	}
	people := map[int64]customers.Customer{}
	for _, l := range ls {
		rw := row{License: l, Seats: seats[l.ID]}
		if l.CustomerID != 0 {
			c, ok := people[l.CustomerID]
			if !ok {
				if c, err = customers.ByID(ctx, s.db, l.CustomerID); err != nil {
					return err
				}
				people[l.CustomerID] = c
			}
			rw.Customer = c
		}
		page.Rows = append(page.Rows, rw)
	}
	// The list shows customers' addresses and names: a view of personal
	// data, recorded when it shows any.
	if len(people) > 0 {
		what, id := "newest licenses: ", "list"
		if q != "" {
			what, id = "search matched ", "search"
		}
		if err := s.RecordView(r, "licenses", id, what+web.Itoa(int64(len(ls)))); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "list.html", "Licenses", page)
}
