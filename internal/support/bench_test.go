package support_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
)

// The ticket list and search at 100,000 tickets (issue 13; docs/benchmarks.md, "Support desk:
// ticket list and search at 100,000 tickets"):
//
//	STOREKEEP_TEST_POSTGRES=... go test -run='^$' -bench='BenchmarkSupport(List|Count)' \
//	  -benchtime=20x -timeout 30m ./internal/support/
//
// Each database is seeded once per process (a 690 MB file on SQLite, 3 messages a ticket
// on average) and dropped when the benchmarks end (TestMain). STOREKEEP_BENCH_TICKETS sets
// another number of tickets; STOREKEEP_BENCH_KEEP=1 keeps the databases (their place is
// logged) to look at plans with sqlite3 or psql.

const benchTickets = 100_000

// The words the searches look for. The seeder counts the tickets each matches (as a prefix of a
// word of the subject or of a message, all words required), so that the benchmark states how
// many tickets a search selects and the test checks the databases find exactly those.
var (
	rareWord     = "axolotl" // one of rareWords: a few tickets
	commonWord   = "error"   // most tickets
	twoWords     = "restart timeout"
	absentWord   = "xylophone" // no word of the vocabulary starts so
	benchQueries = []string{rareWord, commonWord, twoWords, absentWord, "quota", "cert"}
)

// vocabulary is in (roughly) falling order of frequency: the seeder draws its index from a
// Zipf distribution, so the first words are in every message and the last in few.
var vocabulary = strings.Fields(`
the to and a of i is it you that in for we this on with have be not are our but can your
my as at from when after was if there they what so all will do an one server mail please
thanks error message any me by has get would now or again just some no which out also
about like how only been same see know still need here could new use version help works
running every time try tried more work last should did than problem hello because first
sent send other them receive received then into does these customer regards install
installed log logs attached setup system update upgrade license key machine since found
filter queue postfix milter restart restarted config configuration file line shows test
today yesterday week hour minutes day days issue support ticket account password login
reply delivered delivery rejected bounce spam score rule rules header headers domain
address dns record records tls certificate port connection timeout timed refused smtp
lmtp relay host hostname ip network firewall debian ubuntu rhel package apt yum repo
download downloaded binary build service systemd unit status running stopped crash
crashed core dump memory cpu load disk full space quota limit limits rate flood slow fast
performance latency seconds milliseconds invoice payment paid refund order price pricing
renewal renew expired expiry trial seat seats activate activation deactivate transfer
laptop desktop windows linux mac client outlook thunderbird gmail apple attachment
attachments pdf html text plain encoding utf charset mime multipart boundary signature
signed pgp dkim spf dmarc selector alignment policy quarantine reject accept whitelist
allowlist blocklist greylist greylisting retry retries deferred queued stuck flush
mailq postqueue postsuper sendmail maildir mbox dovecot imap pop webmail manual docs
documentation example sample snippet output command shell script cron job upgrade
downgrade rollback backup restore migrate migration database sqlite postgres schema
table column index vacuum slowly randomly sometimes always never usually mostly rarely
`)

// rareWords: one word in 200,000 is one of them, so each is in a handful of the 100,000
// tickets' 300,000 messages.
var rareWords = strings.Fields(`axolotl quokka narwhal okapi pangolin wombat ocelot kumquat tamarind marzipan
gazpacho zircon yttrium bismuth gallium fjord obsidian zeugma quixotic xenolith`)

var (
	firstNames = strings.Fields(`anna ben carla david eva felix greta hugo ines jonas karin lukas maria noah olga
paul quentin rosa sven tara ulrich vera wim xenia yusuf zoe`)
	lastNames = strings.Fields(`meyer schmidt fischer weber wagner becker hoffmann schulz koch richter klein wolf
neumann schwarz braun zimmermann krueger hartmann lange werner lehmann krause`)
	domains = strings.Fields(`example.com example.org example.net mail.example hosting.example isp.example
mx.example corp.example uni.example agency.example`)
	benchTags = strings.Fields(`billing license install bug refund feature urgent postfix windows linux upgrade vip`)
)

// seed describes a seeded database.
type seed struct {
	d       *db.DB
	desk    *support.Desk
	now     time.Time
	tickets int
	staff   []int64
	took    time.Duration
	// matches holds, per query of benchQueries, the ids of the tickets it selects.
	matches                  map[string][]int64
	email                    string // an address with several tickets
	emailN                   int
	notClosed, open, overdue int
	byAssignee               map[int64]int // tickets not closed per assignee
	byTag                    map[string]int
}

var (
	seedMu   sync.Mutex
	seeds    = map[db.Dialect]*seed{}
	cleanups []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	if os.Getenv("STOREKEEP_BENCH_KEEP") == "1" {
		os.Exit(code)
	}
	for _, f := range slices.Backward(cleanups) {
		f()
	}
	os.Exit(code)
}

// seeded returns the database of dialect seeded with the benchmark's tickets, seeding it on
// first use. It lives until the process ends, so that every benchmark shares it.
func seeded(b *testing.B, dialect db.Dialect) *seed {
	b.Helper()
	seedMu.Lock()
	defer seedMu.Unlock()
	if s := seeds[dialect]; s != nil {
		return s
	}
	n := benchTickets
	if v, err := strconv.Atoi(os.Getenv("STOREKEEP_BENCH_TICKETS")); err == nil && v > 0 {
		n = v
	}
	d := openLasting(b, dialect)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	start := time.Now()
	s, err := seedTickets(context.Background(), d, now, n)
	if err != nil {
		b.Fatal(err)
	}
	if err := analyze(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	s.took = time.Since(start)
	// On standard error: a benchmark with sub-benchmarks does not print its log.
	fmt.Fprintf(os.Stderr, "%s: seeded %d tickets in %s (%d not closed, %d open, %d overdue; %q %d tickets; matches %v)\n",
		dialect, n, s.took.Round(100*time.Millisecond), s.notClosed, s.open, s.overdue, s.email, s.emailN, matchCounts(s))
	seeds[dialect] = s
	return s
}

func matchCounts(s *seed) map[string]int {
	m := map[string]int{}
	for q, ids := range s.matches {
		m[q] = len(ids)
	}
	return m
}

// analyze updates PostgreSQL's statistics after the bulk load, as autovacuum would within a
// minute (VACUUM also sets the visibility map index-only scans use). SQLite is left without
// statistics: Storekeep never runs ANALYZE there, so its planner sees what production sees.
func analyze(ctx context.Context, d *db.DB) error {
	if d.Dialect != db.Postgres {
		return nil
	}
	_, err := d.Writer().ExecContext(ctx, "VACUUM ANALYZE")
	return err
}

// openLasting opens a fresh, migrated database that outlives the benchmark (see seeded),
// removed in TestMain.
func openLasting(b *testing.B, dialect db.Dialect) *db.DB {
	b.Helper()
	ctx := context.Background()
	var dsn string
	switch dialect {
	case db.Postgres:
		base := os.Getenv(testutil.PostgresEnv)
		if base == "" {
			b.Skipf("%s not set: skipping the PostgreSQL half", testutil.PostgresEnv)
		}
		admin, err := sql.Open("pgx", base)
		if err != nil {
			b.Fatal(err)
		}
		schema := fmt.Sprintf("bench_support_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			admin.Close()
			b.Fatal(err)
		}
		cleanups = append(cleanups, func() {
			if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				fmt.Fprintln(os.Stderr, "drop benchmark schema:", err)
			}
			admin.Close()
		})
		dsn = testutil.WithSearchPath(base, schema)
		fmt.Fprintf(os.Stderr, "benchmark database: PostgreSQL schema %s\n", schema)
	default:
		dir, err := os.MkdirTemp("", "storekeep-bench-support-")
		if err != nil {
			b.Fatal(err)
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		dsn = dir + "/bench.db"
		fmt.Fprintf(os.Stderr, "benchmark database: SQLite %s\n", dsn)
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() { d.Close() })
	if _, err := d.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return d
}

// genTicket is one generated ticket with its messages.
type genTicket struct {
	token, email, name, subject, state, channel string
	customer, assignee                          int64
	created, updated, firstDue, resolutionDue   time.Time
	firstAt, solvedAt, closedAt                 *time.Time
	tags                                        []string
	messages                                    []genMessage
}

type genMessage struct {
	author, channel, fromAddr, fromName, text string
	staff                                     int64
	internal                                  bool
	created                                   time.Time
}

// generator makes the tickets: the same ones for the same seed.
type generator struct {
	r     *rand.Rand
	zipf  *rand.Zipf
	now   time.Time
	n     int
	staff []int64
	pool  int // customers' addresses
}

func newGenerator(now time.Time, n int, staff []int64) *generator {
	r := rand.New(rand.NewPCG(13, 100_000))
	return &generator{r: r, zipf: rand.NewZipf(r, 1.07, 2, uint64(len(vocabulary)-1)), now: now, n: n, staff: staff, pool: max(n*2/5, 10)}
}

// address is the i-th customer address of the pool.
func address(i int) (email, name string) {
	f, l := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)]
	return fmt.Sprintf("%s.%s%d@%s", f, l, i, domains[i%len(domains)]), strings.ToUpper(f[:1]) + f[1:] + " " + strings.ToUpper(l[:1]) + l[1:]
}

// accounts: the first pool/4 addresses have a customer account (ids 1..).
func (g *generator) accounts() int { return g.pool / 4 }

func (g *generator) word() string {
	if g.r.IntN(200_000) == 0 {
		return rareWords[g.r.IntN(len(rareWords))]
	}
	return vocabulary[g.zipf.Uint64()]
}

// text is 200 to 2,000 bytes of sentences.
func (g *generator) text() string {
	want := 200 + g.r.IntN(1801)
	var b strings.Builder
	b.Grow(want + 20)
	sentence := 0
	for b.Len() < want {
		w := g.word()
		if sentence == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		sentence++
		if sentence > 4 && g.r.IntN(9) == 0 {
			b.WriteByte('.')
			if g.r.IntN(5) == 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte(' ')
			}
			sentence = 0
		}
	}
	if sentence > 0 {
		b.WriteByte('.')
	}
	return b.String()
}

func (g *generator) subject() string {
	words := make([]string, 3+g.r.IntN(6))
	for i := range words {
		// Subjects skip the most common words.
		if w := g.word(); g.r.IntN(2) == 0 || len(w) < 4 {
			words[i] = vocabulary[40+g.r.IntN(len(vocabulary)-40)]
		} else {
			words[i] = w
		}
	}
	s := strings.Join(words, " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func (g *generator) ticket(i int) genTicket {
	r := g.r
	recency := g.n - i // 1 is the newest
	// One ticket every ~950 s: 100,000 over three years; the newest 2,500 span about 27 days.
	step := 3 * 365 * 24 * time.Hour / time.Duration(g.n)
	created := g.now.Add(-time.Duration(recency)*step - time.Duration(r.Int64N(int64(step)))).Truncate(time.Microsecond)
	var state string
	if recency <= 2500 {
		switch p := r.IntN(100); {
		case p < 15:
			state = "new"
		case p < 40:
			state = "open"
		case p < 60:
			state = "waiting"
		case p < 85:
			state = "solved"
		default:
			state = "closed"
		}
	} else {
		switch p := r.IntN(1000); {
		case p < 2:
			state = "open"
		case p < 5:
			state = "waiting"
		case p < 7:
			state = "solved"
		default:
			state = "closed"
		}
	}
	idx := int(float64(g.pool) * r.Float64() * r.Float64()) // some customers write often
	email, name := address(idx)
	var customer int64
	if idx < g.accounts() {
		customer = int64(idx + 1)
	}
	channel := "email"
	if p := r.IntN(20); p >= 14 && p < 19 {
		channel = "web"
	} else if p == 19 {
		channel = "console"
	}
	t := genTicket{token: fmt.Sprintf("%020x", r.Uint64())[:20], email: email, name: name, subject: g.subject(), state: state,
		channel: channel, customer: customer, created: created, firstDue: created.Add(24 * time.Hour), resolutionDue: created.Add(5 * 24 * time.Hour)}
	if r.IntN(10) < 6 || state != "new" && r.IntN(2) == 0 {
		t.assignee = g.staff[r.IntN(len(g.staff))]
	}
	if r.IntN(10) < 3 {
		t.tags = append(t.tags, benchTags[r.IntN(len(benchTags))])
		if r.IntN(3) == 0 {
			if tag := benchTags[r.IntN(len(benchTags))]; tag != t.tags[0] {
				t.tags = append(t.tags, tag)
			}
		}
	}
	age := g.now.Sub(created)
	at := func(min, max time.Duration) time.Time {
		max = min + time.Duration(r.Int64N(int64(max-min)))
		if max > age {
			max = age
		}
		return created.Add(max).Truncate(time.Microsecond)
	}
	if state != "new" {
		f := at(10*time.Minute, 30*time.Hour)
		t.firstAt = &f
	}
	t.updated = at(time.Minute, 3*24*time.Hour)
	switch state {
	case "solved", "closed":
		s := at(time.Hour, 10*24*time.Hour)
		t.solvedAt = &s
		t.updated = s
		if state == "closed" {
			c := s.Add(7 * 24 * time.Hour)
			if c.After(g.now) {
				c = g.now.Add(-time.Minute)
			}
			t.closedAt, t.updated = &c, c
		}
	}
	nm := 1 + r.IntN(5)
	for j := range nm {
		m := genMessage{author: "customer", channel: channel, fromAddr: email, fromName: name, text: g.text()}
		if j%2 == 1 {
			m.author, m.channel, m.fromAddr, m.fromName = "staff", "console", "", ""
			m.staff = g.staff[r.IntN(len(g.staff))]
			m.internal = r.IntN(10) == 0
		}
		m.created = created.Add(time.Duration(int64(t.updated.Sub(created)) * int64(j) / int64(nm))).Truncate(time.Microsecond)
		t.messages = append(t.messages, m)
	}
	return t
}

// matchQueries returns, for each query of qs, whether every word of it starts a word of the
// ticket's subject, or every word starts a word of one of its messages (the semantics of
// Desk.List's search: all the words in one text).
func matchQueries(t genTicket, qs []string) []bool {
	out := make([]bool, len(qs))
	texts := []string{t.subject}
	for _, m := range t.messages {
		texts = append(texts, m.text)
	}
	var qw []string // the distinct words of qs
	for _, q := range qs {
		for _, w := range strings.Fields(q) {
			if !slices.Contains(qw, w) {
				qw = append(qw, w)
			}
		}
	}
	// Every word of a query must occur in the subject or in some message
	// (not necessarily the same one), as a prefix of a word.
	var has uint64 // bit i: some text of the ticket has a word starting with qw[i]
	for _, s := range texts {
		for _, x := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r < 'a' || r > 'z' }) {
			for i, w := range qw {
				if strings.HasPrefix(x, w) {
					has |= 1 << i
				}
			}
		}
	}
	for k, q := range qs {
		all := true
		for _, w := range strings.Fields(q) {
			if has&(1<<slices.Index(qw, w)) == 0 {
				all = false
				break
			}
		}
		out[k] = all
	}
	return out
}

// seedTickets inserts n tickets and their messages and tags, with customers and staff,
// in transactions of 2,000 tickets, several rows per INSERT.
func seedTickets(ctx context.Context, d *db.DB, now time.Time, n int) (*seed, error) {
	s := &seed{d: d, now: now, tickets: n, matches: map[string][]int64{}, byAssignee: map[int64]int{}, byTag: map[string]int{}}
	s.desk = &support.Desk{DB: d, Clock: clock.NewFixed(now)}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for i := range 5 {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO staff (email, name, role, created_at, updated_at) VALUES ($1, $2, 'support', $3, $3) RETURNING id`,
				fmt.Sprintf("agent%d@milterworks.example", i), fmt.Sprintf("Agent %d", i), now).Scan(&id); err != nil {
				return err
			}
			s.staff = append(s.staff, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	g := newGenerator(now, n, s.staff)
	if err := insertRows(ctx, d, "customers", []string{"email", "name", "created_at", "updated_at"}, g.accounts(), func(i int) []any {
		e, nm := address(i)
		return []any{e, nm, now.AddDate(-4, 0, 0), now.AddDate(-4, 0, 0)}
	}); err != nil {
		return nil, err
	}
	perEmail := map[string]int{}
	const batch = 2000
	for from := 0; from < n; from += batch {
		ts := make([]genTicket, min(batch, n-from))
		for k := range ts {
			ts[k] = g.ticket(from + k)
			t := ts[k]
			id := int64(from + k + 1)
			for k, ok := range matchQueries(t, benchQueries) {
				if ok {
					s.matches[benchQueries[k]] = append(s.matches[benchQueries[k]], id)
				}
			}
			perEmail[t.email]++
			if t.state != "closed" {
				s.notClosed++
				if t.assignee != 0 {
					s.byAssignee[t.assignee]++
				}
				for _, tag := range t.tags {
					s.byTag[tag]++
				}
			}
			if t.state == "open" {
				s.open++
			}
			if (t.state == "new" || t.state == "open") && (t.firstAt == nil && t.firstDue.Before(now) || t.resolutionDue.Before(now)) {
				s.overdue++
			}
		}
		if err := insertBatch(ctx, d, int64(from+1), ts); err != nil {
			return nil, err
		}
	}
	var count, maxID int64
	if err := d.QueryRowContext(ctx, `SELECT count(*), max(id) FROM support_tickets`).Scan(&count, &maxID); err != nil {
		return nil, err
	}
	if count != int64(n) || maxID != int64(n) {
		return nil, fmt.Errorf("seeded tickets: %d, ids up to %d; want ids 1..%d", count, maxID, n)
	}
	for e, k := range perEmail {
		if k > s.emailN || k == s.emailN && e < s.email {
			s.email, s.emailN = e, k
		}
	}
	return s, nil
}

// insertBatch writes tickets whose ids will be first, first+1, ... (a fresh table).
func insertBatch(ctx context.Context, d *db.DB, first int64, ts []genTicket) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertRowsTx(ctx, tx, d.Dialect, "support_tickets", []string{"token", "customer_id", "email", "name", "subject", "state", "channel",
			"assignee_id", "created_at", "updated_at", "first_response_due", "resolution_due", "first_response_at", "solved_at", "closed_at"}, len(ts), func(i int) []any {
			t := ts[i]
			return []any{t.token, nullID(t.customer), t.email, t.name, t.subject, t.state, t.channel, nullID(t.assignee), t.created, t.updated,
				t.firstDue, t.resolutionDue, nullTime(t.firstAt), nullTime(t.solvedAt), nullTime(t.closedAt)}
		}); err != nil {
			return err
		}
		type ref struct{ t, m int }
		var ms []ref
		var tags [][2]any
		for i, t := range ts {
			for j := range t.messages {
				ms = append(ms, ref{i, j})
			}
			for _, tag := range t.tags {
				tags = append(tags, [2]any{first + int64(i), tag})
			}
		}
		if err := insertRowsTx(ctx, tx, d.Dialect, "support_messages", []string{"ticket_id", "author", "staff_id", "internal", "channel", "from_addr",
			"from_name", "body_text", "created_at"}, len(ms), func(i int) []any {
			m := ts[ms[i].t].messages[ms[i].m]
			return []any{first + int64(ms[i].t), m.author, nullID(m.staff), m.internal, m.channel, m.fromAddr, m.fromName, m.text, m.created}
		}); err != nil {
			return err
		}
		return insertRowsTx(ctx, tx, d.Dialect, "support_tags", []string{"ticket_id", "tag"}, len(tags), func(i int) []any { return tags[i][:] })
	})
}

func insertRows(ctx context.Context, d *db.DB, table string, cols []string, n int, row func(int) []any) error {
	return d.Tx(ctx, func(tx *sql.Tx) error { return insertRowsTx(ctx, tx, d.Dialect, table, cols, n, row) })
}

// insertRowsTx inserts n rows, up to 500 per statement. SQLite gets ? placeholders: its
// parser looks each $N up in a list, which at thousands of them costs more than the insert.
func insertRowsTx(ctx context.Context, tx *sql.Tx, dialect db.Dialect, table string, cols []string, n int, row func(int) []any) error {
	const per = 500
	for from := 0; from < n; from += per {
		k := min(per, n-from)
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, k*len(cols))
		for i := range k {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for c := range cols {
				if c > 0 {
					q.WriteString(", ")
				}
				if dialect == db.Postgres {
					q.WriteString("$" + strconv.Itoa(len(args)+c+1))
				} else {
					q.WriteByte('?')
				}
			}
			q.WriteByte(')')
			args = append(args, row(from+i)...)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// listCases are the filters the benchmark times: what the console's support page asks.
func listCases(s *seed) []struct {
	name string
	f    support.Filter
} {
	return []struct {
		name string
		f    support.Filter
	}{
		{"default", support.Filter{}},
		{"state=open", support.Filter{State: "open"}},
		{"overdue", support.Filter{Overdue: true}},
		{"assignee", support.Filter{Assignee: s.staff[1]}},
		{"tag", support.Filter{Tag: "refund"}},
		// Searches look through every ticket, closed too: old conversations are what one
		// searches for.
		{"search/number", support.Filter{State: "all", Query: "#" + strconv.Itoa(s.tickets/2)}},
		{"search/email", support.Filter{State: "all", Query: s.email}},
		{"search/rare-word", support.Filter{State: "all", Query: rareWord}},
		{"search/common-word", support.Filter{State: "all", Query: commonWord}},
		{"search/two-words", support.Filter{State: "all", Query: twoWords}},
		{"search/nothing", support.Filter{State: "all", Query: absentWord}},
		{"search/common-word-not-closed", support.Filter{Query: commonWord}},
	}
}

// BenchmarkSupportList times Desk.List at 100,000 tickets on each database.
func BenchmarkSupportList(b *testing.B) {
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(dialect), func(b *testing.B) {
			s := seeded(b, dialect)
			ctx := context.Background()
			for _, c := range listCases(s) {
				b.Run(c.name, func(b *testing.B) { benchList(b, s.desk, c.f) })
			}
			// Page 51 by keyset, of every ticket and of the default list: follow Next 50 times.
			for _, c := range []struct {
				name string
				f    support.Filter
			}{{"page51/all", support.Filter{State: "all"}}, {"page51/default", support.Filter{}}} {
				f := c.f
				for range 50 {
					p, err := s.desk.List(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					f.Before = p.Next
					if p.Next.ID == 0 {
						break
					}
				}
				if f.Before.ID == 0 {
					b.Logf("%s: fewer than 51 pages", c.name)
					continue
				}
				b.Run(c.name, func(b *testing.B) { benchList(b, s.desk, f) })
			}
		})
	}
}

func benchList(b *testing.B, desk *support.Desk, f support.Filter) {
	ctx := context.Background()
	var n int
	start := time.Now()
	for b.Loop() {
		p, err := desk.List(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		n = len(p.Tickets)
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
	b.ReportMetric(float64(n), "tickets")
}

// BenchmarkSupportCount times Desk.Count (the support page's numbers) at 100,000 tickets.
func BenchmarkSupportCount(b *testing.B) {
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(dialect), func(b *testing.B) {
			s := seeded(b, dialect)
			ctx := context.Background()
			var c support.Counts
			start := time.Now()
			for b.Loop() {
				var err error
				if c, err = s.desk.Count(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
			if got := c.New + c.Open + c.Waiting + c.Solved; got != s.notClosed || c.Open != s.open || c.Overdue != s.overdue {
				b.Errorf("counts %+v; want %d not closed, %d open, %d overdue", c, s.notClosed, s.open, s.overdue)
			}
		})
	}
}

// TestSupportListSeeded runs the benchmark's seeder at 1,200 tickets (3,600 messages: enough for both ways of searching words, see searchCondition) and checks that every
// filter of the benchmark selects what it should, in order, across pages: the searches exactly
// the tickets whose subject or messages have every word (as a prefix).
func TestSupportListSeeded(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		s, err := seedTickets(ctx, d, now, 1200)
		if err != nil {
			t.Fatal(err)
		}
		all := func(f support.Filter) []support.Ticket {
			t.Helper()
			var out []support.Ticket
			for {
				p, err := s.desk.List(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, p.Tickets...)
				if p.Next.ID == 0 {
					return out
				}
				f.Before = p.Next
			}
		}
		ids := func(ts []support.Ticket) []int64 {
			var out []int64
			for i, tk := range ts {
				if i > 0 && (tk.UpdatedAt.After(ts[i-1].UpdatedAt) || tk.UpdatedAt.Equal(ts[i-1].UpdatedAt) && tk.ID > ts[i-1].ID) {
					t.Errorf("ticket %d after %d: not newest first", tk.ID, ts[i-1].ID)
				}
				out = append(out, tk.ID)
			}
			slices.Sort(out)
			return out
		}
		for _, q := range benchQueries {
			got := ids(all(support.Filter{State: "all", Query: q}))
			want := s.matches[q]
			if !slices.Equal(got, want) {
				t.Errorf("search %q: %d tickets, want %d", q, len(got), len(want))
			}
		}
		if len(s.matches[rareWord]) > 3 || len(s.matches[commonWord]) < 800 || len(s.matches[absentWord]) != 0 {
			t.Errorf("the seeder's words do not have the shape the benchmark needs: %v", matchCounts(s))
		}
		if n := len(all(support.Filter{})); n != s.notClosed {
			t.Errorf("default list: %d tickets, want %d", n, s.notClosed)
		}
		if n := len(all(support.Filter{State: "open"})); n != s.open {
			t.Errorf("open: %d tickets, want %d", n, s.open)
		}
		if n := len(all(support.Filter{Overdue: true})); n != s.overdue {
			t.Errorf("overdue: %d tickets, want %d", n, s.overdue)
		}
		if n := len(all(support.Filter{Assignee: s.staff[1]})); n != s.byAssignee[s.staff[1]] {
			t.Errorf("assignee: %d tickets, want %d", n, s.byAssignee[s.staff[1]])
		}
		if n := len(all(support.Filter{Tag: "refund"})); n != s.byTag["refund"] {
			t.Errorf("tag: %d tickets, want %d", n, s.byTag["refund"])
		}
		if n := len(all(support.Filter{State: "all", Query: s.email})); n != s.emailN {
			t.Errorf("email %s: %d tickets, want %d", s.email, n, s.emailN)
		}
		if n := len(all(support.Filter{State: "all"})); n != 1200 {
			t.Errorf("all: %d tickets, want 1200", n)
		}
		c, err := s.desk.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.New+c.Open+c.Waiting+c.Solved != s.notClosed || c.Open != s.open || c.Overdue != s.overdue {
			t.Errorf("counts %+v; want %d not closed, %d open, %d overdue", c, s.notClosed, s.open, s.overdue)
		}
		t.Logf("%d not closed, %d open, %d overdue; matches %v", s.notClosed, s.open, s.overdue, matchCounts(s))
	})
}
