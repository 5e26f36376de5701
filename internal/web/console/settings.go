package console

import (
	"database/sql"
	"errors"
	"net/http"
	"strconv"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
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
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	f := r.PostForm.Get
	v := settings.Vendor{
		Name: f("name"), LegalName: f("legal_name"), Address: f("address"),
		PrivacyEmail: f("privacy_email"), SupportEmail: f("support_email"),
		Country: f("country"), HostingProvider: f("hosting_provider"), HostingLocation: f("hosting_location"),
		HostingTransfer: f("hosting_transfer"), MailProvider: f("mail_provider"), MailLocation: f("mail_location"),
		MailTransfer: f("mail_transfer"),
	}
	var problems input.Problems
	for _, c := range []struct {
		spec input.Spec
		v    *string
	}{
		{input.Spec{Field: "name", Label: "The name on the site", Max: 100}, &v.Name},
		{input.Spec{Field: "legal_name", Label: "The registered company name", Max: 200}, &v.LegalName},
		{input.Spec{Field: "address", Label: "The postal address", Max: 500, Multiline: true}, &v.Address},
		{input.Spec{Field: "privacy_email", Label: "The privacy contact address", Max: 254}, &v.PrivacyEmail},
		{input.Spec{Field: "support_email", Label: "The support address", Max: 254}, &v.SupportEmail},
		{input.Spec{Field: "country", Label: "The country", Max: 100}, &v.Country},
		{input.Spec{Field: "hosting_provider", Label: "The hosting provider"}, &v.HostingProvider},
		{input.Spec{Field: "hosting_location", Label: "The hosting location"}, &v.HostingLocation},
		{input.Spec{Field: "hosting_transfer", Label: "The hosting safeguard"}, &v.HostingTransfer},
		{input.Spec{Field: "mail_provider", Label: "The email delivery provider"}, &v.MailProvider},
		{input.Spec{Field: "mail_location", Label: "The email delivery location"}, &v.MailLocation},
		{input.Spec{Field: "mail_transfer", Label: "The email delivery safeguard"}, &v.MailTransfer},
	} {
		problems.Clean(c.spec, c.v)
	}
	err := problems.Err()
	if err == nil {
		err = v.Validate()
	}
	if rf, ok := refuse.As(err); ok {
		return s.renderSettings(w, r, http.StatusUnprocessableEntity, settingsPage{Vendor: v, Error: rf.Msg})
	}
	if err != nil {
		return err
	}
	ctx, now := r.Context(), s.clock.Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := settings.Save(ctx, tx, v, now); err != nil {
			return err
		}
		return s.Audit(ctx, tx, r, audit.Entry{Action: "settings.changed", SubjectType: "settings", SubjectID: "vendor", Detail: "vendor settings"})
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/settings?done=saved", http.StatusSeeOther)
	return nil
}

// staffSaveSecurity turns the requirement of a second factor for every
// role on or off (owners need one either way). It is a form of its own,
// with an explicit choice, so that no save of the vendor details turns
// it off by leaving out a checkbox. Turning it on signs out everyone
// without a second factor: they enrol at their next sign-in.
func (s *handler) staffSaveSecurity(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	var require bool
	switch r.PostForm.Get("require_2fa") {
	case "on":
		require = true
	case "off":
	default:
		return refuse.Field("require_2fa", "Choose whether every staff account needs two-factor authentication, then save.")
	}
	ctx, now := r.Context(), s.clock.Now()
	done := "unchanged"
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		was, err := settings.RequireTwoFactor(ctx, tx)
		if err != nil {
			return err
		}
		if was == require {
			return nil
		}
		if err := settings.SetRequireTwoFactor(ctx, tx, require, now); err != nil {
			return err
		}
		detail, ended := "off: only owners need a second factor", int64(0)
		done = "2fa-off"
		if require {
			if ended, err = staff.RevokeWithoutSecondFactor(ctx, tx, now); err != nil {
				return err
			}
			detail, done = "on: every role needs a second factor; "+strconv.FormatInt(ended, 10)+" sessions without one signed out", "2fa-on"
		}
		return s.Audit(ctx, tx, r, audit.Entry{Action: "settings.2fa_requirement", SubjectType: "settings", SubjectID: "security", Detail: detail})
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/settings?done="+done, http.StatusSeeOther)
	return nil
}

// staffPolicyNotice marks the latest privacy policy version as a
// significant change, so the page announces it prominently.
func (s *handler) staffPolicyNotice(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	note, err := input.Spec{Field: "note", Label: "The description of the change", Max: 500, Required: true,
		Missing: "Describe the change in a sentence (at most 500 characters); the notice shows it to visitors."}.Clean(r.PostForm.Get("note"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		seq, err := privacy.MarkSignificant(ctx, tx, privacy.PrivacyPolicy, note)
		if err != nil {
			return err
		}
		return s.Audit(ctx, tx, r, audit.Entry{Action: "policy.significant_change", SubjectType: "policy", SubjectID: "privacy/" + web.Itoa(int64(seq)), Detail: note})
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
