package webtest

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// Main runs a test package's tests and fails the run when a template file
// of one of areas ("web" for the core's layouts and error page) is never
// executed by any of them: an unexecuted template is untested markup, and
// often a dead one. The check applies to full runs only; "go test -run X"
// renders a subset. Call it from TestMain:
//
//	func TestMain(m *testing.M) { webtest.Main(m, "console") }
func Main(m *testing.M, areas ...string) {
	var executed sync.Map
	web.SetRenderHook(func(name string) { executed.Store(name, true) })
	// Cheap password hashing: the cost is measured by the staff package's
	// benchmark, not here.
	staff.DefaultArgon2 = staff.Argon2Params{Time: 1, MemoryK: 1024, Threads: 1, KeyLen: 32}
	code := m.Run()
	if code == 0 && fullRun() {
		var never []string
		for _, area := range areas {
			files := web.TemplateFiles(area)
			if len(files) == 0 {
				fmt.Fprintf(os.Stderr, "FAIL: area %s has no templates, or no test built a site\n", area)
				code = 1
			}
			for _, f := range files {
				if _, ok := executed.Load(area + "/" + f); !ok {
					never = append(never, area+"/"+f)
				}
			}
		}
		if len(never) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: these templates were never executed by any test: %s\n"+
				"Add a test that renders them, or delete them.\n", strings.Join(never, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

func fullRun() bool {
	for _, name := range []string{"test.run", "test.skip", "test.bench"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}
