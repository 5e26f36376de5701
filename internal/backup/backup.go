package backup

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/storekeep/storekeep/internal/privacy"
)

// Options say how to make a backup.
type Options struct {
	// Out is the file to write, or an existing directory to write
	// storekeep-YYYYMMDDTHHMMSSZ.skbackup into. An existing file is
	// never overwritten.
	Out string
	// Version is the Storekeep version recorded in the manifest.
	Version string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Progress receives a progress bar; nil shows none.
	Progress io.Writer
}

// Result is what Backup made.
type Result struct {
	Path     string
	Manifest Manifest
	// Elapsed is how long the copy took, from the start of VACUUM INTO to
	// the rename of the finished file.
	Elapsed time.Duration
}

// Backup writes a consistent copy of the SQLite database at dbPath while
// the site keeps running, with VACUUM INTO: it reads the database in one
// read transaction (WAL mode lets writers go on meanwhile; the copy is
// the database as it was when the copy began) and writes a compact file
// holding no free pages, so no remnant of deleted data goes into the
// backup. SQLite's online backup API was the other choice: it copies
// pages in steps, and a step after another connection wrote starts the
// copy again, so under steady writes it may never finish, and it copies
// free pages too (docs/backups.md).
//
// The finished file (header, database, checksum; see the package
// documentation) is written beside the destination, fsynced and renamed
// into place, so a crash leaves either no backup or a whole one.
func Backup(ctx context.Context, dbPath string, o Options) (Result, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if _, err := os.Stat(dbPath); err != nil {
		return Result{}, fmt.Errorf("backup: there is no database at %s: give the existing one with --db (or STOREKEEP_DB)", dbPath)
	}
	out := o.Out
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		out = filepath.Join(out, "storekeep-"+now().UTC().Format("20060102T150405Z")+Ext)
	}
	if _, err := os.Lstat(out); err == nil {
		return Result{}, fmt.Errorf("backup: %s exists already: give a new file name, or a directory to write a dated file into", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	dir := filepath.Dir(out)
	src, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return Result{}, fmt.Errorf("backup: open %s: %w", dbPath, err)
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	var pages, free, pageSize int64
	if err := src.QueryRowContext(ctx, `SELECT page_count, freelist_count, page_size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()`).Scan(&pages, &free, &pageSize); err != nil {
		return Result{}, fmt.Errorf("backup: %s cannot be read as a SQLite database: %w", dbPath, err)
	}
	copyPath := filepath.Join(dir, "."+filepath.Base(out)+".copy-"+randomSuffix())
	defer os.Remove(copyPath)

	started := now()
	t0 := time.Now()
	stop := watch(o.Progress, "copy ", (pages-free)*pageSize, copyPath)
	_, err = src.ExecContext(ctx, `VACUUM INTO $1`, copyPath)
	stop()
	if err != nil {
		return Result{}, fmt.Errorf("backup: copy the database (VACUUM INTO %s): %w; check that the directory is writable and has room for the copy", copyPath, err)
	}
	taken := now()

	m := Manifest{Format: Format, Storekeep: o.Version, StartedAt: started.UTC(), TakenAt: taken.UTC(), Dialect: "sqlite"}
	if m.Schema, err = copySchema(ctx, copyPath); err != nil {
		return Result{}, err
	}
	st, err := os.Stat(copyPath)
	if err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	m.Size = st.Size()
	if k, err := privacy.LoadLedgerKey(filepath.Dir(dbPath)); err == nil {
		m.LedgerKeyID = k.ID
	}
	if err := writeBackup(out, copyPath, m, o.Progress); err != nil {
		return Result{}, err
	}
	return Result{Path: out, Manifest: m, Elapsed: time.Since(t0)}, nil
}

// Ext is the file name extension of backups written into a directory.
const Ext = ".skbackup"

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// copySchema reads the migration version of the copy.
func copySchema(ctx context.Context, path string) (int64, error) {
	c, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var v sql.NullInt64
	if err := c.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil || !v.Valid {
		return 0, fmt.Errorf("backup: the database has no migration history (%v): is it a Storekeep database?", err)
	}
	return v.Int64, nil
}

// writeBackup writes the header, the copy and the checksum to a file
// beside out, fsyncs it and renames it to out.
func writeBackup(out, copyPath string, m Manifest, progress io.Writer) error {
	head, err := m.header()
	if err != nil {
		return err
	}
	in, err := os.Open(copyPath)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".part-*")
	if err != nil {
		return fmt.Errorf("backup: create %s: %w", out, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	_, _ = w.Write(head)
	var r io.Reader = in
	if progress != nil {
		bar := newBar(progress, "write", m.Size)
		r = io.TeeReader(in, bar)
		defer bar.Finish()
	}
	if _, err := io.Copy(w, r); err != nil {
		tmp.Close()
		return fmt.Errorf("backup: write %s: %w", out, err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("backup: write %s: %w", out, err)
	}
	if _, err := tmp.Write(trailer(h.Sum(nil))); err != nil {
		tmp.Close()
		return fmt.Errorf("backup: write %s: %w", out, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("backup: sync %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Link, not rename: it fails if out appeared meanwhile.
	if err := os.Link(tmp.Name(), out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return syncDir(filepath.Dir(out))
}

// syncDir makes a new name in dir durable. Windows cannot sync a
// directory (and needs not: its file system records names in its journal).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func newBar(w io.Writer, what string, size int64) *progressbar.ProgressBar {
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

// watch shows the growth of the file at path towards about size bytes
// until stop is called: VACUUM INTO reports nothing while it runs.
func watch(w io.Writer, what string, size int64, path string) (stop func()) {
	if w == nil {
		return func() {}
	}
	bar := newBar(w, what, max(size, 1))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if st, err := os.Stat(path); err == nil {
					_ = bar.Set64(min(st.Size(), size))
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		_ = bar.Finish()
	}
}

// Prune deletes the backups in dir taken before now minus keep, and
// returns their names. Only files that read as backups are considered.
func Prune(dir string, keep time.Duration, now time.Time) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	var removed []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), Ext) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		m, err := readManifestOf(p)
		if err != nil || !m.TakenAt.Before(now.Add(-keep)) {
			continue
		}
		if err := os.Remove(p); err != nil {
			return removed, fmt.Errorf("prune: %w", err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

func readManifestOf(path string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	m, _, err := ReadHeader(bufio.NewReader(f))
	return m, err
}
