package privacy

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/csvcell"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/settings"
)

// SubjectRef names one data subject: the kind, the ID of their account
// (0 when there is none) and their email address ("" when unknown).
type SubjectRef struct {
	Kind  Subject
	ID    int64
	Email string
}

// Export is everything we hold about one subject, with the information
// Art. 15 GDPR asks for, derived from the inventory: it is what the access
// page shows and what the portability ZIP contains.
type Export struct {
	Subject     SubjectRef      `json:"subject"`
	GeneratedAt time.Time       `json:"generated_at"`
	Controller  settings.Vendor `json:"controller"`
	// About is, per kind of data, why we hold it, on which basis, for how
	// long, where it came from and who received it.
	About []Item `json:"about"`
	// Recipients are the processors that receive the subject's data.
	Recipients []RecipientUse `json:"recipients"`
	// Tables hold the rows, with the columns under their export names.
	Tables []ExportTable `json:"tables"`
}

// ExportTable is the subject's rows of one table.
type ExportTable struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Columns     []string         `json:"columns"`
	Rows        []map[string]any `json:"rows"`
}

// Rows counts the exported rows.
func (e Export) Rows() int {
	n := 0
	for _, t := range e.Tables {
		n += len(t.Rows)
	}
	return n
}

// subjectWhere is the SQL condition selecting the subject's rows of t, with
// its parameters appended to *args (placeholders numbered after those
// already there). ok is false when t holds no linkable data of the
// subject's kind, or the subject lacks what the link needs.
func (inv Inventory) subjectWhere(t Table, s SubjectRef, args *[]any) (string, bool) {
	l, ok := t.linkFor(s.Kind)
	if !ok || l.Unlinkable != "" {
		return "", false
	}
	var w string
	if l.Parent != "" {
		parent, ok := inv.Table(l.Parent)
		if !ok {
			return "", false
		}
		pw, ok := inv.subjectWhere(parent, s, args)
		if !ok {
			return "", false
		}
		w = fmt.Sprintf("%s IN (SELECT id FROM %s WHERE %s)", l.ParentColumn, parent.Name, pw)
	} else {
		var or []string
		if l.Column != "" && s.ID != 0 {
			*args = append(*args, s.ID)
			or = append(or, fmt.Sprintf("%s = $%d", l.Column, len(*args)))
		}
		if l.EmailColumn != "" && s.Email != "" {
			*args = append(*args, strings.ToLower(s.Email))
			// Addresses are stored lower-cased (emailaddr), so a plain
			// equality uses the column's index.
			or = append(or, fmt.Sprintf("%s = $%d", l.EmailColumn, len(*args)))
		}
		if len(or) == 0 {
			return "", false
		}
		w = "(" + strings.Join(or, " OR ") + ")"
	}
	if l.When.Column != "" {
		*args = append(*args, l.When.Value)
		w += fmt.Sprintf(" AND %s = $%d", l.When.Column, len(*args))
	}
	return w, true
}

// Collect gathers the subject's data from every table the inventory links
// to them. A table added later is covered as soon as it is declared with a
// Link: there is no per-table code.
func Collect(ctx context.Context, q db.Querier, inv Inventory, v settings.Vendor, s SubjectRef, now time.Time) (Export, error) {
	e := Export{Subject: s, GeneratedAt: now.UTC(), Controller: v}
	p := build(inv, v, Facts{}, func(x Subject) bool { return x == s.Kind })
	if err := withRegister(ctx, q, inv, v, &p); err != nil {
		return e, err
	}
	for _, g := range p.Groups {
		e.About = append(e.About, g.Items...)
	}
	e.Recipients = p.Recipients
	for _, t := range inv.Tables {
		var args []any
		where, ok := inv.subjectWhere(t, s, &args)
		if !ok {
			continue
		}
		et := ExportTable{Name: t.Name, Description: t.Description}
		var cols []string
		for _, c := range t.Columns {
			if c.Export != "" && c.of(s.Kind) {
				cols = append(cols, c.Name)
				et.Columns = append(et.Columns, c.Export)
			}
		}
		if len(cols) == 0 {
			continue
		}
		// Rows of a child table say which order (invoice, request) they
		// belong to, by the number the person knows it by.
		if l, _ := t.linkFor(s.Kind); l.ParentExport != "" {
			parent, _ := inv.Table(l.Parent)
			cols = append(cols, fmt.Sprintf("(SELECT p.%s FROM %s p WHERE p.id = %s.%s)", parent.Ref, parent.Name, t.Name, l.ParentColumn))
			et.Columns = append([]string{l.ParentExport}, et.Columns...)
			cols = append(cols[len(cols)-1:], cols[:len(cols)-1]...)
		}
		if t.Withheld != "" {
			// The law forbids telling the person of these rows.
			where += " AND " + t.Withheld + " = FALSE"
		}
		rows, err := q.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+t.Name+` WHERE `+where, args...)
		if err != nil {
			return e, fmt.Errorf("export %s: %w", t.Name, err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return e, fmt.Errorf("export %s: %w", t.Name, err)
			}
			row := map[string]any{}
			for i, name := range et.Columns {
				row[name] = plainValue(vals[i])
			}
			et.Rows = append(et.Rows, row)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return e, fmt.Errorf("export %s: %w", t.Name, err)
		}
		if len(et.Rows) > 0 {
			e.Tables = append(e.Tables, et)
		}
	}
	return e, nil
}

// plainValue turns a driver value into JSON- and CSV-friendly form.
func plainValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	}
	return v
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return csvcell.Defuse(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// WriteZIP writes the portability archive: data.json (the whole Export),
// one CSV file per table, and README.txt explaining both.
func (e Export) WriteZIP(w io.Writer) error {
	z := zip.NewWriter(w)
	// Entries are dated when the export was made (zip.Writer.Create
	// would date them 1980).
	create := func(name string) (io.Writer, error) {
		return z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: e.GeneratedAt})
	}
	f, err := create("data.json")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		return err
	}
	for _, t := range e.Tables {
		f, err := create("csv/" + t.Name + ".csv")
		if err != nil {
			return err
		}
		cw := csv.NewWriter(f)
		if err := cw.Write(t.Columns); err != nil {
			return err
		}
		for _, r := range t.Rows {
			rec := make([]string, len(t.Columns))
			for i, c := range t.Columns {
				rec[i] = cell(r[c])
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	f, err = create("README.txt")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, e.readme()); err != nil {
		return err
	}
	return z.Close()
}

func (e Export) readme() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Your data held by %s\n", e.Controller.LegalName)
	fmt.Fprintf(&b, "Generated %s for %s\n\n", e.GeneratedAt.Format(time.RFC1123), e.Subject.Email)
	b.WriteString(`This archive holds a copy of every piece of personal data we hold about you,
in two forms:

  data.json   everything in one structured file: "tables" holds your data
              table by table, "about" says for each kind of data why we
              hold it, on which legal basis, how long we keep it, where it
              came from and who receives it; "recipients" names the
              service providers that process it for us.
  csv/        the same rows as one CSV file per table (UTF-8, comma
              separated, a header line first), for spreadsheets.

Dates are in UTC (RFC 3339). Amounts ending in "_minor" are in the
currency's smallest unit (cents). Rows of order lines, order history and
invoices name their order in "order_number".

Emails we sent you are listed by kind, template, subject, recipient and
date ("sent_at" is empty while a mail waits to be sent), without their
text: sign-in and address-change mails carry one-time links, and a copy
of such a link in a file could open your account.

`)
	names := make([]string, 0, len(e.Tables))
	for _, t := range e.Tables {
		names = append(names, fmt.Sprintf("  csv/%s.csv: %s (%d rows)", t.Name, t.Description, len(t.Rows)))
	}
	sort.Strings(names)
	b.WriteString("Files:\n" + strings.Join(names, "\n") + "\n\n")
	fmt.Fprintf(&b, "Questions, corrections or other requests: %s\n", e.Controller.PrivacyEmail)
	b.WriteString("You may also complain to a data protection authority.\n")
	return b.String()
}

// Query is one table's lookup of a subject's rows, for tests that check
// the query plans use indexes.
type Query struct {
	Table string
	SQL   string
	Args  []any
}

// SubjectQueries returns the lookups Collect and Erase run for s.
func SubjectQueries(inv Inventory, s SubjectRef) []Query {
	var out []Query
	for _, t := range inv.Tables {
		var args []any
		w, ok := inv.subjectWhere(t, s, &args)
		if !ok {
			continue
		}
		out = append(out, Query{Table: t.Name, SQL: `SELECT * FROM ` + t.Name + ` WHERE ` + w, Args: args})
	}
	return out
}
