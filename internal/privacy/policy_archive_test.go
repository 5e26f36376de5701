package privacy_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestTextLinesReadsThePolicyAsText(t *testing.T) {
	got := privacy.TextLines(`<article><p class="lead">This policy  explains
	what we do.</p><h2 id="x">Who receives it</h2><ul><li>Stripe</li><li>The <a href="/x">host</a></li></ul>
	<table><caption>Recipients</caption><tr><th>Name</th><th>Where</th></tr><tr><td>Stripe</td><td>USA</td></tr></table>
	<dl><dt>Legal basis</dt><dd>Contract</dd></dl><address>ACME<br>1 Road</address><script>alert(1)</script></article>`)
	want := strings.Join([]string{
		"This policy explains what we do.", "## Who receives it", "- Stripe", "- The host",
		"Recipients", "Name | Where", "Stripe | USA", "Legal basis", "Contract", "ACME", "1 Road",
	}, "\n")
	if got != want {
		t.Fatalf("TextLines =\n%s\nwant\n%s", got, want)
	}
}

func diffString(d []privacy.DiffLine) string {
	var b strings.Builder
	for _, l := range d {
		b.WriteByte(byte(l.Op))
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestDiffShowsWhatChanged(t *testing.T) {
	old := "# Privacy policy\nWe keep invoices for 7 years.\n## Who receives it\n- Stripe\n- Hetzner\n## Your rights\nWrite to us."
	new := "# Privacy policy\nWe keep invoices for 10 years.\n## Who receives it\n- Stripe\n- Postmark\n- Hetzner\n## Your rights\nWrite to us."
	got := diffString(privacy.Diff(old, new))
	want := " # Privacy policy\n-We keep invoices for 7 years.\n+We keep invoices for 10 years.\n ## Who receives it\n - Stripe\n+- Postmark\n - Hetzner\n ## Your rights\n Write to us.\n"
	if got != want {
		t.Fatalf("diff =\n%s\nwant\n%s", got, want)
	}
	if d := privacy.Diff(old, old); strings.ContainsAny(diffString(d)[:1], "+-") || len(privacy.Hunks(d, 2)) != 0 {
		t.Fatalf("an unchanged text has differences: %v", d)
	}
	// Everything new, everything gone.
	if got := diffString(privacy.Diff("", "a\nb")); got != "+a\n+b\n" {
		t.Fatalf("from nothing = %q", got)
	}
	if got := diffString(privacy.Diff("a\nb", "")); got != "-a\n-b\n" {
		t.Fatalf("to nothing = %q", got)
	}
}

func TestHunksKeepContextAroundChanges(t *testing.T) {
	var a, b []string
	for i := range 40 {
		l := "line " + string(rune('A'+i%26)) + string(rune('a'+i/26))
		a = append(a, l)
		b = append(b, l)
	}
	b[3] = "changed near the top"
	b[30] = "changed further down"
	b = append(b[:31], append([]string{"inserted"}, b[31:]...)...)
	hs := privacy.Hunks(privacy.Diff(strings.Join(a, "\n"), strings.Join(b, "\n")), 2)
	if len(hs) != 2 {
		t.Fatalf("%d hunks, want 2: %+v", len(hs), hs)
	}
	if hs[0].Skipped != 1 || len(hs[0].Lines) != 6 || hs[0].Lines[2].Op != privacy.Removed || hs[0].Lines[3].Text != "changed near the top" {
		t.Fatalf("first hunk = %+v", hs[0])
	}
	if hs[1].Skipped != 28-6+1-1 || hs[1].Lines[len(hs[1].Lines)-3].Text != "inserted" {
		t.Fatalf("second hunk = %+v", hs[1])
	}
}

func TestCheckTextRefusesScript(t *testing.T) {
	for _, ok := range []string{
		"## Our newsletter\n\nWe send it **monthly**; see [our terms](https://example.com/terms) or [below](#changes) or <https://example.com>.",
		"Write to [us](mailto:privacy@example.com). A 5 < 6 comparison is text.",
		"",
	} {
		if err := privacy.CheckText(ok); err != nil {
			t.Errorf("CheckText(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{
		"<script>alert(1)</script>",
		"Hello <img src=x onerror=alert(1)>",
		"[click](javascript:alert(1))",
		"[click](JaVaScRiPt:alert(1))",
		"![x](data:text/html;base64,PHNjcmlwdD4=)",
		"<div>\nblock\n</div>",
		"[x](vbscript:msgbox)",
	} {
		err := privacy.CheckText(bad)
		if !errors.Is(err, privacy.ErrScript) {
			t.Errorf("CheckText(%q) = %v, want the script refusal", bad, err)
		}
		if rf, ok := refuse.As(err); !ok || !strings.Contains(rf.Msg, "nothing was saved") {
			t.Errorf("CheckText(%q): refusal %v does not say nothing was saved", bad, err)
		}
		// Even if such a text got past the check, nothing of it runs.
		h, _ := privacy.TextHTML(bad)
		if low := strings.ToLower(string(h)); strings.Contains(low, "<script") || strings.Contains(low, "javascript:") || strings.Contains(low, "onerror") || strings.Contains(low, "data:") {
			t.Errorf("TextHTML(%q) = %s", bad, h)
		}
	}
}

func TestArchiveKeepsEachVersionsText(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC)
		// A version from before the archive: no text.
		if _, err := d.ExecContext(ctx, `INSERT INTO policy_versions (document, seq, content_hash, published_at) VALUES ('privacy', 1, 'old', $1)`, t0); err != nil {
			t.Fatal(err)
		}
		c2 := privacy.Content{HTML: "<p>Version two.</p>", Text: "Version two."}
		v2, err := privacy.PublishContent(ctx, d, privacy.PrivacyPolicy, "two", c2, t0.Add(time.Hour))
		if err != nil || v2.Seq != 2 {
			t.Fatalf("publish = %+v, %v", v2, err)
		}
		// A caller that cannot render publishes the next version first;
		// the first page that shows it records its text.
		if _, err := privacy.Publish(ctx, d, privacy.PrivacyPolicy, "three", t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if a, _ := privacy.VersionOf(ctx, d, privacy.PrivacyPolicy, 3); a.Kept {
			t.Fatalf("version 3 kept before any page showed it: %+v", a)
		}
		c3 := privacy.Content{HTML: "<p>Version three.</p>", Text: "Version three."}
		if v, err := privacy.PublishContent(ctx, d, privacy.PrivacyPolicy, "three", c3, t0.Add(3*time.Hour)); err != nil || v.Seq != 3 || !v.PublishedAt.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("publish three = %+v, %v", v, err)
		}
		// Showing it again never rewrites what was kept.
		if _, err := privacy.PublishContent(ctx, d, privacy.PrivacyPolicy, "three", privacy.Content{HTML: "<p>other</p>", Text: "other"}, t0.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		vs, err := privacy.Versions(ctx, d, privacy.PrivacyPolicy)
		if err != nil || len(vs) != 3 {
			t.Fatalf("versions = %+v, %v", vs, err)
		}
		if vs[0].Seq != 3 || !vs[0].Kept || vs[1].Seq != 2 || !vs[1].Kept || vs[2].Seq != 1 || vs[2].Kept {
			t.Fatalf("versions = %+v", vs)
		}
		a3, err := privacy.VersionOf(ctx, d, privacy.PrivacyPolicy, 3)
		if err != nil || a3.Text != "Version three." || a3.ArchivedHTML() != "<p>Version three.</p>" {
			t.Fatalf("version 3 = %+v, %v", a3, err)
		}
		a1, err := privacy.VersionOf(ctx, d, privacy.PrivacyPolicy, 1)
		if err != nil || a1.Kept || a1.Text != "" {
			t.Fatalf("version 1 = %+v, %v", a1, err)
		}
		if _, err := privacy.VersionOf(ctx, d, privacy.PrivacyPolicy, 9); !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("missing version: %v", err)
		}
	})
}

func TestSaveTextAndSeen(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC)
		save := func(doc privacy.Document, body string) (bool, error) {
			var changed bool
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				var err error
				changed, err = privacy.SaveText(ctx, tx, doc, body, 0, now)
				return err
			})
			return changed, err
		}
		if ch, err := save(privacy.PrivacyPolicy, "## Our own words\r\n\r\nWe answer in a week."); err != nil || !ch {
			t.Fatalf("save = %v, %v", ch, err)
		}
		if ch, err := save(privacy.PrivacyPolicy, "## Our own words\n\nWe answer in a week.\n"); err != nil || ch {
			t.Fatalf("saving the same text again = %v, %v", ch, err)
		}
		if _, err := save(privacy.PrivacyPolicy, "<script>alert(1)</script>"); !errors.Is(err, privacy.ErrScript) {
			t.Fatalf("script saved: %v", err)
		}
		p, c, err := privacy.LoadTexts(ctx, d)
		if err != nil || p != "## Our own words\n\nWe answer in a week." || c != "" {
			t.Fatalf("texts after a refusal = %q, %q, %v", p, c, err)
		}

		var customer int64
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO customers (email, created_at, updated_at) VALUES ('a@example.com', $1, $1) RETURNING id`, now).Scan(&customer)
		}); err != nil {
			t.Fatal(err)
		}
		if s, err := privacy.LastSeen(ctx, d, customer, privacy.PrivacyPolicy); err != nil || s.Seq != 0 {
			t.Fatalf("seen before anything = %+v, %v", s, err)
		}
		for _, seq := range []int{2, 3, 1} {
			if err := privacy.RecordSeen(ctx, d, customer, privacy.PrivacyPolicy, seq, now.Add(time.Duration(seq)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if s, err := privacy.LastSeen(ctx, d, customer, privacy.PrivacyPolicy); err != nil || s.Seq != 3 || !s.At.Equal(now.Add(3*time.Hour)) {
			t.Fatalf("seen = %+v, %v: an older version replaced a newer one", s, err)
		}
		if s, _ := privacy.LastSeen(ctx, d, customer, privacy.CookiePolicy); s.Seq != 0 {
			t.Fatalf("cookie policy seen = %+v", s)
		}
	})
}
