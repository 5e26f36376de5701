package privacy

import "strings"

// Record is one row of the inventory as printed by `storekeep privacy
// inventory`: a column of a table, or a kind of data in an activity that
// stores nothing. It is the seed of the records of processing (Art. 30).
type Record struct {
	Table      string   `json:"table,omitempty"`
	Column     string   `json:"column,omitempty"`
	Activity   string   `json:"activity,omitempty"`
	Personal   bool     `json:"personal"`
	Category   string   `json:"category,omitempty"`
	Subject    string   `json:"subject,omitempty"`
	Purposes   []string `json:"purposes,omitempty"` // "id (basis)"
	Retention  string   `json:"retention,omitempty"`
	Erasure    string   `json:"erasure,omitempty"`
	Export     string   `json:"export,omitempty"`
	Recipients []string `json:"recipients,omitempty"`
	Source     string   `json:"source,omitempty"`
	Note       string   `json:"note,omitempty"`
}

// Records flattens the inventory: every declared column, then every
// category of every activity.
func (inv Inventory) Records() []Record {
	var out []Record
	purposes := func(ids []string) []string {
		var s []string
		for _, id := range ids {
			p, _ := inv.Purpose(id)
			s = append(s, id+" ("+string(p.Basis)+")")
		}
		return s
	}
	var allStored []string
	for _, r := range inv.Recipients {
		if r.AllStored {
			allStored = append(allStored, r.ID)
		}
	}
	for _, t := range inv.Tables {
		for _, c := range t.Columns {
			r := Record{Table: t.Name, Column: c.Name, Personal: c.Personal, Note: c.Note}
			if c.Personal {
				r.Category = string(c.Category)
				var kinds []string
				for _, k := range t.SubjectKinds() {
					kinds = append(kinds, string(k))
				}
				r.Subject = strings.Join(kinds, ", ")
				r.Purposes = purposes(c.Purposes)
				r.Retention = c.Retention.Describe()
				r.Erasure = string(c.Erasure)
				r.Export = c.Export
				r.Recipients = append(append([]string{}, c.Recipients...), allStored...)
				r.Source = string(c.Source)
			}
			out = append(out, r)
		}
	}
	for _, a := range inv.Activities {
		for _, c := range a.Categories {
			out = append(out, Record{
				Activity: a.ID, Personal: true, Category: string(c), Subject: string(a.Subject),
				Purposes: purposes(a.Purposes), Retention: a.Retention.Describe(),
				Recipients: a.Recipients, Source: string(a.Source), Note: a.Name,
			})
		}
	}
	return out
}

// Join is a helper for table output: "-" for nothing.
func Join(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ", ")
}
