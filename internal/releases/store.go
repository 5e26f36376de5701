package releases

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Store keeps artifacts' bytes. Keys are Storekeep's own, derived from
// the content's SHA-256 (see DirStore.Put); a user's file name never
// reaches a path or an object key. A directory on a disk is the one
// implementation today; an object store fits the same three methods.
type Store interface {
	// Put stores everything r yields under a new key and returns it with
	// the size and SHA-256, hashed while writing. name is the artifact's
	// file name, for a store that keeps it as metadata (an object store's
	// Content-Disposition); it never becomes part of the key. When r fails
	// or ctx ends before r is done, nothing is stored. Content beyond max
	// bytes is refused (ErrTooLarge) and nothing is stored.
	Put(ctx context.Context, name string, r io.Reader, max int64) (Object, error)
	// Open opens the object with key for reading, with seeking for Range
	// requests, its size and modification time.
	Open(ctx context.Context, key string) (Blob, error)
	// Delete removes the object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
}

// Object is what Put stored.
type Object struct {
	Key    string
	Size   int64
	SHA256 [32]byte
}

// Blob is a stored object opened for reading.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// ErrTooLarge refuses content beyond the size limit.
var ErrTooLarge = errors.New("larger than the size limit")

// DirStore keeps each object in a file of its own under a directory the
// operator chooses (--release-store).
type DirStore struct {
	dir string
}

// NewDirStore uses dir, creating it (mode 0750) if needed.
func NewDirStore(dir string) (*DirStore, error) {
	if dir == "" {
		return nil, errors.New("release store: no directory given")
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("release store: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

// keyRE is the shape of every key Put makes: the content's SHA-256 and a
// random suffix, both hex.
var keyRE = regexp.MustCompile(`^[0-9a-f]{64}-[0-9a-f]{16}$`)

// path maps a key to its file: <dir>/<first two hex digits>/<key>, so no
// directory grows to every object. Keys not of Put's shape are refused,
// so no key can name a path outside the directory.
func (s *DirStore) path(key string) (string, error) {
	if !keyRE.MatchString(key) {
		return "", fmt.Errorf("release store: %q is not a key of this store", key)
	}
	return filepath.Join(s.dir, key[:2], key), nil
}

// Put writes r to a temporary file in the store's tmp directory, hashing
// as it goes, syncs it, and renames it to its key: the SHA-256 of the
// content followed by a random suffix. The suffix gives every upload an
// object of its own, so removing one (a refused or deleted artifact)
// never takes away the bytes of another with the same content. A reader
// that fails, a cancelled ctx or content beyond max leaves no file.
func (s *DirStore) Put(ctx context.Context, _ string, r io.Reader, max int64) (obj Object, err error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-*")
	if err != nil {
		return Object{}, fmt.Errorf("release store: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), &ctxReader{ctx: ctx, r: io.LimitReader(r, max+1)})
	if err != nil {
		return Object{}, fmt.Errorf("release store: %w", err)
	}
	if n > max {
		return Object{}, ErrTooLarge
	}
	if err := f.Sync(); err != nil {
		return Object{}, fmt.Errorf("release store: %w", err)
	}
	if err := f.Close(); err != nil {
		return Object{}, fmt.Errorf("release store: %w", err)
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	obj = Object{Size: n}
	copy(obj.SHA256[:], h.Sum(nil))
	obj.Key = hex.EncodeToString(obj.SHA256[:]) + "-" + hex.EncodeToString(suffix[:])
	final, _ := s.path(obj.Key)
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return Object{}, fmt.Errorf("release store: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return Object{}, fmt.Errorf("release store: %w", err)
	}
	// The rename is durable once the directory holding it is synced.
	if err := syncDir(filepath.Dir(final)); err != nil {
		_ = os.Remove(final)
		return Object{}, fmt.Errorf("release store: %w", err)
	}
	return obj, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open opens the object's file.
func (s *DirStore) Open(_ context.Context, key string) (Blob, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("release store: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("release store: %w", err)
	}
	return fileBlob{File: f, info: info}, nil
}

// Delete removes the object's file.
func (s *DirStore) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release store: %w", err)
	}
	return nil
}

type fileBlob struct {
	*os.File
	info fs.FileInfo
}

func (b fileBlob) Size() int64        { return b.info.Size() }
func (b fileBlob) ModTime() time.Time { return b.info.ModTime() }

// OSFile is the open file itself, so a download can be sent by the
// kernel (sendfile) rather than copied through the process.
func (b fileBlob) OSFile() *os.File { return b.File }

// ctxReader stops reading once ctx is done, so a cancelled upload ends
// and leaves nothing.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
