package db

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// ContentVersion is the version of what the public pages show: the
// catalog (products, editions, prices), the vendor's settings and the
// policy versions. Triggers on those tables bump it in the same
// transaction as any change to them (migration 00014), so no write path
// can forget to. The public site's page cache keeps pages per version
// (internal/web/site).
func ContentVersion(ctx context.Context, q Querier) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT n FROM content_version WHERE id = 1`).Scan(&n)
	return n, err
}

// ContentStamp says cheaply whether ContentVersion may have moved, so that
// a cache need not read it on every request. The stamp changes after every
// commit through this DB and, on PostgreSQL, whenever another instance
// commits a content change (the triggers NOTIFY storekeep_content, which a
// connection of this DB LISTENs to). A caller reads the stamp, then the
// version, and reads the version again only when the stamp differs.
//
// trusted is false while the stamp cannot see other writers: on
// PostgreSQL before the listening connection is up and whenever it is
// lost (the caller then reads the version every time, or within a bound
// it chooses). On SQLite every writer sharing the file is expected to be
// this process, the one supported deployment; another process (a CLI
// command) is seen through the caller's bound.
func (d *DB) ContentStamp() (stamp uint64, trusted bool) {
	if d.Dialect != Postgres {
		return d.content.stamp.Load(), true
	}
	d.content.start.Do(func() { d.content.listen(d.pgURL) })
	return d.content.stamp.Load(), d.content.live.Load()
}

// WaitContentStamp waits until the stamp differs from old or ctx ends; for
// tests that need another instance's notification to have arrived.
func (d *DB) WaitContentStamp(ctx context.Context, old uint64) (uint64, error) {
	for {
		if s := d.content.stamp.Load(); s != old {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return old, ctx.Err()
		case <-d.content.changed():
		}
	}
}

// contentWatch is the state behind ContentStamp.
type contentWatch struct {
	stamp atomic.Uint64
	live  atomic.Bool // PostgreSQL: LISTEN is in place

	start  sync.Once
	mu     sync.Mutex
	wake   chan struct{} // closed and replaced at each change
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *contentWatch) committed() {
	c.stamp.Add(1)
	c.mu.Lock()
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
	c.mu.Unlock()
}

func (c *contentWatch) changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wake == nil {
		c.wake = make(chan struct{})
	}
	return c.wake
}

// contentChannel is the NOTIFY channel of the content triggers.
const contentChannel = "storekeep_content"

// listen keeps a connection LISTENing to the content triggers until the DB
// closes, reconnecting with backoff. Every notification, and every
// (re)connection (changes may have been missed while it was down), moves
// the stamp.
func (c *contentWatch) listen(url string) {
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.cancel, c.done = cancel, make(chan struct{})
	c.mu.Unlock()
	go func() {
		defer close(c.done)
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := c.listenOnce(ctx, url)
			c.live.Store(false)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				backoff = 100 * time.Millisecond
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}()
}

func (c *contentWatch) listenOnce(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+contentChannel); err != nil {
		return err
	}
	c.live.Store(true)
	c.committed() // whatever changed while nobody listened
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		c.committed()
	}
}

func (c *contentWatch) stop() {
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}
