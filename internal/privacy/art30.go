package privacy

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/csvcell"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/settings"
)

// Deployment is what the records of processing may say about the security
// of this deployment: the policy's Facts and the staff settings.
type Deployment struct {
	Facts
	// AllStaffTwoFactor is true when every staff account must use a
	// second factor (the console's security setting), not owners alone.
	AllStaffTwoFactor bool
}

// ProcessingRecords are the records of processing activities (Art. 30(1)
// GDPR), generated from the inventory and the recipients register: one
// activity per purpose, with whose data, which data, who receives it,
// where it goes, how long it is kept, and the security measures in force.
type ProcessingRecords struct {
	GeneratedAt time.Time            `json:"generated_at"`
	Controller  RecordsController    `json:"controller"`
	Activities  []ProcessingActivity `json:"activities"`
	Recipients  []RecordsRecipient   `json:"recipients"`
	Security    []string             `json:"security_measures"`
	// Stores hold copies of everything stored (backups), with their
	// retention; each activity's retention names them too.
	Stores []RecordsStore `json:"copies"`
}

// RecordsStore is a store of copies as the records list it.
type RecordsStore struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Retention   string `json:"retention"`
}

// RecordsController names the controller and how to reach it.
type RecordsController struct {
	Name         string `json:"name"`
	Address      string `json:"address"`
	PrivacyEmail string `json:"privacy_contact"`
	Country      string `json:"country"`
}

// ProcessingActivity is the processing for one purpose.
type ProcessingActivity struct {
	Purpose     string   `json:"purpose"` // the inventory's purpose ID
	Name        string   `json:"name"`
	Description string   `json:"description"`
	LegalBasis  string   `json:"legal_basis"`
	Interest    string   `json:"legitimate_interest,omitempty"`
	Subjects    []string `json:"subjects"`
	Categories  []string `json:"data_categories"` // "Label (category.id)"
	Recipients  []string `json:"recipients"`
	Transfers   []string `json:"transfers"` // recipients outside the EEA, with the safeguard
	Retention   []string `json:"retention"`
}

// RecordsRecipient is a recipient as the records list it.
type RecordsRecipient struct {
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	Purpose       string   `json:"purpose"`
	Data          []string `json:"data_categories"`
	Location      string   `json:"location"`
	OutsideEEA    bool     `json:"outside_eea"`
	Safeguard     string   `json:"safeguard,omitempty"`
	AgreementRef  string   `json:"agreement_reference,omitempty"`
	AgreementDate string   `json:"agreement_date,omitempty"`
	ReviewDate    string   `json:"review_date,omitempty"`
	Declared      bool     `json:"declared_by_code"`
}

var recordSubjects = map[Subject]string{Customer: "Customers", Visitor: "Visitors of the website", Staff: "Staff of the controller"}

func subjectLabel(s Subject) string {
	if l, ok := recordSubjects[s]; ok {
		return l
	}
	return string(s)
}

// BuildRecords derives the records from inv, the register, the vendor's
// settings and the deployment. It is pure: the same inputs give the same
// records. Every declared purpose with data, every category and every
// recipient data goes to appears (TestRecordsCoverTheInventory).
func BuildRecords(inv Inventory, reg []Registered, v settings.Vendor, dep Deployment, now time.Time) ProcessingRecords {
	rec := ProcessingRecords{GeneratedAt: now.UTC(),
		Controller: RecordsController{Name: firstOf(v.LegalName, v.Name), Address: v.Address, PrivacyEmail: v.PrivacyEmail, Country: v.Country}}
	byDeclared := map[string]Registered{}
	for _, r := range reg {
		if r.Declared != "" {
			byDeclared[r.Declared] = r
		}
	}
	// A register read before the code declared a recipient still lists it.
	cats := inv.recipientCategories()
	for _, r := range inv.Recipients {
		if _, ok := byDeclared[r.ID]; !ok {
			e := declaredEntry(r, cats[r.ID], v)
			byDeclared[r.ID] = e
			reg = append(slices.Clone(reg), e)
		}
	}
	nameOf := func(id string) (string, string) {
		r, ok := byDeclared[id]
		if !ok {
			d, _ := inv.Recipient(id)
			r = declaredEntry(d, nil, v)
		}
		transfer := ""
		if r.OutsideEEA {
			transfer = r.Name + " (" + r.Location + "): " + r.TransferText()
		}
		return r.Name, transfer
	}
	var allStored []string
	for _, r := range inv.Recipients {
		if r.AllStored {
			allStored = append(allStored, r.ID)
		}
	}
	acts := map[string]*ProcessingActivity{}
	var order []string
	for _, p := range inv.Purposes {
		acts[p.ID] = &ProcessingActivity{Purpose: p.ID, Name: p.Name, Description: p.Description, LegalBasis: p.Basis.Label(), Interest: p.Interest}
		order = append(order, p.ID)
	}
	asksConsent := inv.AsksConsent()
	use := func(purposes []string, kind Subject, c Category, recips []string, ret Retention, context string) {
		for _, id := range purposes {
			a := acts[id]
			if a == nil {
				continue
			}
			a.Subjects = appendNew(a.Subjects, subjectLabel(kind))
			a.Categories = appendNew(a.Categories, c.Label()+" ("+string(c)+")")
			a.Retention = appendNew(a.Retention, c.Label()+": "+ret.Describe()+" ("+context+")")
			for _, r := range recips {
				name, transfer := nameOf(r)
				a.Recipients = appendNew(a.Recipients, name)
				if transfer != "" {
					a.Transfers = appendNew(a.Transfers, transfer)
				}
			}
		}
	}
	for _, t := range inv.Tables {
		if t.OnlyWithOptionalCookies && !asksConsent {
			continue
		}
		for _, kind := range t.SubjectKinds() {
			for _, c := range t.Columns {
				if c.Personal && c.of(kind) {
					use(c.Purposes, kind, c.Category, append(slices.Clone(c.Recipients), allStored...), c.Retention, phrase(t.Description))
				}
			}
		}
	}
	for _, a := range inv.Activities {
		for _, c := range a.Categories {
			use(a.Purposes, a.Subject, c, a.Recipients, a.Retention, phrase(a.Name))
		}
	}
	// Recipients the owner added receive data for the purpose they
	// recorded, which the register keeps in words; they are listed with
	// every activity whose data they receive.
	for _, r := range reg {
		if r.Declared != "" || !r.ReceivesData() {
			continue
		}
		for _, id := range order {
			a := acts[id]
			for _, c := range r.Categories {
				if slices.Contains(a.Categories, c.Label()+" ("+string(c)+")") {
					a.Recipients = appendNew(a.Recipients, r.Name)
					if r.OutsideEEA {
						a.Transfers = appendNew(a.Transfers, r.Name+" ("+r.Location+"): "+r.TransferText())
					}
				}
			}
		}
	}
	for _, st := range inv.Stores {
		rec.Stores = append(rec.Stores, RecordsStore{Name: st.Name, Description: st.Description, Retention: st.Retention.Describe()})
	}
	for _, id := range order {
		if a := acts[id]; len(a.Categories) > 0 {
			for _, st := range inv.Stores {
				a.Retention = appendNew(a.Retention, st.Name+": copies of the above "+strings.ToLower(st.Retention.Describe()[:1])+st.Retention.Describe()[1:]+" ("+st.ID+")")
			}
			rec.Activities = append(rec.Activities, *a)
		}
	}
	for _, r := range reg {
		if !r.ReceivesData() {
			continue
		}
		rr := RecordsRecipient{Name: r.Name, Kind: r.Kind.Label(), Purpose: r.Purpose, Data: r.CategoryLabels(), Location: r.Location,
			OutsideEEA: r.OutsideEEA, AgreementRef: firstOf(r.AgreementRef, r.NoAgreement), AgreementDate: day(r.AgreementDate), ReviewDate: day(r.ReviewDate),
			Declared: r.Declared != ""}
		if r.AllStored {
			rr.Data = []string{"Everything stored"}
		}
		if r.OutsideEEA {
			rr.Safeguard = r.TransferText()
		}
		rec.Recipients = append(rec.Recipients, rr)
	}
	rec.Security = securityMeasures(inv, dep)
	return rec
}

// securityMeasures lists what protects the data in this deployment: the
// code's measures, which always hold, and those that depend on how it runs.
func securityMeasures(inv Inventory, dep Deployment) []string {
	var m []string
	if dep.HTTPS {
		m = append(m, "Every connection to the site is encrypted (HTTPS).")
	}
	if dep.AllStaffTwoFactor {
		m = append(m, "Every staff account signs in with a password and a second factor (TOTP).")
	} else {
		m = append(m, "Owners sign in with a password and a second factor (TOTP); other staff with a password.")
	}
	m = append(m,
		"Staff passwords are stored only as Argon2id hashes; staff sessions are kept in the database and can be ended by the staff member or an owner.",
		"Each staff role may see only the data its work needs (owner, support, finance, analyst); every view of a customer's personal data by staff is recorded.",
		"Staff actions are recorded in an append-only, hash-chained audit log that `storekeep audit verify` checks for tampering.",
		"Card details never reach us: the payment processor's hosted checkout takes them, and we keep its references only.",
		"Retention periods are applied by a periodic purge; erasure and restriction are carried out from the data inventory.",
		"Forms are protected against cross-site request forgery; responses carry a strict content security policy.",
	)
	for _, t := range inv.Tables {
		for _, c := range t.Columns {
			if c.TruncateAfter.From != retentionUnset {
				m = append(m, "Network addresses in "+t.Name+" are shortened to their network (IPv4 /24, IPv6 /48) "+c.TruncateAfter.Describe()+".")
			}
		}
	}
	return m
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// LoadRecords reads the register and the settings and builds the records.
func LoadRecords(ctx context.Context, q db.Querier, inv Inventory, f Facts, now time.Time) (ProcessingRecords, error) {
	v, err := settings.Load(ctx, q)
	if err != nil {
		return ProcessingRecords{}, err
	}
	reg, err := Register(ctx, q, inv, v)
	if err != nil {
		return ProcessingRecords{}, err
	}
	all, err := settings.RequireTwoFactor(ctx, q)
	if err != nil {
		return ProcessingRecords{}, err
	}
	return BuildRecords(inv, reg, v, Deployment{Facts: f, AllStaffTwoFactor: all}, now), nil
}

// WriteJSON writes the records as indented JSON.
func (r ProcessingRecords) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteCSV writes the records as one table: a row per processing activity,
// then a row per recipient and per security measure, the first column
// saying which. Lists are joined with "; ".
func (r ProcessingRecords) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(cells ...string) {
		for i, c := range cells {
			cells[i] = csvcell.Defuse(c)
		}
		_ = cw.Write(cells)
	}
	j := func(s []string) string { return strings.Join(s, "; ") }
	row("section", "name", "purpose or role", "legal basis", "data subjects", "data categories", "recipients", "transfers and safeguards", "retention", "agreement", "review")
	row("controller", r.Controller.Name, "privacy contact: "+r.Controller.PrivacyEmail+"; address: "+strings.ReplaceAll(strings.TrimSpace(r.Controller.Address), "\n", ", ")+"; country: "+r.Controller.Country, "", "", "", "", "", "", "", "")
	for _, a := range r.Activities {
		basis := a.LegalBasis
		if a.Interest != "" {
			basis += ": " + a.Interest
		}
		row("activity", a.Name, a.Description, basis, j(a.Subjects), j(a.Categories), j(a.Recipients), j(a.Transfers), j(a.Retention), "", "")
	}
	for _, rc := range r.Recipients {
		transfer := "stays in the EEA"
		if rc.OutsideEEA {
			transfer = rc.Safeguard
		}
		agreement := strings.TrimSpace(rc.AgreementRef + " " + rc.AgreementDate)
		row("recipient", rc.Name, rc.Kind+": "+rc.Purpose, "", "", j(rc.Data), "", rc.Location+"; "+transfer, "", agreement, rc.ReviewDate)
	}
	for _, m := range r.Security {
		row("security", m, "", "", "", "", "", "", "", "", "")
	}
	for _, st := range r.Stores {
		row("copies", st.Name, st.Description, "", "", "", "", "", st.Retention, "", "")
	}
	cw.Flush()
	return cw.Error()
}
