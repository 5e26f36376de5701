package documents_test

import (
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/documents"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestRecordsPDF reads the records of processing back with pdftotext:
// every activity, recipient and measure is in the text layer.
func TestRecordsPDF(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	v := settings.Vendor{LegalName: "Milterworks GmbH", Address: "Hauptstraße 1\n10115 Berlin", PrivacyEmail: "privacy@milterworks.example", Country: "Germany"}
	rec := privacy.BuildRecords(privacy.Declared, nil, v, privacy.Deployment{Facts: privacy.Facts{HTTPS: true}}, at)
	pdf, err := documents.RecordsPDF(rec)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := documents.RecordsPDF(rec)
	if string(again) != string(pdf) {
		t.Error("the same records gave different bytes")
	}
	text := strings.Join(strings.Fields(testutil.PDFText(t, pdf)), " ")
	want := []string{"Records of processing activities", "Milterworks GmbH", "Hauptstraße 1", "privacy@milterworks.example", "Stripe",
		"Standard Contractual Clauses", "NONE ON FILE", "HTTPS"}
	for _, a := range rec.Activities {
		want = append(want, a.Name)
	}
	for _, m := range rec.Security {
		want = append(want, strings.Join(strings.Fields(m), " ")[:30])
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the PDF's text lacks %q", w)
		}
	}
}
