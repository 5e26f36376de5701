// Package releases is the release domain: a product's versions (semantic
// versioning, on a channel, with Markdown notes), drafted, published and
// yanked by staff, and their artifacts: files kept in a Store under keys
// made from their content's SHA-256, each with its checksum, a minisign
// signature by the release signing key and, for .deb and .rpm packages,
// what the package metadata says. Publishing freezes a release and signs
// its checksums file. Downloads and package repositories build on it.
package releases

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"aead.dev/minisign"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Channel is who a release is for.
type Channel string

// The channels.
const (
	Stable Channel = "stable"
	Beta   Channel = "beta"
)

// Channels lists them, in the order forms offer them.
var Channels = []Channel{Stable, Beta}

// Refusals, told apart with errors.Is.
var (
	ErrNotFound = refuse.New(refuse.NotFound, "release_not_found", "There is no such release.")
	ErrExists   = refuse.New(refuse.Conflict, "release_exists", "This release exists already.")
	ErrState    = refuse.New(refuse.Conflict, "release_state", "The release's state does not allow this.")
	ErrNoKey    = refuse.New(refuse.Conflict, "release_no_key",
		"No release signing key is configured: create one with `storekeep release keygen --dir DIR` and start Storekeep with --release-keys DIR.")
	ErrNoStore = refuse.New(refuse.Conflict, "release_no_store",
		"No artifact store is configured: start Storekeep with --release-store DIR.")
)

// Release is one version of a product.
type Release struct {
	ID          int64
	ProductID   int64
	Product     string // the product's slug
	ProductName string
	Version     Version
	Channel     Channel
	Notes       string // Markdown, written by staff
	// Requires are the entitlements a license must hold to download it
	// (sorted; none: any license of the product); EmailGated, that anyone
	// may download it after confirming an email address.
	Requires   []string
	EmailGated bool
	// Checksums is the signed checksums file, and ChecksumsSignature its
	// minisign signature; both are made when the release is published.
	Checksums          string
	ChecksumsSignature string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	PublishedAt        time.Time // zero for a draft
	YankedAt           time.Time // zero unless yanked
	YankReason         string
	Artifacts          []Artifact // filled by ByID and ByVersion
}

// State is draft, published or yanked.
func (r Release) State() string {
	switch {
	case !r.YankedAt.IsZero():
		return "yanked"
	case !r.PublishedAt.IsZero():
		return "published"
	}
	return "draft"
}

// Draft reports whether the release is not published yet.
func (r Release) Draft() bool { return r.PublishedAt.IsZero() }

// Yanked reports whether the release was withdrawn.
func (r Release) Yanked() bool { return !r.YankedAt.IsZero() }

// Artifact is one file of a release.
type Artifact struct {
	ID        int64
	ReleaseID int64
	FileName  string
	Platform  string
	Kind      Kind
	Size      int64
	SHA256    string // hex
	Signature string // minisign signature file's text
	StoreKey  string
	Package   Package // for Deb and RPM
	CreatedAt time.Time
}

// Releases does what staff and the command line do with releases. DB and
// Clock are required; Store and Signer are needed to add artifacts and
// publish (ErrNoStore, ErrNoKey otherwise).
type Releases struct {
	DB     *db.DB
	Store  Store
	Signer *Signer
	Clock  clock.Clock
	// MaxSize is the largest artifact accepted, in bytes; 0 means
	// DefaultMaxSize.
	MaxSize int64
}

// DefaultMaxSize is the artifact size limit when none is configured.
const DefaultMaxSize = 2 << 30

// MaxSizeOrDefault is the artifact size limit in force.
func (rs *Releases) MaxSizeOrDefault() int64 {
	if rs.MaxSize > 0 {
		return rs.MaxSize
	}
	return DefaultMaxSize
}

// NewRelease is what a draft starts with.
type NewRelease struct {
	Product string // slug
	Version string
	Channel Channel // "" is Stable
	Notes   string  // Markdown
	// Requires are the entitlements a license must hold to download the
	// release (an add-on's build); none means any license of the product.
	Requires []string
	// EmailGated lets anyone download the release once they confirm an
	// email address (a trial or a free download), besides license holders.
	EmailGated bool
}

// MaxNotes is the longest release notes, in bytes.
const MaxNotes = 64 << 10

// Create adds a draft release of a product. A version the product has
// already (build metadata aside) is refused.
func (rs *Releases) Create(ctx context.Context, by audit.Actor, nr NewRelease) (Release, error) {
	now := rs.Clock.Now().UTC()
	v, err := ParseVersion(nr.Version)
	if err != nil {
		return Release{}, refuse.Field("version", ErrVersion.Msg)
	}
	if nr.Channel == "" {
		nr.Channel = Stable
	}
	if !slices.Contains(Channels, nr.Channel) {
		return Release{}, refuse.Field("channel", "The channel is stable or beta.")
	}
	notes, err := input.Spec{Field: "notes", Label: "The release notes", Max: MaxNotes, Multiline: true}.Clean(nr.Notes)
	if err != nil {
		return Release{}, err
	}
	requires, err := CleanEntitlements(nr.Requires)
	if err != nil {
		return Release{}, err
	}
	var rel Release
	err = rs.DB.Tx(ctx, func(tx *sql.Tx) error {
		var pid int64
		var name string
		err := tx.QueryRowContext(ctx, `SELECT id, name FROM products WHERE slug = $1`, nr.Product).Scan(&pid, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return refuse.Field("product", fmt.Sprintf("There is no product %q: give the product's slug, as the catalog shows it.", nr.Product))
		}
		if err != nil {
			return fmt.Errorf("create release: %w", err)
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO releases (product_id, version, version_core, channel, notes, requires, email_gated, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`, pid, v.String(), v.Core(), string(nr.Channel), notes,
			strings.Join(requires, " "), nr.EmailGated, now).Scan(&id)
		if db.IsUniqueViolation(err) {
			return ErrExists.Withf("%s %s exists already: publish a new version number instead.", nr.Product, v.Core())
		}
		if err != nil {
			return fmt.Errorf("create release: %w", err)
		}
		rel = Release{ID: id, ProductID: pid, Product: nr.Product, ProductName: name, Version: v, Channel: nr.Channel, Notes: notes,
			Requires: requires, EmailGated: nr.EmailGated, CreatedAt: now, UpdatedAt: now}
		return rs.record(ctx, tx, by, "release.created", rel, string(nr.Channel))
	})
	return rel, err
}

func (rs *Releases) record(ctx context.Context, tx *sql.Tx, by audit.Actor, action string, r Release, detail string) error {
	d := r.Product + " " + r.Version.String()
	if detail != "" {
		d += ": " + detail
	}
	_, err := audit.Append(ctx, tx, audit.Entry{At: rs.Clock.Now().UTC(), Action: action, SubjectType: "release",
		SubjectID: strconv.FormatInt(r.ID, 10), Detail: d}.By(by))
	return err
}

var platformRE = regexp.MustCompile(`^[a-z0-9_]{1,20}/[a-z0-9_]{1,20}$`)

// cleanPlatform checks a platform: "any" or os/arch, such as linux/amd64.
func cleanPlatform(p string) (string, error) {
	if p == "any" || platformRE.MatchString(p) {
		return p, nil
	}
	return "", refuse.Field("platform", "The platform is os/arch in lower case, such as linux/amd64 or windows/arm64, or any.")
}

// packagePlatform is the platform a package's architecture names, for an
// artifact uploaded without one.
func packagePlatform(k Kind, arch string) string {
	m := map[string]string{"all": "any", "noarch": "any", "amd64": "linux/amd64", "x86_64": "linux/amd64",
		"arm64": "linux/arm64", "aarch64": "linux/arm64", "i386": "linux/386", "i686": "linux/386", "armhf": "linux/arm",
		"ppc64el": "linux/ppc64le", "ppc64le": "linux/ppc64le", "s390x": "linux/s390x", "riscv64": "linux/riscv64"}
	if k == Deb || k == RPM {
		if p, ok := m[arch]; ok {
			return p
		}
	}
	return "any"
}

// NewArtifact is a file to add to a draft.
type NewArtifact struct {
	FileName string
	// Platform is os/arch or "any"; "" takes a package's from its
	// architecture, else "any".
	Platform string
	Content  io.Reader
}

// AddArtifact streams a file into the store, finds out from its content
// what it is, signs it and records it in the draft release id. Bad input
// (a path trick in the name, a file that is not what it claims, too
// large, a name the release has already) is refused, and a refused or
// failed upload (the reader failing midway) leaves no row and no file.
func (rs *Releases) AddArtifact(ctx context.Context, by audit.Actor, id int64, na NewArtifact) (Artifact, error) {
	name, err := CleanFileName(na.FileName)
	if err != nil {
		return Artifact{}, refuse.Field("file", err.(*refuse.Error).Msg)
	}
	platform := na.Platform
	if platform != "" {
		if platform, err = cleanPlatform(platform); err != nil {
			return Artifact{}, err
		}
	}
	switch {
	case rs.Store == nil:
		return Artifact{}, ErrNoStore
	case rs.Signer == nil:
		return Artifact{}, ErrNoKey
	}
	// Refuse what can be refused before the bytes are read.
	rel, err := ByID(ctx, rs.DB, id)
	if err != nil {
		return Artifact{}, err
	}
	if err := addable(rel, name); err != nil {
		return Artifact{}, err
	}

	mr := minisign.NewReader(na.Content) // BLAKE2b of the content, for the signature
	obj, err := rs.Store.Put(ctx, name, mr, rs.MaxSizeOrDefault())
	if errors.Is(err, ErrTooLarge) {
		return Artifact{}, refuse.Newf(refuse.Invalid, "release_too_large", "%s is larger than the limit of %s: raise --release-max-size, or split the file.", name, FormatSize(rs.MaxSizeOrDefault()))
	}
	if err != nil {
		return Artifact{}, fmt.Errorf("add artifact %s: %w", name, err)
	}
	kept := false
	defer func() {
		if !kept {
			// Background: the upload's context may be what ended it.
			_ = rs.Store.Delete(context.WithoutCancel(ctx), obj.Key)
		}
	}()
	kind, pkg, err := rs.inspect(ctx, obj.Key, name)
	if err != nil {
		return Artifact{}, err
	}
	if platform == "" {
		platform = packagePlatform(kind, pkg.Arch)
	}
	now := rs.Clock.Now().UTC()
	a := Artifact{ReleaseID: id, FileName: name, Platform: platform, Kind: kind, Size: obj.Size,
		SHA256: hex.EncodeToString(obj.SHA256[:]), StoreKey: obj.Key, Package: pkg, CreatedAt: now}
	a.Signature = rs.Signer.signRead(mr, now, name, rel.Product, rel.Version.String())
	err = rs.DB.Tx(ctx, func(tx *sql.Tx) error {
		rel, err := lockRelease(ctx, tx, rs.DB.Dialect, id)
		if err != nil {
			return err
		}
		if err := addable(rel, name); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO release_artifacts (release_id, file_name, platform, kind, size, sha256, signature, store_key,
			pkg_name, pkg_version, pkg_arch, pkg_control, pkg_meta, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			id, a.FileName, a.Platform, string(a.Kind), a.Size, a.SHA256, a.Signature, a.StoreKey,
			pkg.Name, pkg.Version, pkg.Arch, pkg.Control, pkg.Meta, now).Scan(&a.ID)
		if db.IsUniqueViolation(err) {
			return duplicateName(name)
		}
		if err != nil {
			return fmt.Errorf("add artifact %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE releases SET updated_at = $1 WHERE id = $2`, now, id); err != nil {
			return fmt.Errorf("add artifact %s: %w", name, err)
		}
		return rs.record(ctx, tx, by, "release.artifact_added", rel,
			fmt.Sprintf("%s (%s, %s, %d bytes, sha256 %s)", name, kind, platform, a.Size, a.SHA256))
	})
	if err != nil {
		return Artifact{}, err
	}
	kept = true
	return a, nil
}

func (rs *Releases) inspect(ctx context.Context, key, name string) (Kind, Package, error) {
	b, err := rs.Store.Open(ctx, key)
	if err != nil {
		return "", Package{}, fmt.Errorf("add artifact %s: %w", name, err)
	}
	defer b.Close()
	return Inspect(b, name)
}

func duplicateName(name string) error {
	return ErrExists.Withf("The release has a file named %s already: remove it first, or give this one another name.", name)
}

// addable says whether rel takes a file named name.
func addable(rel Release, name string) error {
	if !rel.Draft() {
		return ErrState.Withf("%s %s is published: its files are final, and signed in its checksums file. Publish a new version instead.", rel.Product, rel.Version)
	}
	for _, a := range rel.Artifacts {
		if a.FileName == name {
			return duplicateName(name)
		}
	}
	return nil
}

// RemoveArtifact removes a file from a draft (an upload that was wrong)
// and its bytes from the store.
func (rs *Releases) RemoveArtifact(ctx context.Context, by audit.Actor, id, artifactID int64) error {
	var key string
	err := rs.DB.Tx(ctx, func(tx *sql.Tx) error {
		rel, err := lockRelease(ctx, tx, rs.DB.Dialect, id)
		if err != nil {
			return err
		}
		if !rel.Draft() {
			return ErrState.With("The release is published: its files are final.")
		}
		var name string
		err = tx.QueryRowContext(ctx, `DELETE FROM release_artifacts WHERE id = $1 AND release_id = $2 RETURNING file_name, store_key`, artifactID, id).Scan(&name, &key)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound.With("The release has no such file.")
		}
		if err != nil {
			return fmt.Errorf("remove artifact: %w", err)
		}
		return rs.record(ctx, tx, by, "release.artifact_removed", rel, name)
	})
	if err != nil {
		return err
	}
	if rs.Store != nil {
		return rs.Store.Delete(ctx, key)
	}
	return nil
}

// Publish makes a draft with at least one file public: it writes and
// signs the checksums file of its files, and from then on they are final.
func (rs *Releases) Publish(ctx context.Context, by audit.Actor, id int64) (Release, error) {
	if rs.Signer == nil {
		return Release{}, ErrNoKey
	}
	var rel Release
	err := rs.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if rel, err = lockRelease(ctx, tx, rs.DB.Dialect, id); err != nil {
			return err
		}
		if !rel.Draft() {
			return ErrState.Withf("%s %s is published already.", rel.Product, rel.Version)
		}
		if len(rel.Artifacts) == 0 {
			return ErrState.With("The release has no files yet: add at least one before publishing.")
		}
		now := rs.Clock.Now().UTC()
		rel.Checksums = Checksums(rel.Artifacts)
		rel.ChecksumsSignature = rs.Signer.signBytes([]byte(rel.Checksums), now, ChecksumsName, rel.Product, rel.Version.String())
		rel.PublishedAt, rel.UpdatedAt = now, now
		res, err := tx.ExecContext(ctx, `UPDATE releases SET published_at = $1, updated_at = $1, checksums = $2, checksums_signature = $3
			WHERE id = $4 AND published_at IS NULL`, now, rel.Checksums, rel.ChecksumsSignature, id)
		if err != nil {
			return fmt.Errorf("publish release: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrState.With("The release was published meanwhile.")
		}
		return rs.record(ctx, tx, by, "release.published", rel, fmt.Sprintf("%d files, channel %s", len(rel.Artifacts), rel.Channel))
	})
	return rel, err
}

// Yank withdraws a published release, with the reason (recorded and shown
// to staff). Its files stay for whoever needs them, but no one is offered
// it any more.
func (rs *Releases) Yank(ctx context.Context, by audit.Actor, id int64, why string) (Release, error) {
	why, err := input.Spec{Field: "reason", Label: "The reason", Max: 500, Required: true,
		Missing: "Say why the release is withdrawn: the reason is recorded."}.Clean(why)
	if err != nil {
		return Release{}, err
	}
	var rel Release
	err = rs.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if rel, err = lockRelease(ctx, tx, rs.DB.Dialect, id); err != nil {
			return err
		}
		switch {
		case rel.Draft():
			return ErrState.With("The release is a draft: nobody has it yet, so there is nothing to withdraw.")
		case rel.Yanked():
			return ErrState.Withf("%s %s is withdrawn already.", rel.Product, rel.Version)
		}
		now := rs.Clock.Now().UTC()
		rel.YankedAt, rel.YankReason, rel.UpdatedAt = now, why, now
		if _, err := tx.ExecContext(ctx, `UPDATE releases SET yanked_at = $1, yank_reason = $2, updated_at = $1 WHERE id = $3`, now, why, id); err != nil {
			return fmt.Errorf("yank release: %w", err)
		}
		return rs.record(ctx, tx, by, "release.yanked", rel, why)
	})
	return rel, err
}

// FormatSize is a byte count for people: 1.5 MiB.
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[exp]
}

// SetNotes replaces a release's notes, in any state: notes are not part of
// the signed files, and a typo or a missing upgrade warning is fixed where
// customers read it. The change is audited with the new length.
func (rs *Releases) SetNotes(ctx context.Context, by audit.Actor, id int64, notes string) (Release, error) {
	notes, err := input.Spec{Field: "notes", Label: "The release notes", Max: MaxNotes, Multiline: true}.Clean(notes)
	if err != nil {
		return Release{}, err
	}
	var rel Release
	err = rs.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if rel, err = lockRelease(ctx, tx, rs.DB.Dialect, id); err != nil {
			return err
		}
		if rel.Notes == notes {
			return nil
		}
		now := rs.Clock.Now().UTC()
		rel.Notes, rel.UpdatedAt = notes, now
		if _, err := tx.ExecContext(ctx, `UPDATE releases SET notes = $1, updated_at = $2 WHERE id = $3`, notes, now, id); err != nil {
			return fmt.Errorf("release notes: %w", err)
		}
		return rs.record(ctx, tx, by, "release.notes_changed", rel, fmt.Sprintf("%d bytes", len(notes)))
	})
	return rel, err
}
