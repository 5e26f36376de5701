package privacy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
)

// zipFiles writes e as the portability ZIP and returns its raw bytes and
// its files.
func zipFiles(t *testing.T, d *db.DB, p person) ([]byte, map[string]*zip.File, map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	if err := exportOf(t, d, p).WriteZIP(&buf); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	entries, files := map[string]*zip.File{}, map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		entries[f.Name], files[f.Name] = f, string(body)
	}
	return buf.Bytes(), entries, files
}

var (
	urlRE  = regexp.MustCompile(`https?://[^\s"<>]+`)
	codeRE = regexp.MustCompile(`\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b`)
)

// TestExportHoldsNoSecrets: the access export says what was mailed, never
// the mail's working links or codes. Real sign-in and email-change links
// and a privacy request's verification code are issued to the customer;
// none of them, no link from any mail sent to them and no stored hash
// appears anywhere in the ZIP (raw bytes or any file in it).
func TestExportHoldsNoSecrets(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := makePerson(t, d, 20, seedPrice(t, d))
		addRequest(t, d, a) // mails a verification code
		// The license key activates machines: the export names the license, never the key.
		secrets := []string{a.LicenseKey}
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			signIn, err := customers.RequestSignIn(ctx, tx, a.Email, t0)
			if err != nil {
				return err
			}
			change, err := customers.RequestEmailChange(ctx, tx, a.ID, "new-"+a.Email, t0)
			if err != nil {
				return err
			}
			secrets = append(secrets, signIn, url.QueryEscape(signIn), change, url.QueryEscape(change))
			for _, m := range []struct {
				tmpl string
				data any
			}{
				{"signin", mail.SignInData{SiteName: "M", Link: "https://shop.example/account/verify?token=" + url.QueryEscape(signIn), ExpiresMinutes: 15}},
				{"email_change", mail.EmailChangeData{SiteName: "M", NewEmail: "new-" + a.Email, Link: "https://shop.example/account/email/confirm?token=" + url.QueryEscape(change)}},
			} {
				msg, err := mail.Compose(m.tmpl, a.Email, m.data)
				if err != nil {
					return err
				}
				msg.CustomerID = a.ID
				if _, err := mail.Enqueue(ctx, tx, msg, t0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Every link and code in any mail to the person, and every stored
		// hash of a token or code.
		for _, q := range []string{
			`SELECT template || ' ' || text_body || ' ' || html_body || ' ' || unsubscribe_url FROM outbox WHERE customer_id = $1 OR to_addr = $2`,
			`SELECT token_hash FROM customer_tokens WHERE customer_id = $1 OR email = $2`,
			`SELECT token_hash FROM customer_sessions WHERE customer_id = $1 AND $2 <> ''`,
			`SELECT COALESCE(code_hash, '') FROM privacy_requests WHERE customer_id = $1 OR email = $2`,
		} {
			rows, err := d.QueryContext(ctx, q, a.ID, a.Email)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(q, "text_body") {
					secrets = append(secrets, urlRE.FindAllString(s, -1)...)
					if strings.HasPrefix(s, "request_verify ") { // order numbers look alike
						secrets = append(secrets, codeRE.FindAllString(s, -1)...)
					}
				} else if s != "" {
					secrets = append(secrets, s)
				}
			}
			rows.Close()
		}
		var links, codes int
		for _, s := range secrets {
			if strings.Contains(s, "token=") {
				links++
			}
			if codeRE.MatchString(s) {
				codes++
			}
		}
		if links < 2 || codes < 1 {
			t.Fatalf("the fixture issued %d links and %d codes: %v", links, codes, secrets)
		}
		raw, _, files := zipFiles(t, d, a)
		for _, s := range secrets {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("the ZIP's bytes contain the secret %q", s)
			}
			for name, body := range files {
				if strings.Contains(body, s) {
					t.Errorf("%s contains the secret %q", name, s)
				}
			}
		}
		// What was mailed is still said.
		for _, want := range []string{"signin", "email_change", "request_verify"} {
			if !strings.Contains(files["csv/outbox.csv"], want) {
				t.Errorf("the export does not say that %s was mailed:\n%s", want, files["csv/outbox.csv"])
			}
		}
	})
}

// TestExportNamesOrdersAndIsDated: the CSV files of order lines, order
// history and invoices say which order each row belongs to; corrections
// say which invoice; the ZIP's entries are dated when it was made.
func TestExportNamesOrdersAndIsDated(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		a := makePerson(t, d, 21, seedPrice(t, d))
		_, entries, files := zipFiles(t, d, a)
		for _, tc := range []struct{ file, column string }{
			{"csv/order_lines.csv", "order_number"},
			{"csv/order_events.csv", "order_number"},
			{"csv/invoices.csv", "order_number"},
			{"csv/refunds.csv", "order_number"},
			{"csv/refund_lines.csv", "refund_id"},
			{"csv/invoice_corrections.csv", "invoice_number"},
		} {
			recs, err := csv.NewReader(strings.NewReader(files[tc.file])).ReadAll()
			if err != nil || len(recs) < 2 {
				t.Fatalf("%s: %v, %d records", tc.file, err, len(recs))
			}
			if recs[0][0] != tc.column {
				t.Fatalf("%s: header %v lacks %s first", tc.file, recs[0], tc.column)
			}
			for _, r := range recs[1:] {
				if r[0] == "" || tc.column == "order_number" && r[0] != a.OrderNumber {
					t.Errorf("%s: row %v does not name its order %s", tc.file, r, a.OrderNumber)
				}
			}
		}
		for name, f := range entries {
			if f.Modified.Sub(t0).Abs().Seconds() > 2 {
				t.Errorf("%s is dated %v, want the export's time %v", name, f.Modified, t0)
			}
		}
	})
}
