package demo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/releases"
)

// SampleRelease is the demo's published release of QuillGuard Milter: a
// small tarball, signed with the demo's throwaway release key, so the
// console's releases area and the published key show something real. It
// is email-gated, so the product page offers it as a trial download
// (internal/web/trials) and the demo shows that flow, its mail in the
// demo's mail viewer.
var SampleRelease = releases.NewRelease{Product: "quillguard", Version: "2.4.0", EmailGated: true,
	Notes: "## QuillGuard Milter 2.4.0\n\n- DKIM checks for ed25519 signatures\n- The milter restarts its workers without dropping connections\n"}

// SeedRelease publishes SampleRelease once; a demo restarted with a kept
// --dir finds it and adds nothing. Without a signing key or store (rs nil
// or unable to sign) it does nothing.
func SeedRelease(ctx context.Context, rs *releases.Releases) (bool, error) {
	if rs == nil || rs.Signer == nil {
		return false, nil
	}
	r, err := rs.Create(ctx, audit.System(), SampleRelease)
	if errors.Is(err, releases.ErrExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("demo release: %w", err)
	}
	tarball, err := sampleTarball(rs.Clock.Now())
	if err != nil {
		return false, err
	}
	if _, err := rs.AddArtifact(ctx, audit.System(), r.ID, releases.NewArtifact{FileName: "quillguard-milter-2.4.0-linux-amd64.tar.gz",
		Platform: "linux/amd64", Content: bytes.NewReader(tarball)}); err != nil {
		return false, fmt.Errorf("demo release artifact: %w", err)
	}
	if _, err := rs.Publish(ctx, audit.System(), r.ID); err != nil {
		return false, fmt.Errorf("publish the demo release: %w", err)
	}
	return true, nil
}

// sampleTarball is a gzipped tar with a README, dated now.
func sampleTarball(now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	readme := []byte("QuillGuard Milter 2.4.0 (demo)\n\nThis archive is the demo's sample artifact; it contains no software.\n")
	if err := tw.WriteHeader(&tar.Header{Name: "quillguard-milter-2.4.0/README", Mode: 0o644, Size: int64(len(readme)), ModTime: now}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(readme); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
