package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// logsDoc documents every attribute key the logs carry.
const logsDoc = "../../docs/logs.md"

// logKeys finds the attribute keys of the slog calls in the Go files
// (tests excluded) under roots, with where each is first used. It reads
// the syntax, not the types, and finds the keys written as string
// literals:
//
//   - slog.String("key", ...) and its siblings (Int, Int64, Uint64,
//     Float64, Bool, Time, Duration, Any, Group);
//   - the alternating key/value arguments of a logger's Debug, Info,
//     Warn and Error (and their Context forms), Log and LogAttrs, and of
//     With called on something named for a logger (log, w.log(), ...);
//   - those of inbound.LogAttrs(ctx, "key", value, ...), which adds to the
//     one line an inbound delivery logs;
//   - those of a []any literal assigned to, or an append to, a variable
//     whose name contains "attr" or that the file spreads into a logger's
//     call (log.Info("...", args...)): lists built up before the call.
//
// A method of those names called on an imported package (http.Error,
// refuse.Error) is not a logger's and is skipped. A key computed at run
// time would not be found: there is none, and the code review keeps it so.
func logKeys(t *testing.T, roots ...string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				return err
			}
			imported := map[string]bool{}
			for _, im := range f.Imports {
				path, _ := strconv.Unquote(im.Path.Value)
				name := path[strings.LastIndex(path, "/")+1:]
				if im.Name != nil {
					name = im.Name.Name
				}
				imported[name] = true
			}
			add := func(lit ast.Expr) {
				if bl, ok := lit.(*ast.BasicLit); ok && bl.Kind == token.STRING {
					k, _ := strconv.Unquote(bl.Value)
					if _, seen := keys[k]; !seen {
						keys[k] = fset.Position(bl.Pos()).String()
					}
				}
			}
			// pairs takes the keys of alternating key/value arguments;
			// an slog.Attr argument takes one place and is found on its own.
			pairs := func(args []ast.Expr) {
				for i := 0; i < len(args); i++ {
					if bl, ok := args[i].(*ast.BasicLit); ok && bl.Kind == token.STRING {
						add(bl)
						i++
					}
				}
			}
			loggerMethods := map[string]bool{"Debug": true, "Info": true, "Warn": true, "Error": true, "DebugContext": true, "InfoContext": true,
				"WarnContext": true, "ErrorContext": true, "Log": true, "LogAttrs": true, "With": true}
			// Variables spread into a logger's call (log.Info("...", args...)).
			spread := map[string]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok && c.Ellipsis.IsValid() && loggerMethods[funcName(c.Fun)] {
					if id, ok := c.Args[len(c.Args)-1].(*ast.Ident); ok {
						spread[id.Name] = true
					}
				}
				return true
			})
			attrVar := func(e ast.Expr) bool {
				id, ok := e.(*ast.Ident)
				return ok && (strings.Contains(strings.ToLower(id.Name), "attr") || spread[id.Name])
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					if len(n.Lhs) == 1 && len(n.Rhs) == 1 && attrVar(n.Lhs[0]) {
						rhs := n.Rhs[0]
						// args := append([]any{"key", v}, more...)
						if c, ok := rhs.(*ast.CallExpr); ok && funcName(c.Fun) == "append" && len(c.Args) > 0 {
							rhs = c.Args[0]
						}
						if cl, ok := rhs.(*ast.CompositeLit); ok {
							pairs(cl.Elts)
						}
					}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "append" && len(n.Args) > 1 && attrVar(n.Args[0]) {
						pairs(n.Args[1:])
					}
					// inbound.LogAttrs(ctx, "key", value, ...) adds to the
					// line of a delivery; a logger's LogAttrs has a level
					// where this one has its first key.
					if name := funcName(n.Fun); name == "LogAttrs" && len(n.Args) > 1 {
						if bl, ok := n.Args[1].(*ast.BasicLit); ok && bl.Kind == token.STRING {
							pairs(n.Args[1:])
							return true
						}
					}
					sel, ok := n.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					x, _ := sel.X.(*ast.Ident)
					if x != nil && x.Name == "slog" {
						switch sel.Sel.Name {
						case "String", "Int", "Int64", "Uint64", "Float64", "Bool", "Time", "Duration", "Any", "Group":
							if len(n.Args) > 0 {
								add(n.Args[0])
							}
						}
						return true
					}
					if x != nil && imported[x.Name] {
						return true
					}
					msg := map[string]int{"Debug": 0, "Info": 0, "Warn": 0, "Error": 0,
						"DebugContext": 1, "InfoContext": 1, "WarnContext": 1, "ErrorContext": 1, "Log": 2, "LogAttrs": 2}
					if i, ok := msg[sel.Sel.Name]; ok && len(n.Args) > i {
						if bl, ok := n.Args[i].(*ast.BasicLit); ok && bl.Kind == token.STRING {
							pairs(n.Args[i+1:])
						}
					}
					// With is also refuse.Error's (ErrState.With("...")): a
					// logger's is called on something named for a logger.
					if sel.Sel.Name == "With" && strings.Contains(strings.ToLower(types.ExprString(sel.X)), "log") {
						pairs(n.Args)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestLogKeysAreDocumented: every attribute key the code logs has its
// row in docs/logs.md (`key` in the first column of a table), and the
// document lists no key the code no longer logs.
func TestLogKeysAreDocumented(t *testing.T) {
	keys := logKeys(t, "../../cmd", "../../internal")
	// The scan must see the keys it is known to: otherwise it passes by
	// finding nothing.
	for _, k := range []string{"error", "job", "route", "addr", "startup", "outbox_id", "check"} {
		if _, ok := keys[k]; !ok {
			t.Fatalf("the scan did not find the key %q; it finds %v", k, keys)
		}
	}
	doc, err := os.ReadFile(logsDoc)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_.]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for k, where := range keys {
		if !documented[k] {
			t.Errorf("log key %q (%s) is not documented in docs/logs.md", k, where)
		}
	}
	for _, fixed := range []string{"time", "level", "msg"} {
		if !documented[fixed] {
			t.Errorf("docs/logs.md does not describe the field %q", fixed)
		}
	}
	for k := range documented {
		if _, ok := keys[k]; !ok && k != "time" && k != "level" && k != "msg" {
			t.Errorf("docs/logs.md documents %q, which no code logs", k)
		}
	}
}

// funcName is the name of the function or method a call calls.
func funcName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}
