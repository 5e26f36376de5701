package repos_test

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
	"github.com/storekeep/storekeep/internal/serving"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// aptRoot is a private apt and dpkg installation in a directory: apt-get
// and dpkg run against it leave the machine's own package state alone.
//
// How: APT_CONFIG names a configuration file of ours, which apt reads
// before anything else; its Dir moves every relative apt path (Dir::Etc
// with sources.list.d, apt.conf.d, auth.conf.d and trusted.gpg.d,
// Dir::State with the lists, Dir::Cache with the archives, Dir::Log) into
// the directory, so not even /etc/apt/apt.conf.d is read.
// Dir::State::status is absolute by default and is set to our dpkg
// database. dpkg is told the same database (--admindir) and an
// installation root (--instdir): the test packages have no maintainer
// scripts, so dpkg never needs to chroot, and --force-not-root lets a
// non-root run unpack. APT::Sandbox::User root keeps apt from handing the
// downloads to the _apt user, who could not write into a test's
// temporary directory. Signature checks stay on: no trusted=yes, no
// --allow-insecure-repositories; the key comes from the site's
// well-known address, as the account page tells customers to fetch it.
type aptRoot struct {
	dir, conf string
}

func newAPTRoot(t *testing.T) *aptRoot {
	t.Helper()
	for _, tool := range []string{"apt-get", "apt-cache", "dpkg", "gpgv"} {
		if _, err := exec.LookPath(tool); err != nil {
			if testutil.Required() {
				t.Fatalf("%s is not installed: the APT repository is tested with Debian's own apt (.ci/run installs it)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	for _, d := range []string{"etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d", "etc/apt/trusted.gpg.d",
		"etc/apt/auth.conf.d", "etc/apt/keyrings", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/log/apt",
		"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "apt.conf")
	c := fmt.Sprintf(`Dir "%[1]s/";
Dir::State::status "%[1]s/var/lib/dpkg/status";
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::Retries "0";
Acquire::http::Timeout "10";
APT::Install-Recommends "false";
DPkg::Options { "--admindir=%[1]s/var/lib/dpkg"; "--instdir=%[1]s/root"; "--force-not-root"; "--force-bad-path"; };
DPkg::Use-Pty "false";
`, dir)
	if err := os.WriteFile(conf, []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
	return &aptRoot{dir: dir, conf: conf}
}

// run runs an apt command against the private root, returning its output
// and whether it succeeded.
func (a *aptRoot) run(t *testing.T, name string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "APT_CONFIG="+a.conf, "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func (a *aptRoot) must(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, ok := a.run(t, name, args...)
	if !ok {
		t.Fatalf("%s %s failed:\n%s", name, strings.Join(args, " "), out)
	}
	return out
}

func (a *aptRoot) write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(a.dir, path), []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// installed is the version dpkg records for pkg, "" when none.
func (a *aptRoot) installed(t *testing.T, pkg string) string {
	t.Helper()
	out, ok := a.run(t, "dpkg-query", "--admindir="+filepath.Join(a.dir, "var/lib/dpkg"), "-W", "-f", "${Status} ${Version}", pkg)
	if !ok || !strings.HasPrefix(out, "install ok installed ") {
		return ""
	}
	return strings.TrimPrefix(out, "install ok installed ")
}

var preRE = regexp.MustCompile(`(?s)<pre id="([a-z-]+)"><code>(.*?)</code></pre>`)

// pageLines reads the blocks of the account's repository page by id.
func pageLines(body string) map[string]string {
	out := map[string]string{}
	for _, m := range preRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// TestAPTGetInstallsAndUpgrades runs Debian's apt-get against the running
// site over a real connection, set up with the lines the account page
// shows (the key from the well-known address, the deb822 source, the
// auth.conf entry with the license key): update verifies the signature,
// 1.0.0 installs (with an architecture-independent package beside it),
// 1.1.0 comes as an upgrade, a release after the updates window is not
// offered, a wrong key fails, and a suspended license fails with 403.
func TestAPTGetInstallsAndUpgrades(t *testing.T) {
	apt := newAPTRoot(t)
	arch, ok := apt.run(t, "dpkg", "--print-architecture")
	if !ok {
		t.Fatalf("dpkg --print-architecture: %s", arch)
	}
	arch = strings.TrimSpace(arch)
	// The site's address must be known before it is built (the page's
	// lines carry it), so the listener comes first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	w := newWorld(t, testutil.SQLite(t), webtest.WithBaseURL(base))
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: serving.ClientIPMiddleware(nil)(w.s.H), ReadHeaderTimeout: 10 * time.Second}}
	srv.Start()
	defer srv.Close()

	l := w.issue(t, w.customer, licensing.Policy{Kind: licensing.Perpetual, UpdatesMonths: 3})
	w.publish(t, "1.0.0", releases.Stable, map[string][]byte{
		"mailguard_1.0.0_" + arch + ".deb": releasetest.Deb(t, "mailguard", "1.0.0", arch),
		"mailguard-doc_1.0.0_all.deb":      releasetest.Deb(t, "mailguard-doc", "1.0.0", "all"),
	})

	res, body := w.browser.Get(t, "/account/licenses/"+l.LicenseID+"/repository")
	webtest.WantStatus(t, res, body, http.StatusOK)
	lines := pageLines(body)
	keyring := filepath.Join(apt.dir, "etc/apt/keyrings/mailguard.asc")
	// As the page's curl line does.
	keyURL := regexp.MustCompile(`curl -fsSL (\S+) `).FindStringSubmatch(lines["apt-keyring"])
	if keyURL == nil || keyURL[1] != base+"/.well-known/storekeep-repo-key.asc" {
		t.Fatalf("keyring line %q", lines["apt-keyring"])
	}
	kres, err := http.Get(keyURL[1])
	if err != nil {
		t.Fatal(err)
	}
	apt.write(t, "etc/apt/keyrings/mailguard.asc", webtest.ReadAll(t, kres), 0o644)
	sources := lines["apt-sources"]
	if !strings.Contains(sources, "URIs: "+base+"/apt/mailguard\n") || !strings.Contains(lines["apt-auth"], l.Key) {
		t.Fatalf("page lines: %q", lines)
	}
	apt.write(t, "etc/apt/sources.list.d/mailguard.sources", strings.ReplaceAll(sources, "/etc/apt/keyrings/mailguard.asc", keyring), 0o644)
	auth := lines["apt-auth"]
	apt.write(t, "etc/apt/auth.conf.d/mailguard.conf", auth, 0o600)

	out := apt.must(t, "apt-get", "update")
	if strings.Contains(out, "NO_PUBKEY") || strings.Contains(out, "not signed") || strings.Contains(out, "W:") {
		t.Fatalf("apt-get update warned:\n%s", out)
	}
	apt.must(t, "apt-get", "install", "-y", "mailguard", "mailguard-doc")
	if v := apt.installed(t, "mailguard"); v != "1.0.0-1" {
		t.Fatalf("installed mailguard %q, want 1.0.0-1", v)
	}
	if v := apt.installed(t, "mailguard-doc"); v != "1.0.0-1" {
		t.Fatalf("installed mailguard-doc %q, want 1.0.0-1", v)
	}
	if b, err := os.ReadFile(filepath.Join(apt.dir, "root/usr/bin/mailguard")); err != nil || !strings.Contains(string(b), "mailguard 1.0.0") {
		t.Fatalf("installed file: %q, %v", b, err)
	}

	w.s.Clock.Advance(24 * time.Hour)
	w.publish(t, "1.1.0", releases.Stable, map[string][]byte{"mailguard_1.1.0_" + arch + ".deb": releasetest.Deb(t, "mailguard", "1.1.0", arch)})
	apt.must(t, "apt-get", "update")
	apt.must(t, "apt-get", "install", "-y", "--only-upgrade", "mailguard")
	if v := apt.installed(t, "mailguard"); v != "1.1.0-1" {
		t.Fatalf("after the upgrade mailguard is %q, want 1.1.0-1", v)
	}

	// Beyond the updates window: not offered, so nothing to upgrade to.
	w.s.Clock.Advance(100 * 24 * time.Hour)
	w.publish(t, "1.2.0", releases.Stable, map[string][]byte{"mailguard_1.2.0_" + arch + ".deb": releasetest.Deb(t, "mailguard", "1.2.0", arch)})
	apt.must(t, "apt-get", "update")
	if out := apt.must(t, "apt-cache", "madison", "mailguard"); strings.Contains(out, "1.2.0") || !strings.Contains(out, "1.1.0-1") {
		t.Fatalf("apt-cache madison offers:\n%s", out)
	}
	apt.must(t, "apt-get", "install", "-y", "--only-upgrade", "mailguard")
	if v := apt.installed(t, "mailguard"); v != "1.1.0-1" {
		t.Fatalf("mailguard became %q past the updates window", v)
	}

	// A wrong key: refused.
	apt.write(t, "etc/apt/auth.conf.d/mailguard.conf", strings.Replace(auth, l.Key, l.Key[:len(l.Key)-4]+"AAAA", 1), 0o600)
	if out, ok := apt.run(t, "apt-get", "update"); ok || !strings.Contains(out, "401") {
		t.Fatalf("apt-get update with a wrong key (ok %v) did not fail with 401:\n%s", ok, out)
	}
	apt.write(t, "etc/apt/auth.conf.d/mailguard.conf", auth, 0o600)

	// Suspended: closed at once.
	if _, err := licensing.Suspend(context.Background(), w.s.DB, w.ownerID, l.ID, "payment disputed", w.s.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	out, ok = apt.run(t, "apt-get", "update")
	if ok || !strings.Contains(out, "403  Forbidden") {
		t.Fatalf("apt-get update of a suspended license (ok %v) did not fail with 403:\n%s", ok, out)
	}
	if n := webtest.Count(t, w.s.DB, `SELECT COUNT(*) FROM downloads WHERE via = 'apt' AND license_id = $1 AND network = '127.0.0.1'`, l.ID); n != 3 {
		t.Errorf("%d APT downloads recorded from 127.0.0.1, want 3", n)
	}
}
