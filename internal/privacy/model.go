// Package privacy is Storekeep's data inventory: the one declaration of
// every table and column, saying for each piece of personal data what it is,
// whose it is, why we hold it, on which legal basis, for how long, what
// erasure does to it, whether it goes into an export and who receives it.
//
// Everything privacy-related is derived from it: the privacy and cookie
// policy pages, the records of processing, and (in later work) the access
// export, erasure, restriction and retention purges. A test compares the
// declaration with the live schema on both databases and fails on any
// undeclared column, so personal data cannot be added without saying why.
package privacy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Subject is whose data a column holds.
type Subject string

// The data subjects Storekeep knows.
const (
	Customer Subject = "customer" // buys licenses, asks for support
	Visitor  Subject = "visitor"  // reads the public site
	Staff    Subject = "staff"    // the vendor's people using the console
)

// Basis is a legal basis under Art. 6(1) GDPR.
type Basis string

// The legal bases Storekeep relies on.
const (
	Contract           Basis = "contract"            // Art. 6(1)(b)
	LegitimateInterest Basis = "legitimate_interest" // Art. 6(1)(f)
	LegalObligation    Basis = "legal_obligation"    // Art. 6(1)(c)
	Consent            Basis = "consent"             // Art. 6(1)(a)
)

// Label is the basis in words.
func (b Basis) Label() string {
	switch b {
	case Contract:
		return "Performance of a contract (Art. 6(1)(b) GDPR)"
	case LegitimateInterest:
		return "Legitimate interests (Art. 6(1)(f) GDPR)"
	case LegalObligation:
		return "Legal obligation (Art. 6(1)(c) GDPR)"
	case Consent:
		return "Consent (Art. 6(1)(a) GDPR)"
	}
	return string(b)
}

// Purpose is one reason for processing, with its legal basis. Purposes are
// declared once in Inventory.Purposes and referred to by ID.
type Purpose struct {
	ID          string
	Name        string
	Description string
	Basis       Basis
	// Interest names the legitimate interest where Basis is
	// LegitimateInterest; the person may object to such processing.
	Interest string
	// Overriding, for a legitimate-interest purpose, names the compelling
	// grounds (Art. 21(1)) that an objection cannot stop, such as keeping
	// the site secure for everyone; the privacy center offers no objection.
	Overriding string
}

// Event is the moment a retention period counts from.
type Event string

// The events retention periods count from.
const (
	FromCollection    Event = "collection"     // when the row was written
	FromEndOfYear     Event = "end_of_year"    // the end of the calendar year of the event (tax records)
	FromLastActivity  Event = "last_activity"  // the subject's last activity
	FromAccountClosed Event = "account_closed" // the end of the customer relationship
	FromRequest       Event = "request"        // while the request is processed
	FromClosed        Event = "closed"         // when the matter (a support ticket) was closed
	NotStored         Event = "not_stored"     // processed in memory only
	Indefinite        Event = "while_relevant" // non-personal data, kept while useful
	retentionUnset    Event = ""
)

// Retention says how long data is kept and from when.
type Retention struct {
	Years, Months, Days int
	From                Event
	// Why explains the period (for example the law that requires it).
	Why string
	// Setting, when set, names a period the operator may choose
	// (Inventory.WithRetention, from a flag at start-up); the declared
	// period is the default.
	Setting string
}

// Describe puts the retention rule in words for the policy page.
func (r Retention) Describe() string {
	if r.From == NotStored {
		return "Not stored: used only while your request is being answered"
	}
	var parts []string
	for _, p := range []struct {
		n    int
		unit string
	}{{r.Years, "year"}, {r.Months, "month"}, {r.Days, "day"}} {
		switch {
		case p.n == 1:
			parts = append(parts, "1 "+p.unit)
		case p.n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", p.n, p.unit))
		}
	}
	period := strings.Join(parts, " and ")
	from := map[Event]string{
		FromCollection:    "after it is collected",
		FromEndOfYear:     "after the end of the calendar year in which it arose",
		FromLastActivity:  "after your last activity",
		FromAccountClosed: "after the end of our business relationship",
		FromRequest:       "after your request is completed",
		FromClosed:        "after the matter is closed",
		Indefinite:        "while it is relevant",
	}[r.From]
	if period == "" {
		return strings.ToUpper(from[:1]) + from[1:]
	}
	return period + " " + from
}

// Erasure is what an erasure request does to a column.
type Erasure string

// The erasure actions.
const (
	EraseDelete    Erasure = "delete"     // the value (or row) is removed
	EraseAnonymise Erasure = "anonymise"  // the value is replaced so it no longer identifies anyone
	LegalHold      Erasure = "legal_hold" // kept, minimised, until the legal retention ends, then purged
)

// Source says where a piece of personal data comes from (Art. 14).
type Source string

// The sources of personal data.
const (
	FromSubject   Source = "provided by you"
	Automatically Source = "collected automatically when you use the site"
	FromProcessor Source = "received from our payment processor"
	FromStaff     Source = "recorded by our staff"
	FromVIES      Source = "received from the EU's VAT number check (VIES), when we check your VAT number with it"
)

// Column declares one column of a table.
type Column struct {
	Name string
	// Personal is true when the column can hold personal data. All fields
	// below are required for personal columns and empty otherwise.
	Personal   bool
	Category   Category
	Purposes   []string // Purpose IDs
	Retention  Retention
	Erasure    Erasure
	Source     Source
	Export     string   // the field name in an access export; "" = not exported
	Recipients []string // Recipient IDs
	// Note says, for a non-personal column, why it holds no personal data,
	// where that is not obvious from its name.
	Note string
	// Blank is what erasure writes over the column when the row itself is
	// kept: the empty string (the zero value), BlankNull, BlankNow (the
	// time of erasure) or BlankUnique (a placeholder made from the row's
	// id, for a unique column). Validate rejects a Blank erasure would
	// never write.
	Blank Blank
	// ProcessorRef, when set, is the ID of the recipient (a processor)
	// whose own key for the person this column holds, such as a Stripe
	// customer ID: erasure reads it before blanking and asks that
	// processor to delete its record. References to single transactions
	// (payments, checkout sessions) are purchase records, not marked.
	ProcessorRef string
	// IfNotHeld is, for a legal-hold column of a table whose hold covers
	// only some rows (Table.HeldWith), what erasure does to the column in
	// the other rows: EraseDelete or EraseAnonymise overwrite it with
	// Blank; empty keeps it (it identifies no one once the row's links
	// are blanked, such as an amount).
	IfNotHeld Erasure
	// TruncateAfter, for a network address column of a dated table, is how
	// long the full address is kept: once it has passed (counted like a
	// retention, from the table's Dated column) the retention purge
	// shortens the address to its network (IPv4 /24, IPv6 /48) in place.
	// The row itself keeps to Retention.
	TruncateAfter Retention
	// Of, in a table shared by several kinds of subject (Table.Subjects),
	// names whose data the column is: access and erasure of another kind
	// of subject leave it alone (in that kind's rows, which the links'
	// When tell apart, it holds nothing), and the policy lists it for
	// these kinds only. Empty means every kind the table links.
	Of []Subject
}

// of reports whether the column holds data of subjects of kind.
func (c Column) of(kind Subject) bool { return len(c.Of) == 0 || slices.Contains(c.Of, kind) }

// Blank is what erasure writes over a column of a row it keeps. It is a
// closed set of values, not SQL, so a mistake cannot reach an erasure.
type Blank struct {
	kind           blankKind
	prefix, suffix string
}

type blankKind int

const (
	blankEmpty blankKind = iota
	blankNull
	blankNow
	blankZero
	blankUnique
	blankKeep
)

// The blanks erasure can write.
var (
	BlankEmpty = Blank{}                // the empty string
	BlankNull  = Blank{kind: blankNull} // NULL
	BlankNow   = Blank{kind: blankNow}  // the time of the erasure
	BlankZero  = Blank{kind: blankZero} // 0, for a number
	// BlankKeep leaves an anonymised column as it is: it identifies no one
	// once the row's other personal columns are blanked (a staff role,
	// which a CHECK constraint limits to real roles).
	BlankKeep = Blank{kind: blankKeep}
)

// BlankUnique is prefix, the row's id and suffix ("erased-42@erased.invalid"):
// for a column that must stay unique. Prefix and suffix may hold only
// lower-case letters, digits and ".@_-" (Validate checks).
func BlankUnique(prefix, suffix string) Blank {
	return Blank{kind: blankUnique, prefix: prefix, suffix: suffix}
}

// String is the blank in words, for the inventory printout.
func (b Blank) String() string {
	switch b.kind {
	case blankNull:
		return "NULL"
	case blankNow:
		return "the time of erasure"
	case blankZero:
		return "0"
	case blankKeep:
		return "kept as it is"
	case blankUnique:
		return b.prefix + "<id>" + b.suffix
	}
	return "empty"
}

func (b Blank) problem() string {
	if b.kind != blankUnique {
		return ""
	}
	for _, r := range b.prefix + b.suffix {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".@_-", r)) {
			return fmt.Sprintf("BlankUnique(%q, %q) may hold only a-z, 0-9 and .@_-", b.prefix, b.suffix)
		}
	}
	if b.prefix == "" && b.suffix == "" {
		return "BlankUnique needs a prefix or a suffix, or it could collide with real values"
	}
	return ""
}

// sql is the expression erasure writes, with its parameters appended to
// args (placeholders numbered after those already there).
func (b Blank) sql(now time.Time, args *[]any) string {
	switch b.kind {
	case blankNull:
		return "NULL"
	case blankNow:
		*args = append(*args, now.UTC())
		return fmt.Sprintf("$%d", len(*args))
	case blankZero:
		return "0"
	case blankUnique:
		// Literals checked by problem(); CAST keeps PostgreSQL's
		// operator resolution simple.
		return "'" + b.prefix + "' || CAST(id AS TEXT) || '" + b.suffix + "'"
	}
	return "''"
}

// WithRetention returns the inventory with the period of every column
// whose retention (or TruncateAfter) names setting replaced by r's (the
// event and reason stay as declared): the operator's choice, such as how
// long support correspondence is kept after a ticket is closed, or how
// long the request log keeps full network addresses. It refuses a period
// shorter than a day or longer than ten years, and an address kept in
// full as long as its row or longer.
func (inv Inventory) WithRetention(setting string, r Retention) (Inventory, error) {
	if d := time.Duration(r.Years)*365*24*time.Hour + time.Duration(r.Months)*30*24*time.Hour + time.Duration(r.Days)*24*time.Hour; d < 24*time.Hour || d > 10*365*24*time.Hour {
		return inv, fmt.Errorf("the retention period for %s must be between 1 day and 10 years", setting)
	}
	out := inv
	out.Tables = slices.Clone(inv.Tables)
	found := false
	for i, t := range out.Tables {
		cols := slices.Clone(t.Columns)
		for j, c := range cols {
			if c.Retention.Setting == setting {
				cols[j].Retention.Years, cols[j].Retention.Months, cols[j].Retention.Days = r.Years, r.Months, r.Days
				found = true
			}
			if c.TruncateAfter.Setting == setting {
				cols[j].TruncateAfter.Years, cols[j].TruncateAfter.Months, cols[j].TruncateAfter.Days = r.Years, r.Months, r.Days
				found = true
			}
		}
		out.Tables[i].Columns = cols
		if probs := out.Tables[i].truncateProblems(); len(probs) > 0 {
			return inv, fmt.Errorf("the period for %s does not fit: %s", setting, strings.Join(probs, "; "))
		}
	}
	if !found {
		return inv, fmt.Errorf("no retention period is named %q", setting)
	}
	return out, nil
}

// Table declares one table and all its columns.
type Table struct {
	Name        string
	Description string
	// OnlyWithOptionalCookies marks a table written only when the cookie
	// registry holds a cookie that needs consent (the consent records):
	// the privacy policy speaks of it only then.
	OnlyWithOptionalCookies bool
	// Subject is whose personal data the table holds; empty when it holds
	// none.
	Subject Subject
	// Link says how a row belongs to one data subject, so that access,
	// portability and erasure find every row about a person. Required for
	// tables that hold personal data.
	Link Link
	// Dated names the column the retention of the table's data counts
	// from (its creation, or its completion for requests), so that the
	// retention purge finds expired rows by an indexed range. Tables
	// linked through a parent may leave it empty and follow the parent.
	Dated string
	// Withheld names a boolean column: rows where it is true are left out
	// of the subject's access export, because the law forbids telling
	// them (a disclosure to an authority under a gagging order). The row
	// is still found by erasure and retention.
	Withheld string
	// Chained names the sequence column of an append-only chain (the audit
	// log): the purge then removes only a prefix of it, every entry up to
	// the newest expired one, so that the rest still verifies.
	Chained string
	// HeldWith, on a table with legal-hold columns, limits the hold to the
	// rows that a row of table HeldWith (linked to this one through
	// Link.Parent) refers to: orders are records the law requires us to
	// keep only once invoiced. Erasure treats the legal-hold columns of
	// the other rows by their IfNotHeld.
	HeldWith string
	// Ref names the column that identifies a row to people (an order's
	// number); tables linked through this one can carry it in the export
	// (Link.ParentExport).
	Ref string
	// Subjects, for a table whose rows belong to different kinds of
	// subject (a support thread holding the customer's messages and the
	// staff's replies), links each kind to its rows, each through a Link
	// with a When that tells whose a row is. Subject and Link stay empty.
	Subjects []SubjectLink
	Columns  []Column
}

// SubjectLink ties the rows of a shared table to one kind of subject.
type SubjectLink struct {
	Subject Subject
	Link    Link
}

// links returns how the table's rows belong to subjects: its Subjects, or
// its one Subject and Link.
func (t Table) links() []SubjectLink {
	if len(t.Subjects) > 0 {
		return t.Subjects
	}
	if t.Subject == "" {
		return nil
	}
	return []SubjectLink{{t.Subject, t.Link}}
}

// linkFor returns the link of the table's rows to subjects of kind.
func (t Table) linkFor(kind Subject) (Link, bool) {
	for _, sl := range t.links() {
		if sl.Subject == kind {
			return sl.Link, true
		}
	}
	return Link{}, false
}

// SubjectKinds lists whose data the table holds.
func (t Table) SubjectKinds() []Subject {
	var out []Subject
	for _, sl := range t.links() {
		out = append(out, sl.Subject)
	}
	return out
}

// Link ties the rows of a table to a data subject, identified by the ID of
// their account (customers.id, staff.id) and their email address.
type Link struct {
	// Column holds the subject's account ID ("id" in the account table
	// itself).
	Column string
	// EmailColumn, when set, also matches rows by the subject's address:
	// rows written before an account existed or after it was erased.
	EmailColumn string
	// Parent and ParentColumn: a row belongs to the subject of the row of
	// table Parent whose id is in ParentColumn (order_lines via orders).
	Parent, ParentColumn string
	// ParentExport, for a table linked through a parent with a Ref, is the
	// name under which the export shows the parent's Ref with each row
	// (order_lines carry "order_number").
	ParentExport string
	// When narrows the match to rows whose discriminator column holds a
	// value (audit_log: entries whose actor is a staff member). A typed
	// value, sent as a parameter: never SQL.
	When Match
	// Unlinkable explains why rows cannot be tied to a person (keyed
	// hashes); such data must be short-lived.
	Unlinkable string
}

// Match is a condition on one column: Column = Value.
type Match struct {
	Column, Value string
}

// Is is the condition that column holds value.
func Is(column, value string) Match { return Match{Column: column, Value: value} }

func (l Link) declared() bool {
	return l.Column != "" || l.EmailColumn != "" || l.Parent != "" || l.Unlinkable != ""
}

// Activity is processing of personal data that leaves nothing in the
// database (for example reading the IP address of a request to answer it).
// It is declared so the policy can be complete.
type Activity struct {
	ID         string
	Name       string
	Subject    Subject
	Categories []Category
	Purposes   []string
	Retention  Retention
	Source     Source
	Recipients []string
}

// Recipient is a processor or another party that receives personal data.
type Recipient struct {
	ID   string
	Name string // may be replaced by the vendor's setting (see Policy)
	Role string // what they do for us
	// Location is where the data is processed; Transfer names the safeguard
	// when that is outside the EEA.
	Location string
	Transfer string
	// Setting names the vendor setting that supplies Name and Location,
	// when the vendor chooses the provider.
	Setting string
	// AllStored is true for a recipient that holds everything we store,
	// such as the hosting provider; columns need not list it.
	AllStored bool
	// OutsideEEA and Safeguard are what the code knows of the transfer
	// (Stripe processes in the United States under the Standard
	// Contractual Clauses); the recipients register (register.go) starts
	// from them and the owner's record replaces them.
	OutsideEEA bool
	Safeguard  Safeguard
	// Kind is the recipient's role (a processor when empty); NoAgreement,
	// when set, says why no agreement with the recipient is needed (a
	// public service), so the register does not ask for one.
	Kind        RecipientKind
	NoAgreement string
}

// Cookie is a cookie the site sets: the cookie registry, from which the
// cookie policy is written and the consent banner decides whether to ask
// (see cookies.go).
type Cookie struct {
	Name     string
	Purpose  string
	Duration string
	// Category says why the cookie is set. Strictly necessary cookies
	// (Necessary) make a service the person asked for work and need no
	// consent; any other category is set only with the person's consent,
	// given for that category.
	Category CookieCategory
	Subject  Subject
	// OnlyWithOptionalCookies marks a cookie that exists only to remember
	// consent choices: it is set, and listed in the cookie policy, only
	// when the registry holds a cookie that needs consent.
	OnlyWithOptionalCookies bool
}

// Essential reports whether the cookie is strictly necessary.
func (c Cookie) Essential() bool { return c.Category == Necessary }

// Inventory is the whole declaration.
type Inventory struct {
	Purposes   []Purpose
	Recipients []Recipient
	Tables     []Table
	Activities []Activity
	Cookies    []Cookie
	// Stores are places outside the live database that hold copies of
	// what it stores (backups), with their retention.
	Stores []Store
}

// Store is a place that keeps copies of everything stored, such as
// backups: the records of processing list it with its retention.
type Store struct {
	ID, Name, Description string
	Retention             Retention
}

// Purpose returns the purpose with id.
func (inv Inventory) Purpose(id string) (Purpose, bool) {
	for _, p := range inv.Purposes {
		if p.ID == id {
			return p, true
		}
	}
	return Purpose{}, false
}

// Recipient returns the recipient with id.
func (inv Inventory) Recipient(id string) (Recipient, bool) {
	for _, r := range inv.Recipients {
		if r.ID == id {
			return r, true
		}
	}
	return Recipient{}, false
}

// Table returns the declaration of the table called name.
func (inv Inventory) Table(name string) (Table, bool) {
	for _, t := range inv.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// Validate checks that the declaration is complete and consistent: every
// personal column names a category, purposes, a retention rule, an erasure
// action and a source, every reference resolves, and the retention purge
// can apply each dated table's rule (see purgeProblems). It returns all
// problems, one per line, so a developer can fix them in one go.
func (inv Inventory) Validate() error {
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	ids := map[string]bool{}
	for _, p := range inv.Purposes {
		if p.ID == "" || p.Name == "" || p.Description == "" || p.Basis == "" {
			add("purpose %q: needs ID, Name, Description and Basis", p.ID)
		}
		if p.Basis == LegitimateInterest && p.Interest == "" {
			add("purpose %q: a legitimate-interest purpose must name the interest", p.ID)
		}
		if ids["p:"+p.ID] {
			add("purpose %q declared twice", p.ID)
		}
		ids["p:"+p.ID] = true
	}
	for _, r := range inv.Recipients {
		if r.ID == "" || r.Name == "" || r.Role == "" || r.Location == "" {
			add("recipient %q: needs ID, Name, Role and Location", r.ID)
		}
		ids["r:"+r.ID] = true
	}
	checkRefs := func(where string, purposes, recipients []string) {
		if len(purposes) == 0 {
			add("%s: personal data needs at least one purpose", where)
		}
		for _, p := range purposes {
			if !ids["p:"+p] {
				add("%s: unknown purpose %q", where, p)
			}
		}
		for _, r := range recipients {
			if !ids["r:"+r] {
				add("%s: unknown recipient %q", where, r)
			}
		}
	}
	tables := map[string]bool{}
	for _, t := range inv.Tables {
		if tables[t.Name] {
			add("table %s declared twice", t.Name)
		}
		tables[t.Name] = true
		if t.Description == "" {
			add("table %s: needs a Description", t.Name)
		}
		cols := map[string]bool{}
		personal := false
		hasID := false
		for _, c := range t.Columns {
			where := t.Name + "." + c.Name
			if cols[c.Name] {
				add("%s declared twice", where)
			}
			cols[c.Name] = true
			hasID = hasID || c.Name == "id"
			if !c.Personal {
				// A non-personal column may be exported as context of the
				// person's rows (a mail's kind, a date) in a table that
				// holds someone's data; nothing else personal is set.
				if c.Category != "" || len(c.Purposes) > 0 || c.Erasure != "" || len(c.Recipients) > 0 || c.ProcessorRef != "" || c.IfNotHeld != "" ||
					(c.Export != "" && len(t.links()) == 0) {
					add("%s: is declared not personal but has personal-data fields set", where)
				}
				if c.Blank != BlankEmpty {
					add("%s: has a Blank, but erasure overwrites only personal columns", where)
				}
				continue
			}
			personal = true
			if !c.Category.Known() {
				add("%s: unknown category %q (add it to categories.go)", where, c.Category)
			}
			checkRefs(where, c.Purposes, c.Recipients)
			if c.Retention.From == retentionUnset {
				add("%s: needs a retention rule", where)
			}
			if c.Erasure == "" {
				add("%s: needs an erasure action", where)
			}
			if c.Source == "" {
				add("%s: needs a source", where)
			}
			if c.Export != "" && c.Category == "user.account.credentials" {
				add("%s: credentials (tokens, hashes, codes, secrets) never go into an export", where)
			}
			overwritten := c.Erasure == EraseDelete || c.Erasure == EraseAnonymise ||
				(c.Erasure == LegalHold && (c.IfNotHeld == EraseDelete || c.IfNotHeld == EraseAnonymise))
			if c.Blank != BlankEmpty && !overwritten {
				add("%s: has a Blank, but erasure keeps this column", where)
			}
			if p := c.Blank.problem(); p != "" {
				add("%s: %s", where, p)
			}
			if c.Blank == BlankKeep && c.Erasure != EraseAnonymise {
				add("%s: BlankKeep is for anonymised columns; a deleted one must be overwritten", where)
			}
			if c.Blank.kind == blankUnique && !slices.ContainsFunc(t.Columns, func(o Column) bool { return o.Name == "id" }) {
				add("%s: BlankUnique needs an id column in %s", where, t.Name)
			}
			if c.IfNotHeld != "" && (c.Erasure != LegalHold || t.HeldWith == "") {
				add("%s: IfNotHeld applies only to a legal-hold column of a table with HeldWith", where)
			}
			if c.IfNotHeld == LegalHold {
				add("%s: IfNotHeld must be delete, anonymise or empty", where)
			}
			if c.ProcessorRef != "" {
				if !slices.Contains(c.Recipients, c.ProcessorRef) {
					add("%s: ProcessorRef %q must be one of the column's Recipients", where, c.ProcessorRef)
				}
				if c.Erasure == LegalHold {
					add("%s: a processor's key for the person is deleted there on erasure, so it cannot be kept under legal hold here", where)
				}
			}
		}
		for _, c := range t.Columns {
			for _, k := range c.Of {
				if !slices.Contains(t.SubjectKinds(), k) {
					add("%s.%s: Of names %s, whose data the table does not hold", t.Name, c.Name, k)
				}
			}
		}
		links := t.links()
		if personal && len(links) == 0 {
			add("table %s holds personal data but names no Subject", t.Name)
			add("table %s holds personal data but has no Link to its subject (see Link in model.go)", t.Name)
		}
		if len(t.Subjects) > 0 && (t.Subject != "" || t.Link != (Link{})) {
			add("table %s: declares Subjects, so Subject and Link stay empty", t.Name)
		}
		kinds := map[Subject]bool{}
		values := map[string]bool{}
		for _, sl := range links {
			l := sl.Link
			name := t.Name
			if len(t.Subjects) > 0 {
				name = fmt.Sprintf("%s (%s)", t.Name, sl.Subject)
				if kinds[sl.Subject] {
					add("table %s: Subjects names %s twice", t.Name, sl.Subject)
				}
				kinds[sl.Subject] = true
				if l.When.Column == "" {
					add("table %s: a table shared by several kinds of subject needs a When on each link, saying whose a row is", name)
				} else if l.When.Column != t.Subjects[0].Link.When.Column {
					add("table %s: every link of a shared table must use the same discriminator column", name)
				} else if values[l.When.Value] {
					add("table %s: two kinds of subject claim the rows where %s = %q", name, l.When.Column, l.When.Value)
				}
				values[l.When.Value] = true
			}
			if personal && !l.declared() {
				add("table %s holds personal data but has no Link to its subject (see Link in model.go)", name)
			}
			if l.Parent != "" {
				parent, ok := inv.Table(l.Parent)
				if l.ParentColumn == "" || !ok {
					add("table %s: Link.Parent %q is not a declared table, or ParentColumn is missing", name, l.Parent)
				} else {
					if !slices.ContainsFunc(parent.Columns, func(o Column) bool { return o.Name == "id" }) {
						add("table %s: Link.Parent %s has no id column to link to", name, l.Parent)
					}
					if _, ok := parent.linkFor(sl.Subject); !ok {
						add("table %s: Link.Parent %s holds no data of %s", name, l.Parent, sl.Subject)
					}
					if l.ParentExport != "" && parent.Ref == "" {
						add("table %s: Link.ParentExport needs a Ref on %s", name, l.Parent)
					}
				}
			}
			if l.ParentExport != "" && l.Parent == "" {
				add("table %s: Link.ParentExport needs a Link.Parent", name)
			}
			if (l.When.Column == "") != (l.When.Value == "") {
				add("table %s: Link.When needs both a column and a value", name)
			}
			for _, c := range []string{l.Column, l.EmailColumn, l.ParentColumn, l.When.Column} {
				if c != "" && !cols[c] {
					add("table %s: Link names column %q, which is not declared", name, c)
				}
			}
		}
		if t.Withheld != "" && !cols[t.Withheld] {
			add("table %s: Withheld names column %q, which is not declared", t.Name, t.Withheld)
		}
		if t.Ref != "" && !cols[t.Ref] {
			add("table %s: Ref names column %q, which is not declared", t.Name, t.Ref)
		}
		if t.HeldWith != "" {
			child, ok := inv.Table(t.HeldWith)
			if !ok || !slices.ContainsFunc(child.links(), func(sl SubjectLink) bool { return sl.Link.Parent == t.Name }) {
				add("table %s: HeldWith %q must be a declared table linked to %s through Link.Parent", t.Name, t.HeldWith, t.Name)
			}
			if !hasID {
				add("table %s: HeldWith needs an id column", t.Name)
			}
		}
		probs = append(probs, t.purgeProblems()...)
		probs = append(probs, t.truncateProblems()...)
	}
	for _, a := range inv.Activities {
		where := "activity " + a.ID
		if a.Name == "" || a.Subject == "" || a.Source == "" || len(a.Categories) == 0 || a.Retention.From == retentionUnset {
			add("%s: needs Name, Subject, Source, Categories and Retention", where)
		}
		for _, c := range a.Categories {
			if !c.Known() {
				add("%s: unknown category %q", where, c)
			}
		}
		checkRefs(where, a.Purposes, a.Recipients)
	}
	cookies := map[string]bool{}
	for _, c := range inv.Cookies {
		if c.Name == "" || c.Purpose == "" || c.Duration == "" {
			add("cookie %q: needs Name, Purpose and Duration", c.Name)
		}
		if !c.Category.Known() {
			add("cookie %q: unknown category %q (one of %s)", c.Name, c.Category, strings.Join(cookieCategoryNames(), ", "))
		}
		if c.OnlyWithOptionalCookies && !c.Essential() {
			add("cookie %q: only a strictly necessary cookie can remember consent", c.Name)
		}
		if cookies[c.Name] {
			add("cookie %q declared twice", c.Name)
		}
		cookies[c.Name] = true
	}
	if len(probs) > 0 {
		return fmt.Errorf("data inventory is inconsistent:\n  %s", strings.Join(probs, "\n  "))
	}
	return nil
}

// SchemaTable is a table of the live schema (see db.Schema).
type SchemaTable struct {
	Name    string
	Columns []string
}

// CheckSchema compares the declaration with a live schema and returns one
// line per undeclared table or column, and per declared column that does
// not exist (a stale declaration is a lie in the policy).
func (inv Inventory) CheckSchema(schema []SchemaTable) []string {
	var probs []string
	live := map[string]bool{}
	for _, st := range schema {
		decl, ok := inv.Table(st.Name)
		if !ok {
			probs = append(probs, fmt.Sprintf("table %s is not declared in the data inventory (internal/privacy/inventory.go)", st.Name))
			for _, c := range st.Columns {
				live[st.Name+"."+c] = true
			}
			continue
		}
		for _, c := range st.Columns {
			live[st.Name+"."+c] = true
			if !slices.ContainsFunc(decl.Columns, func(dc Column) bool { return dc.Name == c }) {
				probs = append(probs, fmt.Sprintf("column %s.%s is not declared in the data inventory (internal/privacy/inventory.go)", st.Name, c))
			}
		}
	}
	for _, t := range inv.Tables {
		for _, c := range t.Columns {
			if !live[t.Name+"."+c.Name] {
				probs = append(probs, fmt.Sprintf("column %s.%s is declared but does not exist in the schema", t.Name, c.Name))
			}
		}
	}
	sort.Strings(probs)
	return probs
}
