package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/settings"
)

// Safeguard is the legal ground for a transfer of personal data to a
// country outside the EEA (Chapter V GDPR).
type Safeguard string

// The safeguards the register knows.
const (
	SafeguardNone       Safeguard = ""
	SafeguardAdequacy   Safeguard = "adequacy"   // Art. 45: the Commission found the country adequate (the EU-U.S. Data Privacy Framework among them)
	SafeguardSCC        Safeguard = "scc"        // Art. 46(2)(c): the Commission's Standard Contractual Clauses
	SafeguardBCR        Safeguard = "bcr"        // Art. 47: binding corporate rules
	SafeguardDerogation Safeguard = "derogation" // Art. 49: a derogation for a specific situation, named in the note
)

// Safeguards lists the safeguards a form offers, none first.
var Safeguards = []Safeguard{SafeguardNone, SafeguardAdequacy, SafeguardSCC, SafeguardBCR, SafeguardDerogation}

// Label is the safeguard in words.
func (s Safeguard) Label() string {
	switch s {
	case SafeguardNone:
		return "None"
	case SafeguardAdequacy:
		return "Adequacy decision (Art. 45 GDPR)"
	case SafeguardSCC:
		return "Standard Contractual Clauses (Art. 46(2)(c) GDPR)"
	case SafeguardBCR:
		return "Binding corporate rules (Art. 47 GDPR)"
	case SafeguardDerogation:
		return "Derogation for a specific situation (Art. 49 GDPR)"
	}
	return string(s)
}

// Valid reports whether s is a known safeguard (none included).
func (s Safeguard) Valid() bool { return slices.Contains(Safeguards, s) }

// RecipientKind is a recipient's role under the GDPR.
type RecipientKind string

// The kinds of recipient.
const (
	KindProcessor   RecipientKind = "processor"        // processes on our behalf, under an Art. 28 agreement
	OtherController RecipientKind = "controller"       // decides for itself what it does with the data
	JointController RecipientKind = "joint_controller" // decides with us, under an Art. 26 arrangement
	OtherRecipient  RecipientKind = "other"
)

// RecipientKinds lists the kinds a form offers.
var RecipientKinds = []RecipientKind{KindProcessor, OtherController, JointController, OtherRecipient}

// Label is the kind in words.
func (k RecipientKind) Label() string {
	switch k {
	case KindProcessor:
		return "Processor (Art. 28 GDPR)"
	case OtherController:
		return "Independent controller"
	case JointController:
		return "Joint controller (Art. 26 GDPR)"
	case OtherRecipient:
		return "Other recipient"
	}
	return string(k)
}

// Registered is one entry of the recipients register: a recipient the
// inventory declares (Declared set), with what the owner recorded of it,
// or one the owner added.
type Registered struct {
	// Key names the entry in the console: the declared ID, or the row's
	// number for a recipient the owner added.
	Key        string
	Declared   string // the inventory's recipient ID; "" for an added one
	Name       string
	Kind       RecipientKind
	Purpose    string
	Categories []Category
	// AllStored: a declared recipient that holds everything we store.
	AllStored     bool
	Location      string
	OutsideEEA    bool
	Safeguard     Safeguard
	SafeguardNote string
	AgreementRef  string
	AgreementDate time.Time // zero when none is recorded
	ReviewDate    time.Time
	EndedAt       time.Time // data no longer goes to them
	UpdatedAt     time.Time // zero for a declared entry never edited
	// InUse is true for a declared recipient the code sends data to: it
	// cannot be deleted or ended while it does.
	InUse bool
	// NoAgreement says why no agreement is needed (the inventory's).
	NoAgreement string
}

// Active reports whether data goes to the recipient.
func (r Registered) Active() bool { return r.EndedAt.IsZero() }

// ReceivesData reports whether the recipient receives personal data now.
func (r Registered) ReceivesData() bool {
	return r.Active() && (r.InUse || r.AllStored || len(r.Categories) > 0)
}

// TransferText is the transfer as the policy states it: the safeguard (and
// its note) for a recipient outside the EEA, "" for one inside.
func (r Registered) TransferText() string {
	if !r.OutsideEEA {
		return ""
	}
	s := r.Safeguard.Label()
	if r.Safeguard == SafeguardNone {
		s = "No safeguard recorded"
	}
	if r.SafeguardNote != "" {
		s += ": " + r.SafeguardNote
	}
	return s
}

// CategoryLabels names the categories in words.
func (r Registered) CategoryLabels() []string {
	out := make([]string, len(r.Categories))
	for i, c := range r.Categories {
		out[i] = c.Label()
	}
	return out
}

// recipientUse is which categories the inventory sends to each recipient.
func (inv Inventory) recipientCategories() map[string][]Category {
	out := map[string][]Category{}
	add := func(ids []string, c Category) {
		for _, id := range ids {
			if !slices.Contains(out[id], c) {
				out[id] = append(out[id], c)
			}
		}
	}
	for _, t := range inv.Tables {
		for _, c := range t.Columns {
			if c.Personal {
				add(c.Recipients, c.Category)
			}
		}
	}
	for _, a := range inv.Activities {
		for _, c := range a.Categories {
			add(a.Recipients, c)
		}
	}
	for id := range out {
		slices.Sort(out[id])
	}
	return out
}

// declaredEntry is a declared recipient as the code knows it, before the
// owner records anything: the vendor's settings name the hosting and mail
// providers.
func declaredEntry(r Recipient, cats []Category, v settings.Vendor) Registered {
	vr := vendorRecipient(r, v)
	e := Registered{Key: r.ID, Declared: r.ID, Name: vr.Name, Kind: KindProcessor, Purpose: r.Role, Categories: cats,
		AllStored: r.AllStored, Location: vr.Location, OutsideEEA: r.OutsideEEA, Safeguard: r.Safeguard,
		InUse: r.AllStored || len(cats) > 0, NoAgreement: r.NoAgreement}
	if r.Kind != "" {
		e.Kind = r.Kind
	}
	if t := vr.Transfer; t != "" {
		e.OutsideEEA, e.SafeguardNote = true, t
		if e.Safeguard == SafeguardNone {
			e.Safeguard = guessSafeguard(t)
		}
	}
	return e
}

// guessSafeguard reads the vendor's transfer setting ("Standard
// Contractual Clauses") as a safeguard; an unknown text is none, so the
// register reports it until the owner chooses.
func guessSafeguard(t string) Safeguard {
	l := strings.ToLower(t)
	switch {
	case strings.Contains(l, "contractual") || strings.Contains(l, "scc"):
		return SafeguardSCC
	case strings.Contains(l, "adequa") || strings.Contains(l, "privacy framework"):
		return SafeguardAdequacy
	case strings.Contains(l, "binding corporate"):
		return SafeguardBCR
	}
	return SafeguardNone
}

const recipientCols = `id, declared_id, name, kind, purpose, data_categories, location, outside_eea, safeguard, safeguard_note,
	agreement_ref, agreement_date, review_date, ended_at, updated_at`

func scanRecipient(rows interface{ Scan(...any) error }) (Registered, error) {
	var e Registered
	var id int64
	var declared sql.NullString
	var cats, kind, safeguard string
	var agreed, review, ended sql.NullTime
	err := rows.Scan(&id, &declared, &e.Name, &kind, &e.Purpose, &cats, &e.Location, &e.OutsideEEA, &safeguard, &e.SafeguardNote,
		&e.AgreementRef, &agreed, &review, &ended, &e.UpdatedAt)
	if err != nil {
		return e, err
	}
	e.Key, e.Declared, e.Kind, e.Safeguard = strconv.FormatInt(id, 10), declared.String, RecipientKind(kind), Safeguard(safeguard)
	for _, c := range strings.Split(cats, ",") {
		if c = strings.TrimSpace(c); c != "" {
			e.Categories = append(e.Categories, Category(c))
		}
	}
	e.AgreementDate, e.ReviewDate, e.EndedAt = agreed.Time.UTC(), review.Time.UTC(), ended.Time.UTC()
	if !agreed.Valid {
		e.AgreementDate = time.Time{}
	}
	if !review.Valid {
		e.ReviewDate = time.Time{}
	}
	if !ended.Valid {
		e.EndedAt = time.Time{}
	}
	e.UpdatedAt = e.UpdatedAt.UTC()
	return e, nil
}

// Register is the recipients register: every recipient the inventory
// declares, in its order, with what the owner recorded of it, then those
// the owner added, by name.
func Register(ctx context.Context, q db.Querier, inv Inventory, v settings.Vendor) ([]Registered, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+recipientCols+` FROM recipients ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("read the recipients register: %w", err)
	}
	defer rows.Close()
	stored := map[string]Registered{}
	var added []Registered
	for rows.Next() {
		e, err := scanRecipient(rows)
		if err != nil {
			return nil, fmt.Errorf("read the recipients register: %w", err)
		}
		if e.Declared != "" {
			stored[e.Declared] = e
		} else {
			added = append(added, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the recipients register: %w", err)
	}
	cats := inv.recipientCategories()
	var out []Registered
	for _, r := range inv.Recipients {
		e := declaredEntry(r, cats[r.ID], v)
		if s, ok := stored[r.ID]; ok {
			// What the code decides (which data, whether it is in use)
			// stays the code's; the rest is the owner's record.
			s.Key, s.Categories, s.AllStored, s.InUse, s.NoAgreement = e.Key, e.Categories, e.AllStored, e.InUse, e.NoAgreement
			e = s
		}
		out = append(out, e)
	}
	// A row kept for a recipient the code no longer declares stays in the
	// register as a former one.
	var stale []string
	for id := range stored {
		if _, ok := inv.Recipient(id); !ok {
			stale = append(stale, id)
		}
	}
	sort.Strings(stale)
	for _, id := range stale {
		e := stored[id]
		e.Key = id
		out = append(out, e)
	}
	return append(out, added...), nil
}

// RegisteredByKey returns the entry with key, or a NotFound refusal.
func RegisteredByKey(ctx context.Context, q db.Querier, inv Inventory, v settings.Vendor, key string) (Registered, error) {
	reg, err := Register(ctx, q, inv, v)
	if err != nil {
		return Registered{}, err
	}
	for _, e := range reg {
		if e.Key == key {
			return e, nil
		}
	}
	return Registered{}, ErrNoRecipient
}

// The register's refusals.
var (
	ErrNoRecipient     = refuse.New(refuse.NotFound, "no_recipient", "There is no such recipient in the register.")
	ErrRecipientInUse  = refuse.New(refuse.Conflict, "recipient_in_use", "Personal data still goes to this recipient.")
	ErrDeclaredDeleted = refuse.New(refuse.Conflict, "recipient_declared", "A recipient the code declares cannot be deleted.")
)

// RecipientInput is what the owner records of a recipient.
type RecipientInput struct {
	Name          string
	Kind          RecipientKind
	Purpose       string
	Categories    []Category // for an added recipient; a declared one's come from the inventory
	Location      string
	OutsideEEA    bool
	Safeguard     Safeguard
	SafeguardNote string
	AgreementRef  string
	AgreementDate time.Time
	ReviewDate    time.Time
	// Ended records that data no longer goes to the recipient.
	Ended bool
}

func (in *RecipientInput) check(declared bool) error {
	in.Name, in.Purpose, in.Location = strings.TrimSpace(in.Name), strings.TrimSpace(in.Purpose), strings.TrimSpace(in.Location)
	in.SafeguardNote, in.AgreementRef = strings.TrimSpace(in.SafeguardNote), strings.TrimSpace(in.AgreementRef)
	for _, f := range []struct{ field, v, what string }{{"name", in.Name, "a name"}, {"purpose", in.Purpose, "what they do with the data"},
		{"location", in.Location, "where they process the data"}} {
		if f.v == "" {
			return refuse.Field(f.field, "Write "+f.what+".")
		}
	}
	for _, f := range []struct{ field, v string }{{"name", in.Name}, {"purpose", in.Purpose}, {"location", in.Location},
		{"safeguard_note", in.SafeguardNote}, {"agreement_ref", in.AgreementRef}} {
		if utf8.RuneCountInString(f.v) > 500 || strings.ContainsAny(f.v, "\x00") {
			return refuse.Field(f.field, "Keep each field under 500 characters.")
		}
	}
	if !slices.Contains(RecipientKinds, in.Kind) {
		return refuse.Field("kind", "Choose what kind of recipient this is.")
	}
	if !in.Safeguard.Valid() {
		return refuse.Field("safeguard", "Choose a safeguard from the list.")
	}
	if !in.OutsideEEA && in.Safeguard != SafeguardNone {
		return refuse.Field("safeguard", "A safeguard is for data that leaves the EEA: tick “outside the EEA”, or choose none.")
	}
	if in.Safeguard == SafeguardDerogation && in.SafeguardNote == "" {
		return refuse.Field("safeguard_note", "Name the Art. 49 derogation the transfer relies on.")
	}
	if in.AgreementRef == "" && !in.AgreementDate.IsZero() {
		return refuse.Field("agreement_ref", "Give the agreement's reference as well as its date.")
	}
	if declared {
		in.Categories = nil
		return nil
	}
	slices.Sort(in.Categories)
	in.Categories = slices.Compact(in.Categories)
	for _, c := range in.Categories {
		if !c.Known() {
			return refuse.Field("categories", "Choose the kinds of data from the list.")
		}
	}
	if len(in.Categories) == 0 && !in.Ended {
		return refuse.Field("categories", "Tick the kinds of personal data they receive.")
	}
	return nil
}

func nullDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func joinCategories(cs []Category) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func byStaff(by audit.Actor) any {
	if by.Type == audit.ActorStaff {
		return by.ID
	}
	return nil
}

// AddRecipient records a recipient the code does not declare (an
// accountant, a backup service) and returns its key.
func AddRecipient(ctx context.Context, d *db.DB, by audit.Actor, in RecipientInput, now time.Time) (string, error) {
	in.Ended = false
	if err := in.check(false); err != nil {
		return "", err
	}
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO recipients (name, kind, purpose, data_categories, location, outside_eea, safeguard, safeguard_note,
			agreement_ref, agreement_date, review_date, created_at, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING id`,
			in.Name, string(in.Kind), in.Purpose, joinCategories(in.Categories), in.Location, in.OutsideEEA, string(in.Safeguard), in.SafeguardNote,
			in.AgreementRef, nullDate(in.AgreementDate), nullDate(in.ReviewDate), now.UTC(), byStaff(by)).Scan(&id); err != nil {
			return fmt.Errorf("add recipient: %w", err)
		}
		return recordRecipient(ctx, tx, by, "recipient.added", strconv.FormatInt(id, 10), in, now)
	})
	return strconv.FormatInt(id, 10), err
}

func recordRecipient(ctx context.Context, tx *sql.Tx, by audit.Actor, action, key string, in RecipientInput, now time.Time) error {
	detail := in.Name
	if in.Ended {
		detail += " (ended)"
	}
	_, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: action, SubjectType: "recipient", SubjectID: key, Detail: detail}.By(by))
	return err
}

// UpdateRecipient records what the owner knows of the entry with key. A
// recipient the code still sends data to cannot be ended: the refusal
// says where the code declares it.
func UpdateRecipient(ctx context.Context, d *db.DB, inv Inventory, v settings.Vendor, by audit.Actor, key string, in RecipientInput, now time.Time) error {
	cur, err := RegisteredByKey(ctx, d, inv, v, key)
	if err != nil {
		return err
	}
	if err := in.check(cur.Declared != ""); err != nil {
		return err
	}
	if in.Ended && cur.InUse {
		return ErrRecipientInUse.Withf("%s still receives %s: the data inventory (internal/privacy) sends it there, so it cannot be marked as ended. Change the code that sends the data first.",
			cur.Name, describeData(cur))
	}
	ended := any(nil)
	if in.Ended {
		ended = now.UTC()
		if !cur.EndedAt.IsZero() {
			ended = cur.EndedAt
		}
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if cur.Declared != "" {
			_, err = tx.ExecContext(ctx, `INSERT INTO recipients (declared_id, name, kind, purpose, data_categories, location, outside_eea, safeguard, safeguard_note,
				agreement_ref, agreement_date, review_date, ended_at, created_at, updated_at, updated_by)
				VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)
				ON CONFLICT (declared_id) DO UPDATE SET name = excluded.name, kind = excluded.kind, purpose = excluded.purpose,
				location = excluded.location, outside_eea = excluded.outside_eea, safeguard = excluded.safeguard, safeguard_note = excluded.safeguard_note,
				agreement_ref = excluded.agreement_ref, agreement_date = excluded.agreement_date, review_date = excluded.review_date,
				ended_at = excluded.ended_at, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
				cur.Declared, in.Name, string(in.Kind), in.Purpose, in.Location, in.OutsideEEA, string(in.Safeguard), in.SafeguardNote,
				in.AgreementRef, nullDate(in.AgreementDate), nullDate(in.ReviewDate), ended, now.UTC(), byStaff(by))
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE recipients SET name = $1, kind = $2, purpose = $3, data_categories = $4, location = $5, outside_eea = $6,
				safeguard = $7, safeguard_note = $8, agreement_ref = $9, agreement_date = $10, review_date = $11, ended_at = $12, updated_at = $13, updated_by = $14
				WHERE id = $15 AND declared_id IS NULL`,
				in.Name, string(in.Kind), in.Purpose, joinCategories(in.Categories), in.Location, in.OutsideEEA, string(in.Safeguard), in.SafeguardNote,
				in.AgreementRef, nullDate(in.AgreementDate), nullDate(in.ReviewDate), ended, now.UTC(), byStaff(by), cur.Key)
		}
		if err != nil {
			return fmt.Errorf("update recipient %s: %w", key, err)
		}
		return recordRecipient(ctx, tx, by, "recipient.updated", key, in, now)
	})
}

// DeleteRecipient removes an added recipient from the register, or the
// record of a recipient the code no longer declares. A declared recipient
// data goes to is refused: the register must show it as long as it
// receives data.
func DeleteRecipient(ctx context.Context, d *db.DB, inv Inventory, v settings.Vendor, by audit.Actor, key string, now time.Time) error {
	cur, err := RegisteredByKey(ctx, d, inv, v, key)
	if err != nil {
		return err
	}
	if cur.InUse {
		return ErrRecipientInUse.Withf("%s cannot be deleted: it still receives %s, which the data inventory (internal/privacy) sends there. Record its agreement and safeguard instead.",
			cur.Name, describeData(cur))
	}
	if _, declared := inv.Recipient(cur.Declared); declared {
		return ErrDeclaredDeleted.Withf("%s is declared by the code; it stays in the register.", cur.Name)
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		if cur.Declared != "" {
			res, err = tx.ExecContext(ctx, `DELETE FROM recipients WHERE declared_id = $1`, cur.Declared)
		} else {
			res, err = tx.ExecContext(ctx, `DELETE FROM recipients WHERE id = $1 AND declared_id IS NULL`, cur.Key)
		}
		if err != nil {
			return fmt.Errorf("delete recipient %s: %w", key, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoRecipient
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "recipient.deleted", SubjectType: "recipient", SubjectID: key, Detail: cur.Name}.By(by))
		return err
	})
}

func describeData(r Registered) string {
	if r.AllStored {
		return "everything we store"
	}
	if len(r.Categories) == 0 {
		return "personal data"
	}
	return strings.ToLower(strings.Join(r.CategoryLabels(), ", "))
}

// RecipientProblem is something wrong in the register that an auditor
// would ask about.
type RecipientProblem struct {
	Key, Recipient string
	Code           string // "no_safeguard", "no_agreement", "review_due"
	Problem        string
}

// RecipientProblems reports, for each recipient personal data goes to: a
// transfer outside the EEA without a safeguard, no agreement on file, and
// a review date that has passed.
func RecipientProblems(reg []Registered, now time.Time) []RecipientProblem {
	var out []RecipientProblem
	for _, r := range reg {
		if !r.ReceivesData() {
			continue
		}
		add := func(code, format string, a ...any) {
			out = append(out, RecipientProblem{Key: r.Key, Recipient: r.Name, Code: code, Problem: fmt.Sprintf(format, a...)})
		}
		if r.OutsideEEA && r.Safeguard == SafeguardNone {
			add("no_safeguard", "%s receives personal data outside the EEA (%s) without a safeguard: record the adequacy decision, clauses or rules the transfer relies on, or stop it.", r.Name, r.Location)
		}
		if r.AgreementRef == "" && r.NoAgreement == "" {
			add("no_agreement", "%s receives personal data, but no agreement with them is on file: record its reference and date.", r.Name)
		}
		if !r.ReviewDate.IsZero() && r.ReviewDate.Before(now) {
			add("review_due", "The review of %s was due on %s.", r.Name, r.ReviewDate.Format("2 January 2006"))
		}
	}
	return out
}

// LoadRecipientProblems reads the register and reports its problems.
func LoadRecipientProblems(ctx context.Context, q db.Querier, inv Inventory, now time.Time) ([]RecipientProblem, error) {
	v, err := settings.Load(ctx, q)
	if err != nil {
		return nil, err
	}
	reg, err := Register(ctx, q, inv, v)
	if err != nil {
		return nil, err
	}
	return RecipientProblems(reg, now), nil
}

// applyRegister puts the register into policy content built from the
// inventory: declared recipients under the names, places and safeguards
// the owner recorded, and the recipients the owner added, with the data
// they receive. Recipients data no longer goes to are left out.
func (p *Policy) applyRegister(reg []Registered) {
	byID := map[string]Registered{}
	for _, r := range reg {
		if r.Declared != "" {
			byID[r.Declared] = r
		}
	}
	renamed := map[string]string{}
	var uses []RecipientUse
	for _, u := range p.Recipients {
		if r, ok := byID[u.ID]; ok {
			if !r.Active() {
				continue
			}
			renamed[u.Name] = r.Name
			u.Name, u.Location, u.Transfer = r.Name, r.Location, r.TransferText()
		}
		uses = append(uses, u)
	}
	added := map[Category][]string{}
	for _, r := range reg {
		if r.Declared != "" || !r.ReceivesData() {
			continue
		}
		uses = append(uses, RecipientUse{Recipient: Recipient{ID: "register-" + r.Key, Name: r.Name, Role: r.Purpose,
			Location: r.Location, Transfer: r.TransferText()}, Data: r.CategoryLabels()})
		for _, c := range r.Categories {
			added[c] = append(added[c], r.Name)
		}
	}
	p.Recipients = uses
	for gi := range p.Groups {
		for ii := range p.Groups[gi].Items {
			it := &p.Groups[gi].Items[ii]
			rs := slices.Clone(it.Recipients)
			for i, n := range rs {
				if to, ok := renamed[n]; ok {
					rs[i] = to
				}
			}
			for _, n := range added[it.Category] {
				rs = appendNew(rs, n)
			}
			it.Recipients = rs
		}
	}
}

// withRegister is CurrentOf's and Collect's step: read the register and
// apply it to p.
func withRegister(ctx context.Context, q db.Querier, inv Inventory, v settings.Vendor, p *Policy) error {
	reg, err := Register(ctx, q, inv, v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	p.applyRegister(reg)
	return nil
}
