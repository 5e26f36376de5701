package web

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"

	"github.com/storekeep/storekeep/internal/staff"
)

// teamPage is the content of staff_team.html.
type teamPage struct {
	Notice, Error string
	Accounts      []staff.Account
	Roles         []staff.Role
	SelfID        int64
	Form          struct{ Email, Name, Role string }
}

func (s *Server) staffTeam(w http.ResponseWriter, r *http.Request) error {
	return s.renderTeam(w, r, http.StatusOK, teamPage{Notice: notice(r)})
}

func (s *Server) renderTeam(w http.ResponseWriter, r *http.Request, status int, page teamPage) error {
	accounts, err := staff.List(r.Context(), s.db)
	if err != nil {
		return err
	}
	// The list shows colleagues' names and addresses: a view of staff
	// personal data, recorded like any other.
	if err := s.recordView(r.Context(), r, "staff", "all", "staff list"); err != nil {
		return err
	}
	page.Accounts, page.Roles, page.SelfID = accounts, staff.Roles, staffSession(r).Account.ID
	return s.render(w, r, status, "staff_team.html", "Staff", page)
}

// setupLink is the address of a one-time link for the person to open.
func (s *Server) setupLink(token string) string {
	return s.baseURL.String() + "/staff/setup?token=" + token
}

// staffCreate adds a colleague and shows the one-time link that lets them
// choose a password; the owner passes it on (mail arrives with the outbox).
func (s *Server) staffCreate(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	if err := r.ParseForm(); err != nil {
		return BadRequest("The form could not be read. Reload the page and try again.")
	}
	page := teamPage{}
	page.Form.Email, page.Form.Name, page.Form.Role = strings.TrimSpace(r.PostForm.Get("email")), strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("role")
	ctx, now := r.Context(), s.clock.Now()
	var link string
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		a, err := staff.Create(ctx, tx, page.Form.Email, page.Form.Name, staff.Role(page.Form.Role), now)
		if err != nil {
			return err
		}
		token, err := staff.IssueToken(ctx, tx, a.ID, staff.SetupToken, now)
		if err != nil {
			return err
		}
		link = s.setupLink(token)
		return s.record(ctx, tx, r, sess.Account.ID, "staff.created", "staff", itoa(a.ID), "role="+string(a.Role))
	})
	if err != nil {
		if isStaffInputError(err) {
			page.Error = err.Error()
			return s.renderTeam(w, r, http.StatusUnprocessableEntity, page)
		}
		return err
	}
	return s.render(w, r, http.StatusOK, "staff_message.html", "Account created", messagePage{
		Heading: "Account created",
		Text:    "Send this one-time link to " + page.Form.Email + " by a channel you trust. It works once, for 72 hours, and lets them choose a password.",
		Copy:    link, Link: "/staff/team", LinkText: "Back to staff"})
}

// isStaffInputError tells mistakes in the form from failures of ours.
func isStaffInputError(err error) bool {
	return errors.Is(err, staff.ErrExists) || errors.Is(err, staff.ErrLastOwner) || errors.Is(err, staff.ErrNotFound) ||
		strings.Contains(err.Error(), "is not an email address") || strings.Contains(err.Error(), "unknown role") ||
		strings.Contains(err.Error(), "name is longer")
}

// staffMemberAction runs one owner action on a colleague's account.
func (s *Server) staffMemberAction(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sess := staffSession(r)
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return BadRequest("The form could not be read. Reload the page and try again.")
		}
		ctx, now := r.Context(), s.clock.Now()
		var link, done string
		err = s.db.Tx(ctx, func(tx *sql.Tx) error {
			target, err := staff.ByID(ctx, tx, id)
			if err != nil {
				return err
			}
			detail := ""
			switch action {
			case "role":
				role := staff.Role(r.PostForm.Get("role"))
				err, done, detail = staff.SetRole(ctx, tx, id, role, now), "role", string(target.Role)+" -> "+string(role)
			case "disable":
				if id == sess.Account.ID {
					return &Error{Status: http.StatusUnprocessableEntity, Message: "You cannot disable your own account."}
				}
				err, done = staff.Disable(ctx, tx, id, now), "disabled"
			case "enable":
				err, done = staff.Enable(ctx, tx, id, now), "enabled"
			case "reset-2fa":
				err, done = staff.ResetTwoFactor(ctx, tx, id, now), "2fa-reset"
			case "reset-link":
				var token string
				token, err = staff.IssueToken(ctx, tx, id, staff.ResetToken, now)
				link = s.setupLink(token)
			}
			if err != nil {
				return err
			}
			return s.record(ctx, tx, r, sess.Account.ID, "staff."+strings.ReplaceAll(action, "-", "_"), "staff", itoa(id), detail)
		})
		var e *Error
		switch {
		case errors.As(err, &e):
			return e
		case err != nil && errors.Is(err, staff.ErrNotFound):
			return NotFound("There is no such staff account.")
		case err != nil && isStaffInputError(err):
			return &Error{Status: http.StatusUnprocessableEntity, Message: err.Error()}
		case err != nil:
			return err
		}
		if link != "" {
			return s.render(w, r, http.StatusOK, "staff_message.html", "Password reset link", messagePage{
				Heading: "Password reset link",
				Text:    "Send this one-time link to your colleague by a channel you trust. It works once, for one hour.",
				Copy:    link, Link: "/staff/team", LinkText: "Back to staff"})
		}
		http.Redirect(w, r, "/staff/team?done="+done, http.StatusSeeOther)
		return nil
	}
}
