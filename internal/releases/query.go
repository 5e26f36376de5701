package releases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

const releaseCols = `r.id, r.product_id, p.slug, p.name, r.version, r.channel, r.notes, r.checksums, r.checksums_signature,
	r.created_at, r.updated_at, r.published_at, r.yanked_at, r.yank_reason`

const releaseFrom = ` FROM releases r JOIN products p ON p.id = r.product_id`

func scanRelease(row interface{ Scan(...any) error }) (Release, error) {
	var r Release
	var version, channel string
	var published, yanked sql.NullTime
	err := row.Scan(&r.ID, &r.ProductID, &r.Product, &r.ProductName, &version, &channel, &r.Notes, &r.Checksums, &r.ChecksumsSignature,
		&r.CreatedAt, &r.UpdatedAt, &published, &yanked, &r.YankReason)
	if err != nil {
		return Release{}, err
	}
	if r.Version, err = ParseVersion(version); err != nil {
		return Release{}, fmt.Errorf("release %d: stored version %q: %w", r.ID, version, err)
	}
	r.Channel = Channel(channel)
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

func artifacts(ctx context.Context, q db.Querier, releaseID int64) ([]Artifact, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, release_id, file_name, platform, kind, size, sha256, signature, store_key,
		pkg_name, pkg_version, pkg_arch, pkg_control, created_at FROM release_artifacts WHERE release_id = $1 ORDER BY file_name`, releaseID)
	if err != nil {
		return nil, fmt.Errorf("read artifacts: %w", err)
	}
	defer rows.Close()
	var out []Artifact
	for rows.Next() {
		var a Artifact
		var kind string
		if err := rows.Scan(&a.ID, &a.ReleaseID, &a.FileName, &a.Platform, &kind, &a.Size, &a.SHA256, &a.Signature, &a.StoreKey,
			&a.Package.Name, &a.Package.Version, &a.Package.Arch, &a.Package.Control, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("read artifacts: %w", err)
		}
		a.Kind, a.CreatedAt = Kind(kind), a.CreatedAt.UTC()
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
