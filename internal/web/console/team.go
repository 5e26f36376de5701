package console

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// teamPage is the content of team.html.
type teamPage struct {
	Notice, Error string
	Accounts      []staff.Account
	Roles         []staff.Role
	SelfID        int64
	Form          struct{ Email, Name, Role string }
}

func (s *handler) staffTeam(w http.ResponseWriter, r *http.Request) error {
	return s.renderTeam(w, r, http.StatusOK, teamPage{Notice: notices.For(r)})
}

func (s *handler) renderTeam(w http.ResponseWriter, r *http.Request, status int, page teamPage) error {
	accounts, err := staff.List(r.Context(), s.db)
	if err != nil {
		return err
	}
	// The list shows colleagues' names and addresses: a view of staff
	// personal data, recorded like any other.
	if err := s.RecordView(r, "staff", "all", "staff list"); err != nil {
		return err
	}
	page.Accounts, page.Roles, page.SelfID = accounts, staff.Roles, web.StaffSession(r).Account.ID
	return s.render(w, r, status, "team.html", "Staff", page)
}

// setupLink is the address of a one-time link for the person to open.
func (s *handler) setupLink(token string) string {
	return s.BaseURL().String() + "/staff/setup?token=" + token
}

// staffCreate adds a colleague and shows the one-time link that lets them
// choose a password; the owner passes it on (mail arrives with the outbox).
func (s *handler) staffCreate(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	page := teamPage{}
	f := &page.Form
	f.Email, f.Name, f.Role = r.PostForm.Get("email"), r.PostForm.Get("name"), r.PostForm.Get("role")
	var problems input.Problems
	problems.Clean(input.Spec{Field: "email", Label: "The email address", Max: 254}, &f.Email)
	problems.Clean(input.Spec{Field: "name", Label: "The name", Max: 200}, &f.Name)
	ctx, now := r.Context(), s.clock.Now()
	var link string
	err := problems.Err()
	if err == nil {
		err = s.db.Tx(ctx, func(tx *sql.Tx) error {
			a, err := staff.Create(ctx, tx, f.Email, f.Name, staff.Role(f.Role), now)
			if err != nil {
				return err
			}
			token, err := staff.IssueToken(ctx, tx, a.ID, staff.SetupToken, now)
			if err != nil {
				return err
			}
			link = s.setupLink(token)
			return s.Audit(ctx, tx, r, audit.Entry{Action: "staff.created", SubjectType: "staff", SubjectID: web.Itoa(a.ID), Detail: "role=" + string(a.Role)})
		})
	}
	if rf, ok := refuse.As(err); ok {
		// A refusal says what to change; the form keeps what was typed.
		page.Error = rf.Msg
		return s.renderTeam(w, r, http.StatusUnprocessableEntity, page)
	}
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "message.html", "Account created", messagePage{
		Heading: "Account created",
		Text:    "Send this one-time link to " + f.Email + " by a channel you trust. It works once, for 72 hours, and lets them choose a password.",
		Copy:    link, Link: "/staff/team", LinkText: "Back to staff"})
}

// staffMemberAction runs one owner action on a colleague's account.
func (s *handler) staffMemberAction(action string) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sess := web.StaffSession(r)
		id, err := web.PathID(r, "id")
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return web.BadRequest("The form could not be read. Reload the page and try again.")
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
					return refuse.New(refuse.Invalid, "staff_disable_self", "You cannot disable your own account.")
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
			return s.Audit(ctx, tx, r, audit.Entry{Action: "staff." + strings.ReplaceAll(action, "-", "_"), SubjectType: "staff", SubjectID: web.Itoa(id), Detail: detail}.By(audit.Staff(sess.Account.ID)))
		})
		if errors.Is(err, staff.ErrNotFound) {
			return web.NotFound("There is no such staff account.")
		}
		if rf, ok := refuse.As(err); ok {
			// The last owner, an unknown role, oneself: the owner reads
			// why; anything else is a failure of ours (500).
			return &web.Error{Status: http.StatusUnprocessableEntity, Message: rf.Msg}
		}
		if err != nil {
			return err
		}
		if link != "" {
			return s.render(w, r, http.StatusOK, "message.html", "Password reset link", messagePage{
				Heading: "Password reset link",
				Text:    "Send this one-time link to your colleague by a channel you trust. It works once, for one hour.",
				Copy:    link, Link: "/staff/team", LinkText: "Back to staff"})
		}
		http.Redirect(w, r, "/staff/team?done="+done, http.StatusSeeOther)
		return nil
	}
}
