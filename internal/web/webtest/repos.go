package webtest

import (
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/web/app"
)

// WithRepoSigner signs the APT and YUM repositories' metadata with s
// (repos.GenerateKey); with license keys and releases (WithLicenseKeys,
// WithReleases) it mounts the repositories.
func WithRepoSigner(s *repos.Signer) Option { return func(o *app.Options) { o.RepoSigner = s } }
