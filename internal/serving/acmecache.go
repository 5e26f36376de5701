package serving

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"golang.org/x/crypto/acme/autocert"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
)

// DBCache is an autocert.Cache in the database (table acme_cache), so that
// every instance sharing the database uses one ACME account, one
// certificate per domain and can answer a challenge that another instance
// started (autocert stores HTTP-01 answers and TLS-ALPN-01 certificates in
// its cache too).
//
// The rows hold private keys: anyone who can read the database can read
// them, as they can read everything else there.
type DBCache struct {
	db    *db.DB
	clock clock.Clock
}

var _ autocert.Cache = (*DBCache)(nil)

// NewDBCache returns a cache in d's acme_cache table.
func NewDBCache(d *db.DB, clk clock.Clock) *DBCache {
	return &DBCache{db: d, clock: clk}
}

// Get returns the data stored under key, or autocert.ErrCacheMiss.
func (c *DBCache) Get(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := c.db.QueryRowContext(ctx, `SELECT data FROM acme_cache WHERE key = $1`, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, autocert.ErrCacheMiss
	}
	if err != nil {
		return nil, fmt.Errorf("acme cache get %q: %w", key, err)
	}
	if data == nil {
		data = []byte{} // SQLite reads an empty blob as NULL
	}
	return data, nil
}

// Put stores data under key, replacing what was there.
func (c *DBCache) Put(ctx context.Context, key string, data []byte) error {
	if data == nil {
		data = []byte{} // NOT NULL
	}
	_, err := c.db.ExecContext(ctx, `INSERT INTO acme_cache (key, data, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		key, data, c.clock.Now())
	if err != nil {
		return fmt.Errorf("acme cache put %q: %w", key, err)
	}
	return nil
}

// Delete removes key; deleting a missing key is not an error.
func (c *DBCache) Delete(ctx context.Context, key string) error {
	if _, err := c.db.ExecContext(ctx, `DELETE FROM acme_cache WHERE key = $1`, key); err != nil {
		return fmt.Errorf("acme cache delete %q: %w", key, err)
	}
	return nil
}
