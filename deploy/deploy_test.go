package deploy

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"

	"github.com/storekeep/storekeep/internal/config"
)

var update = flag.Bool("update", false, "rewrite storekeep.env from the settings list")

// TestEnvFileIsGenerated keeps the committed storekeep.env what the
// settings list makes, so a new setting cannot be missing from it.
func TestEnvFileIsGenerated(t *testing.T) {
	want, err := EnvFileFor(nil)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("storekeep.env", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(EnvFile, want) {
		t.Fatalf("deploy/storekeep.env is not what the settings list makes (a setting was added or changed): run\n  go test ./deploy -run TestEnvFileIsGenerated -update")
	}
	got, err := config.ReadEnvFile(bytes.NewReader(EnvFile))
	if err != nil || len(got) != 0 {
		t.Errorf("the packaged file sets %v (%v): it should only show the defaults", got, err)
	}
}

func TestUnitIsHardened(t *testing.T) {
	u, err := ParseUnit(Unit)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"User": User, "Group": User, "ExecStart": BinPath + " serve", "EnvironmentFile": EnvFilePath,
		"Environment": "STOREKEEP_DATA_DIR=" + DataDir, "WorkingDirectory": DataDir, "ReadWritePaths": DataDir,
		"StateDirectory": "storekeep", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
		"ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
		"AmbientCapabilities": "CAP_NET_BIND_SERVICE", "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
	} {
		if got := u.Get("Service", key); got != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	if u.Get("Install", "WantedBy") != "multi-user.target" {
		t.Error("the unit cannot be enabled: no WantedBy=multi-user.target")
	}
	// SystemCallFilter= adds up over its lines: the allow list, then
	// what is taken out of it.
	if f := u["Service"]["SystemCallFilter"]; !slices.Equal(f, []string{"@system-service", "~@privileged"}) {
		t.Errorf("SystemCallFilter = %q", f)
	}
}

// TestUnitSecurityScore asks systemd itself how exposed the service is.
func TestUnitSecurityScore(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("STOREKEEP_TEST_REQUIRE") == "1" {
			t.Fatal("systemd-analyze is missing (apt-get install systemd; .ci/run installs it)")
		}
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/storekeep.service", Unit, 0o644); err != nil {
		t.Fatal(err)
	}
	// 2.0 of 10 ("OK"): systemd's measure; ours is 1.5, the rest being
	// what a web server needs (network, binding ports 80 and 443).
	out, err := exec.Command(bin, "security", "--offline=true", "--threshold=20", dir+"/storekeep.service").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for storekeep.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	t.Logf("exposure %s", m[1])
}

// TestUnitVerifies has systemd check every line of the unit: a misspelt
// option or a value it cannot parse is only a warning at boot, and the
// protection it meant would silently be missing.
func TestUnitVerifies(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("STOREKEEP_TEST_REQUIRE") == "1" {
			t.Fatal("systemd-analyze is missing (apt-get install systemd; .ci/run installs it)")
		}
		t.Skip("systemd-analyze is not installed")
	}
	// verify wants ExecStart's binary to exist: this test's own stands in.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := bytes.Replace(Unit, []byte("ExecStart="+BinPath), []byte("ExecStart="+self), 1)
	path := t.TempDir() + "/storekeep.service"
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestScriptsAreShell(t *testing.T) {
	for name, s := range map[string][]byte{"preinstall": PreInstall, "postinstall": PostInstall, "preremove": PreRemove, "postremove": PostRemove} {
		if !bytes.HasPrefix(s, []byte("#!/bin/sh\n")) {
			t.Errorf("%s does not start with #!/bin/sh", name)
		}
		cmd := exec.Command("sh", "-n")
		cmd.Stdin = bytes.NewReader(s)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
	}
}

// TestDeployFilesNameRealSettings: every STOREKEEP_ variable the
// Dockerfile and the compose example set is a setting the binary reads.
func TestDeployFilesNameRealSettings(t *testing.T) {
	known := map[string]bool{}
	for _, s := range config.Settings() {
		known[s.Env] = true
	}
	for _, file := range []string{"compose.yaml", "../Dockerfile"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		names := regexp.MustCompile(`STOREKEEP_[A-Z0-9_]+`).FindAllString(string(b), -1)
		if len(names) == 0 {
			t.Errorf("%s sets no setting", file)
		}
		for _, n := range names {
			if !known[n] {
				t.Errorf("%s names %s, which is not a setting", file, n)
			}
		}
	}
}
