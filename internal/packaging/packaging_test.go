package packaging

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/releases"
)

// The version the tests build.
const testVersion = "1.2.3-rc.1"

// require fails the test under STOREKEEP_TEST_REQUIRE=1 (CI) and skips it
// elsewhere, for a tool or privilege the machine lacks.
func require(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("STOREKEEP_TEST_REQUIRE") == "1" {
		t.Fatal(why + " (STOREKEEP_TEST_REQUIRE=1: required)")
	}
	t.Skip(why)
}

func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		require(t, name+" is not installed (apt-get install "+pkg+"; .ci/run installs it)")
	}
	return p
}

// snapshot copies the working tree (tracked and untracked files that are
// not ignored, as they are now) into a new Git repository under dir with
// one commit at a fixed time, so that two snapshots are the same commit in
// different directories, and the tests build what is being tested rather
// than the last commit.
func snapshot(t testing.TB, dir string) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		info, err := os.Lstat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the working tree, or a symlink
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=Release Test", "-c", "user.email=release@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-11-30T12:00:00Z", "GIT_COMMITTER_DATE=2026-11-30T12:00:00Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "snapshot")
	return dir
}

// release is one build shared by the tests of this package: building
// both architectures takes minutes on a cold cache.
type release struct {
	dir, keys string
	res       Result
	err       error
	// again is a second snapshot of the same tree, in another directory,
	// taken with the first so that both are the same commit.
	again string
}

var (
	releaseOnce sync.Once
	built       release
	tmpRoot     string
)

func TestMain(m *testing.M) {
	var err error
	tmpRoot, err = os.MkdirTemp("", "storekeep-release-test-")
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

// buildRelease builds the snapshot's release once, signed with a new key.
func buildRelease(t *testing.T) release {
	t.Helper()
	releaseOnce.Do(func() {
		built.keys = filepath.Join(tmpRoot, "keys")
		if _, built.err = releases.GenerateSigningKey(built.keys, rand.Reader); built.err != nil {
			return
		}
		built.err = errors.New("the snapshot of the working tree failed")
		src := snapshot(t, filepath.Join(tmpRoot, "a", "src"))
		built.again = snapshot(t, filepath.Join(tmpRoot, "b", "elsewhere", "src"))
		built.dir = filepath.Join(tmpRoot, "a", "dist")
		built.res, built.err = runRelease(src, built.dir, built.keys)
	})
	if built.err != nil {
		t.Fatalf("release build: %v", built.err)
	}
	return built
}

var (
	toolOnce sync.Once
	toolPath string
	toolErr  error
)

// runRelease builds the release of src into out with the storekeep-release
// command, as a person releasing runs it. The command runs in a process of
// its own, built without the race detector: under -race, compressing four
// packages of 40 MB each in instrumented code takes many minutes.
func runRelease(src, out, keys string) (Result, error) {
	toolOnce.Do(func() {
		toolPath = filepath.Join(tmpRoot, "storekeep-release")
		cmd := exec.Command("go", "build", "-o", toolPath, "./cmd/storekeep-release")
		cmd.Dir = src
		if b, err := cmd.CombinedOutput(); err != nil {
			toolErr = fmt.Errorf("go build ./cmd/storekeep-release: %v\n%s", err, b)
		}
	})
	if toolErr != nil {
		return Result{}, toolErr
	}
	cmd := exec.Command(toolPath, "--source", src, "--out", out, "--version", testVersion, "--key-dir", keys)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	sums, err := cmd.Output()
	if err != nil {
		return Result{}, fmt.Errorf("storekeep-release: %v\n%s", err, stderr.String())
	}
	res := Result{Version: testVersion, Checksums: string(sums), Signed: true}
	if onDisk, err := os.ReadFile(filepath.Join(out, releases.ChecksumsName)); err != nil || string(onDisk) != res.Checksums {
		return Result{}, fmt.Errorf("%s is not what storekeep-release printed (%v)", releases.ChecksumsName, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(res.Checksums), "\n") {
		_, name, _ := strings.Cut(line, "  ")
		res.Files = append(res.Files, name)
	}
	res.Source, err = ReadSource(context.Background(), src)
	return res, err
}

func TestReleaseFiles(t *testing.T) {
	r := buildRelease(t)
	want := []string{
		"storekeep-1.2.3-rc.1-linux-amd64", "storekeep-1.2.3-rc.1-linux-arm64",
		"storekeep-1.2.3~rc.1-1.aarch64.rpm", "storekeep-1.2.3~rc.1-1.x86_64.rpm",
		"storekeep_1.2.3~rc.1-1_amd64.deb", "storekeep_1.2.3~rc.1-1_arm64.deb",
	}
	got := slices.Sorted(slices.Values(r.res.Files))
	if !slices.Equal(got, want) {
		t.Fatalf("files %q, want %q", got, want)
	}
	// What sha256sum -c accepts, for every file and nothing else.
	cmd := exec.Command(tool(t, "sha256sum", "coreutils"), "-c", releases.ChecksumsName)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Count(string(out), ": OK\n") != len(want) {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	// Every file and SHA256SUMS verify with Debian's minisign and the
	// public key, and the trusted comment says what was signed.
	minisign := tool(t, "minisign", "minisign")
	for _, name := range append(want, releases.ChecksumsName) {
		out, err := exec.Command(minisign, "-V", "-p", filepath.Join(r.keys, releases.PublicKeyFile), "-m", filepath.Join(r.dir, name)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "file:"+name+"\tproduct:storekeep\tversion:"+testVersion) {
			t.Errorf("minisign -V %s: %v\n%s", name, err, out)
		}
	}
	// A changed file fails.
	bad := filepath.Join(t.TempDir(), want[0])
	b, _ := os.ReadFile(filepath.Join(r.dir, want[0]))
	b[len(b)/2] ^= 1
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(minisign, "-V", "-p", filepath.Join(r.keys, releases.PublicKeyFile), "-m", bad, "-x", filepath.Join(r.dir, want[0]+releases.SignatureSuffix)).CombinedOutput(); err == nil {
		t.Errorf("minisign accepted a changed binary:\n%s", out)
	}
}

// TestBinariesSayWhatTheyAre reads the binaries' build information with
// the go command and runs the one for this machine.
func TestBinariesSayWhatTheyAre(t *testing.T) {
	r := buildRelease(t)
	for _, arch := range Arches {
		bin := filepath.Join(r.dir, BinaryName(testVersion, arch))
		out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
		if err != nil {
			t.Fatalf("go version -m: %v\n%s", err, out)
		}
		// (With -trimpath the go command leaves -ldflags out of the build
		// information, since it may hold paths.)
		for _, want := range []string{"-trimpath=true", "CGO_ENABLED=0", "GOARCH=" + arch, "GOOS=linux", "vcs.revision=" + r.res.Source.Commit, "vcs.modified=false"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: build info lacks %q:\n%s", arch, want, out)
			}
		}
		// The version set with -X, and no path of the machine that
		// built it.
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(testVersion)) {
			t.Errorf("%s does not hold its version", bin)
		}
		for _, p := range []string{tmpRoot, os.Getenv("HOME") + "/go/pkg/mod"} {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s holds the build path %s", bin, p)
			}
		}
	}
	if runtime.GOOS != "linux" || !slices.Contains(Arches, runtime.GOARCH) {
		t.Skip("no binary for this machine")
	}
	out, err := exec.Command(filepath.Join(r.dir, BinaryName(testVersion, runtime.GOARCH)), "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Version, Commit, Date, Arch string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != testVersion || v.Commit != r.res.Source.Commit || v.Date != "2026-11-30T12:00:00Z" || v.Arch != runtime.GOARCH {
		t.Errorf("version --json = %+v, want %s %s", v, testVersion, r.res.Source.Commit)
	}
}

// TestReleaseIsReproducible builds the same commit again in another
// directory and compares every file, signatures included.
func TestReleaseIsReproducible(t *testing.T) {
	r := buildRelease(t)
	dir := filepath.Join(tmpRoot, "b", "dist")
	res, err := runRelease(r.again, dir, r.keys)
	if err != nil {
		t.Fatal(err)
	}
	if res.Source.Commit != r.res.Source.Commit {
		t.Fatalf("the snapshots are different commits: %s, %s", res.Source.Commit, r.res.Source.Commit)
	}
	if res.Checksums != r.res.Checksums {
		t.Errorf("the second build differs:\n%s\nfirst:\n%s", res.Checksums, r.res.Checksums)
	}
	for _, name := range append(slices.Clone(res.Files), releases.ChecksumsName) {
		a, _ := os.ReadFile(filepath.Join(r.dir, name+releases.SignatureSuffix))
		b, _ := os.ReadFile(filepath.Join(dir, name+releases.SignatureSuffix))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("the signatures of %s differ", name)
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Source: dir, Out: t.TempDir(), Version: "1.2"}, "semantic version"},
		{Options{Source: dir, Out: t.TempDir(), Version: "1.2.0", Arches: []string{"386"}}, "amd64 and arm64"},
		{Options{Source: dir, Out: t.TempDir(), Version: "1.2.0"}, "Git checkout"},
	} {
		if _, err := Build(ctx, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	// A tree with a change that is not committed.
	src := snapshot(t, filepath.Join(t.TempDir(), "src"))
	if err := os.WriteFile(filepath.Join(src, "stray.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(ctx, Options{Source: src, Out: t.TempDir(), Version: "1.2.0"}); err == nil || !strings.Contains(err.Error(), "uncommitted") {
		t.Errorf("dirty tree: %v", err)
	}
	// A signing key others can read.
	keys := filepath.Join(t.TempDir(), "keys")
	if _, err := releases.GenerateSigningKey(keys, rand.Reader); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(keys, releases.SecretKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(ctx, Options{Source: src, Out: t.TempDir(), Version: "1.2.0", KeyDir: keys, AllowDirty: true}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("readable key: %v", err)
	}
}

// TestDockerfileBuildsLikeARelease: the image's binary is built with the
// release's flags and environment (Docker itself is not on CI's machine,
// so the image is not built here).
func TestDockerfileBuildsLikeARelease(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	m := regexp.MustCompile(`(?m)^RUN (.*go build .*)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("the Dockerfile has no RUN ... go build line")
	}
	fields := strings.Fields(m[1])
	// The environment before "go".
	env := map[string]string{}
	i := 0
	for ; i < len(fields) && fields[i] != "go"; i++ {
		k, v, _ := strings.Cut(fields[i], "=")
		env[k] = v
	}
	for _, kv := range BuildEnv("${TARGETARCH}") {
		if k, v, _ := strings.Cut(kv, "="); slices.Contains([]string{"CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOFLAGS"}, k) && env[k] != v {
			t.Errorf("the Dockerfile sets %s=%q, the release build %q", k, env[k], v)
		}
	}
	// The flags, with the ldflags' quoted value as one argument.
	rest := strings.Join(fields[i+1:], " ")
	ld := regexp.MustCompile(`-ldflags "([^"]*)"`).FindStringSubmatch(rest)
	if ld == nil {
		t.Fatalf("no -ldflags \"...\" in %q", rest)
	}
	want := LDFlags("${VERSION}", Source{Commit: "${COMMIT}"})
	want = strings.Replace(want, time.Time{}.Format(time.RFC3339), "${DATE}", 1)
	if ld[1] != want {
		t.Errorf("the Dockerfile's -ldflags\n %q\nthe release build's\n %q", ld[1], want)
	}
	flags := strings.Fields(strings.Replace(rest, ld[0], "", 1))
	args := GoBuildArgs("", Source{})
	for i := 1; i < len(args); i++ {
		if args[i] == "-ldflags" {
			i++ // compared above
			continue
		}
		if !slices.Contains(flags, args[i]) {
			t.Errorf("the Dockerfile's go build lacks %s", args[i])
		}
	}
	if !slices.Contains(flags, "./cmd/storekeep") {
		t.Error("the Dockerfile does not build ./cmd/storekeep")
	}
}
