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
	// kept: "" means the empty string, "NULL" means NULL, "NOW" the time
	// of erasure; anything else is an SQL expression over the row (for a
	// unique column, e.g. 'erased-' || id).
	Blank string
}

// Table declares one table and all its columns.
type Table struct {
	Name        string
	Description string
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
	// Chained names the sequence column of an append-only chain (the audit
	// log): the purge then removes only a prefix of it, every entry up to
	// the newest expired one, so that the rest still verifies.
	Chained string
	Columns []Column
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
	// Where narrows the match further (audit_log: only entries whose actor
	// is a staff member). SQL, no parameters.
	Where string
	// Unlinkable explains why rows cannot be tied to a person (keyed
	// hashes); such data must be short-lived.
	Unlinkable string
}

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
}

// Cookie is a cookie the site sets.
type Cookie struct {
	Name     string
	Purpose  string
	Duration string
	// Essential cookies are strictly necessary for a service the person
	// asked for; others need consent.
	Essential bool
	Subject   Subject
}

// Inventory is the whole declaration.
type Inventory struct {
	Purposes   []Purpose
	Recipients []Recipient
	Tables     []Table
	Activities []Activity
	Cookies    []Cookie
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
		for _, c := range t.Columns {
			where := t.Name + "." + c.Name
			if cols[c.Name] {
				add("%s declared twice", where)
			}
			cols[c.Name] = true
			if !c.Personal {
				if c.Category != "" || len(c.Purposes) > 0 || c.Erasure != "" || c.Export != "" || len(c.Recipients) > 0 {
					add("%s: is declared not personal but has personal-data fields set", where)
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
		}
		if personal && t.Subject == "" {
			add("table %s holds personal data but names no Subject", t.Name)
		}
		if personal && !t.Link.declared() {
			add("table %s holds personal data but has no Link to its subject (see Link in model.go)", t.Name)
		}
		probs = append(probs, t.purgeProblems()...)
		if t.Link.Parent != "" && (t.Link.ParentColumn == "" || !slices.ContainsFunc(inv.Tables, func(o Table) bool { return o.Name == t.Link.Parent })) {
			add("table %s: Link.Parent %q is not a declared table, or ParentColumn is missing", t.Name, t.Link.Parent)
		}
		for _, c := range []string{t.Link.Column, t.Link.EmailColumn, t.Link.ParentColumn} {
			if c != "" && !cols[c] {
				add("table %s: Link names column %q, which is not declared", t.Name, c)
			}
		}
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
	for _, c := range inv.Cookies {
		if c.Name == "" || c.Purpose == "" || c.Duration == "" {
			add("cookie %q: needs Name, Purpose and Duration", c.Name)
		}
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
