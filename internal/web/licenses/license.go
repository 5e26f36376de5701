package licenses

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// licensePage is the content of license.html.
type licensePage struct {
	Notice    string
	License   licensing.License
	Customer  customers.Customer // zero when none
	Order     orders.Order       // zero when issued by staff
	Machines  []licensing.Machine
	History   []audit.Entry
	CanManage bool
	// Action and Error are a refused form: which one, and why.
	Action, Error string
}

// notices are the confirmations of the license page's actions.
var notices = web.Notices{
	"extend":        "The license's expiry is changed.",
	"suspend":       "The license is suspended: the product stops accepting it.",
	"reinstate":     "The license is reinstated.",
	"revoke":        "The license is revoked for good.",
	"transfer":      "The license now belongs to the other customer.",
	"machine-limit": "The machine limit is changed.",
}

const msgNoLicense = "There is no such license."

// byPath loads the license the path names.
func (s *handler) byPath(r *http.Request) (licensing.License, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return licensing.License{}, err
	}
	l, err := licensing.ByID(r.Context(), s.db, id, s.clock.Now())
	if errors.Is(err, licensing.ErrNotFound) {
		return l, web.NotFound(msgNoLicense)
	}
	return l, err
}

func (s *handler) show(w http.ResponseWriter, r *http.Request) error {
	l, err := s.byPath(r)
	if err != nil {
		return err
	}
	return s.renderLicense(w, r, http.StatusOK, licensePage{License: l, Notice: notices.For(r)})
}

// renderLicense shows page.License with its customer, order, machines and
// history. The customer's address and name are personal data: the view is
// recorded.
func (s *handler) renderLicense(w http.ResponseWriter, r *http.Request, status int, page licensePage) error {
	ctx, l := r.Context(), page.License
	var err error
	if l.CustomerID != 0 {
		if page.Customer, err = customers.ByID(ctx, s.db, l.CustomerID); err != nil {
			return err
		}
		if err := s.RecordView(r, "customer", web.Itoa(l.CustomerID), "license "+l.LicenseID); err != nil {
			return err
		}
	}
	if l.OrderID != 0 {
		if page.Order, err = orders.ByID(ctx, s.db, l.OrderID); err != nil {
			return err
		}
	}
	if page.Machines, err = licensing.Machines(ctx, s.db, l.ID); err != nil {
		return err
	}
	if page.History, err = audit.List(ctx, s.db, audit.Filter{SubjectType: "license", SubjectID: l.LicenseID, Limit: 200}); err != nil {
		return err
	}
	page.CanManage = web.StaffSession(r).Account.Role.Can(staff.PermLicensesManage)
	return s.render(w, r, status, "license.html", "License "+l.LicenseID, page)
}

// action is one staff action on a license: its path segment and the
// domain call it makes with the form.
type action struct {
	name string
	do   func(ctx context.Context, s *handler, r *http.Request, staffID, id int64, why string, now time.Time) (licensing.License, error)
}

var actions = []action{
	{"extend", func(ctx context.Context, s *handler, r *http.Request, staffID, id int64, why string, now time.Time) (licensing.License, error) {
		until, err := time.Parse(time.DateOnly, strings.TrimSpace(r.PostForm.Get("until")))
		if err != nil {
			return licensing.License{}, refuse.Field("until", "Enter the new expiry as a date (YYYY-MM-DD).")
		}
		return licensing.Extend(ctx, s.db, staffID, id, until, why, now)
	}},
	{"suspend", func(ctx context.Context, s *handler, r *http.Request, staffID, id int64, why string, now time.Time) (licensing.License, error) {
		return licensing.Suspend(ctx, s.db, staffID, id, why, now)
	}},
	{"reinstate", func(ctx context.Context, s *handler, r *http.Request, staffID, id int64, why string, now time.Time) (licensing.License, error) {
		return licensing.Reinstate(ctx, s.db, staffID, id, why, now)
	}},
	{"revoke", func(ctx context.Context, s *handler, r *http.Request, staffID, id int64, why string, now time.Time) (licensing.License, error) {
		return licensing.Revoke(ctx, s.db, staffID, id, why, now)
	}},
	{"transfer", func(ctx context.Context, s *handler, r *http.Request, staffID, id int64, why string, now time.Time) (licensing.License, error) {
		email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
		if email == "" || len(email) > 254 {
			return licensing.License{}, refuse.Field("email", "Enter the email address of the customer who receives the license.")
		}
		c, err := customers.ByEmail(ctx, s.db, email)
		if errors.Is(err, customers.ErrNotFound) {
			return licensing.License{}, refuse.Field("email", "No customer has this email address; they sign in once to create their account.")
		}
		if err != nil {
			return licensing.License{}, err
		}
		return licensing.Transfer(ctx, s.db, staffID, id, c.ID, why, now)
	}},
	{"machine-limit", func(ctx context.Context, s *handler, r *http.Request, staffID, id int64, why string, now time.Time) (licensing.License, error) {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("max_machines")))
		if err != nil {
			return licensing.License{}, refuse.Field("max_machines", "Enter the machine limit as a number: 0 for unlimited.")
		}
		return licensing.SetMachineLimit(ctx, s.db, staffID, id, n, why, now)
	}},
}

// act runs one action with the form's reason. The domain records it in
// the audit log with the reason, in its own transaction; a refusal shows
// the license again with the message (422 for input, 409 for a state that
// does not allow it).
func (s *handler) act(a action) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		l, err := s.byPath(r)
		if err != nil {
			return err
		}
		_, err = a.do(r.Context(), s, r, web.StaffSession(r).Account.ID, l.ID, r.PostForm.Get("reason"), s.clock.Now())
		if err == nil {
			http.Redirect(w, r, "/staff/licenses/"+web.Itoa(l.ID)+"?done="+a.name, http.StatusSeeOther)
			return nil
		}
		rf, ok := refuse.As(err)
		if !ok || errors.Is(err, licensing.ErrNotFound) {
			return err
		}
		return s.renderLicense(w, r, web.StatusOf(rf), licensePage{License: l, Action: a.name, Error: rf.Msg})
	}
}
