// Package packaging makes a release of Storekeep itself: the binaries for
// linux/amd64 and linux/arm64, built reproducibly; a .deb and an .rpm of
// each with the systemd unit, the settings file and the service user
// (package deploy holds those files); a SHA256SUMS file; and a minisign
// signature of every file, made with the release key as the releases area
// signs the vendor's own products (releases.Signer). cmd/storekeep-release
// runs it; the storekeep binary does not link it.
//
// Reproducible means: the same commit built by anyone, in any directory,
// gives the same bytes. So the build takes no path (-trimpath), no time
// but the commit's, no host name, and it sets every variable of the go
// command's environment that changes the output.
package packaging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/buildinfo"
	"github.com/storekeep/storekeep/internal/releases"
)

// Arches are the architectures a release is built for.
var Arches = []string{"amd64", "arm64"}

// Product is the name the signatures' trusted comments give.
const Product = "storekeep"

// Options says what to build.
type Options struct {
	// Source is the repository's root (a Git checkout).
	Source string
	// Out is the directory the files are written to; made if missing.
	Out string
	// Version is the release's semantic version, such as 1.4.0.
	Version string
	// Arches defaults to Arches.
	Arches []string
	// KeyDir is the release signing key's directory (storekeep release
	// keygen); "" writes no signatures.
	KeyDir string
	// AllowDirty builds a tree with uncommitted changes (its binaries
	// then say so in storekeep version, and are not reproducible).
	AllowDirty bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Source is what the build reads from Git.
type Source struct {
	Commit string
	// Date is the commit's time, which stands for the build's time
	// everywhere: binaries, package files, signatures.
	Date  time.Time
	Dirty bool
}

// Result lists what Build wrote, by file name in Out.
type Result struct {
	Version string
	Source  Source
	// Files are the artifacts (binaries and packages), by name.
	Files []string
	// Checksums is SHA256SUMS's content.
	Checksums string
	// Signed is true when every file and SHA256SUMS has a .minisig.
	Signed bool
}

// Build makes the release.
func Build(ctx context.Context, o Options) (Result, error) {
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	v, err := releases.ParseVersion(o.Version)
	if err != nil {
		return Result{}, fmt.Errorf("--version %q: give a semantic version such as 1.4.0 or 2.0.0-rc.1", o.Version)
	}
	arches := o.Arches
	if len(arches) == 0 {
		arches = Arches
	}
	for _, a := range arches {
		if !slices.Contains(Arches, a) {
			return Result{}, fmt.Errorf("architecture %q: Storekeep releases are built for %s", a, strings.Join(Arches, " and "))
		}
	}
	src, err := ReadSource(ctx, o.Source)
	if err != nil {
		return Result{}, err
	}
	if src.Dirty && !o.AllowDirty {
		return Result{}, fmt.Errorf("%s has uncommitted changes or untracked files (git status): a release is built from a commit; commit or stash them, or pass --allow-dirty for a test build", o.Source)
	}
	var signer *releases.Signer
	if o.KeyDir != "" {
		if signer, err = releases.LoadSigner(o.KeyDir); err != nil {
			return Result{}, err
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return Result{}, err
	}
	res := Result{Version: v.String(), Source: src}
	for _, arch := range arches {
		bin := filepath.Join(o.Out, BinaryName(res.Version, arch))
		fmt.Fprintf(logw, "building %s\n", filepath.Base(bin))
		if err := GoBuild(ctx, o.Source, arch, res.Version, src, bin); err != nil {
			return Result{}, err
		}
		res.Files = append(res.Files, filepath.Base(bin))
		for _, format := range []string{"deb", "rpm"} {
			name, err := Package(format, o.Source, bin, arch, v, src.Date, o.Out)
			if err != nil {
				return Result{}, err
			}
			fmt.Fprintf(logw, "packaged %s\n", name)
			res.Files = append(res.Files, name)
		}
	}
	var arts []releases.Artifact
	for _, name := range res.Files {
		sum, err := releases.FileSHA256(filepath.Join(o.Out, name))
		if err != nil {
			return Result{}, err
		}
		arts = append(arts, releases.Artifact{FileName: name, SHA256: sum})
	}
	res.Checksums = releases.Checksums(arts)
	if err := os.WriteFile(filepath.Join(o.Out, releases.ChecksumsName), []byte(res.Checksums), 0o644); err != nil {
		return Result{}, err
	}
	if signer != nil {
		for _, name := range append(slices.Clone(res.Files), releases.ChecksumsName) {
			if err := signFile(signer, filepath.Join(o.Out, name), src.Date, res.Version); err != nil {
				return Result{}, err
			}
		}
		res.Signed = true
		fmt.Fprintf(logw, "signed with key %s\n", signer.KeyID())
	}
	return res, nil
}

// BinaryName is the file name of the binary for arch.
func BinaryName(version, arch string) string {
	return "storekeep-" + version + "-linux-" + arch
}

// ReadSource reads the commit, its time and whether the tree is dirty.
func ReadSource(ctx context.Context, dir string) (Source, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s in %s: %w: %s (a release is built from a Git checkout)", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out)), nil
	}
	commit, err := git("rev-parse", "HEAD")
	if err != nil {
		return Source{}, err
	}
	unix, err := git("show", "-s", "--format=%ct", "HEAD")
	if err != nil {
		return Source{}, err
	}
	var secs int64
	if _, err := fmt.Sscan(unix, &secs); err != nil {
		return Source{}, fmt.Errorf("commit time %q: %w", unix, err)
	}
	status, err := git("status", "--porcelain")
	if err != nil {
		return Source{}, err
	}
	return Source{Commit: commit, Date: time.Unix(secs, 0).UTC(), Dirty: status != ""}, nil
}

// GoBuildArgs are the go command's arguments for a release binary, after
// "go" and before the output and package. The Dockerfile builds with the
// same flags (a test compares).
func GoBuildArgs(version string, src Source) []string {
	return []string{"build", "-trimpath", "-buildvcs=true", "-ldflags", LDFlags(version, src)}
}

// LDFlags are the linker flags: no symbol table or DWARF (-s -w; panics
// still print their stack), and the version, commit and commit time.
func LDFlags(version string, src Source) string {
	return fmt.Sprintf("-s -w -X %[1]s.version=%[2]s -X %[1]s.commit=%[3]s -X %[1]s.date=%[4]s",
		buildinfo.Package, version, src.Commit, src.Date.Format(time.RFC3339))
}

// BuildEnv is the go command's environment for a release binary for
// arch: the caller's (PATH, HOME, the caches, GOTOOLCHAIN, the proxy)
// with everything that changes the output set.
func BuildEnv(arch string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOFLAGS", "GOEXPERIMENT", "GOEXE", "CGO_CFLAGS", "CGO_LDFLAGS":
			return true
		}
		return false
	})
	// Pure Go (modernc.org/sqlite), so the binary runs on any Linux; the
	// lowest level of each architecture, so on any processor.
	return append(env, "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOAMD64=v1", "GOARM64=v8.0", "GOFLAGS=-mod=readonly")
}

// GoBuild builds ./cmd/storekeep for linux/arch into out.
func GoBuild(ctx context.Context, source, arch, version string, src Source, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	args := append(GoBuildArgs(version, src), "-o", abs, "./cmd/storekeep")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = source
	cmd.Env = BuildEnv(arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s (GOARCH=%s): %w\n%s", strings.Join(args, " "), arch, err, b)
	}
	return nil
}

func signFile(s *releases.Signer, path string, at time.Time, version string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sig, err := s.SignFile(f, at, filepath.Base(path), Product, version)
	if err != nil {
		return fmt.Errorf("sign %s: %w", path, err)
	}
	if err := os.WriteFile(path+releases.SignatureSuffix, []byte(sig), 0o644); err != nil {
		return errors.Join(fmt.Errorf("write the signature of %s", path), err)
	}
	return nil
}
