// Package ratelimit counts attempts in fixed time windows, in the database,
// so that limits hold across all instances behind a load balancer. It guards
// everything that checks a secret or sends mail.
//
// Buckets name what is limited ("login:account:...", "login:net:...").
// Callers pass identifying parts (an email address, an IP address) through
// Key, which hashes them with the installation's secret, so the table holds
// no address in the clear and its keys cannot be reversed by guessing.
package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// Limit is at most Max hits per Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limiter checks and counts hits.
type Limiter struct {
	db     *db.DB
	secret []byte
}

// New returns a limiter; secret keys the hashes of bucket names.
func New(d *db.DB, secret []byte) *Limiter { return &Limiter{db: d, secret: secret} }

// Key builds a bucket name from a kind and an identifying value, hashed.
func (l *Limiter) Key(kind, value string) string {
	m := hmac.New(sha256.New, l.secret)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return kind + ":" + hex.EncodeToString(m.Sum(nil)[:16])
}

// Allow counts one hit in bucket and reports whether it is within lim. A hit
// over the limit is still counted, so hammering does not reopen the window.
func (l *Limiter) Allow(ctx context.Context, bucket string, lim Limit, now time.Time) (bool, error) {
	start := now.UTC().Truncate(lim.Window)
	var hits int
	err := l.db.Writer().QueryRowContext(ctx, `INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
		ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1
		RETURNING hits`, bucket, start).Scan(&hits)
	if err != nil {
		return false, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	return hits <= lim.Max, nil
}

// Blocked reports, without counting, whether bucket is over lim now.
func (l *Limiter) Blocked(ctx context.Context, bucket string, lim Limit, now time.Time) (bool, error) {
	var hits int
	err := l.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(hits), 0) FROM rate_limits WHERE bucket = $1 AND window_start = $2`,
		bucket, now.UTC().Truncate(lim.Window)).Scan(&hits)
	if err != nil {
		return false, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	return hits >= lim.Max, nil
}
