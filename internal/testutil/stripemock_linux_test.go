package testutil_test

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/testutil"
)

// TestStripeMockIsSharedAndDiesWithTheBinary: every test of a package gets
// the same stripe-mock, and it does not outlive the test binary (here a
// child test process that exits without any cleanup).
func TestStripeMockIsSharedAndDiesWithTheBinary(t *testing.T) {
	if os.Getenv("STOREKEEP_STRIPEMOCK_CHILD") != "" {
		testutil.StartStripeMock(t)
		fmt.Printf("stripe-mock pid %d\n", testutil.StripeMockPID())
		os.Exit(0) // no cleanup runs: only the kernel can stop it now
	}
	a, b := testutil.StartStripeMock(t), testutil.StartStripeMock(t)
	if a != b {
		t.Fatalf("two stripe-mocks: %s, %s", a, b)
	}
	req, _ := http.NewRequest("GET", a+"/v1/customers/cus_x", nil)
	req.Header.Set("Authorization", "Bearer sk_test_123")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("stripe-mock answered %d", res.StatusCode)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestStripeMockIsSharedAndDiesWithTheBinary$", "-test.count=1")
	cmd.Env = append(os.Environ(), "STOREKEEP_STRIPEMOCK_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var pid int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "stripe-mock pid "); ok {
			pid, _ = strconv.Atoi(p)
		}
	}
	if pid <= 0 {
		t.Fatalf("the child named no stripe-mock:\n%s", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("stripe-mock %d outlived the test binary that started it", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie waiting to be reaped does not).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}
