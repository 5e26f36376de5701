// Package e2e holds the browser tests: they build the real storekeep binary,
// run `storekeep demo` on a loopback port and drive Debian's chromium through
// chromedp, as a visitor would.
//
// Run them with
//
//	go test ./e2e/ -v
//
// Without chromium the tests skip, unless CI is set or STOREKEEP_TEST_REQUIRE=1,
// in which case they fail. CHROMIUM names another browser binary,
// STOREKEEP_BIN a prebuilt storekeep binary (to skip the build), and
// STOREKEEP_E2E_SCREENSHOTS a directory to keep the screenshots in.
package e2e
