package console

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// limitResetAccount caps reset mails per address: each one lands in a
// colleague's mailbox.
var limitResetAccount = ratelimit.Limit{Max: 3, Window: time.Hour}

// resetPage is the content of reset.html.
type resetPage struct {
	Email, Error string
	Sent         bool
}

func (s *handler) staffResetForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "reset.html", "Forgot your password", resetPage{})
}

// staffReset emails a one-hour reset link to an active staff account. The
// answer is the same whether or not the address has an account, and the
// mail is queued in the same transaction as the link.
func (s *handler) staffReset(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	typed := strings.TrimSpace(r.PostForm.Get("email"))
	email, err := emailaddr.NormaliseEmail(typed)
	if err != nil {
		return s.render(w, r, http.StatusUnprocessableEntity, "reset.html", "Forgot your password",
			resetPage{Error: "Enter your email address, such as name@example.com."})
	}
	ok, err := s.Allow(r, s.Bucket(limitResetAccount, "staff-reset:account", email), s.Bucket(limitLoginNetwork, "staff-reset"+":net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		return s.render(w, r, http.StatusTooManyRequests, "reset.html", "Forgot your password", resetPage{Email: email, Error: web.MsgRateLimited})
	}
	ctx, now := r.Context(), s.clock.Now()
	a, err := staff.ByEmail(ctx, s.db, email)
	switch {
	case errors.Is(err, staff.ErrNotFound) || (err == nil && a.Disabled):
		// Nothing to send; the page below says the same as when there is.
	case err != nil:
		return err
	default:
		v, err := s.Vendor(r)
		if err != nil {
			return err
		}
		err = s.db.Tx(ctx, func(tx *sql.Tx) error {
			token, err := staff.IssueToken(ctx, tx, a.ID, staff.ResetToken, now)
			if err != nil {
				return err
			}
			m, err := mail.Compose("staff_reset", a.Email, mail.StaffResetData{SiteName: v.Name, Link: s.setupLink(token)})
			if err != nil {
				return err
			}
			m.StaffID = a.ID
			if _, err := mail.Enqueue(ctx, tx, m, now); err != nil {
				return err
			}
			return s.Audit(ctx, tx, r, audit.Entry{Action: "staff.reset_requested", SubjectType: "staff", SubjectID: web.Itoa(a.ID), Detail: "by email"}.By(audit.Staff(a.ID)))
		})
		if err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "reset.html", "Forgot your password", resetPage{Email: email, Sent: true})
}
