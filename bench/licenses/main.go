// Command licenses prepares and drives bench/license.sh, the license API
// benchmark (docs/benchmarks.md, "License API").
//
//	licenses seed -db DSN -keys DIR -n 100000 -out keys.txt [-contended 80 -k 3 -contended-out contended.txt]
//	licenses activate -urls http://127.0.0.1:P1,http://127.0.0.1:P2 -db DSN -keys-file contended.txt -from 0 -count 16 -k 3 -attempts 20 -clients 64 -net 11
//	licenses schema -db postgres://... -create NAME | -drop NAME
//
// seed migrates the database, makes a license signing key in DIR when it
// holds none (as `storekeep license keygen` does), and inserts n licenses
// in large transactions. Each key is signed by the real code
// (licensing.MakeKey with the keyring serve loads from DIR), with the
// payload the shop issues for a perpetual license with a year of updates,
// two entitlements and three machines; the row holds what
// licensing.Issue would store. The keys are written one a line to -out, for
// wrk's script to pick from; the -contended licenses (machine limit -k)
// to -contended-out, for activate.
//
// activate fires a burst of activations at running instances: -count
// licenses from line -from of -keys-file, -attempts activations of each
// with a new fingerprint every time, shuffled, from -clients concurrent
// clients (each on its own connection to one instance, the instances taken
// in turn). Each client connects from its own loopback network
// 127.NET.c.1 (an IPv4 /24 of its own): the API limits activations per
// network (60 per 10 minutes) and per license (20), and this is how the
// burst stays inside the limits as many real clients would, with the
// limits on. It then counts the machines of each license in the database
// and fails unless every license has exactly -k machines, k activations
// answered with a new machine and the others TOO_MANY_MACHINES.
//
// schema creates or drops a PostgreSQL schema (the benchmark's own).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seedCmd(os.Args[2:])
	case "activate":
		err = activateCmd(os.Args[2:])
	case "schema":
		err = schemaCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "licenses:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: licenses seed|activate|schema [flags] (see the package comment)")
	os.Exit(2)
}

// The shop's issue of a perpetual license of the demo's professional
// edition (licensing.DefaultPolicy plus two entitlements).
const (
	product = "quillguard"
	edition = "professional"
)

var entitlements = []string{"dkim", "malware-scan"}

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func seedCmd(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dsn := fs.String("db", "", "database: a SQLite file path or a postgres:// URL (required)")
	keysDir := fs.String("keys", "", "license signing key directory, as serve's --license-keys; a key is made when it holds none (required)")
	n := fs.Int("n", 100000, "licenses to issue (machine limit 3)")
	out := fs.String("out", "", "file to write their keys to, one a line (required)")
	contended := fs.Int("contended", 0, "further licenses for the activation burst")
	k := fs.Int("k", 3, "machine limit of the contended licenses")
	contendedOut := fs.String("contended-out", "", "file to write the contended licenses' keys to")
	batch := fs.Int("batch", 10000, "licenses per transaction")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the seeding to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *dsn == "" || *keysDir == "" || *out == "" || (*contended > 0 && *contendedOut == "") {
		return errors.New("seed: -db, -keys and -out are required (and -contended-out with -contended)")
	}
	ctx := context.Background()
	keys, err := keyring(*keysDir)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	began := time.Now()
	if err := issue(ctx, d, keys, *n, 3, *batch, *out); err != nil {
		return err
	}
	if *contended > 0 {
		if err := issue(ctx, d, keys, *contended, *k, *batch, *contendedOut); err != nil {
			return err
		}
	}
	fmt.Printf("seeded %d licenses (+%d with %d machines) on %s in %v\n", *n, *contended, *k, d.Dialect, time.Since(began).Round(time.Millisecond))
	return nil
}

// keyring loads dir, making a signing key in it first when it has none.
func keyring(dir string) (*licensing.Keyring, error) {
	if _, err := os.Stat(filepath.Join(dir, "active")); errors.Is(err, os.ErrNotExist) {
		if _, err := licensing.GenerateKey(dir, rand.Reader); err != nil {
			return nil, err
		}
	}
	return licensing.LoadKeyring(dir)
}

// issue signs and inserts n licenses with the machine limit max, batch
// to a transaction, and writes their keys to path.
func issue(ctx context.Context, d *db.DB, keys *licensing.Keyring, n, max, batch int, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	now := time.Now().UTC().Truncate(time.Second)
	updates := now.AddDate(1, 0, 0)
	s := keys.Signer()
	type row struct{ lic, key string }
	const perStatement = 50 // rows per INSERT: SQLite looks $N names up in a list, so not many more
	for done := 0; done < n; done += batch {
		rows := make([]row, min(batch, n-done))
		// Signing is the cost: both cores.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for w := range 2 {
			wg.Go(func() {
				for i := w; i < len(rows); i += 2 {
					var b [16]byte
					rand.Read(b[:])
					lic := "lic_" + lowerBase32.EncodeToString(b[:])
					key, err := licensing.MakeKey(s, licensing.Payload{License: lic, Product: product, Edition: edition,
						Entitlements: entitlements, IssuedAt: now.Unix(), UpdatesUntil: updates.Unix(), MaxMachines: max})
					if err != nil {
						errs[w] = err
						return
					}
					rows[i] = row{lic, key}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			for start := 0; start < len(rows); start += perStatement {
				part := rows[start:min(start+perStatement, len(rows))]
				var q strings.Builder
				q.WriteString(`INSERT INTO licenses (lic, license_key, kid, customer_id, order_id, order_line_id, edition_id,
					product, edition, entitlements, status, issued_at, expires_at, updates_until, grace_days, max_machines, check_in_days, updated_at) VALUES `)
				args := make([]any, 0, len(part)*9)
				for i, r := range part {
					if i > 0 {
						q.WriteString(", ")
					}
					b := len(args)
					fmt.Fprintf(&q, "($%d, $%d, $%d, NULL, NULL, NULL, NULL, $%d, $%d, $%d, 'active', $%d, NULL, $%d, 14, $%d, 0, $%d)",
						b+1, b+2, b+3, b+4, b+5, b+6, b+7, b+8, b+9, b+7)
					args = append(args, r.lic, r.key, s.KID, product, edition, strings.Join(entitlements, ","), now, updates, max)
				}
				if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
					return fmt.Errorf("insert licenses: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		for _, r := range rows {
			buf.WriteString(r.key)
			buf.WriteByte('\n')
		}
		if _, err := f.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return f.Close()
}

func schemaCmd(args []string) error {
	fs := flag.NewFlagSet("schema", flag.ExitOnError)
	dsn := fs.String("db", "", "postgres:// URL (required)")
	create := fs.String("create", "", "schema to create")
	drop := fs.String("drop", "", "schema to drop, with everything in it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	name := *create + *drop
	if *dsn == "" || (*create == "") == (*drop == "") || !regexp.MustCompile(`^bench_[a-z0-9_]+$`).MatchString(name) {
		return errors.New("schema: -db and one of -create or -drop bench_NAME are required")
	}
	p, err := sql.Open("pgx", *dsn)
	if err != nil {
		return err
	}
	defer p.Close()
	q := "CREATE SCHEMA " + name
	if *drop != "" {
		q = "DROP SCHEMA IF EXISTS " + name + " CASCADE"
	}
	_, err = p.Exec(q)
	return err
}

// answer is what activate reads of an answer.
type answer struct {
	Code    string           `json:"code"`
	Machine *json.RawMessage `json:"machine"`
}

func activateCmd(args []string) error {
	fs := flag.NewFlagSet("activate", flag.ExitOnError)
	urls := fs.String("urls", "", "comma-separated base URLs of the instances (required)")
	dsn := fs.String("db", "", "the instances' database, to count the machines after the burst (required)")
	keysFile := fs.String("keys-file", "", "the contended licenses' keys, one a line (required)")
	from := fs.Int("from", 0, "first line of -keys-file to use (each round its own licenses: the per-license limit)")
	count := fs.Int("count", 16, "licenses in the burst")
	k := fs.Int("k", 3, "their machine limit")
	attempts := fs.Int("attempts", 20, "activations of each license, each a new machine (the per-license limit is 20 per 10 minutes)")
	clients := fs.Int("clients", 64, "concurrent clients, each on its own connection and network (at most 254)")
	netOctet := fs.Int("net", 11, "second octet of the clients' loopback networks 127.NET.c.1 (each round its own: the per-network limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *urls == "" || *dsn == "" || *keysFile == "" || *clients < 1 || *clients > 254 || *netOctet < 1 || *netOctet > 254 {
		return errors.New("activate: -urls, -db and -keys-file are required; -clients and -net are 1 to 254")
	}
	raw, err := os.ReadFile(*keysFile)
	if err != nil {
		return err
	}
	all := strings.Fields(string(raw))
	if *from+*count > len(all) {
		return fmt.Errorf("activate: %s has %d keys, not %d from line %d", *keysFile, len(all), *count, *from)
	}
	keys := all[*from : *from+*count]
	bases := strings.Split(*urls, ",")

	type job struct {
		lic int
		fp  string
	}
	var jobs []job
	for i := range keys {
		for j := range *attempts {
			jobs = append(jobs, job{i, fmt.Sprintf("bench-%d-%d-%d-%d", *netOctet, *from, i, j)})
		}
	}
	mrand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	queue := make(chan job, len(jobs))
	for _, j := range jobs {
		queue <- j
	}
	close(queue)

	type outcome struct {
		lic    int
		status int
		code   string
		new    bool
		took   time.Duration
		err    error
	}
	results := make(chan outcome, len(jobs))
	start := make(chan struct{})
	var ready, wg sync.WaitGroup
	for c := range *clients {
		local := &net.TCPAddr{IP: net.IPv4(127, byte(*netOctet), byte(c+1), 1)}
		tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		base := bases[c%len(bases)]
		ready.Add(1)
		wg.Go(func() {
			// Open the connection before the burst: the burst measures
			// activations, not TCP handshakes.
			res, err := client.Get(base + "/healthz")
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			ready.Done()
			<-start
			for j := range queue {
				body, _ := json.Marshal(map[string]string{"key": keys[j.lic], "fingerprint": j.fp,
					"hostname": "mx" + strconv.Itoa(c) + ".example.com", "platform": "linux/amd64", "nonce": "n-" + j.fp + "-0123456789"})
				t := time.Now()
				res, err := client.Post(base+"/api/v1/machines/activate", "application/json", bytes.NewReader(body))
				o := outcome{lic: j.lic, err: err}
				if err == nil {
					var a answer
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					o.took = time.Since(t)
					o.status = res.StatusCode
					if err := json.Unmarshal(b, &a); err != nil {
						o.err = fmt.Errorf("answer %d is not JSON: %.100s", res.StatusCode, b)
					}
					o.code, o.new = a.Code, a.Machine != nil
				}
				results <- o
			}
		})
	}
	ready.Wait()
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)
	close(results)

	statuses := map[int]int{}
	codes := map[string]int{}
	seated := make([]int, len(keys))
	var lat []time.Duration
	var failures []error
	for o := range results {
		if o.err != nil {
			failures = append(failures, o.err)
			continue
		}
		statuses[o.status]++
		codes[o.code]++
		lat = append(lat, o.took)
		if o.code == string(licensing.CodeValid) && o.new {
			seated[o.lic]++
		}
	}
	slices.Sort(lat)

	// The proof: count the machines in the database.
	ctx := context.Background()
	d, err := db.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	var bad []string
	perLicense := map[int]int{}
	for i, key := range keys {
		lic, err := licenseID(key)
		if err != nil {
			return err
		}
		var machines int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM license_machines m JOIN licenses l ON l.id = m.license_id WHERE l.lic = $1`, lic).Scan(&machines); err != nil {
			return err
		}
		perLicense[machines]++
		if machines != *k || seated[i] != *k {
			bad = append(bad, fmt.Sprintf("%s: %d machines, %d activations answered with a new machine", lic, machines, seated[i]))
		}
	}
	fmt.Printf("instances: %d, clients: %d (networks 127.%d.1-%d.0/24), licenses: %d (limit %d machines), activations: %d (%d per license)\n",
		len(bases), *clients, *netOctet, *clients, len(keys), *k, len(jobs), *attempts)
	fmt.Printf("HTTP statuses: %v, codes: %v, transport errors: %d\n", statuses, codes, len(failures))
	if len(lat) > 0 {
		fmt.Printf("RESULT rps=%.1f elapsed_ms=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d errors=%d\n",
			float64(len(lat))/elapsed.Seconds(), ms(elapsed), ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]), len(lat), len(failures))
	}
	fmt.Printf("machines per license after the burst: %v (want all %d)\n", perLicense, *k)
	if len(failures) > 0 {
		return fmt.Errorf("FAILED: %d requests failed, the first: %v", len(failures), failures[0])
	}
	if statuses[http.StatusOK] != len(jobs) {
		return fmt.Errorf("FAILED: not every activation was answered 200: %v", statuses)
	}
	if len(bad) > 0 {
		return fmt.Errorf("FAILED: the machine limit did not hold: %s", strings.Join(bad, "; "))
	}
	fmt.Printf("OK: every license has exactly %d machines\n", *k)
	return nil
}

// licenseID reads the license id of a key of ours (seed made it) from its
// payload, without verifying it: the server did.
func licenseID(key string) (string, error) {
	parts := strings.Split(key, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a license key: %.20q", key)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var p licensing.Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", err
	}
	return p.License, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(xs []time.Duration, p int) time.Duration {
	i := (len(xs)*p + 99) / 100
	return xs[max(1, min(i, len(xs)))-1]
}
