package packaging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storekeep/storekeep/deploy"
	"github.com/storekeep/storekeep/internal/config"
)

// packageFile is the file name of this machine's .deb or .rpm.
func packageFile(t *testing.T, r release, format string) string {
	t.Helper()
	arch := runtime.GOARCH
	if format == "rpm" {
		arch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[arch]
		return filepath.Join(r.dir, "storekeep-1.2.3~rc.1-1."+arch+".rpm")
	}
	return filepath.Join(r.dir, "storekeep_1.2.3~rc.1-1_"+arch+".deb")
}

// TestDebContents reads the .deb with dpkg-deb, which needs no root.
func TestDebContents(t *testing.T) {
	dpkgDeb := tool(t, "dpkg-deb", "dpkg")
	r := buildRelease(t)
	deb := packageFile(t, r, "deb")
	out, err := exec.Command(dpkgDeb, "-c", deb).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb -c: %v\n%s", err, out)
	}
	for _, want := range []string{
		`-rwxr-xr-x root/root .* \./usr/bin/storekeep\n`,
		`-rw-r--r-- root/root .* \./lib/systemd/system/storekeep.service\n`,
		`drwxr-x--- root/storekeep .* \./etc/storekeep/\n`,
		`-rw-r----- root/storekeep .* \./etc/storekeep/storekeep.env\n`,
		`drwxr-x--- storekeep/storekeep .* \./var/lib/storekeep/\n`,
		`-rw-r--r-- root/root .* \./usr/share/doc/storekeep/install.md\n`,
	} {
		if !regexp.MustCompile(want).Match(out) {
			t.Errorf("the .deb lacks %s:\n%s", want, out)
		}
	}
	for file, want := range map[string]string{"conffiles": "/etc/storekeep/storekeep.env\n", "preinst": string(deploy.PreInstall), "postinst": string(deploy.PostInstall),
		"prerm": string(deploy.PreRemove), "postrm": string(deploy.PostRemove)} {
		got, err := exec.Command(dpkgDeb, "--info", deb, file).Output()
		if err != nil || string(got) != want {
			t.Errorf("control file %s: %v\n%s", file, err, got)
		}
	}
}

// TestRPMContents reads the .rpm with rpm, as a Fedora or RHEL machine
// would, and test-installs it into an empty root.
func TestRPMContents(t *testing.T) {
	rpmTool := tool(t, "rpm", "rpm")
	r := buildRelease(t)
	pkg := packageFile(t, r, "rpm")
	q := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(rpmTool, append([]string{"-qp"}, append(args, pkg)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("rpm -qp %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if got := q("--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{BUILDHOST}"); !regexp.MustCompile(`^storekeep 1\.2\.3~rc\.1 1 (x86_64|aarch64) storekeep-release$`).MatchString(got) {
		t.Errorf("header: %q", got)
	}
	files := q("--qf", "[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]")
	for _, want := range []string{
		"-rwxr-xr-x root:root  /usr/bin/storekeep\n",
		"-rw-r--r-- root:root  /usr/lib/systemd/system/storekeep.service\n",
		"drwxr-x--- root:storekeep  /etc/storekeep\n",
		"-rw-r----- root:storekeep cn /etc/storekeep/storekeep.env\n",
		"drwxr-x--- storekeep:storekeep  /var/lib/storekeep\n",
	} {
		if !strings.Contains(files, want) {
			t.Errorf("the .rpm lacks %q:\n%s", want, files)
		}
	}
	scripts := q("--scripts")
	for _, want := range []string{"preinstall scriptlet", "postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet",
		strings.TrimSpace(string(deploy.PostInstall))} {
		if !strings.Contains(scripts, want) {
			t.Errorf("the scripts lack %q:\n%s", want, scripts)
		}
	}
	if out, err := exec.Command(rpmTool, "-K", "--nosignature", pkg).CombinedOutput(); err != nil || !strings.Contains(string(out), "digests OK") {
		t.Errorf("rpm -K: %v\n%s", err, out)
	}
	// rpm's own checks of an installation (conflicts, file modes, the
	// payload), into an empty database: --test installs nothing, and
	// --nodeps because this database knows no /bin/sh.
	root := t.TempDir()
	if out, err := exec.Command(rpmTool, "--dbpath", root+"/db", "--initdb").CombinedOutput(); err != nil {
		t.Fatalf("rpm --initdb: %v\n%s", err, out)
	}
	if out, err := exec.Command(rpmTool, "--dbpath", root+"/db", "-i", "--test", "--nodeps", pkg).CombinedOutput(); err != nil {
		t.Errorf("rpm -i --test: %v\n%s", err, out)
	}
}

// TestDebInstallsAndRuns installs the .deb on this machine with dpkg, as
// a customer's apt would, checks what it made, sets the installation up
// with storekeep init, runs the unit's command line as systemd would
// (there is no systemd as PID 1 here: the same user, capabilities,
// environment, directory and umask, through setpriv) until /healthz
// answers, and purges the package. On CI's throwaway machine this is the
// real thing; on a developer's machine it runs only as root, and refuses
// when a storekeep package is installed already.
func TestDebInstallsAndRuns(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		require(t, "installing the .deb needs root on Linux")
	}
	dpkg := tool(t, "dpkg", "dpkg")
	setpriv := tool(t, "setpriv", "util-linux")
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "storekeep").Output(); err == nil && strings.Contains(string(out), " installed") {
		require(t, "a storekeep package is installed on this machine: the test would replace it")
	}
	_, userErr := user.Lookup(deploy.User)
	_, dataErr := os.Stat(deploy.DataDir)
	r := buildRelease(t)
	deb := packageFile(t, r, "deb")

	t.Cleanup(func() {
		if out, err := runDpkg(dpkg, "--purge", "storekeep"); err != nil {
			t.Logf("cleanup: dpkg --purge: %v\n%s", err, out)
		}
		os.RemoveAll("/run/storekeep")
		if dataErr != nil {
			os.RemoveAll(deploy.DataDir)
		}
		if userErr != nil {
			_ = exec.Command("userdel", deploy.User).Run()
			_ = exec.Command("groupdel", deploy.User).Run()
		}
	})
	out, err := runDpkg(dpkg, "-i", deb)
	if err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	if !strings.Contains(out, "sudo storekeep init") {
		t.Errorf("the install did not say what to do next:\n%s", out)
	}

	// The user: a system account without a shell, at home in the data.
	u, err := user.Lookup(deploy.User)
	if err != nil {
		t.Fatalf("no storekeep user after the install: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if g, err := user.LookupGroupId(u.Gid); err != nil || g.Name != deploy.User || uid >= 1000 || u.HomeDir != deploy.DataDir {
		t.Errorf("user %+v (group %v %v): want a system user with its own group, home %s", u, g, err, deploy.DataDir)
	}
	if pw, _ := exec.Command("getent", "passwd", deploy.User).Output(); !strings.HasSuffix(strings.TrimSpace(string(pw)), ":/usr/sbin/nologin") {
		t.Errorf("the user can log in: %s", pw)
	}
	for _, f := range []struct {
		path     string
		mode     os.FileMode
		uid, gid int
	}{
		{deploy.BinPath, 0o755, 0, 0},
		{deploy.UnitPath, 0o644, 0, 0},
		{filepath.Dir(deploy.EnvFilePath), os.ModeDir | 0o750, 0, gid},
		{deploy.EnvFilePath, 0o640, 0, gid},
		{deploy.DataDir, os.ModeDir | 0o750, uid, gid},
		{"/usr/share/doc/storekeep/install.md", 0o644, 0, 0},
	} {
		checkFile(t, f.path, f.mode, f.uid, f.gid)
	}
	if b, _ := os.ReadFile(deploy.EnvFilePath); !bytes.Equal(b, deploy.EnvFile) {
		t.Errorf("%s is not the settings file", deploy.EnvFilePath)
	}
	if out, _ := exec.Command("dpkg-query", "-W", "-f=${Conffiles}", "storekeep").Output(); !strings.Contains(string(out), deploy.EnvFilePath) {
		t.Errorf("%s is not a conffile: %q", deploy.EnvFilePath, out)
	}
	if out, _ := exec.Command(deploy.BinPath, "version").Output(); !strings.HasPrefix(string(out), "storekeep "+testVersion+"\n") {
		t.Errorf("the installed binary says %q", out)
	}

	// storekeep init, as root (as an administrator runs it after the
	// install), behind a proxy so that the test needs no certificates.
	initCmd := exec.Command(deploy.BinPath, "init", "--yes", "--domain", "shop.example.com", "--https", "proxy", "--owner-email", "owner@example.com")
	initCmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	out2, err := initCmd.CombinedOutput()
	if err != nil {
		t.Fatalf("storekeep init: %v\n%s", err, out2)
	}
	link := regexp.MustCompile(`https://shop\.example\.com(/staff/setup\?token=\S+)`).FindSubmatch(out2)
	if link == nil {
		t.Fatalf("init printed no setup link:\n%s", out2)
	}
	checkFile(t, deploy.EnvFilePath, 0o640, 0, gid)
	checkFile(t, filepath.Join(deploy.DataDir, "storekeep.db"), 0o644&^0o022, uid, gid)

	// The unit's command line, as systemd would run it.
	unitText, err := os.ReadFile(deploy.UnitPath)
	if err != nil {
		t.Fatal(err)
	}
	unit, err := deploy.ParseUnit(unitText)
	if err != nil {
		t.Fatal(err)
	}
	// 443: binding it needs the ambient capability the unit grants.
	const addr = "127.83.41.7:443"
	cmd, err := unitCommand(setpriv, unit, map[string]string{"STOREKEEP_ADDR": addr})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := os.MkdirAll("/run/storekeep", 0o750); err != nil { // RuntimeDirectory=
		t.Fatal(err)
	}
	_ = os.Chown("/run/storekeep", uid, gid)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	if err := waitHealthy(t, "http://"+addr+"/healthz", exited, 90*time.Second); err != nil {
		t.Fatalf("%v\nservice log:\n%s", err, logs.String())
	}
	// It runs as the storekeep user, with only CAP_NET_BIND_SERVICE.
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("\nUid:\t%d\t%d\t%d\t%d\n", uid, uid, uid, uid), "\nCapEff:\t0000000000000400\n", "\nCapBnd:\t0000000000000400\n", "\nNoNewPrivs:\t1\n"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("the service's /proc status lacks %q:\n%s", want, status)
		}
	}
	// The owner's link from init opens the page to choose a password.
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+string(link[1]), nil)
	req.Host = "shop.example.com"
	req.Header.Set("X-Forwarded-Proto", "https")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("setup link: %v", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("password")) {
			t.Errorf("setup link: %s\n%.400s", resp.Status, body)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the service did not stop cleanly on SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Error("the service did not stop within 30 seconds of SIGTERM")
	}

	// Purge: the package's files go, the data stays.
	if out, err := runDpkg(dpkg, "--purge", "storekeep"); err != nil || !strings.Contains(out, "are kept") {
		t.Fatalf("dpkg --purge: %v\n%s", err, out)
	}
	for _, p := range []string{deploy.BinPath, deploy.UnitPath, deploy.EnvFilePath, filepath.Dir(deploy.EnvFilePath)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after the purge (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(deploy.DataDir, "storekeep.db")); err != nil {
		t.Errorf("the purge removed the database: %v", err)
	}
}

// runDpkg runs dpkg, waiting while another dpkg or apt holds the lock.
func runDpkg(dpkg string, args ...string) (string, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cmd := exec.Command(dpkg, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil && bytes.Contains(out, []byte("lock")) && time.Now().Before(deadline) {
			time.Sleep(2 * time.Second)
			continue
		}
		return string(out), err
	}
}

func checkFile(t *testing.T, path string, mode os.FileMode, uid, gid int) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	st := info.Sys().(*syscall.Stat_t)
	if info.Mode() != mode || int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s: %v %d:%d, want %v %d:%d", path, info.Mode(), st.Uid, st.Gid, mode, uid, gid)
	}
}

// unitCommand is the unit's ExecStart= under its User= and Group=, with
// the capabilities, NoNewPrivileges=, UMask=, WorkingDirectory= and the
// environment (Environment=, then EnvironmentFile=, then override, as a
// drop-in's EnvironmentFile= would) systemd gives it.
func unitCommand(setpriv string, u deploy.UnitFile, override map[string]string) (*exec.Cmd, error) {
	get := func(key string) string { return u.Get("Service", key) }
	usr, err := user.Lookup(get("User"))
	if err != nil {
		return nil, err
	}
	env := map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
		"USER": usr.Username, "LOGNAME": usr.Username, "HOME": usr.HomeDir, "SHELL": "/usr/sbin/nologin"}
	for _, line := range u["Service"]["Environment"] {
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	for _, path := range u["Service"]["EnvironmentFile"] {
		optional := strings.HasPrefix(path, "-")
		f, err := os.Open(strings.TrimPrefix(path, "-"))
		if err != nil {
			if optional {
				continue
			}
			return nil, err
		}
		set, err := config.ReadEnvFile(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		for k, v := range set {
			env[k] = v
		}
	}
	for k, v := range override {
		env[k] = v
	}
	caps := func(key string) string {
		var out []string
		for _, c := range strings.Fields(get(key)) {
			out = append(out, "+"+strings.ToLower(strings.TrimPrefix(c, "CAP_")))
		}
		return strings.Join(out, ",")
	}
	args := []string{"--reuid=" + usr.Username, "--regid=" + get("Group"), "--init-groups",
		"--bounding-set=-all," + caps("CapabilityBoundingSet")}
	if amb := caps("AmbientCapabilities"); amb != "" {
		args = append(args, "--inh-caps=-all,"+amb, "--ambient-caps=-all,"+amb)
	}
	if get("NoNewPrivileges") == "yes" {
		args = append(args, "--no-new-privs")
	}
	exec0 := strings.Fields(get("ExecStart"))
	if len(exec0) == 0 || !strings.HasPrefix(exec0[0], "/") {
		return nil, fmt.Errorf("ExecStart=%q is not an absolute command line", get("ExecStart"))
	}
	umask := get("UMask")
	if umask == "" {
		umask = "0022"
	}
	// sh sets the umask (setpriv has no option for it) and becomes setpriv.
	shArgs := append([]string{"-c", `umask "$0" && exec "$@"`, umask, setpriv}, append(append(args, "--"), exec0...)...)
	cmd := exec.CommandContext(context.Background(), "/bin/sh", shArgs...)
	cmd.Dir = get("WorkingDirectory")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd, nil
}

func waitHealthy(t *testing.T, url string, exited <-chan error, limit time.Duration) error {
	client := &http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("the service exited before it answered: %v", err)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ok" {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer ok within %v", url, limit)
}
