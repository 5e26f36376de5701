package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/repos"
)

func releaseCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "release",
		Short: "Publish and withdraw releases, and make their signing key",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(releaseKeygenCommand(), releasePublishCommand(), releaseYankCommand())
	return c
}

func releaseKeygenCommand() *cobra.Command {
	var dir, vendor string
	c := &cobra.Command{
		Use:   "keygen --dir DIR",
		Short: "Create the keys that sign release artifacts (minisign) and the package repositories (OpenPGP) in DIR",
		Long: `Creates DIR (mode 0700) if needed and writes the release signing key:
DIR/release.key (mode 0600, unencrypted, since Storekeep signs uploads
without a person typing a password) and DIR/release.pub, the public key
customers verify downloads with (minisign -V -p release.pub -m FILE); the
site publishes it at /.well-known/storekeep-release-key.pub.

It also writes the package repositories' OpenPGP key, which signs the APT
and YUM metadata: DIR/repo-signing.key (mode 0600) and its public half
DIR/repo-signing.asc, published at /.well-known/storekeep-repo-key.asc.
Run it again on a DIR that has only the release key to add the repository
key. A key is never replaced (customers' minisign, apt and dnf trust the
public keys): back DIR up, it is not in the database.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError{err: errors.New("--dir is missing: name the directory to keep the release signing key in, e.g. --dir /etc/storekeep/release-key")}
			}
			_, relErr := os.Stat(filepath.Join(dir, releases.SecretKeyFile))
			_, repoErr := os.Stat(filepath.Join(dir, repos.KeyFile))
			if relErr == nil && repoErr == nil {
				return fmt.Errorf("%s holds both keys already (%s and %s): a key is never replaced, since customers verify downloads and repositories with its public key (use another --dir to make new ones)",
					dir, releases.SecretKeyFile, repos.KeyFile)
			}
			out := c.OutOrStdout()
			rel, repo, err := makeMissingKeys(dir, vendor)
			// The release key is reported even when the repository key
			// then failed.
			switch {
			case rel != nil:
				fmt.Fprintf(out, "created the release signing key %s (minisign key id %s) and its public key %s\n",
					filepath.Join(dir, releases.SecretKeyFile), rel.KeyID(), filepath.Join(dir, releases.PublicKeyFile))
			case relErr == nil:
				fmt.Fprintf(out, "kept the release signing key %s\n", filepath.Join(dir, releases.SecretKeyFile))
			}
			if err != nil {
				return err
			}
			if repo == nil {
				fmt.Fprintf(out, "kept the repository key %s\n", filepath.Join(dir, repos.KeyFile))
			} else {
				fmt.Fprintf(out, "created the repository key %s (OpenPGP fingerprint %s) and its public key %s\n",
					filepath.Join(dir, repos.KeyFile), repo.Fingerprint(), filepath.Join(dir, repos.PublicKeyFile))
			}
			fmt.Fprintf(out, "start serve with --release-keys %s (or STOREKEEP_RELEASE_KEYS)\n", dir)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory of the release signing key")
	c.Flags().StringVar(&vendor, "vendor", "Storekeep", "name in the repository key's user id (\"NAME package repositories\")")
	return c
}

// openReleases builds the release domain from the configuration: with a
// signing key (required when needKey), the key is loaded and the store
// directory made if needed. Without a key no store is opened, so a serve
// that does not publish releases creates no directory.
func openReleases(cfg *config.Config, d *db.DB, needKey bool) (*releases.Releases, error) {
	rs := &releases.Releases{DB: d, Clock: clock.System{}, MaxSize: int64(cfg.ReleaseMaxMiB) << 20}
	if cfg.ReleaseKeys == "" {
		if needKey {
			return nil, usageError{err: errors.New("--release-keys is missing: give the directory of the release signing key (create it with: storekeep release keygen --dir DIR)")}
		}
		return rs, nil
	}
	s, err := releases.LoadSigner(cfg.ReleaseKeys)
	if err != nil {
		return nil, err
	}
	rs.Signer = s
	store, err := releases.NewDirStore(cfg.ReleaseStore)
	if err != nil {
		return nil, fmt.Errorf("%w (give a writable directory with --release-store)", err)
	}
	rs.Store = store
	return rs, nil
}

// loadReleases is openReleases for serve: without a key, the console
// says what to configure and nothing can be uploaded.
func loadReleases(cfg *config.Config, d *db.DB, log *slog.Logger) (*releases.Releases, error) {
	rs, err := openReleases(cfg, d, false)
	if err != nil {
		return nil, err
	}
	if rs.Signer == nil {
		log.Warn("no release signing key (--release-keys): releases cannot be published; create one with `storekeep release keygen --dir DIR`")
	} else {
		log.Info("release signing key loaded", "key_id", rs.Signer.KeyID(), "store", cfg.ReleaseStore)
	}
	return rs, nil
}

// loadRepoSigner loads the package repositories' key from the release
// keys directory for serve: without one the repositories are off (the
// account's repository page says so), with a warning saying how to add it.
func loadRepoSigner(cfg *config.Config, now func() time.Time, log *slog.Logger) (*repos.Signer, error) {
	if cfg.ReleaseKeys == "" {
		log.Warn("no release keys (--release-keys): the APT and YUM repositories are off; create the keys with `storekeep release keygen --dir DIR`")
		return nil, nil
	}
	s, err := repos.LoadSigner(cfg.ReleaseKeys, now)
	if errors.Is(err, repos.ErrNoKey) {
		log.Warn("no repository key in the release keys directory: the APT and YUM repositories are off; add it with `storekeep release keygen --dir DIR` on that directory (the release key is kept)", "dir", cfg.ReleaseKeys)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	log.Info("repository key loaded", "fingerprint", s.Fingerprint())
	return s, nil
}

// upload is one FILE[=PLATFORM] argument of release publish.
type upload struct {
	path, name, platform string
	size                 int64
}

func parseUploads(args []string) ([]upload, error) {
	var out []upload
	seen := map[string]bool{}
	for _, a := range args {
		path, platform, _ := strings.Cut(a, "=")
		info, err := os.Stat(path)
		if err != nil {
			return nil, usageError{err: fmt.Errorf("%s: %w; nothing was published", path, err)}
		}
		if !info.Mode().IsRegular() {
			return nil, usageError{err: fmt.Errorf("%s is not a regular file; nothing was published", path)}
		}
		name, err := releases.CleanFileName(filepath.Base(path))
		if err != nil {
			return nil, usageError{err: fmt.Errorf("%s: %v Rename the file; nothing was published", path, err)}
		}
		if seen[name] {
			return nil, usageError{err: fmt.Errorf("two files are named %s: a release's file names are unique; nothing was published", name)}
		}
		seen[name] = true
		out = append(out, upload{path: path, name: name, platform: platform, size: info.Size()})
	}
	return out, nil
}

func releasePublishCommand() *cobra.Command {
	var product, version, channel, notesFile, requires string
	var draft, emailGated bool
	c := cliCommandArgs("publish --product P --version V [--channel C] [--notes FILE] [--requires E,...] [--email-gated] FILE[=PLATFORM]...",
		"Upload a release's files, sign them and publish it", config.Releases, cobra.MinimumNArgs(1),
		func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB, args []string) error {
			if product == "" || version == "" {
				return usageError{err: errors.New("--product and --version are required, e.g. --product acme --version 1.4.0")}
			}
			files, err := parseUploads(args)
			if err != nil {
				return err
			}
			notes := ""
			if notesFile != "" {
				b, err := os.ReadFile(notesFile)
				if err != nil {
					return usageError{err: fmt.Errorf("--notes: %w", err)}
				}
				notes = string(b)
			}
			rs, err := openReleases(cfg, d, true)
			if err != nil {
				return err
			}
			nr := releases.NewRelease{Product: product, Version: version, Channel: releases.Channel(channel), Notes: notes,
				Requires: strings.FieldsFunc(requires, func(r rune) bool { return r == ',' || r == ' ' }), EmailGated: emailGated}
			return publish(ctx, c.OutOrStdout(), os.Stderr, rs, nr, files, !draft)
		})
	c.Long = `Creates the release as a draft (or takes the draft of that version a failed
run left), uploads each FILE into the artifact store, finds out from its
content what it is (tarball, .deb, .rpm, other), signs it with the release
signing key, then publishes the release with its signed checksums file.
PLATFORM is os/arch (linux/amd64) or any; without it a .deb or .rpm takes
its architecture's and other files "any". Files already in the draft with
the same content are skipped, so running the same command again after a
failure finishes the job.`
	c.Flags().StringVar(&product, "product", "", "the product's slug, as the catalog shows it")
	c.Flags().StringVar(&version, "version", "", "the version (semantic versioning: 1.4.0, 2.0.0-rc.1)")
	c.Flags().StringVar(&channel, "channel", "stable", "stable or beta")
	c.Flags().StringVar(&notesFile, "notes", "", "file of release notes in Markdown")
	c.Flags().BoolVar(&draft, "draft", false, "upload the files but leave the release a draft (publish it in the console)")
	c.Flags().StringVar(&requires, "requires", "", "entitlements a license must hold to download it, comma-separated (an add-on's build); none: any license of the product")
	c.Flags().BoolVar(&emailGated, "email-gated", false, "let anyone download it after confirming an email address (a trial or free download)")
	return c
}

func publish(ctx context.Context, out, progress io.Writer, rs *releases.Releases, nr releases.NewRelease, files []upload, andPublish bool) error {
	by := audit.System()
	product, version := nr.Product, nr.Version
	rel, err := releases.ByVersion(ctx, rs.DB, product, version)
	switch {
	case errors.Is(err, releases.ErrNotFound):
		if rel, err = rs.Create(ctx, by, nr); err != nil {
			return err
		}
		fmt.Fprintf(out, "created the draft %s %s (%s)\n", product, rel.Version, rel.Channel)
	case err != nil:
		return err
	case !rel.Draft():
		return fmt.Errorf("%s %s is published already (%s): its files are final; publish a new version", product, rel.Version, rel.State())
	default:
		fmt.Fprintf(out, "continuing the draft %s %s, which has %d files\n", product, rel.Version, len(rel.Artifacts))
	}
	have := map[string]string{}
	for _, a := range rel.Artifacts {
		have[a.FileName] = a.SHA256
	}
	for _, f := range files {
		if sum, ok := have[f.name]; ok {
			local, err := releases.FileSHA256(f.path)
			if err != nil {
				return err
			}
			if local != sum {
				return fmt.Errorf("the draft %s %s has a different %s already: remove it in the console (Releases), or rename the file, then run this again", product, rel.Version, f.name)
			}
			fmt.Fprintf(out, "%s is in the draft already\n", f.name)
			continue
		}
		a, err := addFile(ctx, progress, rs, rel.ID, f)
		if err != nil {
			return fmt.Errorf("%s: %w\nthe draft %s %s keeps the files added so far; run the same command again to finish", f.name, err, product, rel.Version)
		}
		fmt.Fprintf(out, "added %s: %s, %s, %s, sha256 %s\n", a.FileName, a.Kind, a.Platform, releases.FormatSize(a.Size), a.SHA256)
	}
	if !andPublish {
		fmt.Fprintf(out, "the draft %s %s is ready; publish it in the console or run this again without --draft\n", product, rel.Version)
		return nil
	}
	rel, err = rs.Publish(ctx, by, rel.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "published %s %s with %d files; checksums file signed with key %s\n", product, rel.Version, len(rel.Artifacts), rs.Signer.KeyID())
	return nil
}

func addFile(ctx context.Context, progress io.Writer, rs *releases.Releases, id int64, f upload) (releases.Artifact, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return releases.Artifact{}, err
	}
	defer fh.Close()
	var r io.Reader = fh
	if f.size >= progressFrom {
		p := &byteCounter{r: fh, w: progress, name: f.name, total: f.size}
		defer p.done()
		r = p
	}
	return rs.AddArtifact(ctx, audit.System(), id, releases.NewArtifact{FileName: f.name, Platform: f.platform, Content: r})
}

// progressFrom is the size from which an upload shows its progress.
const progressFrom = 8 << 20

// byteCounter shows how much of a file is uploaded, on one line of
// stderr, each 4 MiB.
type byteCounter struct {
	r           io.Reader
	w           io.Writer
	name        string
	total, n    int64
	lastPrinted int64
}

func (b *byteCounter) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n-b.lastPrinted >= 4<<20 || (err == io.EOF && b.n != b.lastPrinted) {
		b.lastPrinted = b.n
		fmt.Fprintf(b.w, "\r%s: %s of %s", b.name, releases.FormatSize(b.n), releases.FormatSize(b.total))
	}
	return n, err
}

func (b *byteCounter) done() {
	if b.lastPrinted > 0 {
		fmt.Fprintln(b.w)
	}
}

func releaseYankCommand() *cobra.Command {
	var product, version, reason string
	c := cliCommandWith("yank --product P --version V --reason TEXT", "Withdraw a published release, saying why", config.Releases,
		func(ctx context.Context, c *cobra.Command, cfg *config.Config, d *db.DB) error {
			if product == "" || version == "" {
				return usageError{err: errors.New("--product and --version are required, e.g. --product acme --version 1.4.0")}
			}
			rs, err := openReleases(cfg, d, false)
			if err != nil {
				return err
			}
			rel, err := releases.ByVersion(ctx, d, product, version)
			if err != nil {
				return err
			}
			rel, err = rs.Yank(ctx, audit.System(), rel.ID, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "withdrew %s %s: %s\n", product, rel.Version, rel.YankReason)
			return nil
		})
	c.Flags().StringVar(&product, "product", "", "the product's slug")
	c.Flags().StringVar(&version, "version", "", "the version to withdraw")
	c.Flags().StringVar(&reason, "reason", "", "why it is withdrawn (recorded in the audit log)")
	return c
}

// demoReleaseKey makes the demo's release signing key once.
func demoReleaseKey(dir string) error {
	_, _, err := makeMissingKeys(dir, "Storekeep demo")
	return err
}

// makeMissingKeys creates in dir whichever of the release signing key and
// the repository key (its user id naming vendor) is not there yet, and
// keeps the one that is; it returns the keys it created, nil for a key
// kept.
func makeMissingKeys(dir, vendor string) (*releases.Signer, *repos.Signer, error) {
	var rel *releases.Signer
	if _, err := os.Stat(filepath.Join(dir, releases.SecretKeyFile)); err != nil {
		if rel, err = releases.GenerateSigningKey(dir, rand.Reader); err != nil {
			return nil, nil, err
		}
	}
	var repo *repos.Signer
	if _, err := os.Stat(filepath.Join(dir, repos.KeyFile)); err != nil {
		if repo, err = repos.GenerateKey(dir, vendor, time.Now); err != nil {
			return rel, nil, err
		}
	}
	return rel, repo, nil
}
