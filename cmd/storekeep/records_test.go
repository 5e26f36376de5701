package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/testutil"
)

// TestPrivacyRecordsCommand: `storekeep privacy records` prints the records
// of processing as text, JSON, CSV and PDF, and `privacy review` reports
// the register's problems (a fresh site has no agreement on file).
func TestPrivacyRecordsCommand(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "storekeep.db")
	if code, _, errOut := runCLI(t, "migrate", "--db", dbPath); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	code, out, errOut := runCLI(t, "privacy", "records", "--db", dbPath)
	if code != 0 || !strings.Contains(out, "Records of processing activities") || !strings.Contains(out, "Stripe") || !strings.Contains(out, "NONE ON FILE") {
		t.Fatalf("text: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "privacy", "records", "--format", "json", "--db", dbPath)
	var rec struct {
		Activities []struct{ Purpose string } `json:"activities"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rec) != nil || len(rec.Activities) == 0 {
		t.Fatalf("json: exit %d\n%.300s\n%s", code, out, errOut)
	}
	if code, out, _ = runCLI(t, "privacy", "records", "--format", "csv", "--db", dbPath); code != 0 || !strings.HasPrefix(out, "section,name,") {
		t.Fatalf("csv: exit %d\n%.300s", code, out)
	}
	if code, _, errOut = runCLI(t, "privacy", "records", "--format", "pdf", "--db", dbPath); code == 0 || !strings.Contains(errOut, "--out") {
		t.Fatalf("pdf without --out: exit %d\n%s", code, errOut)
	}
	pdfPath := filepath.Join(dir, "records.pdf")
	if code, _, errOut = runCLI(t, "privacy", "records", "--format", "pdf", "--out", pdfPath, "--db", dbPath); code != 0 {
		t.Fatalf("pdf: %s", errOut)
	}
	pdf, err := os.ReadFile(pdfPath)
	if err != nil {
		t.Fatal(err)
	}
	if text := testutil.PDFText(t, pdf); !strings.Contains(text, "Records of processing activities") {
		t.Errorf("the PDF's text:\n%.500s", text)
	}
	code, out, errOut = runCLI(t, "privacy", "review", "--db", dbPath)
	if code != 0 || !strings.Contains(out, "problem(s) in the register") || !strings.Contains(out, "Stripe receives personal data, but no agreement") {
		t.Fatalf("review: exit %d\n%s\n%s", code, out, errOut)
	}
}
