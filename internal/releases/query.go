package releases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

const releaseCols = `r.id, r.product_id, p.slug, p.name, r.version, r.channel, r.notes, r.checksums, r.checksums_signature,
	r.created_at, r.updated_at, r.published_at, r.yanked_at, r.yank_reason, r.requires, r.email_gated`

const releaseFrom = ` FROM releases r JOIN products p ON p.id = r.product_id`

func scanRelease(row interface{ Scan(...any) error }) (Release, error) {
	var r Release
	var version, channel string
	var published, yanked sql.NullTime
	var requires string
	err := row.Scan(&r.ID, &r.ProductID, &r.Product, &r.ProductName, &version, &channel, &r.Notes, &r.Checksums, &r.ChecksumsSignature,
		&r.CreatedAt, &r.UpdatedAt, &published, &yanked, &r.YankReason, &requires, &r.EmailGated)
	if err != nil {
		return Release{}, err
	}
	if r.Version, err = ParseVersion(version); err != nil {
		return Release{}, fmt.Errorf("release %d: stored version %q: %w", r.ID, version, err)
	}
	r.Channel = Channel(channel)
	r.Requires = strings.Fields(requires)
	r.PublishedAt, r.YankedAt = utc(published), utc(yanked)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

func utc(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// ByID reads a release with its artifacts, or ErrNotFound.
func ByID(ctx context.Context, q db.Querier, id int64) (Release, error) {
	r, err := scanRelease(q.QueryRowContext(ctx, `SELECT `+releaseCols+releaseFrom+` WHERE r.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Release{}, ErrNotFound
	}
	if err != nil {
		return Release{}, fmt.Errorf("read release: %w", err)
	}
	r.Artifacts, err = artifacts(ctx, q, id)
	return r, err
}

// ByVersion reads the release of the product (slug) with the version
// (build metadata aside), or ErrNotFound.
func ByVersion(ctx context.Context, q db.Querier, product, version string) (Release, error) {
	v, err := ParseVersion(version)
	if err != nil {
		return Release{}, err
	}
	var id int64
	err = q.QueryRowContext(ctx, `SELECT r.id`+releaseFrom+` WHERE p.slug = $1 AND r.version_core = $2`, product, v.Core()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Release{}, ErrNotFound.Withf("%s has no release %s.", product, v.Core())
	}
	if err != nil {
		return Release{}, fmt.Errorf("read release: %w", err)
	}
	return ByID(ctx, q, id)
}

// lockRelease reads a release with its artifacts in tx, its row locked
// on PostgreSQL (SQLite's writer holds the lock already).
func lockRelease(ctx context.Context, tx *sql.Tx, d db.Dialect, id int64) (Release, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM releases WHERE id = $1`+d.ForUpdate(), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return Release{}, ErrNotFound
	}
	if err != nil {
		return Release{}, fmt.Errorf("lock release: %w", err)
	}
	return ByID(ctx, tx, id)
}

const artifactCols = `a.id, a.release_id, a.file_name, a.platform, a.kind, a.size, a.sha256, a.signature, a.store_key,
	a.pkg_name, a.pkg_version, a.pkg_arch, a.pkg_control, a.pkg_meta, a.created_at`

func scanArtifact(row interface{ Scan(...any) error }) (Artifact, error) {
	var a Artifact
	var kind string
	if err := row.Scan(&a.ID, &a.ReleaseID, &a.FileName, &a.Platform, &kind, &a.Size, &a.SHA256, &a.Signature, &a.StoreKey,
		&a.Package.Name, &a.Package.Version, &a.Package.Arch, &a.Package.Control, &a.Package.Meta, &a.CreatedAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return a, err
		}
		return a, fmt.Errorf("read artifacts: %w", err)
	}
	a.Kind, a.CreatedAt = Kind(kind), a.CreatedAt.UTC()
	return a, nil
}

func artifacts(ctx context.Context, q db.Querier, releaseID int64) ([]Artifact, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+artifactCols+` FROM release_artifacts a WHERE a.release_id = $1 ORDER BY a.file_name`, releaseID)
	if err != nil {
		return nil, fmt.Errorf("read artifacts: %w", err)
	}
	defer rows.Close()
	var out []Artifact
	for rows.Next() {
		a, err := scanArtifact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Summary is a release in a list: the release without its artifacts'
// details, with their count.
type Summary struct {
	Release
	Files int
}

// List reads a product's releases (id), newest version first by semver
// precedence (2.0.0 before 2.0.0-rc.1 before 1.10.0).
func List(ctx context.Context, q db.Querier, productID int64) ([]Summary, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+releaseCols+`, (SELECT count(*) FROM release_artifacts a WHERE a.release_id = r.id)`+
		releaseFrom+` WHERE r.product_id = $1`, productID)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var s Summary
		var files int
		r, err := scanRelease(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &files)...) }))
		if err != nil {
			return nil, fmt.Errorf("list releases: %w", err)
		}
		s.Release, s.Files = r, files
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	slices.SortFunc(out, func(a, b Summary) int { return b.Version.Compare(a.Version) })
	return out, nil
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Published reads the published releases of the product (slug) that are
// not withdrawn, newest first by semver precedence, each with its
// artifacts: what downloads and the package repositories offer. Two
// queries whatever the number of releases.
func Published(ctx context.Context, q db.Querier, product string) ([]Release, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+releaseCols+releaseFrom+`
		WHERE p.slug = $1 AND r.published_at IS NOT NULL AND r.yanked_at IS NULL`, product)
	if err != nil {
		return nil, fmt.Errorf("published releases: %w", err)
	}
	defer rows.Close()
	var out []Release
	index := map[int64]int{}
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, fmt.Errorf("published releases: %w", err)
		}
		index[r.ID] = len(out)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("published releases: %w", err)
	}
	_ = rows.Close()
	arows, err := q.QueryContext(ctx, `SELECT `+artifactCols+` FROM release_artifacts a JOIN releases r ON r.id = a.release_id
		JOIN products p ON p.id = r.product_id
		WHERE p.slug = $1 AND r.published_at IS NOT NULL AND r.yanked_at IS NULL ORDER BY a.file_name`, product)
	if err != nil {
		return nil, fmt.Errorf("published artifacts: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		a, err := scanArtifact(arows)
		if err != nil {
			return nil, err
		}
		if i, ok := index[a.ReleaseID]; ok {
			out[i].Artifacts = append(out[i].Artifacts, a)
		}
	}
	if err := arows.Err(); err != nil {
		return nil, fmt.Errorf("published artifacts: %w", err)
	}
	slices.SortFunc(out, func(a, b Release) int { return b.Version.Compare(a.Version) })
	return out, nil
}

// ArtifactByID reads one artifact with its release (the release's own
// artifacts left empty), or ErrNotFound.
func ArtifactByID(ctx context.Context, q db.Querier, id int64) (Artifact, Release, error) {
	a, err := scanArtifact(q.QueryRowContext(ctx, `SELECT `+artifactCols+` FROM release_artifacts a WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Artifact{}, Release{}, ErrNotFound
	}
	if err != nil {
		return Artifact{}, Release{}, err
	}
	r, err := scanRelease(q.QueryRowContext(ctx, `SELECT `+releaseCols+releaseFrom+` WHERE r.id = $1`, a.ReleaseID))
	if err != nil {
		return Artifact{}, Release{}, fmt.Errorf("read artifact's release: %w", err)
	}
	return a, r, nil
}
