package payments_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/payments"
)

func TestDemo(t *testing.T) {
	clk := clock.NewFixed(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	d, err := payments.NewDemo("http://127.0.0.1:8080/", clk)
	if err != nil {
		t.Fatal(err)
	}
	var p payments.Provider = d
	if p.Name() != "demo" || !strings.Contains(p.Label(), "demo only") || !d.IsDemo() {
		t.Errorf("Name %q, Label %q, IsDemo %v", p.Name(), p.Label(), d.IsDemo())
	}
	// Pages find the demo provider through this interface.
	if m, ok := p.(interface{ IsDemo() bool }); !ok || !m.IsDemo() {
		t.Error("the demo provider does not say it is one")
	}
	for _, real := range []payments.Provider{payments.Manual{}, webhookStripe(t)} {
		if _, ok := real.(interface{ IsDemo() bool }); ok {
			t.Errorf("%s claims to be the demo", real.Name())
		}
	}

	st, err := p.StartCheckout(context.Background(), testCheckout())
	if err != nil {
		t.Fatal(err)
	}
	if !payments.IsDemoSessionRef(st.SessionRef) {
		t.Errorf("SessionRef %q is not a demo session reference", st.SessionRef)
	}
	if want := "http://127.0.0.1:8080/demo-pay/" + st.SessionRef; st.RedirectURL != want {
		t.Errorf("RedirectURL = %q, want %q", st.RedirectURL, want)
	}
	if want := clk.Now().Add(24 * time.Hour); !st.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", st.ExpiresAt, want)
	}
	again, _ := p.StartCheckout(context.Background(), testCheckout())
	if again.SessionRef == st.SessionRef {
		t.Error("two checkouts got one session reference")
	}

	paid := d.NewEvent(payments.CheckoutCompleted, st.SessionRef, "SK-2026-000042", 69700, "eur")
	refunded := d.NewEvent(payments.PaymentRefunded, st.SessionRef, "SK-2026-000042", 69700, "eur")
	if paid.ID == "" || paid.ID == refunded.ID || paid.Provider != "demo" || paid.Type != payments.CheckoutCompleted ||
		paid.SessionRef != st.SessionRef || paid.OrderNumber != "SK-2026-000042" || paid.AmountMinor != 69700 ||
		paid.Currency != "EUR" || !paid.Created.Equal(clk.Now()) {
		t.Errorf("paid event %+v", paid)
	}
	if again := d.NewEvent(payments.CheckoutCompleted, st.SessionRef, "SK-2026-000042", 69700, "eur"); again.ID != paid.ID {
		t.Errorf("a second click made event %s, the first %s: not a duplicate", again.ID, paid.ID)
	}
	if paid.PaymentRef == "" || refunded.PaymentRef != paid.PaymentRef || refunded.SessionRef != "" {
		t.Errorf("the refund (%+v) does not name the payment of %+v the way Stripe's charge events do", refunded, paid)
	}

	if _, err := payments.NewDemo("", nil); err == nil {
		t.Error("NewDemo without a base URL succeeded")
	}
	if _, err := (&payments.Demo{}).StartCheckout(context.Background(), testCheckout()); err == nil {
		t.Error("a Demo not made by NewDemo started a checkout")
	}
}

func TestIsDemoSessionRef(t *testing.T) {
	for ref, want := range map[string]bool{
		"demo_0123456789abcdef01234567":  true,
		"demo_0123456789ABCDEF01234567":  false,
		"demo_0123456789abcdef0123456":   false,
		"demo_0123456789abcdef0123456g":  false,
		"cs_test_0123456789abcdef012345": false,
		"":                               false,
		"demo_../../etc/passwd":          false,
	} {
		if got := payments.IsDemoSessionRef(ref); got != want {
			t.Errorf("IsDemoSessionRef(%q) = %v, want %v", ref, got, want)
		}
	}
}

// TestDemoOnlyInDemoCode keeps the demo provider out of `storekeep serve`:
// outside tests, payments.NewDemo may be named only in the demo's code:
// in the body of an if statement whose condition is a demo switch (such as
// `if isDemo` or `if cfg.Demo && ...`), inside a function whose name says
// "demo" (such as demoCommand), or in package internal/demo.
func TestDemoOnlyInDemoCode(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	for _, v := range demoUses(t, root) {
		t.Errorf("%s: payments.NewDemo outside the demo's code: the demo provider must never reach `storekeep serve`", v)
	}
}

// TestDemoUsesFindsThem shows that the check above finds a call in serve
// code, under another import name too, and lets the demo's code be.
func TestDemoUsesFindsThem(t *testing.T) {
	root := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cmd/storekeep/serve.go", `package main

import pay "github.com/storekeep/storekeep/internal/payments"

func run(isDemo, manual bool) {
	if isDemo {
		d, _ := pay.NewDemo("http://x", nil)
		_ = d
	}
	if manual && (isDemo) {
		_, _ = pay.NewDemo("http://x", nil)
	}
	if manual || isDemo {
		_, _ = pay.NewDemo("http://x", nil)
	}
	if isDemo {
	} else {
		_, _ = pay.NewDemo("http://x", nil)
	}
	if !isDemo {
		_, _ = pay.NewDemo("http://x", nil)
	}
}

func demoCommand() { _, _ = pay.NewDemo("http://x", nil) }

func demoPayments() any { return pay.NewDemo }

func serve() { _, _ = pay.NewDemo("http://x", nil) }
`)
	write("cmd/storekeep/serve_test.go", `package main

import "github.com/storekeep/storekeep/internal/payments"

func helper() { payments.NewDemo("http://x", nil) }
`)
	write("internal/demo/seed.go", `package demo

import "github.com/storekeep/storekeep/internal/payments"

var P, _ = payments.NewDemo("http://x", nil)
`)
	write("internal/other/other.go", `package other

import "example.com/payments"

func f() { payments.NewDemo() }
`)
	got := demoUses(t, root)
	var lines []string
	for _, g := range got {
		file, pos, _ := strings.Cut(g, ".go:")
		line, _, _ := strings.Cut(pos, ":")
		lines = append(lines, strings.TrimPrefix(file+".go", root+string(filepath.Separator))+":"+line)
	}
	want := []string{"cmd/storekeep/serve.go:14", "cmd/storekeep/serve.go:18", "cmd/storekeep/serve.go:21", "cmd/storekeep/serve.go:29"}
	if strings.Join(lines, " ") != filepath.FromSlash(strings.Join(want, " ")) {
		t.Errorf("found %q, want %q", lines, want)
	}
}

// demoUses lists the places under root, outside tests and outside the
// demo's code, that name payments.NewDemo.
func demoUses(t *testing.T, root string) []string {
	t.Helper()
	const importPath = "github.com/storekeep/storekeep/internal/payments"
	var found []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if e.IsDir() {
			name := e.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			if rel == "sdk" || rel == filepath.Join("internal", "demo") {
				return filepath.SkipDir // another module; the demo's own package
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		name := ""
		for _, im := range f.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); p == importPath {
				name = "payments"
				if im.Name != nil {
					name = im.Name.Name
				}
			}
		}
		if name == "" {
			return nil
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && mentionsDemo(fn.Name.Name) {
				continue
			}
			var stack []ast.Node // the path from decl to the node at hand
			ast.Inspect(decl, func(n ast.Node) bool {
				if n == nil {
					stack = stack[:len(stack)-1]
					return true
				}
				stack = append(stack, n)
				sel, ok := n.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "NewDemo" {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); !ok || id.Name != name {
					return true
				}
				for i := len(stack) - 2; i >= 0; i-- {
					if is, ok := stack[i].(*ast.IfStmt); ok && stack[i+1] == is.Body && demoSwitch(is.Cond) {
						return true
					}
				}
				found = append(found, fset.Position(sel.Pos()).String())
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func mentionsDemo(name string) bool { return strings.Contains(strings.ToLower(name), "demo") }

// demoSwitch reports whether an if condition holds only when the demo
// runs: a demo flag (isDemo, cfg.Demo), or a conjunction with one.
func demoSwitch(cond ast.Expr) bool {
	switch c := cond.(type) {
	case *ast.Ident:
		return mentionsDemo(c.Name)
	case *ast.SelectorExpr:
		return mentionsDemo(c.Sel.Name)
	case *ast.ParenExpr:
		return demoSwitch(c.X)
	case *ast.BinaryExpr:
		return c.Op == token.LAND && (demoSwitch(c.X) || demoSwitch(c.Y))
	}
	return false
}

func TestDemoResumeCheckout(t *testing.T) {
	d, err := payments.NewDemo("http://127.0.0.1:8080", clock.NewFixed(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.StartCheckout(context.Background(), payments.Checkout{OrderNumber: "Q7K2-M9PX", Lines: []payments.Line{{Name: "x", AmountMinor: 1, Currency: "EUR", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.ResumeCheckout(context.Background(), st.SessionRef)
	if err != nil || again.RedirectURL != st.RedirectURL || again.SessionRef != st.SessionRef {
		t.Fatalf("resume = %+v, %v; want %+v", again, err, st)
	}
	if _, err := d.ResumeCheckout(context.Background(), "cs_not_demo"); !errors.Is(err, payments.ErrCheckoutEnded) {
		t.Fatalf("resume of a foreign session: %v", err)
	}
}
