package privacy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/lists"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// person is a customer with data in every table a customer's data lives
// in, made through the same code paths the site uses.
type person struct {
	customers.Customer
	Name, City, OrderNumber string
	LicenseKey              string
}

func makePerson(t *testing.T, d *db.DB, n int, priceID int64) person {
	t.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("person%d@example.com", n)
	p := person{Name: fmt.Sprintf("Distinctive Name%d", n), City: fmt.Sprintf("Uniqueville%d", n)}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, email, t0)
		if err != nil {
			return err
		}
		c, _, err := customers.CompleteSignIn(ctx, tx, raw, t0)
		if err != nil {
			return err
		}
		if _, err := customers.StartSession(ctx, tx, c.ID, t0); err != nil {
			return err
		}
		c, err = customers.UpdateProfile(ctx, tx, c.ID, customers.Profile{Name: p.Name, AddressLine1: "1 Road", PostalCode: "12345",
			City: p.City, Country: "DE"}, t0)
		if err != nil {
			return err
		}
		p.Customer = c
		o, err := orders.Create(ctx, tx, orders.NewOrder{CustomerID: c.ID, PriceID: priceID, Provider: "stripe",
			Billing: orders.Billing{Email: email, Name: p.Name, Address: "1 Road\n12345 " + p.City, Country: "DE"}}, t0)
		if err != nil {
			return err
		}
		p.OrderNumber = o.Number
		if err := privacy.SetChoice(ctx, tx, privacy.Declared, c.ID, privacy.ChoiceConsent, "marketing", true, "", t0); err != nil {
			return err
		}
		return orders.SetSession(ctx, tx, o.ID, fmt.Sprintf("cs_%d", n), t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Licenses: licensing.ForOrders(testLicenseKeys)}
	if _, err := shop.Apply(ctx, payments.Event{ID: fmt.Sprintf("evt_%d", n), Provider: "stripe", Type: payments.CheckoutCompleted,
		SessionRef: fmt.Sprintf("cs_%d", n), PaymentRef: fmt.Sprintf("pi_%d", n), SubscriptionRef: fmt.Sprintf("sub_%d", n), AmountMinor: 49000, Currency: "EUR"}, t0); err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		var number string
		if err := tx.QueryRowContext(ctx, `SELECT i.number FROM invoices i JOIN orders o ON o.id = i.order_id WHERE o.number = $1`, p.OrderNumber).Scan(&number); err != nil {
			return err
		}
		_, err := orders.CorrectInvoice(ctx, tx, number, orders.Billing{Name: p.Name, Company: "Corrected GmbH", Address: "2 Road\n12345 " + p.City, Country: "DE"},
			"company name added", t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The order issued a license; a machine of the person's holds a seat.
	ls, err := licensing.ForCustomer(ctx, d, p.Customer.ID, t0)
	if err != nil || len(ls) != 1 {
		t.Fatalf("licenses of the fixture: %d, %v", len(ls), err)
	}
	p.LicenseKey = ls[0].Key
	if r, err := licensing.Activate(ctx, d, testLicenseKeys, ls[0].Key, licensing.MachineInfo{Fingerprint: fmt.Sprintf("fp-%d", n),
		Hostname: fmt.Sprintf("mx%d.uniquehost%d.example", n, n), Platform: "linux/amd64"}, t0); err != nil || r.Code != licensing.CodeValid {
		t.Fatalf("activate the fixture's machine: %+v, %v", r, err)
	}
	// The person downloaded a file of a release with the license.
	artifact := fixtureArtifact(t, d)
	if err := downloads.Record(ctx, d, downloads.Download{ArtifactID: artifact, LicenseID: ls[0].ID, CustomerID: p.Customer.ID,
		Via: downloads.ViaAccount, Network: netip.MustParseAddr(fmt.Sprintf("198.51.100.%d", n)), At: t0}); err != nil {
		t.Fatal(err)
	}
	// The person asked for the release by email (it is email-gated too),
	// confirmed and downloaded with the request.
	trialDownload(t, d, email, artifact, netip.MustParseAddr(fmt.Sprintf("198.51.100.%d", 100+n)))
	// Finance refunded the order's line (recorded: the shop has no
	// processor that refunds), with its credit note; a shop without
	// licenses, so the fixture's license stays active.
	var orderID, lineID int64
	if err := d.QueryRowContext(ctx, `SELECT o.id, l.id FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.number = $1`, p.OrderNumber).Scan(&orderID, &lineID); err != nil {
		t.Fatal(err)
	}
	if _, err := (orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x"}).RefundOrder(ctx, orders.RefundRequest{OrderID: orderID,
		Lines: []orders.LineRefund{{LineID: lineID, Quantity: 1}}, Reason: "returned within 14 days", By: audit.Staff(1)}, t0); err != nil {
		t.Fatal(err)
	}
	supportFixture(t, d, p, email, n)
	// The person unsubscribed from a newsletter by its one-click link.
	if _, err := d.ExecContext(ctx, `INSERT INTO unsubscribes (processed_at, customer_id, purpose, via) VALUES ($1, $2, 'marketing', 'one-click')`,
		t0, p.Customer.ID); err != nil {
		t.Fatal(err)
	}
	listsFixture(t, d, email)
	// A complaint put the person's address on the suppression list
	// (internal/mail/suppress.go: a keyed hash, never the address).
	if _, err := d.ExecContext(ctx, `INSERT INTO mail_suppressions (addr_hash, reason, detail, customer_id, created_at)
		VALUES ($1, 'complaint', 'abuse', $2, $3)`, fmt.Sprintf("%064x", p.Customer.ID), p.Customer.ID, t0); err != nil {
		t.Fatal(err)
	}
	// A security notice went to them.
	var notice int64
	if err := d.Writer().QueryRowContext(ctx, `INSERT INTO notices (kind, status, subject, body, created_at, updated_at)
		VALUES ('security', 'sent', 'Fix', 'Update.', $1, $1) RETURNING id`, t0).Scan(&notice); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO notice_recipients (notice_id, customer_id, email, state, created_at, dispatched_at)
		VALUES ($1, $2, $3, 'queued', $4, $4)`, notice, p.Customer.ID, email, t0); err != nil {
		t.Fatal(err)
	}
	// A signal of possible fraud opened a review case about them.
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		_, _, err := fraud.Raise(ctx, tx, d.Dialect, fraud.Signal{Kind: fraud.KeySharing, Subject: fraud.Subject{LicenseID: ls[0].ID},
			Summary: "The license was used from many networks.", Facts: []fraud.Fact{{Name: "networks in 24 hours", Value: "9"}},
			Source: fmt.Sprintf("key_sharing:license:%d", ls[0].ID), At: t0})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Staff asked them, they answered, and staff closed their
	// repositories (a decision with a hold).
	var caseID int64
	if err := d.QueryRowContext(ctx, `SELECT id FROM fraud_cases WHERE customer_id = $1`, p.Customer.ID).Scan(&caseID); err != nil {
		t.Fatal(err)
	}
	fs := fraud.Service{DB: d, SiteName: "M", BaseURL: "https://x"}
	if err := fs.Ask(ctx, fraud.AskRequest{CaseID: caseID, Question: "Who uses the key?", Token: fmt.Sprintf("ask-%d", n), StaffID: 1}, t0); err != nil {
		t.Fatal(err)
	}
	if err := fraud.Answer(ctx, d, p.Customer.ID, caseID, "My team.", "", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Decide(ctx, fraud.DecideRequest{CaseID: caseID, Action: fraud.RevokeAccess, LicenseID: ls[0].ID, Reason: "Too many networks.",
		Token: fmt.Sprintf("dec-%d", n), StaffID: 1}, t0); err != nil {
		t.Fatal(err)
	}
	// An authority asked about them (accountability_test.go has the
	// disclosures the law forbids telling them of).
	if _, err := privacy.RecordDisclosure(ctx, d, audit.Staff(1), privacy.DisclosureInput{Authority: "Public prosecutor", LegalBasis: "court order",
		RequestedAt: t0, Asked: "who bought license " + p.OrderNumber, Decision: privacy.DecisionPending, CustomerID: p.Customer.ID}, t0); err != nil {
		t.Fatal(err)
	}
	// A breach notice was drafted to them (internal/breaches).
	var breach int64
	if err := d.Writer().QueryRowContext(ctx, `INSERT INTO breaches (title, what_happened, discovered_at, created_at, updated_at)
		VALUES ('Lost laptop', 'A laptop was stolen.', $1, $1, $1) RETURNING id`, t0).Scan(&breach); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO breach_subjects (breach_id, email, customer_id, state, created_at, notified_at)
		VALUES ($1, $2, $3, 'queued', $4, $4)`, breach, email, p.Customer.ID, t0); err != nil {
		t.Fatal(err)
	}
	// They read the privacy policy, and were mailed its significant change.
	if _, err := d.ExecContext(ctx, `INSERT INTO policy_views (customer_id, document, seq, seen_at) VALUES ($1, 'privacy', 1, $2)`, p.Customer.ID, t0); err != nil {
		t.Fatal(err)
	}
	var mailing int64
	if err := d.Writer().QueryRowContext(ctx, `INSERT INTO policy_mailings (document, seq, status, started_at) VALUES ('privacy', 1, 'sent', $1)
		ON CONFLICT (document, seq) DO UPDATE SET status = 'sent' RETURNING id`, t0).Scan(&mailing); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO policy_mail_recipients (mailing_id, customer_id, email, state, created_at, dispatched_at)
		VALUES ($1, $2, $3, 'queued', $4, $4)`, mailing, p.Customer.ID, email, t0); err != nil {
		t.Fatal(err)
	}
	return p
}

// listsFixture subscribes the person to the newsletter as the site does:
// a request, the mailed link, the confirmation.
func listsFixture(t *testing.T, d *db.DB, email string) {
	t.Helper()
	ctx := context.Background()
	l := lists.List{Key: lists.NewsletterKey, Name: "Newsletter"}
	if err := lists.Subscribe(ctx, d, lists.Request{List: l, Email: email, Wording: lists.Wording(l, "M"), PolicySeq: 1,
		SiteName: "M", BaseURL: "https://x"}, t0); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE template = 'list-confirm' AND to_addr = $1`, email).Scan(&text); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\?t=([A-Za-z0-9_-]+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no confirmation link in %q", text)
	}
	if _, err := lists.Confirm(ctx, d, m[1], t0); err != nil {
		t.Fatal(err)
	}
}

// supportFixture gives the person support tickets as the desk makes them:
// one by mail with an attachment, tagged and answered by staff, a web-form
// message waiting for confirmation, and a mail parked as spam.
func supportFixture(t *testing.T, d *db.DB, p person, email string, n int) {
	t.Helper()
	ctx := context.Background()
	desk := &support.Desk{DB: d, Clock: clock.NewFixed(t0)}
	raw := fmt.Sprintf("From: %s <%s>\r\nTo: support@example.invalid\r\nSubject: Milter crashes in Uniqueville%d\r\n"+
		"Message-ID: <crash-%d@client.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nThe milter crashes on mx%d.uniquehost%d.example\r\n"+
		"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"maillog-%d.txt\"\r\n\r\nlog lines\r\n--b--\r\n",
		p.Name, email, n, n, n, n, n)
	out, err := desk.Receive(ctx, support.Envelope{Sender: email, Recipient: "support@example.invalid", Via: "lmtp"}, []byte(raw))
	if err != nil || out.Kind != support.Opened {
		t.Fatalf("support fixture: %+v, %v", out, err)
	}
	if _, err := desk.SetTags(ctx, out.TicketID, []string{"crash"}, audit.Staff(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Reply(ctx, out.TicketID, 0, support.StaffReply{Text: "Please send the core file."}, audit.Staff(1)); err != nil {
		t.Fatal(err)
	}
	if err := desk.Submit(ctx, support.NewTicket{Email: email, Name: p.Name, Subject: "Question from the form", Text: "Does it run on FreeBSD?",
		Channel: support.Web}, "198.51.100.0/24"); err != nil {
		t.Fatal(err)
	}
	spam := fmt.Sprintf("From: %s\r\nTo: support@example.invalid\r\nSubject: Cheap licenses\r\nX-Spam-Flag: YES\r\n\r\nbuy now\r\n", email)
	if out, err := desk.Receive(ctx, support.Envelope{Sender: email, Recipient: "support@example.invalid", Via: "lmtp"}, []byte(spam)); err != nil || out.Kind != support.Parked {
		t.Fatalf("support fixture, spam: %+v, %v", out, err)
	}
}

// trialDownload asks for the fixture's release by email as the site does,
// confirms the address and downloads the file with the request; it
// returns the request.
func trialDownload(t *testing.T, d *db.DB, email string, artifact int64, from netip.Addr) downloads.EmailRequest {
	t.Helper()
	ctx := context.Background()
	var req downloads.EmailRequest
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var rel int64
		if err := tx.QueryRowContext(ctx, `SELECT release_id FROM release_artifacts WHERE id = $1`, artifact).Scan(&rel); err != nil {
			return err
		}
		_, raw, err := downloads.RequestByEmail(ctx, tx, downloads.NewEmailRequest{Email: email, ReleaseID: rel, SiteName: "M", BaseURL: "https://x"}, t0)
		if err != nil {
			return err
		}
		req, _, err = downloads.ConfirmEmailRequest(ctx, tx, raw, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := downloads.Record(ctx, d, downloads.Download{ArtifactID: artifact, RequestID: req.ID, Via: downloads.ViaEmail,
		Network: from, At: t0}); err != nil {
		t.Fatal(err)
	}
	return req
}

// fixtureArtifact is a file of a published release of the fixture's
// product, made once per database.
func fixtureArtifact(t *testing.T, d *db.DB) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := d.QueryRowContext(ctx, `SELECT id FROM release_artifacts WHERE file_name = 'm-1.0.0.tar.gz'`).Scan(&id)
	if err == nil {
		return id
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		var rel int64
		err := tx.QueryRowContext(ctx, `INSERT INTO releases (product_id, version, version_core, channel, email_gated, created_at, updated_at, published_at)
			VALUES ((SELECT id FROM products WHERE slug = 'm'), '1.0.0', '1.0.0', 'stable', TRUE, $1, $1, $1) RETURNING id`, t0).Scan(&rel)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO release_artifacts (release_id, file_name, platform, kind, size, sha256, signature, store_key, created_at)
			VALUES ($1, 'm-1.0.0.tar.gz', 'any', 'tarball', 1, 'aa', 'sig', 'key-1', $2) RETURNING id`, rel, t0).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// testLicenseKeys sign the fixture's licenses.
var testLicenseKeys = licensing.NewKeyring(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))

func seedPrice(t *testing.T, d *db.DB) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: "m", Name: "M", Editions: []catalog.NewEdition{{Slug: "e", Name: "E",
			Prices: []catalog.Price{{Currency: "EUR", AmountMinor: 49000, Billing: catalog.OneTime}}}}}, t0); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT id FROM prices`).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestExportHoldsEverythingAndNothingElse: for a customer with data in
// every table the inventory links to customers, the export has rows of
// each such table with every declared export field, and nothing of
// another customer.
func TestExportHoldsEverythingAndNothingElse(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := seedPrice(t, d)
		a := makePerson(t, d, 1, price)
		b := makePerson(t, d, 2, price)
		addRequest(t, d, a) // privacy requests: inventory_requests_test.go
		addRequest(t, d, b)
		e, err := privacy.Collect(ctx, d, privacy.Declared, settings.Defaults(), privacy.SubjectRef{Kind: privacy.Customer, ID: a.ID, Email: a.Email}, t0)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]privacy.ExportTable{}
		for _, et := range e.Tables {
			got[et.Name] = et
		}
		for _, tbl := range privacy.Declared.Tables {
			if tbl.Subject != privacy.Customer || tbl.Link.Unlinkable != "" {
				continue
			}
			var want []string
			for _, c := range tbl.Columns {
				if c.Export != "" {
					want = append(want, c.Export)
				}
			}
			if len(want) == 0 {
				continue
			}
			et, ok := got[tbl.Name]
			if !ok || len(et.Rows) == 0 {
				t.Errorf("the export has no rows of %s: the fixture must put data in every customer table, and the export must find it", tbl.Name)
				continue
			}
			for _, r := range et.Rows {
				for _, f := range want {
					if _, ok := r[f]; !ok {
						t.Errorf("%s: export row lacks the declared field %s", tbl.Name, f)
					}
				}
			}
		}
		js, _ := json.Marshal(e)
		for _, own := range []string{a.Email, a.Name, a.City, a.OrderNumber} {
			if !strings.Contains(string(js), own) {
				t.Errorf("the export lacks %q", own)
			}
		}
		for _, other := range []string{b.Email, b.Name, b.City, b.OrderNumber} {
			if strings.Contains(string(js), other) {
				t.Errorf("the export of one customer contains another's %q", other)
			}
		}
		if len(e.About) == 0 || len(e.Recipients) == 0 {
			t.Fatal("the export lacks the Art. 15 information (purposes, retention, recipients)")
		}

		var buf bytes.Buffer
		if err := e.WriteZIP(&buf); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			body, _ := io.ReadAll(rc)
			rc.Close()
			files[f.Name] = string(body)
		}
		if !strings.Contains(files["README.txt"], "data.json") || !strings.Contains(files["csv/customers.csv"], a.City) {
			t.Fatalf("ZIP files: %v", keys(files))
		}
		var back privacy.Export
		if err := json.Unmarshal([]byte(files["data.json"]), &back); err != nil || back.Rows() != e.Rows() {
			t.Fatalf("data.json does not hold the export: %v", err)
		}
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
