package supportdesk

import (
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

// settingsForm is the settings form as typed.
type settingsForm struct {
	FirstResponse, Resolution, CloseAfter string
	AutoReply                             bool
}

// settingsPage is the content of settings.html.
type settingsPage struct {
	Form   settingsForm
	Errors map[string]string // by field
	Notice string
}

func formOf(set support.Settings) settingsForm {
	return settingsForm{FirstResponse: strconv.Itoa(int(set.FirstResponse / time.Hour)), Resolution: strconv.Itoa(int(set.Resolution / time.Hour)),
		CloseAfter: strconv.Itoa(int(set.CloseAfter / (24 * time.Hour))), AutoReply: set.AutoReply}
}

func (s *handler) settings(w http.ResponseWriter, r *http.Request) error {
	set, err := support.LoadSettings(r.Context(), s.db)
	if err != nil {
		return err
	}
	page := settingsPage{Form: formOf(set)}
	if r.URL.Query().Get("done") == "saved" {
		page.Notice = "The support desk's settings are saved. New tickets get the new targets."
	}
	return s.render(w, r, http.StatusOK, "settings.html", "Support settings", page)
}

func (s *handler) saveSettings(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := settingsForm{FirstResponse: strings.TrimSpace(r.PostForm.Get("first_response_hours")),
		Resolution: strings.TrimSpace(r.PostForm.Get("resolution_hours")), CloseAfter: strings.TrimSpace(r.PostForm.Get("close_after_days")),
		AutoReply: r.PostForm.Get("auto_reply") == "on"}
	errs := map[string]string{}
	number := func(field, v string, unit time.Duration) time.Duration {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 100000 {
			errs[field] = "enter a whole number greater than 0"
			return 0
		}
		return time.Duration(n) * unit
	}
	set := support.Settings{FirstResponse: number("first_response_hours", f.FirstResponse, time.Hour),
		Resolution: number("resolution_hours", f.Resolution, time.Hour), CloseAfter: number("close_after_days", f.CloseAfter, 24*time.Hour),
		AutoReply: f.AutoReply}
	if len(errs) == 0 {
		err := s.db.Tx(r.Context(), func(tx *sql.Tx) error {
			now := s.clock.Now()
			if err := support.SaveSettings(r.Context(), tx, set, now); err != nil {
				return err
			}
			return s.Audit(r.Context(), tx, r, audit.Entry{Action: "support.settings_changed", SubjectType: "settings", SubjectID: "support",
				Detail: "first response " + f.FirstResponse + " h, resolution " + f.Resolution + " h, close after " + f.CloseAfter +
					" days, auto-reply " + strconv.FormatBool(f.AutoReply)})
		})
		if err == nil {
			return s.redirect(w, r, "/staff/support/settings?done=saved")
		}
		rf, ok := refuse.As(err)
		if !ok {
			return err
		}
		errs[rf.Field] = rf.Msg
	}
	return s.render(w, r, http.StatusUnprocessableEntity, "settings.html", "Support settings", settingsPage{Form: f, Errors: errs})
}
