package fraud

import (
	"database/sql"
	"net/http"
	"strings"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// thresholdsPage is the figures that make a pattern a signal. Reviewers
// see them (they read cases against them); those who manage settings
// (owners) change them.
type thresholdsPage struct {
	Fields    []detect.Field
	CanManage bool
	Error     string
	ErrField  string
	Done      string
}

var thresholdNotices = web.Notices{
	"saved":     "The thresholds are saved. The next run of the signals uses them, on every instance.",
	"unchanged": "Nothing changed: the thresholds were already these.",
}

func (h *handler) thresholds(w http.ResponseWriter, r *http.Request) error {
	th, err := detect.LoadThresholds(r.Context(), h.db)
	if err != nil {
		return err
	}
	return h.renderThresholds(w, r, http.StatusOK, thresholdsPage{Fields: th.Fields(), Done: thresholdNotices.For(r)})
}

func (h *handler) renderThresholds(w http.ResponseWriter, r *http.Request, status int, p thresholdsPage) error {
	p.CanManage = web.StaffSession(r).Account.Role.Can(staff.PermSettingsManage)
	return h.Render(w, r, status, h.console, "thresholds.html", "Fraud thresholds", p)
}

// saveThresholds stores a whole set of thresholds; one figure out of its
// bounds refuses the form and keeps what was typed, nothing saved.
func (h *handler) saveThresholds(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	th, err := detect.ParseThresholds(r.PostForm.Get)
	if err != nil {
		rf, ok := refuse.As(err)
		if !ok {
			return err
		}
		fields := detect.Thresholds{}.Fields()
		for i := range fields {
			// What was typed is shown again where it parses, so one
			// mistake does not cost the other figures.
			if v, ok := parseWhole(r.PostForm.Get(fields[i].Key)); ok {
				fields[i].Value = v
			}
		}
		return h.renderThresholds(w, r, web.StatusOf(rf), thresholdsPage{Fields: fields, Error: rf.Msg, ErrField: rf.Field})
	}
	ctx, now := r.Context(), h.clock.Now()
	done := "unchanged"
	err = h.db.Tx(ctx, func(tx *sql.Tx) error {
		was, err := detect.LoadThresholds(ctx, tx)
		if err != nil {
			return err
		}
		changes := detect.Changes(was, th)
		if len(changes) == 0 {
			return nil
		}
		if err := detect.SaveThresholds(ctx, tx, th, now); err != nil {
			return err
		}
		done = "saved"
		return h.Audit(ctx, tx, r, audit.Entry{Action: "fraud.thresholds_changed", SubjectType: "settings", SubjectID: "fraud",
			Detail: strings.Join(changes, "; ")})
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/fraud/thresholds?done="+done, http.StatusSeeOther)
	return nil
}

func parseWhole(s string) (int64, bool) {
	var n int64
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
