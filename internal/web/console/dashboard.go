package console

import (
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/reports"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// notices are the confirmations shown after a form succeeds (POST, then
// redirect with ?done=key, then GET): fixed texts, so nothing a request
// carries is reflected into the page.
var notices = web.Notices{
	"saved":                  "Your changes are saved.",
	"password":               "Your password is changed. Your other sessions were signed out.",
	"signed-out":             "Your other sessions are signed out.",
	"session-ended":          "That session is signed out.",
	"role":                   "The role is changed.",
	"disabled":               "The account is disabled and its sessions are signed out.",
	"enabled":                "The account can sign in again.",
	"2fa-reset":              "Two-factor authentication is reset; the person sets it up again at the next sign-in.",
	"order-paid":             "The order is marked paid; the confirmation email is queued.",
	"order-cancelled":        "The order is cancelled.",
	"corrected":              "The correction is issued as a document of its own; the invoice stays as it was.",
	"order-refund-requested": "The refund is requested; the order changes when the payment provider confirms it.",
	"2fa-on":                 "Every staff account now needs two-factor authentication. Colleagues without it were signed out and set it up at their next sign-in.",
	"2fa-off":                "Only owners need two-factor authentication now. Colleagues who set it up keep using it.",
	"unchanged":              "Nothing changed: the setting was already so.",
	"policy-notice":          "The latest privacy policy version is marked as a significant change; the policy page announces it for 30 days.",
}

// dashboardPage is the content of dashboard.html.
type dashboardPage struct {
	Notice        string
	ActiveStaff   int
	AuditToday    int
	PolicyUpdated time.Time
	PolicyVersion int
	Role          staff.Role
	RoleText      string
	NeedsTwoFA    bool

	Parts dashboardParts
	// Figures (aggregates, no personal data).
	Charts     []chart
	ByCurrency []amountRow // the last 12 months, per currency
	Products   []productRow
	Open       reports.Backlog
	Overdue    reports.Backlog
	OverdueDay int
	// Queue is support's: what waits for an answer.
	Queue supportQueue
	// Problems are the recipients register's (owners): transfers out of
	// the EEA without a safeguard, recipients without an agreement,
	// reviews due.
	Problems []privacy.RecipientProblem
}

// dashboardParts are the parts of the dashboard a role sees.
type dashboardParts struct {
	// Figures: revenue charts by day, week and month, by product and by
	// currency, and how many orders are open and transfers overdue.
	// Aggregates only: no name, address or order number.
	Figures bool
	// OrderLists: the open orders and overdue transfers with their
	// numbers and buyers (billing.view).
	OrderLists bool
	// Queue: support's queue (open privacy requests, mail that failed).
	Queue bool
	// Accountability: the recipients register's problems (privacy.records).
	Accountability bool
}

// partsByRole is who sees which part of the dashboard: owners everything;
// finance the figures and the orders behind them; support its queue;
// analysts the aggregates alone. A part that shows personal data also
// needs the permission of that data (partsFor), so a change to the grants
// cannot open it by this table alone.
var partsByRole = map[staff.Role]dashboardParts{
	staff.Owner:   {Figures: true, OrderLists: true, Queue: true},
	staff.Finance: {Figures: true, OrderLists: true},
	staff.Support: {Queue: true},
	staff.Analyst: {Figures: true},
}

func partsFor(r staff.Role) dashboardParts {
	p := partsByRole[r]
	p.OrderLists = p.OrderLists && r.Can(staff.PermBillingView)
	p.Queue = p.Queue && r.Can(staff.PermPrivacyRequests) && r.Can(staff.PermCustomersView)
	p.Accountability = r.Can(staff.PermAccountability)
	return p
}

// supportQueue is what support has to answer until the support desk
// exists: open privacy requests and mail that could not be delivered.
type supportQueue struct {
	OpenRequests, OverdueRequests, DueSoon int
	FailedMail                             int
}

type amountRow struct {
	Currency, Net, Gross string
	Orders, Refunds      int
}

type productRow struct {
	Product, Currency, Net, Gross string
	Quantity, Orders, Refunds     int
}

func (s *handler) staffDashboard(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	ctx, now := r.Context(), s.clock.Now()
	page := dashboardPage{Notice: notices.For(r), Role: sess.Account.Role, RoleText: sess.Account.Role.Describe(), NeedsTwoFA: !sess.Account.HasTOTP,
		Parts: partsFor(sess.Account.Role), OverdueDay: int(reports.OverdueAfter / (24 * time.Hour))}
	var err error
	if page.ActiveStaff, err = staff.CountActive(ctx, s.db); err != nil {
		return err
	}
	day := now.UTC().Truncate(24 * time.Hour)
	if page.AuditToday, err = audit.CountSince(ctx, s.db, day); err != nil {
		return err
	}
	v, err := privacy.LatestVersion(ctx, s.db, privacy.PrivacyPolicy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	page.PolicyUpdated, page.PolicyVersion = v.PublishedAt, v.Seq
	if page.Parts.Figures {
		if err := s.dashboardFigures(r, &page, now); err != nil {
			return err
		}
	}
	if page.Parts.Queue {
		if page.Queue.OpenRequests, page.Queue.OverdueRequests, page.Queue.DueSoon, err = requests.Queue(ctx, s.db, now); err != nil {
			return err
		}
		counts, err := mail.Counts(ctx, s.db)
		if err != nil {
			return err
		}
		page.Queue.FailedMail = counts[mail.StateFailed]
	}
	if page.Parts.Accountability {
		if page.Problems, err = privacy.LoadRecipientProblems(ctx, s.db, s.Inventory(), now); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "dashboard.html", "Dashboard", page)
}

// dashboardFigures fills in the revenue charts, the products, the
// currencies and the backlog; with the order lists when the role sees
// them (a view of buyers' names, recorded).
func (s *handler) dashboardFigures(r *http.Request, page *dashboardPage, now time.Time) error {
	ctx := r.Context()
	// One read of the days of the last twelve months; the weeks and
	// months are summed from them.
	charts := []struct {
		p        db.Period
		n        int
		id, name string
	}{{db.Day, 30, "rev-day", "Revenue by day, last 30 days"}, {db.Week, 12, "rev-week", "Revenue by week, last 12 weeks"},
		{db.Month, 12, "rev-month", "Revenue by month, last 12 months"}}
	first, last := now, now
	for _, c := range charts {
		from, to := reports.Last(c.p, now, c.n)
		first, last = minTime(first, from), maxTime(last, to)
	}
	days, err := s.revenueDays.Revenue(ctx, s.db, first, last, now)
	if err != nil {
		return err
	}
	for _, c := range charts {
		from, to := reports.Last(c.p, now, c.n)
		series := days.Regroup(c.p, from, to)
		page.Charts = append(page.Charts, revenueCharts(series, c.id, c.name)...)
		if c.p == db.Month {
			for _, a := range series.Totals() {
				page.ByCurrency = append(page.ByCurrency, amountRow{Currency: a.Currency, Net: catalog.FormatMoney(a.NetMinor, a.Currency),
					Gross: catalog.FormatMoney(a.GrossMinor, a.Currency), Orders: a.Orders, Refunds: a.Refunds})
			}
		}
	}
	from, to := reports.Last(db.Day, now, 30)
	products, err := reports.ByProduct(ctx, s.db, from, to)
	if err != nil {
		return err
	}
	for _, p := range products {
		page.Products = append(page.Products, productRow{Product: p.Product, Currency: p.Currency, Net: catalog.FormatMoney(p.NetMinor, p.Currency),
			Gross: catalog.FormatMoney(p.GrossMinor, p.Currency), Quantity: p.Quantity, Orders: p.Orders, Refunds: p.Refunds})
	}
	limit := 0
	if page.Parts.OrderLists {
		limit = 10
	}
	if page.Open, err = reports.Open(ctx, s.db, limit); err != nil {
		return err
	}
	if page.Overdue, err = reports.Overdue(ctx, s.db, now, reports.OverdueAfter, limit); err != nil {
		return err
	}
	if len(page.Open.Orders)+len(page.Overdue.Orders) > 0 {
		return s.RecordView(r, "orders", "dashboard", "open orders and overdue transfers")
	}
	return nil
}

// accountPage is the content of account.html.
type accountPage struct {
	Notice, Error string
	Account       staff.Account
	Sessions      []staff.Session
	CurrentID     int64
	RecoveryLeft  int
}

func (s *handler) staffAccount(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, "")
}

func (s *handler) renderAccount(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	sess := web.StaffSession(r)
	ctx := r.Context()
	sessions, err := staff.ActiveSessions(ctx, s.db, sess.Account.ID, s.clock.Now())
	if err != nil {
		return err
	}
	left, err := staff.RecoveryCodesLeft(ctx, s.db, sess.Account.ID)
	if err != nil {
		return err
	}
	return s.render(w, r, status, "account.html", "My account", accountPage{
		Notice: notices.For(r), Error: problem, Account: sess.Account, Sessions: sessions, CurrentID: sess.ID, RecoveryLeft: left})
}

// staffChangePassword needs the current password, so a borrowed unlocked
// browser cannot take the account over.
func (s *handler) staffChangePassword(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	// Keyed by the account, which only its own sessions reach: attempts
	// at the sign-in form elsewhere do not stop a password change here.
	ok, err := s.Allow(r, s.Bucket(limitPasswordChange, "password-change:account", web.Itoa(sess.Account.ID)))
	if err != nil {
		return err
	}
	if !ok {
		return s.renderAccount(w, r, http.StatusTooManyRequests, web.MsgRateLimited)
	}
	ctx, now := r.Context(), s.clock.Now()
	if _, err := staff.CheckPassword(ctx, s.db, sess.Account.Email, r.PostForm.Get("current")); err != nil {
		return s.renderAccount(w, r, http.StatusUnauthorized, "Your current password is wrong.")
	}
	pw := r.PostForm.Get("password")
	if staff.CheckPasswordPolicy(pw) != nil {
		return s.renderAccount(w, r, http.StatusUnprocessableEntity, "Choose a new password of at least 12 characters.")
	}
	if pw != r.PostForm.Get("confirm") {
		return s.renderAccount(w, r, http.StatusUnprocessableEntity, "The two new passwords differ.")
	}
	var token string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := staff.SetPassword(ctx, tx, sess.Account.ID, pw, now); err != nil {
			return err
		}
		var err error
		if token, err = staff.StartSession(ctx, tx, sess.Account.ID, staff.LevelFull, now); err != nil {
			return err
		}
		return s.Audit(ctx, tx, r, audit.Entry{Action: "staff.password_changed", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID)}.By(audit.Staff(sess.Account.ID)))
	})
	if err != nil {
		return err
	}
	s.SetStaffCookie(w, token)
	http.Redirect(w, r, "/staff/account?done=password", http.StatusSeeOther)
	return nil
}

func (s *handler) staffLogoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	err := s.db.Tx(r.Context(), func(tx *sql.Tx) error {
		if err := staff.RevokeAll(r.Context(), tx, sess.Account.ID, sess.ID, s.clock.Now()); err != nil {
			return err
		}
		return s.Audit(r.Context(), tx, r, audit.Entry{Action: "staff.logout_everywhere", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID)}.By(audit.Staff(sess.Account.ID)))
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/account?done=signed-out", http.StatusSeeOther)
	return nil
}

// staffRevokeSession signs out one of the member's other sessions. The
// entry in the audit log is written in the same transaction as the
// revocation, and only when a live session of the member ended: another
// member's session, an ended one or an unknown number is a 404 that
// changes and records nothing.
func (s *handler) staffRevokeSession(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return staff.ErrSessionNotFound
	}
	err = s.db.Tx(r.Context(), func(tx *sql.Tx) error {
		if err := staff.RevokeSession(r.Context(), tx, sess.Account.ID, id, s.clock.Now()); err != nil {
			return err
		}
		return s.Audit(r.Context(), tx, r, audit.Entry{Action: "staff.session_revoked", SubjectType: "staff_session", SubjectID: web.Itoa(id)}.By(audit.Staff(sess.Account.ID)))
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/account?done=session-ended", http.StatusSeeOther)
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
