package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/web"
)

// limitExport caps downloads: each builds the whole export.
var limitExport = ratelimit.Limit{Max: 10, Window: 24 * time.Hour}

// privacyPage is the content of privacy.html.
type privacyPage struct {
	Notice     string
	Customer   customers.Customer
	Export     privacy.Export
	Choices    privacy.Choices
	Objectable []privacy.PurposeUse
	Consents   []privacy.Purpose
}

var privacyNotices = map[string]string{
	"choices": "Your choice is saved and applies from now on.",
}

func (s *handler) subjectOf(c *customers.Customer) privacy.SubjectRef {
	return privacy.SubjectRef{Kind: privacy.Customer, ID: c.ID, Email: c.Email}
}

func (s *handler) collect(r *http.Request, c *customers.Customer) (privacy.Export, error) {
	v, err := s.Vendor(r)
	if err != nil {
		return privacy.Export{}, err
	}
	return privacy.Collect(r.Context(), s.db, privacy.Declared, v, s.subjectOf(c), s.clock.Now())
}

func (s *handler) privacyCenter(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	ctx := r.Context()
	e, err := s.collect(r, c)
	if err != nil {
		return err
	}
	ch, err := privacy.LoadChoices(ctx, s.db, c.ID)
	if err != nil {
		return err
	}
	page := privacyPage{Notice: privacyNotices[r.URL.Query().Get("done")], Customer: *c, Export: e, Choices: ch}
	for _, p := range privacy.Declared.Purposes {
		switch {
		case p.Basis == privacy.Consent:
			page.Consents = append(page.Consents, p)
		case p.Basis == privacy.LegitimateInterest && p.Overriding == "":
			page.Objectable = append(page.Objectable, privacy.PurposeUse{Purpose: p, BasisLabel: p.Basis.Label()})
		}
	}
	return s.render(w, r, http.StatusOK, "privacy.html", "Your privacy", page)
}

// privacyExport sends the portability archive.
func (s *handler) privacyExport(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	if ok, err := s.Allow(r, s.Bucket(limitExport, "privacy-export", strconv.FormatInt(c.ID, 10))); err != nil {
		return err
	} else if !ok {
		return &web.Error{Status: http.StatusTooManyRequests, Message: "You have downloaded your data many times today. Please try again tomorrow."}
	}
	e, err := s.collect(r, c)
	if err != nil {
		return err
	}
	if err := s.customerAudit(r.Context(), r, c.ID, "privacy.exported", fmt.Sprintf("%d rows", e.Rows())); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="my-data-`+s.clock.Now().Format("2006-01-02")+`.zip"`)
	return e.WriteZIP(w)
}

// customerAudit records an action the customer took about their data.
func (s *handler) customerAudit(ctx context.Context, r *http.Request, customerID int64, action, detail string) error {
	return s.AuditAlone(r, audit.Entry{ActorType: audit.ActorCustomer, ActorID: customerID,
		Action: action, SubjectType: "customer", SubjectID: web.Itoa(customerID), Detail: detail})
}

// privacyChoices saves one choice: restriction on or off, an objection,
// or a consent given or withdrawn.
func (s *handler) privacyChoices(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	choice, purpose, on := r.PostForm.Get("choice"), r.PostForm.Get("purpose"), r.PostForm.Get("on") == "1"
	if err := s.saveChoice(r, c.ID, choice, purpose, on, "privacy center"); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/privacy?done=choices#choices", http.StatusSeeOther)
	return nil
}

func (s *handler) saveChoice(r *http.Request, customerID int64, choice, purpose string, on bool, via string) error {
	ctx := r.Context()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := privacy.SetChoice(ctx, tx, privacy.Declared, customerID, choice, purpose, on, via, s.clock.Now()); err != nil {
			return err
		}
		return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorCustomer, ActorID: customerID,
			Action: "privacy." + choice, SubjectType: "customer", SubjectID: web.Itoa(customerID),
			Detail: fmt.Sprintf("%s %v via %s", purpose, on, via)})
	})
	if errors.Is(err, privacy.ErrNotAChoice) {
		return web.BadRequest("That choice does not exist. Reload the privacy page and try again.")
	}
	return err
}

// erasedPage is the content of privacy_erased.html.
type erasedPage struct {
	Report     privacy.ErasureReport
	Kept       []privacy.ErasureStep
	Removed    []privacy.ErasureStep
	Processors []string // processor references that could not be deleted automatically
}

// privacyErase erases the signed-in customer's data after confirmation and
// says exactly what was kept, why and until when.
func (s *handler) privacyErase(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	if r.PostForm.Get("confirm") != "yes" || !strings.EqualFold(strings.TrimSpace(r.PostForm.Get("email")), c.Email) {
		return &web.Error{Status: http.StatusUnprocessableEntity, Message: "To erase your account, tick the box and type your email address exactly as it is on the privacy page. Nothing was changed."}
	}
	ctx, now := r.Context(), s.clock.Now()
	rep, err := privacy.Erase(ctx, s.db, privacy.Declared, privacy.EraseRequest{Subject: s.subjectOf(c),
		By: audit.Entry{Detail: "privacy center"}.By(audit.Customer(c.ID).From(web.Network(r)))},
		s.processors, now)
	if err != nil {
		return err
	}
	page := erasedPage{Report: rep, Kept: rep.Kept(), Removed: rep.Removed()}
	for _, p := range rep.ProcessorsLeft() {
		page.Processors = append(page.Processors, p.Name+" customer "+p.Ref)
		s.log.LogAttrs(ctx, slog.LevelWarn, "erasure: processor not told", slog.String("processor", p.Recipient))
	}
	for _, rc := range rep.AskRecipients {
		page.Processors = append(page.Processors, rc.Name)
	}
	s.ClearCustomerCookie(w)
	return s.render(w, r, http.StatusOK, "privacy_erased.html", "Your account is erased", page)
}

// unsubscribeToken signs a customer and purpose for the link in bulk mail:
// following it withdraws the consent or records the objection, without
// signing in (RFC 8058 one-click).
func unsubscribeToken(secret []byte, customerID int64, purpose string) string {
	payload := strconv.FormatInt(customerID, 10) + "." + purpose
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("unsubscribe\x00" + payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// UnsubscribeURL is the link bulk mail to a customer carries for purpose,
// on site s.
func UnsubscribeURL(s *web.Server, customerID int64, purpose string) string {
	return s.BaseURL().String() + "/unsubscribe/" + unsubscribeToken(s.Secret(), customerID, purpose)
}

func (s *handler) parseUnsubscribe(token string) (int64, string, error) {
	p, _, ok := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if ok && err == nil {
		idStr, purpose, ok2 := strings.Cut(string(raw), ".")
		id, err := strconv.ParseInt(idStr, 10, 64)
		if ok2 && err == nil && hmac.Equal([]byte(unsubscribeToken(s.Secret(), id, purpose)), []byte(token)) {
			return id, purpose, nil
		}
	}
	return 0, "", &web.Error{Status: http.StatusNotFound, Message: "This unsubscribe link is not valid. Sign in to your account's privacy page to change what we send you."}
}

// unsubscribePage is the content of unsubscribe.html.
type unsubscribePage struct {
	Token, Purpose string
	Done           bool
}

func (s *handler) unsubscribeForm(w http.ResponseWriter, r *http.Request) error {
	_, purpose, err := s.parseUnsubscribe(r.PathValue("token"))
	if err != nil {
		return err
	}
	p, _ := privacy.Declared.Purpose(purpose)
	return s.render(w, r, http.StatusOK, "unsubscribe.html", "Unsubscribe", unsubscribePage{Token: r.PathValue("token"), Purpose: p.Name})
}

// unsubscribe withdraws consent (newsletters) or records an objection
// (product notices): as easy as it was to receive them, one request.
func (s *handler) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	id, purpose, err := s.parseUnsubscribe(r.PathValue("token"))
	if err != nil {
		return err
	}
	p, _ := privacy.Declared.Purpose(purpose)
	choice, on := privacy.ChoiceObjection, true
	if p.Basis == privacy.Consent {
		choice, on = privacy.ChoiceConsent, false
	}
	if err := s.saveChoice(r, id, choice, purpose, on, "email link"); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "unsubscribe.html", "Unsubscribed", unsubscribePage{Purpose: p.Name, Done: true})
}
