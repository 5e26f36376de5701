package salt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// peerRow is one row of analytics_salt_peers.
type peerRow struct {
	peer      string
	gen       int64
	publicKey []byte
	sealed    []byte
	sealedBy  []byte
	seenAt    time.Time
}

// Sync does one round: it forgets the days that have ended, joins the day
// (and, from Lead before midnight, the next day) or heartbeats, makes,
// opens or seals the salts, and deletes the rows of past days and of dead
// peers.
//
// A peer is dead when its heartbeat is older than the timeout. An
// instance judges that only while it has been syncing itself: after a gap
// of more than half the timeout between its own successful rounds (the
// database was out, or the process stood still), every instance's
// heartbeat may be old, so it waits one timeout before taking anyone for
// dead. That keeps an outage of the database from costing the day its
// salt.
func (k *Keeper) Sync(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.clock.Now().UTC()
	if !k.lastOK.IsZero() && now.Sub(k.lastOK) > k.timeout/2 {
		k.judgeFrom = now.Add(k.timeout)
	}
	judge := !now.Before(k.judgeFrom)

	today := dayNumber(now)
	for day := range k.rounds {
		if day < today {
			k.drop(day)
		}
	}
	var errs error
	errs = errors.Join(errs, k.syncDay(ctx, now, today, judge))
	if !now.Before(dayStart(today + 1).Add(-Lead)) {
		errs = errors.Join(errs, k.syncDay(ctx, now, today+1, judge))
	}

	// A day's rows are of no use once it has ended: its salt is forgotten
	// everywhere. They go a little after midnight, so that an instance
	// whose clock is behind still finds them until its own midnight.
	if _, err := k.db.Writer().ExecContext(ctx, `DELETE FROM analytics_salt_peers WHERE day < $1`,
		dayName(dayNumber(now.Add(-k.timeout/2)))); err != nil {
		errs = errors.Join(errs, fmt.Errorf("delete the rows of past days: %w", err))
	}
	if judge {
		if _, err := k.db.Writer().ExecContext(ctx, `DELETE FROM analytics_salt_peers WHERE seen_at < $1`,
			now.Add(-k.timeout)); err != nil {
			errs = errors.Join(errs, fmt.Errorf("delete the rows of dead peers: %w", err))
		}
	}
	if errs != nil {
		return fmt.Errorf("analytics salt: %w", errs)
	}
	k.lastOK = now
	return nil
}

// syncDay does the round of one day.
func (k *Keeper) syncDay(ctx context.Context, now time.Time, day int64, judge bool) error {
	r, err := k.heartbeat(ctx, now, day)
	if err != nil {
		return err
	}
	rows, err := k.readDay(ctx, r.name)
	if err != nil {
		return err
	}
	var me *peerRow
	var top int64 // the newest generation of the day
	for i := range rows {
		top = max(top, rows[i].gen)
		if rows[i].peer == r.peer {
			me = &rows[i]
		}
	}
	if me == nil {
		return nil // deleted since the heartbeat: the next round joins anew
	}
	live := func(p *peerRow) bool { return !judge || p == me || !p.seenAt.Before(now.Add(-k.timeout)) }

	if r.have {
		if r.gen < top {
			// Another instance found no live holder and made a new salt:
			// everyone follows the newest generation.
			k.log.Warn("analytics salt: a newer generation of the day's salt exists; dropping this one and asking for it",
				slog.String("day", r.name), slog.Int64("generation", r.gen), slog.Int64("newer", top))
			k.release(r)
			return k.ask(ctx, r, top)
		}
		return k.sealToWaiting(ctx, r, rows, live)
	}

	if me.sealed != nil {
		if me.gen < top {
			return k.ask(ctx, r, top)
		}
		return k.openMine(ctx, r, me)
	}
	if me.gen < top {
		if err := k.ask(ctx, r, top); err != nil {
			return err
		}
	}
	for i := range rows {
		if p := &rows[i]; p.gen == top && p.sealed != nil && live(p) {
			return nil // a holder lives; it seals to this instance in its round
		}
	}
	return k.make(ctx, r, top+1)
}

// heartbeat returns this instance's round of the day with its row's
// heartbeat at now, joining the day first when it has no round or its row
// is gone (the others took it for dead: it starts afresh, with a new key).
func (k *Keeper) heartbeat(ctx context.Context, now time.Time, day int64) (*round, error) {
	if r := k.rounds[day]; r != nil {
		res, err := k.db.Writer().ExecContext(ctx, `UPDATE analytics_salt_peers SET seen_at = $1 WHERE day = $2 AND peer = $3`, now, r.name, r.peer)
		if err != nil {
			return nil, fmt.Errorf("heartbeat for %s: %w", r.name, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("heartbeat for %s: %w", r.name, err)
		} else if n == 1 {
			return r, nil
		}
		k.log.Warn("analytics salt: this instance's row was deleted (the others took it for dead); joining the day anew",
			slog.String("day", r.name), slog.String("peer", r.peer))
		k.drop(day)
	}
	r := &round{day: day, name: dayName(day)}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	r.peer = hex.EncodeToString(id[:])
	if _, err := rand.Read(r.priv[:]); err != nil {
		return nil, err
	}
	pub, err := publicKey(&r.priv)
	if err != nil {
		clear(r.priv[:])
		return nil, err
	}
	r.pub = pub
	if _, err := k.db.Writer().ExecContext(ctx, `INSERT INTO analytics_salt_peers (day, peer, generation, public_key, seen_at) VALUES ($1, $2, 0, $3, $4)`,
		r.name, r.peer, r.pub, now); err != nil {
		clear(r.priv[:])
		return nil, fmt.Errorf("join %s: %w", r.name, err)
	}
	k.rounds[day] = r
	return r, nil
}

// readDay reads the rows of one day.
func (k *Keeper) readDay(ctx context.Context, day string) (_ []peerRow, err error) {
	rows, err := k.db.QueryContext(ctx, `SELECT peer, generation, public_key, sealed, sealed_by, seen_at
		FROM analytics_salt_peers WHERE day = $1`, day)
	if err != nil {
		return nil, fmt.Errorf("read the peers of %s: %w", day, err)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("read the peers of %s: %w", day, cerr)
		}
	}()
	var out []peerRow
	for rows.Next() {
		var p peerRow
		if err := rows.Scan(&p.peer, &p.gen, &p.publicKey, &p.sealed, &p.sealedBy, &p.seenAt); err != nil {
			return nil, fmt.Errorf("read the peers of %s: %w", day, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the peers of %s: %w", day, err)
	}
	return out, nil
}

// ask makes this instance's row ask for generation gen: unsealed, so a
// holder of gen seals to it.
func (k *Keeper) ask(ctx context.Context, r *round, gen int64) error {
	if _, err := k.db.Writer().ExecContext(ctx, `UPDATE analytics_salt_peers SET generation = $1, sealed = NULL, sealed_by = NULL WHERE day = $2 AND peer = $3`,
		gen, r.name, r.peer); err != nil {
		return fmt.Errorf("ask for the salt of %s: %w", r.name, err)
	}
	r.gen = gen
	return nil
}

// make makes generation gen of the day's salt, when no live instance
// holds the newest one. Several instances may try at once: each marks its
// own row as the maker's (sealed to itself), and the unique index
// analytics_salt_maker lets one row of a day say so per generation. The
// others' UPDATE fails with a unique violation; they ask for gen and the
// maker seals it to them.
func (k *Keeper) make(ctx context.Context, r *round, gen int64) error {
	if _, err := rand.Read(r.salt[:]); err != nil {
		return err
	}
	sealed, err := seal(&r.priv, r.pub, r.pub, r.name, gen, &r.salt)
	if err != nil {
		clear(r.salt[:])
		return err
	}
	res, err := k.db.Writer().ExecContext(ctx, `UPDATE analytics_salt_peers SET generation = $1, sealed = $2, sealed_by = public_key
		WHERE day = $3 AND peer = $4 AND sealed IS NULL`, gen, sealed, r.name, r.peer)
	if err != nil {
		clear(r.salt[:])
		if db.IsUniqueViolation(err) {
			return k.ask(ctx, r, gen) // another instance made it first
		}
		return fmt.Errorf("make the salt of %s: %w", r.name, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		// Sealed to this instance meanwhile: it opens that next round.
		clear(r.salt[:])
		return err
	}
	r.gen, r.have = gen, true
	k.publish(r)
	if gen > 1 {
		k.log.Warn("analytics salt: no live instance held the day's salt any more; made a new generation (visitors of the day before and after may be counted twice)",
			slog.String("day", r.name), slog.Int64("generation", gen), slog.String("peer", r.peer))
	} else {
		k.log.Info("analytics salt: made the day's salt", slog.String("day", r.name), slog.String("peer", r.peer))
	}
	return nil
}

// openMine opens the salt sealed to this instance's row.
func (k *Keeper) openMine(ctx context.Context, r *round, me *peerRow) error {
	if err := open(&r.priv, r.pub, me.sealedBy, r.name, me.gen, me.sealed, &r.salt); err != nil {
		// Refused: the row asks again, and a holder seals anew. Only
		// WHERE the refused value is still there, so a good one sealed
		// meanwhile is kept.
		k.log.Error("analytics salt: refused the salt sealed to this instance; asking again",
			slog.String("day", r.name), slog.Int64("generation", me.gen), slog.String("peer", r.peer), slog.Any("err", err))
		if _, err := k.db.Writer().ExecContext(ctx, `UPDATE analytics_salt_peers SET sealed = NULL, sealed_by = NULL WHERE day = $1 AND peer = $2 AND sealed = $3`,
			r.name, r.peer, me.sealed); err != nil {
			return fmt.Errorf("ask again for the salt of %s: %w", r.name, err)
		}
		r.gen = me.gen
		return nil
	}
	r.gen, r.have = me.gen, true
	k.publish(r)
	k.log.Info("analytics salt: received the day's salt", slog.String("day", r.name), slog.Int64("generation", r.gen), slog.String("peer", r.peer))
	return nil
}

// sealToWaiting seals the salt r holds to every live peer of the day that
// asks for its generation. Several holders may seal to the same peer at
// once: the UPDATE writes only where nothing is sealed yet, so the first
// wins and the others change nothing (they sealed the same salt).
func (k *Keeper) sealToWaiting(ctx context.Context, r *round, rows []peerRow, live func(*peerRow) bool) error {
	for i := range rows {
		p := &rows[i]
		if p.peer == r.peer || p.sealed != nil || p.gen != r.gen || !live(p) {
			continue
		}
		sealed, err := seal(&r.priv, r.pub, p.publicKey, r.name, r.gen, &r.salt)
		if err != nil {
			// A public key that is no X25519 point: nothing to seal to.
			k.log.Warn("analytics salt: a peer's public key is unusable", slog.String("day", r.name), slog.String("peer", p.peer), slog.Any("err", err))
			continue
		}
		if _, err := k.db.Writer().ExecContext(ctx, `UPDATE analytics_salt_peers SET sealed = $1, sealed_by = $2
			WHERE day = $3 AND peer = $4 AND generation = $5 AND public_key = $6 AND sealed IS NULL`,
			sealed, r.pub, r.name, p.peer, r.gen, p.publicKey); err != nil {
			return fmt.Errorf("seal the salt of %s: %w", r.name, err)
		}
	}
	return nil
}
