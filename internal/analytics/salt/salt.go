// Package salt keeps the day's visitor salt: 32 random bytes, made anew
// every UTC day, under which the analytics count a visitor as
// HMAC(salt, site || address || user agent) without a cookie. The salt
// lives only in memory and is never written anywhere in a form that can
// be opened, so nobody (not the vendor, not whoever copies the database)
// can recompute a visitor from what is stored.
//
// Several instances on one database agree on the salt through the table
// analytics_salt_peers: each instance makes an X25519 key pair per day,
// kept in memory only, and publishes its public key; an instance that
// holds the salt seals it to every peer that asks (X25519, HKDF-SHA256,
// AES-256-GCM), and the peer opens it with its private key. The protocol,
// the threat model and the failure cases are in docs/analytics-salt.md.
//
// A Keeper is one instance's side of it: Run (or Sync, in tests) does the
// rounds; Salt answers the analytics ingest on every beacon, without a
// lock, an allocation or the database.
package salt

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
)

// Defaults of the options.
const (
	// DefaultInterval is how often Run syncs: how long a new instance
	// waits at most for a holder to seal the salt to it, and then to
	// open it.
	DefaultInterval = time.Second
	// DefaultTimeout is how long a peer may go without a heartbeat
	// before the others take it for dead: they delete its rows, and when
	// it was the day's last holder they make a new salt. Clocks of the
	// instances must agree to well within it (docs/analytics-salt.md).
	DefaultTimeout = 2 * time.Minute
	// Lead is how long before midnight (UTC) the instances start to
	// agree on the next day's salt, so that it is held everywhere when
	// the day begins.
	Lead = 10 * time.Minute
)

// Option changes a Keeper's defaults.
type Option func(*Keeper)

// WithInterval sets how often Run syncs (DefaultInterval when d <= 0).
func WithInterval(d time.Duration) Option {
	return func(k *Keeper) {
		if d > 0 {
			k.interval = d
		}
	}
}

// Keeper holds this instance's side of the day's salt. Create it with
// New; call Run once, in its own goroutine.
type Keeper struct {
	db       *db.DB
	clock    clock.Clock
	log      *slog.Logger
	interval time.Duration
	timeout  time.Duration

	// slots publish the salts Salt reads: the day's and, near midnight,
	// the next day's, at the index of the day's parity.
	slots [2]slot

	// mu serialises Sync; everything below is Sync's.
	mu     sync.Mutex
	rounds map[int64]*round // by day number
	// lastOK is the time of the last Sync that succeeded; judgeFrom is
	// when this instance may again take others' old heartbeats as a sign
	// of their death (see Sync).
	lastOK, judgeFrom time.Time

	// synced, when set (tests), is called by Run after each Sync.
	synced func()
}

// New returns a Keeper that agrees on the salt through d. A nil log
// discards the messages; no message ever holds a salt, a key or anything
// derived from one.
func New(d *db.DB, clk clock.Clock, log *slog.Logger, opts ...Option) *Keeper {
	if clk == nil {
		clk = clock.System{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := &Keeper{db: d, clock: clk, log: log, interval: DefaultInterval, timeout: DefaultTimeout,
		rounds: map[int64]*round{}}
	for _, o := range opts {
		o(k)
	}
	for i := range k.slots {
		k.slots[i].day.Store(noDay)
	}
	return k
}

// Salt returns the salt for the UTC day of now, as a copy the caller
// should not keep beyond the hit it hashes. ok is false while this
// instance does not hold that day's salt: for at most two sync intervals
// after it starts (a holder seals the salt to it in its next round, this
// instance opens it in its own), and after the last holder of the day
// died (docs/analytics-salt.md). The caller then drops the hit.
//
// Salt takes no lock and does not allocate.
func (k *Keeper) Salt(now time.Time) (salt [32]byte, ok bool) {
	d := dayNumber(now)
	return k.slots[d&1].load(d)
}

// Run calls Sync at once and then every interval until ctx ends, logging
// failures (at most once a minute while they last). On return it forgets
// every key and salt (overwriting them) and deletes this instance's rows.
func (k *Keeper) Run(ctx context.Context) {
	var lastWarn time.Time
	for {
		if err := k.Sync(ctx); err != nil && ctx.Err() == nil {
			if now := k.clock.Now(); lastWarn.IsZero() || now.Sub(lastWarn) >= time.Minute {
				lastWarn = now
				k.log.Warn("analytics salt: sync failed; visitors are not counted while this instance does not hold the day's salt", slog.Any("err", err))
			}
		}
		next := clock.After(k.clock, k.interval)
		if k.synced != nil {
			k.synced() // after the timer is set, so a test moving the clock fires it
		}
		select {
		case <-ctx.Done():
			k.forgetAll(context.WithoutCancel(ctx))
			return
		case <-next:
		}
	}
}

// forgetAll overwrites every key and salt and deletes this instance's
// rows: its peers stop sealing to keys that are gone, and without a row
// it counts as a holder no more.
func (k *Keeper) forgetAll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	k.mu.Lock()
	defer k.mu.Unlock()
	for day, r := range k.rounds {
		if _, err := k.db.Writer().ExecContext(ctx, `DELETE FROM analytics_salt_peers WHERE day = $1 AND peer = $2`, r.name, r.peer); err != nil {
			k.log.Warn("analytics salt: this instance's row stays until the others take it for dead", slog.String("day", r.name), slog.Any("err", err))
		}
		k.drop(day)
	}
}

// round is this instance's part of one day: its key pair and peer id,
// the generation it holds or asks for and, once it has it, the salt.
type round struct {
	day  int64  // days since 1970-01-01
	name string // YYYY-MM-DD
	peer string
	priv [32]byte
	pub  []byte
	gen  int64
	have bool
	salt [32]byte
}

// drop overwrites a round's key and salt, unpublishes the salt and
// forgets the round.
func (k *Keeper) drop(day int64) {
	r := k.rounds[day]
	if r == nil {
		return
	}
	k.release(r)
	clear(r.priv[:])
	delete(k.rounds, day)
}

// release forgets the salt a round holds (its key stays).
func (k *Keeper) release(r *round) {
	if s := &k.slots[r.day&1]; s.day.Load() == r.day {
		s.clear()
	}
	clear(r.salt[:])
	r.have = false
}

// publish makes the round's salt what Salt answers for its day.
func (k *Keeper) publish(r *round) {
	k.slots[r.day&1].store(r.day, &r.salt)
}

// noDay marks an empty slot.
const noDay = math.MinInt64

// slot is one published salt, read without a lock: a sequence lock over
// atomic words. The writer (Sync, under mu) makes seq odd, writes, and
// makes it even again; a reader that sees seq odd or changed reads again.
// Writes happen a few times a day, so a reader practically never retries;
// every access is atomic, so the race detector has nothing to say.
type slot struct {
	seq   atomic.Uint64
	day   atomic.Int64
	words [4]atomic.Uint64
}

func (s *slot) store(day int64, salt *[32]byte) {
	s.seq.Add(1)
	s.day.Store(day)
	for i := range s.words {
		s.words[i].Store(binary.LittleEndian.Uint64(salt[8*i:]))
	}
	s.seq.Add(1)
}

func (s *slot) clear() {
	s.seq.Add(1)
	s.day.Store(noDay)
	for i := range s.words {
		s.words[i].Store(0)
	}
	s.seq.Add(1)
}

func (s *slot) load(day int64) (salt [32]byte, ok bool) {
	for {
		seq := s.seq.Load()
		if seq&1 != 0 {
			runtime.Gosched() // a write is under way
			continue
		}
		ok = s.day.Load() == day
		if ok {
			for i := range s.words {
				binary.LittleEndian.PutUint64(salt[8*i:], s.words[i].Load())
			}
		}
		if s.seq.Load() == seq {
			if !ok {
				return [32]byte{}, false
			}
			return salt, true
		}
	}
}

// dayNumber is the UTC day of t, counted from 1970-01-01. Unix time has
// no leap seconds, so every day is 86,400 of its seconds.
func dayNumber(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// dayStart is the first moment of day d.
func dayStart(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// dayName is day d as the table writes it, YYYY-MM-DD.
func dayName(d int64) string { return dayStart(d).Format(time.DateOnly) }
