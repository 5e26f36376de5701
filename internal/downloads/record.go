package downloads

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// Via is how a file was fetched.
type Via string

// The ways a file is fetched.
const (
	ViaAccount Via = "account" // a signed link from the account or the API
	ViaEmail   Via = "email"   // a link of a confirmed email-gated request
	ViaAPT     Via = "apt"     // the APT repository
	ViaYUM     Via = "yum"     // the YUM repository
)

// Download is one request for a file, as the log keeps it.
type Download struct {
	ArtifactID int64
	LicenseID  int64 // 0 when none
	CustomerID int64 // 0 when none
	// RequestID is the confirmed email-gated request the download was made
	// with (Via ViaEmail); 0 when none. Erasing or purging the request
	// deletes its log rows (ON DELETE CASCADE).
	RequestID int64
	Via       Via
	Network   netip.Addr // the full address; the purge truncates it later
	FirstByte int64      // where the range started; 0 for a whole file
	At        time.Time
}

// Record writes d to the download log.
func Record(ctx context.Context, q db.Querier, d Download) error {
	addr := ""
	if d.Network.IsValid() {
		addr = d.Network.Unmap().String()
	}
	_, err := q.ExecContext(ctx, `INSERT INTO downloads (artifact_id, license_id, customer_id, request_id, via, network, first_byte, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, d.ArtifactID, nullID(d.LicenseID), nullID(d.CustomerID), nullID(d.RequestID),
		string(d.Via), addr, d.FirstByte, d.At.UTC())
	if err != nil {
		return fmt.Errorf("record download: %w", err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
