package licenses

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

// policyRow is one edition with its policy.
type policyRow struct {
	Product catalog.Product
	Edition catalog.Edition
	Policy  licensing.Policy
	Error   string // the refusal of this edition's form
}

// Ent is the policy's entitlements as the form shows them.
func (p policyRow) Ent() string { return strings.Join(p.Policy.Entitlements, ", ") }

// policiesPage is the content of policies.html.
type policiesPage struct {
	Notice         string
	Rows           []policyRow
	MaxCheckInDays int
}

var policyNotices = web.Notices{"saved": "The policy is saved; it applies to licenses issued from now on."}

func (s *handler) policies(w http.ResponseWriter, r *http.Request) error {
	return s.renderPolicies(w, r, http.StatusOK, nil, "")
}

// renderPolicies shows every edition's policy; refused is a refused form,
// shown with what was typed and msg.
func (s *handler) renderPolicies(w http.ResponseWriter, r *http.Request, status int, refused *licensing.Policy, msg string) error {
	ctx := r.Context()
	ps, err := catalog.All(ctx, s.db)
	if err != nil {
		return err
	}
	saved, err := licensing.Policies(ctx, s.db)
	if err != nil {
		return err
	}
	page := policiesPage{Notice: policyNotices.For(r), MaxCheckInDays: licensing.MaxCheckInDays}
	for _, p := range ps {
		for _, e := range p.Editions {
			row := policyRow{Product: p, Edition: e}
			pol, ok := saved[e.ID]
			if !ok {
				pol = licensing.DefaultPolicy
				pol.EditionID, pol.Default = e.ID, true
			}
			row.Policy = pol
			if refused != nil && refused.EditionID == e.ID {
				row.Policy, row.Error = *refused, msg
			}
			page.Rows = append(page.Rows, row)
		}
	}
	if refused != nil && refused.EditionID == 0 {
		// A form that named no edition: say so above them all.
		page.Notice = ""
		if len(page.Rows) > 0 {
			page.Rows[0].Error = msg
		}
	}
	return s.render(w, r, status, "policies.html", "License policies", page)
}

// savePolicy stores one edition's policy (the domain records it in the
// audit log); refused input shows the form again with the reason.
func (s *handler) savePolicy(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	p := licensing.Policy{Kind: licensing.Kind(f.Get("kind")), Entitlements: strings.FieldsFunc(f.Get("entitlements"), func(c rune) bool {
		return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t'
	})}
	err := func() error {
		var err error
		if p.EditionID, err = strconv.ParseInt(f.Get("edition"), 10, 64); err != nil || p.EditionID <= 0 {
			p.EditionID = 0
			return refuse.Field("edition", "Choose the edition whose policy you change.")
		}
		for _, n := range []struct {
			field, msg string
			v          *int
		}{
			{"term_months", "The term is a number of months (empty for a perpetual license).", &p.TermMonths},
			{"updates_months", "The updates window is a number of months: 0 for no limit.", &p.UpdatesMonths},
			{"grace_days", "The grace period is a number of days.", &p.GraceDays},
			{"max_machines", "The machine limit is a number: 0 for unlimited.", &p.MaxMachines},
			{"check_in_days", "The check-in interval is a number of days: 0 for none.", &p.CheckInDays},
		} {
			v := strings.TrimSpace(f.Get(n.field))
			if v == "" {
				continue
			}
			if *n.v, err = strconv.Atoi(v); err != nil {
				return refuse.Field(n.field, n.msg)
			}
		}
		_, err = licensing.SavePolicy(r.Context(), s.db, web.StaffSession(r).Account.ID, p, s.clock.Now())
		return err
	}()
	if err == nil {
		http.Redirect(w, r, "/staff/licenses/policies?done=saved", http.StatusSeeOther)
		return nil
	}
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	if rf.Kind == refuse.NotFound {
		return web.NotFound("There is no such edition.")
	}
	return s.renderPolicies(w, r, web.StatusOf(rf), &p, rf.Msg)
}
