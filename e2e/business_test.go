package e2e

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/testutil"
)

// chartFacts is what the dashboard's charts say, read from the page: the
// SVG's accessible name and each bar's tooltip, and the rows of the table
// behind it.
type chartFacts struct {
	ID       string     `json:"id"`
	Role     string     `json:"role"`
	Name     string     `json:"name"`
	Bars     []string   `json:"bars"`
	Rows     [][]string `json:"rows"`
	HasTitle bool       `json:"hasTitle"`
}

const readCharts = `[...document.querySelectorAll("figure.chart")].map(f => {
	const svg = f.querySelector("svg");
	const ids = (svg.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
	return {
		id: f.id,
		role: svg.getAttribute("role") || "",
		name: (svg.getAttribute("aria-label") || ids.map(id => (document.getElementById(id) || {textContent: ""}).textContent).join(" ")).trim(),
		hasTitle: !!svg.querySelector(":scope > title"),
		bars: [...svg.querySelectorAll("rect")].map(r => r.querySelector("title").textContent),
		rows: [...f.querySelectorAll("table tbody tr")].map(tr => [...tr.children].map(c => c.textContent.trim())),
	};
})`

// TestFinanceReadsTheDashboard: finance opens the dashboard of a demo with
// sales today, 90 and 345 days ago and orders waiting: a chart per period,
// each an SVG image with a name and a table behind it holding the same
// figures as the bars; revenue by product; the open orders with links.
func TestFinanceReadsTheDashboard(t *testing.T) {
	site := startDemo(t)
	seedOrders(t, site, seededBuyer{Email: "today@example.org", Name: "Tia Today", Country: "DE"}, 2, time.Now().UTC().Add(-time.Minute), true)
	open := seedOrders(t, site, seededBuyer{Email: "waiting@example.org", Name: "Walt Waiting", Country: "DE"}, 3, time.Now().UTC().Add(-time.Hour), false)
	b := newBrowser(t)
	signInEnrolled(t, b, site, "finance@quillfeather.example")

	charts, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]chartFacts](readCharts))
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) < 3 {
		t.Fatalf("the dashboard has %d charts, want one per day, week and month", len(charts))
	}
	for _, c := range charts {
		if c.Role != "img" || c.Name == "" || !c.HasTitle {
			t.Errorf("chart %s: role %q, accessible name %q, title %v; want role img with a name", c.ID, c.Role, c.Name, c.HasTitle)
		}
		table := map[string]string{} // period → net
		for _, r := range c.Rows {
			if len(r) < 3 {
				t.Fatalf("chart %s: a table row has %d cells: %q", c.ID, len(r), r)
			}
			table[r[0]] = r[1]
		}
		if len(c.Bars) == 0 {
			t.Errorf("chart %s draws no bar, though the demo sold today", c.ID)
		}
		for _, bar := range c.Bars {
			period, net, ok := strings.Cut(bar, ": ")
			if !ok || table[period] != net {
				t.Errorf("chart %s: the bar %q is not in the table (it says %q for %q)", c.ID, bar, table[period], period)
			}
		}
	}
	// Today's two sales: the day chart's last row, net of the 19 % German VAT.
	day := charts[0]
	if last := day.Rows[len(day.Rows)-1]; last[3] != "2" || !strings.Contains(last[2], "380.00") {
		t.Errorf("today's row of %s = %q, want 2 orders paid, €380.00 gross", day.ID, last)
	}
	if products := visibleText(t, b, "#revenue-by-product"); !strings.Contains(products, "QuillGuard") {
		t.Errorf("revenue by product lacks QuillGuard:\n%s", products)
	}
	if got := visibleText(t, b, "#open-count h3"); got != "3" {
		t.Errorf("open orders: %q, want 3", got)
	}
	list := visibleText(t, b, "#open-list")
	for _, n := range open {
		if !strings.Contains(list, n) {
			t.Errorf("the open orders lack %s:\n%s", n, list)
		}
	}
	// Open the numbers behind the first chart for the screenshot.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("figure.chart details summary"))); err != nil {
		t.Fatal(err)
	}
	checkPageStructure(t, b)
	shoot(t, b, "staff-dashboard-finance.png")
	b.checkStayedOnSite(t, site)
}

// TestFinanceSearchesAndExportsOrders: finance finds the pending orders of
// one day (more than a page of them), pages on, exports them as CSV (every
// page, a formula in a buyer's name defused) and opens the monthly sales
// report of the month a demo customer paid in.
func TestFinanceSearchesAndExportsOrders(t *testing.T) {
	site := startDemo(t)
	day := time.Now().UTC().AddDate(0, 0, -40).Truncate(24 * time.Hour).Add(9 * time.Hour)
	const evil = "=HYPERLINK(1) Mallory"
	numbers := seedOrders(t, site, seededBuyer{Email: "many@example.org", Name: evil, Country: "AT"}, 53, day, false)
	// Orders of the day before and of another state stay out.
	seedOrders(t, site, seededBuyer{Email: "before@example.org", Name: "Bo Before", Country: "DE"}, 1, day.AddDate(0, 0, -1), false)
	seedOrders(t, site, seededBuyer{Email: "paid@example.org", Name: "Pat Paid", Country: "DE"}, 1, day.Add(time.Hour), true)
	b := newBrowser(t)
	signInEnrolled(t, b, site, "finance@quillfeather.example")

	click(t, b, `nav a[href="/staff/orders"]`)
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID("status"), "pending")); err != nil {
		t.Fatal(err)
	}
	fill(t, b, map[string]string{"from": day.Format(time.DateOnly), "to": day.Format(time.DateOnly)})
	click(t, b, `form[role="search"] button[type="submit"]`)
	rows := func() []string {
		r, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main table tbody tr")].map(tr => tr.innerText)`))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	seen := map[string]bool{}
	first := rows()
	if len(first) != 50 {
		t.Fatalf("the first page has %d orders, want 50 of the 53", len(first))
	}
	shoot(t, b, "staff-orders-search.png")
	click(t, b, `nav.pager a[rel="next"]`)
	second := rows()
	if len(second) != 3 {
		t.Fatalf("the next page has %d orders, want the last 3", len(second))
	}
	for _, r := range append(first, second...) {
		n := strings.Fields(r)[0]
		if seen[n] {
			t.Errorf("order %s is listed twice", n)
		}
		seen[n] = true
		if !strings.Contains(r, "pending") || !strings.Contains(r, evil) {
			t.Errorf("a row outside the search: %q", r)
		}
	}
	for _, n := range numbers {
		if !seen[n] {
			t.Errorf("order %s of the day is on neither page", n)
		}
	}
	if text := visibleText(t, b, "main"); !strings.Contains(text, "First page") {
		t.Errorf("the second page offers no way back:\n%s", text)
	}

	href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('main a[href^="/staff/orders.csv"]').href`))
	if err != nil {
		t.Fatal(err)
	}
	got := fetchInPage(t, b, href)
	if got.Status != 200 || !strings.HasPrefix(got.ContentType, "text/csv") || !strings.Contains(got.Disposition, "attachment") {
		t.Fatalf("the export answered %d %q %q", got.Status, got.ContentType, got.Disposition)
	}
	records, err := csv.NewReader(bytes.NewReader(got.Body)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, got.Body)
	}
	if strings.Join(records[0], ",") != "number,placed_at,paid_at,status,provider,currency,net,tax,gross,tax_treatment,tax_country,buyer_name,buyer_company,buyer_email,buyer_country,buyer_vat_id,items" {
		t.Errorf("the export's header: %q", records[0])
	}
	if len(records) != 1+53 {
		t.Errorf("the export has %d orders, want all 53 of the search", len(records)-1)
	}
	for _, r := range records[1:] {
		if r[11] != "'"+evil || r[3] != "pending" || r[6] == "" || r[8] != "190.00" {
			t.Fatalf("an exported row: %q; want the name defused as %q, pending, 190.00 gross", r, "'"+evil)
		}
	}

	// The sales report of the month the demo's Ada paid in (90 days ago).
	click(t, b, `main a[href="/staff/reports/sales"]`)
	month := time.Now().UTC().AddDate(0, 0, -90).Format("2006-01")
	fill(t, b, map[string]string{"month": month})
	click(t, b, `main form button[type="submit"]`)
	if h1 := visibleText(t, b, "h1"); !strings.HasPrefix(h1, "Sales report ") {
		t.Fatalf("h1 = %q", h1)
	}
	sales := visibleText(t, b, "#sales-rows")
	if !strings.Contains(sales, "DE") || !strings.Contains(sales, "19 %") {
		t.Errorf("the sales report of %s lacks the German sale at 19 %%:\n%s", month, sales)
	}
	checkPageStructure(t, b)
	shoot(t, b, "staff-sales-report.png")
	b.checkStayedOnSite(t, site)
}

// TestFinanceRefundsALine: finance refunds the line of a paid demo order
// from the order page, reviews and confirms it, finds the credit note on
// the order and its PDF credits the amount confirmed.
func TestFinanceRefundsALine(t *testing.T) {
	site := startDemo(t)
	b := newBrowser(t)
	signInEnrolled(t, b, site, "finance@quillfeather.example")
	click(t, b, `nav a[href="/staff/orders"]`)
	fill(t, b, map[string]string{"customer": "ada@example.com"})
	click(t, b, `form[role="search"] button[type="submit"]`)
	click(t, b, `main table tbody a[href^="/staff/orders/"]`)
	if status := visibleText(t, b, "#order-status"); status != "paid" {
		t.Fatalf("Ada's order is %q, want paid", status)
	}
	number := strings.TrimPrefix(visibleText(t, b, "h1"), "Order ")
	click(t, b, "#refund-lines")
	checkLocation(t, b, site+"/staff/orders/"+number+"/refund-lines")
	// Without a reason the form says why nothing happened.
	qty := attribute(t, b, `#refund-form input[type="number"]`, "id")
	if qty == "" {
		t.Fatal("the refund form has no quantity field")
	}
	fill(t, b, map[string]string{qty: "1"})
	shoot(t, b, "staff-refund-form.png")
	if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.ID("refund-reason"), "bought the wrong edition")); err != nil {
		t.Fatal(err)
	}
	click(t, b, `#refund-form button[type="submit"]`)
	total := visibleText(t, b, "#refund-total")
	m := regexp.MustCompile(`total (€[0-9.,]+)`).FindStringSubmatch(total)
	if m == nil || !strings.Contains(total, "tax") {
		t.Fatalf("the review shows no total with tax: %q", total)
	}
	gross := m[1]
	shoot(t, b, "staff-refund-confirm.png")
	click(t, b, `#refund-confirm button[type="submit"]`)
	if loc := location(t, b); !strings.HasPrefix(loc, site+"/staff/orders/"+number+"?") {
		t.Fatalf("after confirming the refund the browser is at %s, want the order", loc)
	}
	if notice := visibleText(t, b, `main p.notice[role="status"]`); notice == "" {
		t.Error("the order page does not confirm the refund")
	}
	refunds := visibleText(t, b, "#refunds")
	if !strings.Contains(refunds, gross) || !strings.Contains(refunds, "credit note") || !strings.Contains(refunds, "bought the wrong edition") {
		t.Fatalf("the order's refunds do not list the refund of %s with its credit note:\n%s", gross, refunds)
	}
	if status := visibleText(t, b, "#order-status"); status != "refunded" {
		t.Errorf("after refunding its only line the order is %q, want refunded", status)
	}
	if page := visibleText(t, b, "main"); strings.Contains(page, "credit_note") || !strings.Contains(page, "Credit note 20") {
		t.Errorf("the order's documents are not named as a person names them:\n%s", page)
	}
	shoot(t, b, "staff-order-refunded.png")
	click(t, b, `#refunds a[href^="/staff/invoices/"]`)
	credit := strings.TrimPrefix(location(t, b), site+"/staff/invoices/")
	if h1 := visibleText(t, b, "h1"); !strings.Contains(h1, credit) || !strings.Contains(strings.ToLower(h1), "credit note") {
		t.Errorf("the credit note's page is headed %q", h1)
	}
	pdf := fetchInPage(t, b, site+"/staff/invoices/"+credit+"/pdf")
	if pdf.Status != 200 || pdf.ContentType != "application/pdf" {
		t.Fatalf("the credit note PDF answered %d %q", pdf.Status, pdf.ContentType)
	}
	text := testutil.PDFText(t, pdf.Body)
	amount := strings.TrimPrefix(gross, "€")
	for _, want := range []string{credit, number, amount, "19 %"} {
		if !strings.Contains(text, want) {
			t.Errorf("the credit note PDF lacks %q:\n%s", want, text)
		}
	}
	shoot(t, b, "staff-credit-note.png")
	b.checkStayedOnSite(t, site)
}

// TestOwnerChangesATaxRate: the owner sets Austria's rate to 21.5 % and an
// Austrian buyer's total before paying carries it; a rate of 150 % is
// refused at its field and nothing is saved.
func TestOwnerChangesATaxRate(t *testing.T) {
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)
	b := newBrowser(t)
	signInEnrolled(t, b, site, "owner@quillfeather.example")
	click(t, b, `nav a[href="/staff/settings/tax"]`)
	if v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("rate_AT"))); err != nil || v != "20" {
		t.Fatalf("Austria's rate shows %q (%v), want the default 20", v, err)
	}
	fill(t, b, map[string]string{"rate_AT": "150"})
	click(t, b, `main form button[type="submit"]`)
	b.expectRefused(t, 422)
	if got := attribute(t, b, "#rate_AT", "aria-invalid"); got != "true" {
		t.Errorf("the refused rate's field is not marked invalid (aria-invalid=%q)", got)
	}
	if msg := visibleText(t, b, "#rate_AT-error"); msg == "" {
		t.Error("the refused rate has no message at its field")
	}
	if text := visibleText(t, b, `main [role="alert"]`); !strings.Contains(text, "Nothing was saved") {
		t.Errorf("the refusal says: %q", text)
	}
	shoot(t, b, "staff-tax-refused.png")
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/staff/settings/tax")); err != nil {
		t.Fatal(err)
	}
	if v, _ := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("rate_AT"))); v != "20" {
		t.Fatalf("after the refusal Austria's rate is %q, want 20 still", v)
	}
	fill(t, b, map[string]string{"rate_AT": "21.5"})
	click(t, b, `main form button[type="submit"]`)
	if text := visibleText(t, b, `main p.notice[role="status"]`); !strings.Contains(text, "saved") {
		t.Fatalf("saving the rate says %q", text)
	}
	if v, _ := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("rate_AT"))); v != "21.5" {
		t.Errorf("after saving Austria's rate shows %q, want 21.5", v)
	}
	shoot(t, b, "staff-tax-saved.png")

	// An Austrian consumer sees the new rate before paying.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/products/quillguard")); err != nil {
		t.Fatal(err)
	}
	click(t, b, `main a.buy`)
	signInByEmail(t, b, sink, "austria@example.at", 0)
	fill(t, b, map[string]string{"name": "Anna Austria", "address": "Ring 1\n1010 Wien", "country": "AT"})
	click(t, b, "#quote")
	quote := visibleText(t, b, "table.totals")
	if !strings.Contains(quote, "21.5 % VAT") || !strings.Contains(quote, "€190.00") {
		t.Errorf("the Austrian buyer's total does not carry the new rate:\n%s", quote)
	}
	shoot(t, b, "checkout-austria.png")
	b.checkStayedOnSite(t, site)
}

// TestCustomerDownloadsTheInvoicePDF: the demo's Ada signs in, opens her
// invoice from the account and downloads its PDF, which carries the German
// VAT and the seller's VAT number.
func TestCustomerDownloadsTheInvoicePDF(t *testing.T) {
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)
	b := newBrowser(t)
	const ada = "ada@example.com"
	already := len(outboxMessageIDs(t, site, ada))
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account")); err != nil {
		t.Fatal(err)
	}
	signInByEmail(t, b, sink, ada, already)
	click(t, b, `main a[href^="/account/orders/"]`)
	click(t, b, `main a[href^="/account/invoices/"]`)
	number := strings.TrimPrefix(location(t, b), site+"/account/invoices/")
	shoot(t, b, "account-invoice.png")
	href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('main a[href$="/pdf"][download]').href`))
	if err != nil || href != site+"/account/invoices/"+number+"/pdf" {
		t.Fatalf("the invoice page's PDF link: %q, %v", href, err)
	}
	pdf := fetchInPage(t, b, href)
	if pdf.Status != 200 || pdf.ContentType != "application/pdf" {
		t.Fatalf("the invoice PDF answered %d %q", pdf.Status, pdf.ContentType)
	}
	text := testutil.PDFText(t, pdf.Body)
	for _, want := range []string{"Invoice", number, "Ada Autorenew", "19 %", "VAT", "DE"} {
		if !strings.Contains(text, want) {
			t.Errorf("the invoice PDF lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`(?i)tax at 19 %|19 % vat|vat 19 %`).MatchString(text) {
		t.Errorf("the invoice PDF has no VAT line at 19 %%:\n%s", text)
	}
	b.checkStayedOnSite(t, site)
}
