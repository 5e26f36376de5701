package account

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/web"
)

// msgNoLicense answers a license that is not the customer's, or not at all.
const msgNoLicense = "There is no such license in your account. Your licenses are listed on your licenses page."

// licenseView is one license as the customer's pages show it: the words
// for its state, term, updates window and seats.
type licenseView struct {
	licensing.License
	Name      string // "Mailguard Standard", or the slugs when the edition is gone
	StateText string
	Term      string // "Perpetual", "Until 1 March 2027"
	Updates   string
	Limit     string // "3 machines", "Unlimited"
	SeatsUsed int
	Machines  []machineView
	// Renewal says how a term license renews.
	Renewal renewalView
}

// machineView is one machine holding (or having held) a seat.
type machineView struct {
	licensing.Machine
	Lapsed bool // its seat lapsed for want of a check-in
}

// licensesPage is the content of licenses.html.
type licensesPage struct {
	Licenses []licenseView
}

// licensePage is the content of license.html.
type licensePage struct {
	License licenseView
	Notice  string
	// SendError says why the key was not mailed again.
	SendError string
	// Fingerprint is what was typed in the license file form, and
	// FileError what is wrong with it.
	Fingerprint, FileError string
	// Files says whether license files can be made (signing keys are
	// configured).
	Files bool
}

// licenseNotices are the confirmations of the license page's forms.
var licenseNotices = web.Notices{
	"freed":          "The machine's seat is free. The product on that machine stops working with this license at its next check; another machine can now activate.",
	"key-sent":       "The license key is on its way to your email address.",
	"auto-renew-off": "Automatic renewal is off. The license runs to the end of the period paid for and is not charged again.",
	"auto-renew-on":  "Automatic renewal is on again: the license renews at the end of its period.",
}

const longDate = "2 January 2006"

// editionNames maps edition IDs to "Product Edition".
func (s *handler) editionNames(r *http.Request) (map[int64]string, error) {
	ps, err := catalog.All(r.Context(), s.db)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, p := range ps {
		for _, e := range p.Editions {
			names[e.ID] = p.Name + " " + e.Name
		}
	}
	return names, nil
}

// view describes l for the customer at now, with how it renews and its
// machines.
func (s *handler) view(r *http.Request, l licensing.License, names map[int64]string, now time.Time) (licenseView, error) {
	v := describe(l, names, now)
	var err error
	if v.Renewal, err = s.renewal(r.Context(), l, now); err != nil {
		return v, err
	}
	ms, err := licensing.Machines(r.Context(), s.db, l.ID)
	if err != nil {
		return v, err
	}
	for _, m := range ms {
		mv := machineView{Machine: m, Lapsed: m.Lapsed(l, now)}
		if !mv.Lapsed {
			v.SeatsUsed++
		}
		v.Machines = append(v.Machines, mv)
	}
	return v, nil
}

// describe is what view says of l at now without reading anything more:
// its name, state, term, updates and machine limit.
func describe(l licensing.License, names map[int64]string, now time.Time) licenseView {
	v := licenseView{License: l, Name: names[l.EditionID]}
	if v.Name == "" {
		v.Name = l.Product + " " + l.Edition
	}
	switch l.State {
	case licensing.StateActive:
		v.StateText = "Active"
	case licensing.StateInGrace:
		v.StateText = "Expired, in its grace period until " + l.GraceEndsAt.Format(longDate) + ": renew it before then"
	case licensing.StateExpired:
		v.StateText = "Expired"
	case licensing.StateSuspended:
		v.StateText = "Suspended: contact us"
	case licensing.StateRevoked:
		v.StateText = "Revoked"
	default:
		v.StateText = string(l.State)
	}
	switch {
	case l.Perpetual():
		v.Term = "Perpetual"
	case now.Before(l.ExpiresAt):
		v.Term = "Until " + l.ExpiresAt.Format(longDate)
	default:
		v.Term = "Ended " + l.ExpiresAt.Format(longDate)
	}
	switch {
	case l.UpdatesUntil.IsZero():
		v.Updates = "All updates, without limit"
	case now.Before(l.UpdatesUntil):
		v.Updates = "Updates released until " + l.UpdatesUntil.Format(longDate)
	default:
		v.Updates = "Updates released until " + l.UpdatesUntil.Format(longDate) + " (ended)"
	}
	switch l.MaxMachines {
	case 0:
		v.Limit = "Unlimited"
	case 1:
		v.Limit = "1 machine"
	default:
		v.Limit = fmt.Sprintf("%d machines", l.MaxMachines)
	}
	return v
}

func (s *handler) accountLicenses(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	now := s.clock.Now()
	ls, err := licensing.ForCustomer(r.Context(), s.db, c.ID, now)
	if err != nil {
		return err
	}
	names, err := s.editionNames(r)
	if err != nil {
		return err
	}
	var page licensesPage
	for _, l := range ls {
		v, err := s.view(r, l, names, now)
		if err != nil {
			return err
		}
		page.Licenses = append(page.Licenses, v)
	}
	return s.render(w, r, http.StatusOK, "licenses.html", "Your licenses", page)
}

// customerLicense loads one of the signed-in customer's licenses by its
// license ID (lic_...); another customer's license, or text no license ID
// can be, is answered as if it did not exist.
func (s *handler) customerLicense(w http.ResponseWriter, r *http.Request) (*customers.Customer, licensing.License, bool, error) {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return nil, licensing.License{}, false, err
	}
	id, err := input.Line("id", "The license", 64, r.PathValue("id"))
	if err != nil || !strings.HasPrefix(id, "lic_") {
		return nil, licensing.License{}, false, web.NotFound(msgNoLicense)
	}
	l, err := licensing.ByLicenseID(r.Context(), s.db, id, s.clock.Now())
	if errors.Is(err, licensing.ErrNotFound) || (err == nil && l.CustomerID != c.ID) {
		return nil, l, false, web.NotFound(msgNoLicense)
	}
	return c, l, err == nil, err
}

func (s *handler) accountLicense(w http.ResponseWriter, r *http.Request) error {
	_, l, ok, err := s.customerLicense(w, r)
	if err != nil || !ok {
		return err
	}
	return s.renderLicense(w, r, http.StatusOK, l, licensePage{Notice: licenseNotices.For(r)})
}

func (s *handler) renderLicense(w http.ResponseWriter, r *http.Request, status int, l licensing.License, page licensePage) error {
	names, err := s.editionNames(r)
	if err != nil {
		return err
	}
	if page.License, err = s.view(r, l, names, s.clock.Now()); err != nil {
		return err
	}
	page.Files = s.licenseKeys != nil
	// The page shows the key: it stays out of caches.
	web.NoStore(w)
	return s.render(w, r, status, "license.html", "License "+page.License.Name, page)
}

// accountLicenseFree frees the seat a machine holds, as the customer.
func (s *handler) accountLicenseFree(w http.ResponseWriter, r *http.Request) error {
	c, l, ok, err := s.customerLicense(w, r)
	if err != nil || !ok {
		return err
	}
	mid, err := web.PathID(r, "mid")
	if err != nil {
		return web.NotFound("There is no such machine on this license.")
	}
	_, err = licensing.FreeMachine(r.Context(), s.db, audit.Customer(c.ID).From(web.Network(r)), c.ID, l.ID, mid, s.clock.Now())
	if errors.Is(err, licensing.ErrNotFound) {
		return web.NotFound("There is no such machine on this license. It may have been freed already.")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/licenses/"+l.LicenseID+"?done=freed", http.StatusSeeOther)
	return nil
}

// accountLicenseSendKey mails the key again to the account's address,
// through the outbox; a few times an hour per license.
func (s *handler) accountLicenseSendKey(w http.ResponseWriter, r *http.Request) error {
	c, l, ok, err := s.customerLicense(w, r)
	if err != nil || !ok {
		return err
	}
	ok, err = s.Allow(r, s.Bucket(limitLicenseKeyMail, "customer-license-key", l.LicenseID))
	if err != nil {
		return err
	}
	if !ok {
		return s.renderLicense(w, r, http.StatusTooManyRequests, l, licensePage{
			SendError: "The key was sent several times in the last hour. Wait an hour, then try again, or copy it from this page."})
	}
	names, err := s.editionNames(r)
	if err != nil {
		return err
	}
	v, err := s.view(r, l, names, s.clock.Now())
	if err != nil {
		return err
	}
	vendor, err := s.Vendor(r)
	if err != nil {
		return err
	}
	k := mail.LicenseKey{Name: v.Name, Key: l.Key, Machines: "any number of machines", Term: "perpetual"}
	switch {
	case l.MaxMachines == 1:
		k.Machines = "1 machine"
	case l.MaxMachines > 1:
		k.Machines = fmt.Sprintf("up to %d machines", l.MaxMachines)
	}
	if !l.Perpetual() {
		k.Term = "until " + l.ExpiresAt.Format(longDate)
	}
	m, err := mail.Compose("license_key", c.Email, mail.LicenseKeyData{SiteName: vendor.Name, License: k,
		PortalURL: s.BaseURL().String() + "/account/licenses/" + l.LicenseID})
	if err != nil {
		return err
	}
	m.CustomerID = c.ID
	ctx, now := r.Context(), s.clock.Now()
	if err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := mail.Enqueue(ctx, tx, m, now)
		return err
	}); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/licenses/"+l.LicenseID+"?done=key-sent", http.StatusSeeOther)
	return nil
}

// accountLicenseFile downloads the license file, bound to a machine when
// the form gives its fingerprint (which must hold a seat).
func (s *handler) accountLicenseFile(w http.ResponseWriter, r *http.Request) error {
	_, l, ok, err := s.customerLicense(w, r)
	if err != nil || !ok {
		return err
	}
	if s.licenseKeys == nil {
		return &web.Error{Status: http.StatusServiceUnavailable, Message: "License files cannot be made right now. Write to us and we will send you one."}
	}
	fp, err := input.Line("fingerprint", "The machine fingerprint", licensing.MaxFingerprint, r.URL.Query().Get("fingerprint"))
	if err != nil {
		return s.renderLicense(w, r, http.StatusUnprocessableEntity, l, licensePage{FileError: err.Error()})
	}
	file, res, err := licensing.File(r.Context(), s.db, s.licenseKeys, l.Key, fp, s.clock.Now())
	if err != nil {
		return err
	}
	if file == nil {
		page := licensePage{Fingerprint: fp, FileError: res.Message}
		if res.Code == licensing.CodeNotActivated {
			page.FileError = "No machine with this fingerprint holds a seat of this license: activate the product on that machine first, or leave the fingerprint empty for a file any machine can use."
		}
		return s.renderLicense(w, r, http.StatusUnprocessableEntity, l, page)
	}
	web.NoStore(w)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+l.LicenseID+`.lic"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write(file)
	return err
}
