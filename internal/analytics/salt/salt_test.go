package salt_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/analytics/salt"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

// env is one test's database, clock and instances. Each Keeper gets a
// database handle of its own, as an instance would.
type env struct {
	t    *testing.T
	dsn  string
	clk  *clock.Fixed
	mu   sync.Mutex
	logs []*logBuf
	seen [][32]byte // every salt the test saw, looked for in the logs at the end
	q    *db.DB     // the test's own handle, for looking at the table
}

// forEachDB runs fn on a fresh SQLite database and a fresh PostgreSQL
// schema, each opened once per instance.
func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t, filepath.Join(t.TempDir(), "test.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnv(t, testutil.PostgresURL(t))) })
}

func newEnv(t *testing.T, dsn string) *env {
	e := &env{t: t, dsn: dsn, clk: clock.NewFixed(t0)}
	e.q = e.open()
	if _, err := e.q.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.checkLogs)
	return e
}

func (e *env) open() *db.DB {
	d, err := db.Open(context.Background(), e.dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { d.Close() })
	return d
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// keeper starts an instance: a Keeper on a database handle of its own.
func (e *env) keeper() (*salt.Keeper, *logBuf) {
	lb := &logBuf{}
	e.mu.Lock()
	e.logs = append(e.logs, lb)
	e.mu.Unlock()
	log := slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return salt.New(e.open(), e.clk, log), lb
}

func (e *env) sync(ks ...*salt.Keeper) {
	e.t.Helper()
	for _, k := range ks {
		if err := k.Sync(context.Background()); err != nil {
			e.t.Fatal(err)
		}
	}
}

// salt is k's salt for now, which it must hold.
func (e *env) salt(k *salt.Keeper, now time.Time) [32]byte {
	e.t.Helper()
	s, ok := k.Salt(now)
	if !ok {
		e.t.Fatalf("no salt at %v", now)
	}
	if s == ([32]byte{}) {
		e.t.Fatal("the salt is all zeroes")
	}
	e.mu.Lock()
	e.seen = append(e.seen, s)
	e.mu.Unlock()
	return s
}

// agree checks that every Keeper holds the same salt for now, and returns
// it.
func (e *env) agree(now time.Time, ks ...*salt.Keeper) [32]byte {
	e.t.Helper()
	s := e.salt(ks[0], now)
	for i, k := range ks[1:] {
		if e.salt(k, now) != s {
			e.t.Fatalf("instance %d holds another salt than instance 0", i+1)
		}
	}
	return s
}

// checkLogs: no log line holds a salt the test saw, in any usual
// encoding.
func (e *env) checkLogs() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, lb := range e.logs {
		text := lb.String()
		for _, s := range e.seen {
			for _, enc := range encodings(s[:]) {
				if strings.Contains(text, enc) {
					e.t.Errorf("a log line holds a salt:\n%s", text)
				}
			}
		}
	}
}

func encodings(b []byte) []string {
	return []string{string(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b), fmt.Sprint(b)}
}

type stored struct {
	day, peer          string
	gen                int64
	pub, sealed, by    []byte
	seenAt             time.Time
	seenAtText, genTxt string
}

func (e *env) rows() []stored {
	e.t.Helper()
	rs, err := e.q.Reader().QueryContext(context.Background(), `SELECT day, peer, generation, public_key, sealed, sealed_by, seen_at FROM analytics_salt_peers ORDER BY day, peer`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rs.Close()
	var out []stored
	for rs.Next() {
		var s stored
		if err := rs.Scan(&s.day, &s.peer, &s.gen, &s.pub, &s.sealed, &s.by, &s.seenAt); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rs.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) row(day, peer string) (stored, bool) {
	for _, r := range e.rows() {
		if r.day == day && r.peer == peer {
			return r, true
		}
	}
	return stored{}, false
}

func peerOf(t *testing.T, k *salt.Keeper, now time.Time) string {
	t.Helper()
	p, _, _, ok := salt.Round(k, now)
	if !ok {
		t.Fatalf("no round at %v", now)
	}
	return p
}

// TestOneInstance: the first Sync gives the salt; it stays all day; the
// next day's salt is another, held before midnight; the old one is
// overwritten in memory once the day is over.
func TestOneInstance(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		k, _ := e.keeper()
		if _, ok := k.Salt(t0); ok {
			t.Fatal("a salt before any Sync")
		}
		e.sync(k)
		s := e.salt(k, t0)
		_, mem, priv, _ := salt.Round(k, t0)
		for h := 1; h <= 13; h++ {
			e.clk.Advance(time.Hour)
			e.sync(k)
			if e.salt(k, e.clk.Now()) != s {
				t.Fatalf("the salt changed at %v", e.clk.Now())
			}
		}
		// 23:00: not yet the next day's round.
		if _, ok := k.Salt(t0.Add(14 * time.Hour)); ok {
			t.Fatal("the next day's salt an hour before midnight")
		}
		e.clk.Set(time.Date(2026, 5, 7, 23, 50, 0, 0, time.UTC))
		e.sync(k)
		midnight := time.Date(2026, 5, 8, 0, 0, 0, 0, time.UTC)
		next := e.salt(k, midnight)
		if next == s {
			t.Fatal("the next day has the same salt")
		}
		if e.salt(k, midnight.Add(-time.Nanosecond)) != s {
			t.Fatal("the day's salt changed before midnight")
		}
		if *mem != s {
			t.Fatal("the round's memory is not the salt (the test looks at the wrong memory)")
		}
		e.clk.Set(midnight.Add(time.Second))
		e.sync(k)
		if got := e.salt(k, e.clk.Now()); got != next {
			t.Fatal("the day's salt is not the one agreed before midnight")
		}
		if _, ok := k.Salt(midnight.Add(-time.Second)); ok {
			t.Fatal("yesterday's salt is still given out")
		}
		if *mem != [32]byte{} || *priv != [32]byte{} {
			t.Fatal("yesterday's salt or private key was not overwritten")
		}
	})
}

// TestInstancesAgree: two or three instances agree on the salt, whichever
// starts first, and an instance starting later in the day gets the same.
func TestInstancesAgree(t *testing.T) {
	for _, n := range []int{2, 3} {
		for first := range n {
			t.Run(fmt.Sprintf("%d instances, %d first", n, first), func(t *testing.T) {
				t.Parallel() // each has databases of its own
				forEachDB(t, func(t *testing.T, e *env) {
					ks := make([]*salt.Keeper, n)
					for i := range ks {
						ks[i], _ = e.keeper()
					}
					order := append(append([]*salt.Keeper{}, ks[first:]...), ks[:first]...)
					e.sync(order...)
					e.salt(order[0], t0) // the first made it
					for range 2 {
						e.clk.Advance(time.Second)
						e.sync(order...)
					}
					s := e.agree(e.clk.Now(), ks...)

					e.clk.Advance(5 * time.Hour)
					e.sync(ks...)
					late, _ := e.keeper()
					e.sync(late)
					if _, ok := late.Salt(e.clk.Now()); ok {
						t.Fatal("the newcomer holds a salt before any holder sealed it")
					}
					e.clk.Advance(time.Second)
					e.sync(ks...)
					e.sync(late)
					if e.agree(e.clk.Now(), append(ks, late)...) != s {
						t.Fatal("the salt changed when an instance joined")
					}
				})
			})
		}
	}
}

// TestNextDayBeforeMidnight: from Lead before midnight the instances agree
// on the next day's salt, so at 00:00:01 every one of them has it without
// another Sync.
func TestNextDayBeforeMidnight(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, _ := e.keeper()
		b, _ := e.keeper()
		c, _ := e.keeper()
		e.clk.Set(time.Date(2026, 5, 7, 23, 49, 0, 0, time.UTC))
		for range 3 {
			e.sync(a, b, c)
			e.clk.Advance(time.Second)
		}
		today := e.agree(e.clk.Now(), a, b, c)
		e.clk.Set(time.Date(2026, 5, 7, 23, 50, 0, 0, time.UTC))
		for range 3 {
			e.sync(c, b, a)
			e.clk.Advance(time.Second)
		}
		after := time.Date(2026, 5, 8, 0, 0, 1, 0, time.UTC)
		next := e.agree(after, a, b, c)
		if next == today {
			t.Fatal("the next day has the same salt")
		}
		if e.agree(after.Add(-2*time.Second), a, b, c) != today {
			t.Fatal("the day's salt changed before midnight")
		}
	})
}

// TestStoredCannotGiveSaltBack: nothing in the table is the salt; a sealed
// value does not open with another key; an instance that lost its key (a
// restart) cannot open its old row and asks anew.
func TestStoredCannotGiveSaltBack(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, _ := e.keeper()
		b, _ := e.keeper()
		c, _ := e.keeper()
		for range 3 {
			e.sync(a, b, c)
			e.clk.Advance(time.Second)
		}
		s := e.agree(e.clk.Now(), a, b, c)
		rows := e.rows()
		if len(rows) != 3 {
			t.Fatalf("%d rows, want 3", len(rows))
		}
		var fresh [32]byte
		if _, err := rand.Read(fresh[:]); err != nil {
			t.Fatal(err)
		}
		freshPub, err := salt.PublicKey(&fresh)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			for _, col := range [][]byte{[]byte(r.day), []byte(r.peer), fmt.Append(nil, r.gen), r.pub, r.sealed, r.by, []byte(r.seenAt.String())} {
				for _, enc := range encodings(s[:]) {
					if bytes.Contains(col, []byte(enc)) {
						t.Fatalf("row %s holds the salt", r.peer)
					}
				}
			}
			if r.sealed == nil {
				t.Fatalf("row %s is not sealed after agreement", r.peer)
			}
			var got [32]byte
			for _, to := range [][]byte{freshPub, r.pub} {
				if err := salt.Open(&fresh, to, r.by, r.day, r.gen, r.sealed, &got); err == nil {
					t.Fatalf("row %s opened with a fresh key", r.peer)
				}
			}
		}

		// c restarts: the new process is a new Keeper, with new keys.
		now := e.clk.Now()
		old, _ := e.row(rows[0].day, peerOf(t, c, now))
		c2, _ := e.keeper()
		e.sync(c2)
		_, _, priv2, _ := salt.Round(c2, now)
		var got [32]byte
		if err := salt.Open(priv2, old.pub, old.by, old.day, old.gen, old.sealed, &got); err == nil {
			t.Fatal("the restarted instance opened its old row")
		}
		mine, _ := e.row(rows[0].day, peerOf(t, c2, now))
		if err := salt.Open(priv2, mine.pub, old.by, old.day, old.gen, old.sealed, &got); err == nil {
			t.Fatal("the old row opened with the restarted instance's key")
		}
		if mine.sealed != nil {
			t.Fatal("the restarted instance's row is sealed before a holder sealed it")
		}
		e.clk.Advance(time.Second)
		e.sync(a, b, c2)
		if e.agree(e.clk.Now(), a, b, c2) != s {
			t.Fatal("the restarted instance got another salt")
		}
		// The old process's row goes once it is taken for dead.
		for range 13 {
			e.clk.Advance(10 * time.Second)
			e.sync(a, b, c2)
		}
		if _, ok := e.row(old.day, old.peer); ok {
			t.Fatal("the dead instance's row is still there")
		}
		if e.agree(e.clk.Now(), a, b, c2) != s {
			t.Fatal("the salt changed")
		}
	})
}

// TestHolderDies: the only holder dies before it sealed the salt to the
// instances waiting; after the timeout a new generation starts, every
// live instance ends with its salt, and the dead instance's rows and the
// past day's rows are deleted.
func TestHolderDies(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, _ := e.keeper()
		e.sync(a)
		first := e.salt(a, t0)
		aPeer := peerOf(t, a, t0)
		b, blog := e.keeper()
		c, _ := e.keeper()
		e.sync(b, c) // a stops here: it never syncs again
		for range 11 {
			e.clk.Advance(10 * time.Second)
			e.sync(b, c)
			if _, ok := b.Salt(e.clk.Now()); ok {
				t.Fatal("a new salt before the holder's timeout")
			}
		}
		for range 3 {
			e.clk.Advance(10 * time.Second)
			e.sync(b, c)
		}
		now := e.clk.Now()
		s := e.agree(now, b, c)
		if s == first {
			t.Fatal("the dead holder's salt came back")
		}
		if g := salt.Generation(b, now); g != 2 {
			t.Fatalf("generation %d, want 2", g)
		}
		if !strings.Contains(blog.String()+e.logs[2].String(), "new generation") {
			t.Error("the new generation is not logged")
		}
		if _, ok := e.row(dayOf(now), aPeer); ok {
			t.Fatal("the dead holder's row is still there")
		}
		for _, r := range e.rows() {
			if r.gen != 2 {
				t.Fatalf("row %s of generation %d", r.peer, r.gen)
			}
		}

		// The next day: the past day's rows go.
		e.clk.Set(time.Date(2026, 5, 8, 0, 5, 0, 0, time.UTC))
		e.sync(b, c)
		e.clk.Advance(time.Second)
		e.sync(b, c)
		for _, r := range e.rows() {
			if r.day != "2026-05-08" {
				t.Fatalf("a row of %s is still there", r.day)
			}
		}
		e.agree(e.clk.Now(), b, c)
	})
}

func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// TestOutageKeepsTheSalt: when the database was out longer than the
// timeout, every heartbeat is old; the first instance back does not take
// the holder for dead, so the day keeps its salt.
func TestOutageKeepsTheSalt(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, _ := e.keeper()
		e.sync(a)
		s := e.salt(a, t0)
		w, _ := e.keeper()
		e.sync(w)
		e.clk.Advance(5 * time.Minute) // nobody syncs
		e.sync(w)
		if _, ok := e.row(dayOf(t0), peerOf(t, a, t0)); !ok {
			t.Fatal("the holder's row was deleted right after the outage")
		}
		e.sync(a, w)
		if e.agree(e.clk.Now(), a, w) != s {
			t.Fatal("the salt changed over the outage")
		}
	})
}

// TestForgedSealRefused: random bytes in a waiting instance's row do not
// give it a salt; it logs the refusal without secrets, asks again and
// gets the real salt in a later round.
func TestForgedSealRefused(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, _ := e.keeper()
		e.sync(a)
		for _, forge := range []struct {
			name   string
			sealed int
			by     bool // a random sealed_by too
		}{{"random sealed", 60, false}, {"short", 12, false}, {"long", 200, false}, {"random sealer", 60, true}} {
			b, blog := e.keeper()
			e.sync(b, a) // a seals to b
			now := e.clk.Now()
			bPeer := peerOf(t, b, now)
			bad := make([]byte, forge.sealed)
			if _, err := rand.Read(bad); err != nil {
				t.Fatal(err)
			}
			q := `UPDATE analytics_salt_peers SET sealed = $1 WHERE peer = $2`
			args := []any{bad, bPeer}
			if forge.by {
				by := make([]byte, 32)
				if _, err := rand.Read(by); err != nil {
					t.Fatal(err)
				}
				q = `UPDATE analytics_salt_peers SET sealed = $1, sealed_by = $3 WHERE peer = $2`
				args = append(args, by)
			}
			if _, err := e.q.ExecContext(context.Background(), q, args...); err != nil {
				t.Fatal(err)
			}
			e.sync(b)
			if _, ok := b.Salt(now); ok {
				t.Fatalf("%s: a forged sealed value gave a salt", forge.name)
			}
			logged := blog.String()
			if !strings.Contains(logged, "refused") {
				t.Fatalf("%s: the refusal is not logged: %s", forge.name, logged)
			}
			for _, enc := range encodings(bad) {
				if strings.Contains(logged, enc) {
					t.Fatalf("%s: the log holds the forged value", forge.name)
				}
			}
			e.clk.Advance(time.Second)
			e.sync(a, b)
			e.agree(e.clk.Now(), a, b)
		}
	})
}

// TestConcurrentSync: several instances syncing at the same moments, from
// their first round on, agree (run with -race).
func TestConcurrentSync(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ks := make([]*salt.Keeper, 5)
		for i := range ks {
			ks[i], _ = e.keeper()
		}
		for range 4 {
			var wg sync.WaitGroup
			errs := make([]error, len(ks))
			for i, k := range ks {
				wg.Go(func() { errs[i] = k.Sync(context.Background()) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("instance %d: %v", i, err)
				}
			}
			e.clk.Advance(time.Second)
		}
		e.agree(e.clk.Now(), ks...)
		makers := 0
		for _, r := range e.rows() {
			if bytes.Equal(r.pub, r.by) {
				makers++
			}
			if r.gen != 1 {
				t.Fatalf("generation %d after a concurrent start", r.gen)
			}
		}
		if makers != 1 {
			t.Fatalf("%d makers of the salt, want 1", makers)
		}
	})
}

// TestRun: Run syncs on the clock's ticks; when its context ends it
// overwrites its keys and salts and deletes its rows.
func TestRun(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		k, _ := e.keeper()
		synced := make(chan struct{}, 1)
		var mem, priv *[32]byte
		salt.SetSynced(k, func() {
			_, mem, priv, _ = salt.Round(k, e.clk.Now())
			synced <- struct{}{}
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { k.Run(ctx); close(done) }()
		<-synced
		s := e.salt(k, t0)
		e.clk.Advance(salt.DefaultInterval)
		<-synced
		if e.salt(k, e.clk.Now()) != s {
			t.Fatal("the salt changed")
		}
		cancel()
		<-done
		if _, ok := k.Salt(e.clk.Now()); ok {
			t.Fatal("a salt after Run returned")
		}
		if *mem != [32]byte{} || *priv != [32]byte{} {
			t.Fatal("the salt or key was not overwritten when Run returned")
		}
		if rows := e.rows(); len(rows) != 0 {
			t.Fatalf("%d rows after Run returned", len(rows))
		}
	})
}

// TestSealBindsEverything: a sealed value opens only for its day,
// generation, sealer and recipient.
func TestSealBindsEverything(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, _ := e.keeper()
		b, _ := e.keeper()
		e.sync(a, b)
		e.clk.Advance(time.Second)
		e.sync(a, b)
		now := e.clk.Now()
		s := e.agree(now, a, b)
		r, _ := e.row(dayOf(now), peerOf(t, b, now))
		_, _, priv, _ := salt.Round(b, now)
		var got [32]byte
		if err := salt.Open(priv, r.pub, r.by, r.day, r.gen, r.sealed, &got); err != nil || got != s {
			t.Fatalf("the row does not open with its own key: %v", err)
		}
		for name, try := range map[string]func() error{
			"day":        func() error { return salt.Open(priv, r.pub, r.by, "2026-05-08", r.gen, r.sealed, &got) },
			"generation": func() error { return salt.Open(priv, r.pub, r.by, r.day, r.gen+1, r.sealed, &got) },
			"sealer":     func() error { return salt.Open(priv, r.pub, r.pub, r.day, r.gen, r.sealed, &got) },
		} {
			if try() == nil {
				t.Errorf("opened with another %s", name)
			}
			if got != ([32]byte{}) {
				t.Errorf("a refused open left bytes behind (%s)", name)
			}
		}
	})
}

func TestSaltDoesNotAllocate(t *testing.T) {
	k := salt.New(testutil.SQLite(t), clock.NewFixed(t0), nil)
	if err := k.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	var sink byte
	if n := testing.AllocsPerRun(1000, func() {
		s, _ := k.Salt(t0)
		sink ^= s[0]
	}); n != 0 {
		t.Fatalf("Salt allocates %v times", n)
	}
	_ = sink
}

func BenchmarkSalt(b *testing.B) {
	k := salt.New(testutil.SQLite(b), clock.NewFixed(t0), nil)
	if err := k.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		var sink byte
		for b.Loop() {
			s, _ := k.Salt(t0)
			sink ^= s[0]
		}
		_ = sink
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var sink byte
			for pb.Next() {
				s, _ := k.Salt(t0)
				sink ^= s[0]
			}
			_ = sink
		})
	})
}
