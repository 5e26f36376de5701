package notices_test

import (
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/notices"
)

func TestMarkdownWithScriptIsSafe(t *testing.T) {
	src := "# Fix\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2)) " +
		"<img src=x onerror=alert(3)> [data](data:text/html;base64,PHNjcmlwdD4=) <a href=\"javascript:alert(4)\">x</a>\n\n" +
		"[ok](https://example.com/fix) **bold**\n"
	c, err := notices.Render(notices.Notice{Kind: notices.Security, Subject: "S", Body: src}, "Milterworks", "https://shop.example/unsubscribe/x")
	if err != nil {
		t.Fatal(err)
	}
	low := strings.ToLower(c.HTML)
	for _, bad := range []string{"<script", "javascript:", "onerror", "data:text", "alert("} {
		if strings.Contains(low, bad) {
			t.Errorf("HTML part holds %q:\n%s", bad, c.HTML)
		}
	}
	for _, want := range []string{`<h1>Fix</h1>`, `<a href="https://example.com/fix">ok</a>`, `<strong>bold</strong>`,
		`<a href="https://shop.example/unsubscribe/x">Unsubscribe</a>`} {
		if !strings.Contains(c.HTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, c.HTML)
		}
	}
	if !strings.Contains(c.Text, "[ok](https://example.com/fix)") || !strings.Contains(c.Text, "Unsubscribe: https://shop.example/unsubscribe/x") {
		t.Errorf("text part:\n%s", c.Text)
	}
}
