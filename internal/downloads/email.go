package downloads

import (
	"context"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/releases"
)

// CheckEmailGrant says whether the email-gated download request id still
// entitles its holder to the files of rel at now: the request must be
// confirmed, not expired, and for rel, which must be email-gated and
// published. It returns nil when it does.
//
// (Being built: until email-gated requests exist every such grant is
// refused.)
func CheckEmailGrant(ctx context.Context, q db.Querier, id int64, rel releases.Release, now time.Time) error {
	return ErrLinkInvalid
}
