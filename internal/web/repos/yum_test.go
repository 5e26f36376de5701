package repos_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// yumWorld is the repositories' test world (newWorld) with a license of
// Mailguard's Professional edition (perpetual, a year of updates).
type yumWorld struct {
	*world
	lic licensing.License
}

func newYUMWorld(t testing.TB, d *db.DB) *yumWorld {
	t.Helper()
	w := newWorld(t, d)
	lic, err := licensing.Issue(context.Background(), d, webtest.LicenseKeys, w.ownerID,
		licensing.ManualIssue{CustomerID: w.customer, EditionID: w.edition, Quantity: 1}, "test", w.s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &yumWorld{world: w, lic: lic}
}

// rpmFile publishes the package mailguard at version as a release's file.
func rpmFile(t testing.TB, version string) map[string][]byte {
	return map[string][]byte{"mailguard-" + version + "-1.x86_64.rpm": releasetest.RPMOf(t, releasetest.RPMSpec{
		Name: "mailguard", Version: version, Arch: "amd64", Summary: "Mailguard <milter> & more",
		Files: map[string]string{"/etc/mailguard/mailguard.conf": "version = " + version + "\n"},
	})}
}

// dnf is Debian's dnf working on a private install root, configured only
// by the files the test writes.
type dnf struct {
	bin, dir, root string
}

func newDNF(t *testing.T) *dnf {
	t.Helper()
	bin, err := exec.LookPath("dnf")
	if err != nil {
		if testutil.Required() {
			t.Fatal("dnf is not installed (apt-get install dnf rpm)")
		}
		t.Skip("dnf is not installed")
	}
	if _, err := exec.LookPath("rpm"); err != nil {
		if testutil.Required() {
			t.Fatal("rpm is not installed (apt-get install dnf rpm)")
		}
		t.Skip("rpm is not installed")
	}
	dir := t.TempDir()
	x := &dnf{bin: bin, dir: dir, root: filepath.Join(dir, "root")}
	for _, d := range []string{x.root, filepath.Join(dir, "repos.d"), filepath.Join(dir, "cache"), filepath.Join(dir, "log")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Only this file configures dnf: the host's /etc/dnf/dnf.conf (which
	// may skip unavailable repositories, keep caches, check package
	// signatures) must not decide the test.
	conf := "[main]\ngpgcheck=0\nrepo_gpgcheck=1\nskip_if_unavailable=False\ninstall_weak_deps=False\n" +
		"keepcache=False\nmetadata_expire=0\nreposdir=" + filepath.Join(dir, "repos.d") + "\n" +
		"cachedir=" + filepath.Join(dir, "cache") + "\nlogdir=" + filepath.Join(dir, "log") + "\n" +
		"persistdir=" + filepath.Join(dir, "persist") + "\nplugins=False\n"
	if err := os.WriteFile(filepath.Join(dir, "dnf.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// Debian's rpm keeps its database in ~/.rpmdb (rpm is not Debian's
	// package manager); in the install root it belongs where a Fedora or
	// RHEL system has it. dnf's librpm and the rpm command read this file
	// through HOME.
	if err := os.WriteFile(filepath.Join(dir, ".rpmmacros"), []byte("%_dbpath /var/lib/rpm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return x
}

// repo writes the .repo file the account page tells a customer to paste:
// the license key as the password, repository metadata signatures checked
// against the served key, packages unsigned (their checksums are in the
// signed metadata).
func (x *dnf) repo(t *testing.T, site, channel, key string) {
	t.Helper()
	repo := "[mailguard]\nname=Mailguard\nbaseurl=" + site + "/yum/mailguard/" + channel + "/\n" +
		"username=license\npassword=" + key + "\nenabled=1\ngpgcheck=0\nrepo_gpgcheck=1\n" +
		"gpgkey=" + site + "/.well-known/storekeep-repo-key.asc\nmetadata_expire=0\n"
	if err := os.WriteFile(filepath.Join(x.dir, "repos.d", "mailguard.repo"), []byte(repo), 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs dnf with args; the command line is the one that works as root
// in a container: a config of our own, an install root of our own (its
// own rpm database), only our repository enabled, -y to accept the key
// import dnf asks for, no documentation, a fixed releasever (there is no
// system release in the install root to take it from), and --refresh:
// dnf counts metadata_expire=0 in whole seconds, so without it a command
// in the same second as the last one uses the cache.
func (x *dnf) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	base := []string{"-y", "--config=" + filepath.Join(x.dir, "dnf.conf"), "--installroot=" + x.root,
		"--setopt=reposdir=" + filepath.Join(x.dir, "repos.d"), "--setopt=cachedir=" + filepath.Join(x.dir, "cache"),
		"--releasever=1", "--disablerepo=*", "--enablerepo=mailguard", "--nodocs", "--noplugins", "--refresh"}
	cmd := exec.Command(x.bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "HOME="+x.dir)
	out, err := cmd.CombinedOutput()
	t.Logf("dnf %s:\n%s", strings.Join(args, " "), out)
	return string(out), err
}

// installed is the version of mailguard in the install root's rpm
// database, "" when none.
func (x *dnf) installed(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("rpm", "--root="+x.root, "-q", "--queryformat", "%{VERSION}", "mailguard")
	cmd.Env = append(os.Environ(), "HOME="+x.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("rpm -q: %v: %s", err, out)
		return ""
	}
	return string(out)
}

// TestDNFInstallsAndUpgrades runs the real dnf against the running site:
// it installs 1.0.0, upgrades to 1.1.0 once published, is refused with a
// wrong key and after the license is suspended, and never sees a release
// published after the license's updates ended.
func TestDNFInstallsAndUpgrades(t *testing.T) {
	x := newDNF(t)
	w := newYUMWorld(t, testutil.SQLite(t))
	// forge, when set, answers repomd.xml.asc with a signature by another
	// key: dnf must refuse the metadata.
	var forge atomic.Bool
	other, err := repos.GenerateKey(t.TempDir(), "Someone Else", func() time.Time { return webtest.Start })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if forge.Load() && strings.HasSuffix(r.URL.Path, "/repomd.xml.asc") {
			res, body := w.get(t, strings.TrimSuffix(r.URL.Path, ".asc"), w.lic.Key)
			if res.StatusCode != http.StatusOK {
				t.Errorf("repomd.xml: %d", res.StatusCode)
			}
			sig, err := other.DetachSign([]byte(body))
			if err != nil {
				t.Error(err)
			}
			_, _ = rw.Write(sig)
			return
		}
		w.s.H.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	w.publish(t, "1.0.0", releases.Stable, rpmFile(t, "1.0.0"))
	x.repo(t, srv.URL, "stable", w.lic.Key)

	if out, err := x.run(t, "install", "mailguard"); err != nil || x.installed(t) != "1.0.0" {
		t.Fatalf("install: %v, installed %q\n%s", err, x.installed(t), out)
	}
	if b, err := os.ReadFile(filepath.Join(x.root, "etc/mailguard/mailguard.conf")); err != nil || string(b) != "version = 1.0.0\n" {
		t.Fatalf("installed config: %q %v", b, err)
	}

	w.s.Clock.Set(w.s.Clock.Now().AddDate(0, 1, 0))
	w.publish(t, "1.1.0", releases.Stable, rpmFile(t, "1.1.0"))
	if out, err := x.run(t, "upgrade"); err != nil || x.installed(t) != "1.1.0" {
		t.Fatalf("upgrade: %v, installed %q\n%s", err, x.installed(t), out)
	}

	// Beyond the updates window: 2.0.0 is not listed, so dnf finds nothing
	// to upgrade.
	w.s.Clock.Set(w.lic.UpdatesUntil.AddDate(0, 0, 1))
	w.publish(t, "2.0.0", releases.Stable, rpmFile(t, "2.0.0"))
	if out, err := x.run(t, "upgrade"); err != nil || x.installed(t) != "1.1.0" {
		t.Fatalf("upgrade past the updates window: %v, installed %q\n%s", err, x.installed(t), out)
	}
	if out, _ := x.run(t, "list", "--available", "--showduplicates", "mailguard"); strings.Contains(out, "2.0.0") {
		t.Fatalf("dnf lists 2.0.0, which the license does not cover:\n%s", out)
	}

	// Metadata signed by another key is refused.
	forge.Store(true)
	if out, err := x.run(t, "makecache"); err == nil || !strings.Contains(strings.ToLower(out), "gpg") {
		t.Fatalf("a forged repomd.xml.asc: %v\n%s", err, out)
	}
	forge.Store(false)

	// A wrong key: the metadata download fails.
	x.repo(t, srv.URL, "stable", w.lic.Key[:len(w.lic.Key)-2]+"xx")
	if out, err := x.run(t, "makecache"); err == nil || !strings.Contains(out, "401") {
		t.Fatalf("a wrong key: %v\n%s", err, out)
	}

	// Suspended: closed at once.
	x.repo(t, srv.URL, "stable", w.lic.Key)
	if out, err := x.run(t, "makecache"); err != nil {
		t.Fatalf("makecache with the right key again: %v\n%s", err, out)
	}
	if _, err := licensing.Suspend(context.Background(), w.s.DB, w.ownerID, w.lic.ID, "chargeback", w.s.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if out, err := x.run(t, "makecache"); err == nil || !strings.Contains(out, "403") {
		t.Fatalf("a suspended license: %v\n%s", err, out)
	}
	if n := webtest.Count(t, w.s.DB, `SELECT count(*) FROM downloads WHERE via = 'yum' AND license_id = $1`, w.lic.ID); n != 2 {
		t.Errorf("%d package downloads recorded, want 2", n)
	}
}

// TestYUMRoutes walks the repository's answers on both databases: who is
// let in, what each channel lists, which packages are served, and that
// every package download is recorded.
func TestYUMRoutes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newYUMWorld(t, d)
		stable := w.publish(t, "1.0.0", releases.Stable, rpmFile(t, "1.0.0"))
		w.s.Clock.Set(w.s.Clock.Now().AddDate(0, 1, 0))
		beta := w.publish(t, "1.1.0-beta.1", releases.Beta, rpmFile(t, "1.1.0~beta.1"))
		w.s.Clock.Set(w.lic.UpdatesUntil.AddDate(0, 0, 1))
		late := w.publish(t, "2.0.0", releases.Stable, rpmFile(t, "2.0.0"))
		href := func(rel releases.Release) string {
			return "/yum/mailguard/stable/" + repos.PackageHref(rel.Artifacts[0])
		}
		key := w.lic.Key

		primary := func(channel string) string {
			t.Helper()
			res, body := w.get(t, "/yum/mailguard/"+channel+"/repodata/repomd.xml", key)
			webtest.WantStatus(t, res, body, http.StatusOK)
			i := strings.Index(body, `repodata/`)
			j := strings.Index(body, `-primary.xml.gz"`)
			if i < 0 || j < i {
				t.Fatalf("repomd.xml names no primary.xml.gz:\n%s", body)
			}
			res, gz := w.get(t, "/yum/mailguard/"+channel+"/"+body[i:j]+"-primary.xml.gz", key)
			webtest.WantStatus(t, res, "", http.StatusOK)
			zr, err := gzip.NewReader(strings.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		p := primary("stable")
		webtest.MustContain(t, p, `packages="1"`, `ver="1.0.0"`, "Mailguard &lt;milter&gt; &amp; more", `href="`+strings.TrimPrefix(href(stable), "/yum/mailguard/stable/")+`"`)
		webtest.MustNotContain(t, p, "beta", `ver="2.0.0"`)
		p = primary("beta")
		webtest.MustContain(t, p, `packages="2"`, `ver="1.0.0"`, `ver="1.1.0~beta.1"`)
		webtest.MustNotContain(t, p, `ver="2.0.0"`)
		res, body := w.get(t, "/yum/mailguard/stable/repodata/repomd.xml.asc", key)
		webtest.WantStatus(t, res, body, http.StatusOK)
		_, repomd := w.get(t, "/yum/mailguard/stable/repodata/repomd.xml", key)
		if err := w.signer.Verify([]byte(repomd), []byte(body)); err != nil {
			t.Fatalf("repomd.xml.asc: %v", err)
		}

		for _, c := range []struct {
			name, path, key string
			status          int
			says            string
		}{
			{"no key", "/yum/mailguard/stable/repodata/repomd.xml", "", http.StatusUnauthorized, "license key as the password"},
			{"wrong key", "/yum/mailguard/stable/repodata/repomd.xml", key + "x", http.StatusUnauthorized, "not valid"},
			{"other product", "/yum/retired/stable/repodata/repomd.xml", key, http.StatusForbidden, "another product"},
			{"no such channel", "/yum/mailguard/nightly/repodata/repomd.xml", key, http.StatusNotFound, "no such channel"},
			{"no such file", "/yum/mailguard/stable/repodata/0000-primary.xml.gz", key, http.StatusNotFound, "refresh"},
			{"beta package on stable", href(beta), key, http.StatusNotFound, "no such download"},
			{"after the updates window", href(late), key, http.StatusForbidden, "after this license's updates ended"},
			{"wrong name", strings.TrimSuffix(href(stable), ".rpm") + "-x.rpm", key, http.StatusNotFound, "no such download"},
			{"no such artifact", "/yum/mailguard/stable/packages/999999/x.rpm", key, http.StatusNotFound, "no such download"},
			{"not a number", "/yum/mailguard/stable/packages/x/x.rpm", key, http.StatusNotFound, "no such download"},
			{"other product's path", strings.Replace(href(stable), "/mailguard/", "/retired/", 1), key, http.StatusForbidden, "another product"},
		} {
			res, body := w.get(t, c.path, c.key)
			if res.StatusCode != c.status || !strings.Contains(strings.ToLower(body), strings.ToLower(c.says)) {
				t.Errorf("%s: %d %q, want %d saying %q", c.name, res.StatusCode, body, c.status, c.says)
			}
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM downloads`); n != 0 {
			t.Fatalf("%d downloads recorded for refused requests", n)
		}

		// A package: served with its checksum, resumable, each request
		// recorded with where it started.
		res, body = w.get(t, href(stable), key)
		webtest.WantStatus(t, res, body, http.StatusOK)
		if res.Header.Get("Content-Type") != "application/x-rpm" || res.Header.Get("X-Checksum-Sha256") != stable.Artifacts[0].SHA256 ||
			int64(len(body)) != stable.Artifacts[0].Size {
			t.Errorf("package served as %v, %d bytes", res.Header, len(body))
		}
		req := httptest.NewRequest(http.MethodGet, href(stable), nil)
		req.SetBasicAuth("license", key)
		req.Header.Set("Range", "bytes=100-")
		rec := httptest.NewRecorder()
		w.s.H.ServeHTTP(rec, req)
		if rec.Code != http.StatusPartialContent || rec.Body.String() != body[100:] {
			t.Errorf("range: %d, %d bytes", rec.Code, rec.Body.Len())
		}
		res, _ = w.get(t, "/yum/mailguard/beta/"+repos.PackageHref(beta.Artifacts[0]), key)
		webtest.WantStatus(t, res, "", http.StatusOK)
		if n := webtest.Count(t, d, `SELECT count(*) FROM downloads WHERE via = 'yum' AND license_id = $1 AND customer_id = $2`, w.lic.ID, w.lic.CustomerID); n != 3 {
			t.Errorf("%d yum downloads recorded, want 3", n)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM downloads WHERE first_byte = 100`); n != 1 {
			t.Errorf("%d resumed downloads recorded, want 1", n)
		}

		// An artifact recorded before its metadata was kept is left out,
		// and the log says which one needs uploading again.
		if _, err := d.ExecContext(context.Background(), `UPDATE release_artifacts SET pkg_meta = '' WHERE id = $1`, stable.Artifacts[0].ID); err != nil {
			t.Fatal(err)
		}
		webtest.MustContain(t, primary("beta"), `packages="1"`, `ver="1.1.0~beta.1"`)
		webtest.MustContain(t, w.s.Logs.String(), "yum: packages left out", "upload it again")

		// Suspended: the metadata and the packages close at once.
		if _, err := licensing.Suspend(context.Background(), d, w.ownerID, w.lic.ID, "chargeback", w.s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/yum/mailguard/stable/repodata/repomd.xml", href(stable)} {
			res, body := w.get(t, path, key)
			if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "suspended") {
				t.Errorf("suspended: %s: %d %q", path, res.StatusCode, body)
			}
		}
	})
}
