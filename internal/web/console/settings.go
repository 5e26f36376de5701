package console

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/web"
)

// settingsPage is the content of settings.html.
type settingsPage struct {
	Notice, Error    string
	Vendor           settings.Vendor
	RequireTwoFactor bool
	Policy           privacy.Version
}

func (s *handler) staffSettings(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	return s.renderSettings(w, r, http.StatusOK, settingsPage{Notice: notices.For(r), Vendor: v})
}

func (s *handler) renderSettings(w http.ResponseWriter, r *http.Request, status int, page settingsPage) error {
	ctx := r.Context()
	var err error
	if page.RequireTwoFactor, err = settings.RequireTwoFactor(ctx, s.db); err != nil {
		return err
	}
	page.Policy, err = privacy.LatestVersion(ctx, s.db, privacy.PrivacyPolicy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return s.render(w, r, status, "settings.html", "Settings", page)
}

// staffSaveSettings stores the vendor settings. The policy pages are
// derived from them, so a change here gives the policy a new version and
// "Last updated" date the next time it is shown.
func (s *handler) staffSaveSettings(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	f := r.PostForm.Get
	v := settings.Vendor{
		Name: f("name"), LegalName: f("legal_name"), Address: strings.ReplaceAll(f("address"), "\r\n", "\n"),
		PrivacyEmail: strings.TrimSpace(f("privacy_email")), SupportEmail: strings.TrimSpace(f("support_email")),
		Country: f("country"), HostingProvider: f("hosting_provider"), HostingLocation: f("hosting_location"),
		HostingTransfer: f("hosting_transfer"), MailProvider: f("mail_provider"), MailLocation: f("mail_location"),
		MailTransfer: f("mail_transfer"),
	}
	require := f("require_2fa") == "on"
	ctx, now := r.Context(), s.clock.Now()
	if err := v.Validate(); err != nil {
		return s.renderSettings(w, r, http.StatusUnprocessableEntity, settingsPage{Vendor: v, Error: err.Error()})
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := settings.Save(ctx, tx, v, now); err != nil {
			return err
		}
		if err := settings.SetRequireTwoFactor(ctx, tx, require, now); err != nil {
			return err
		}
		detail := "vendor settings"
		if require {
			detail += "; 2FA required for all staff"
		}
		return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "settings.changed", SubjectType: "settings", SubjectID: "vendor", Detail: detail})
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/settings?done=saved", http.StatusSeeOther)
	return nil
}

// staffPolicyNotice marks the latest privacy policy version as a
// significant change, so the page announces it prominently.
func (s *handler) staffPolicyNotice(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	note := strings.TrimSpace(r.PostForm.Get("note"))
	if note == "" || len(note) > 500 {
		return web.BadRequest("Describe the change in a sentence (at most 500 characters); the notice shows it to visitors.")
	}
	ctx := r.Context()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		seq, err := privacy.MarkSignificant(ctx, tx, privacy.PrivacyPolicy, note)
		if err != nil {
			return err
		}
		return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "policy.significant_change", SubjectType: "policy", SubjectID: "privacy/" + web.Itoa(int64(seq)), Detail: note})
	})
	if errors.Is(err, sql.ErrNoRows) {
		return &web.Error{Status: http.StatusConflict, Message: "The privacy policy has not been published yet. Open the policy page once, then try again."}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/settings?done=policy-notice", http.StatusSeeOther)
	return nil
}
