package releases

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// The RPM file format (rpm's doc/manual/format.md): a 96-byte lead, the
// signature header padded to 8 bytes, then the main header, whose index
// entries point into its data store.
var (
	rpmLeadMagic   = []byte{0xed, 0xab, 0xee, 0xdb}
	rpmHeaderMagic = []byte{0x8e, 0xad, 0xe8, 0x01}
	errNotRPM      = errors.New("not an RPM package")

	rpmNameRE = regexp.MustCompile(`^[A-Za-z0-9_+.-]+$`)
	rpmVerRE  = regexp.MustCompile(`^[A-Za-z0-9._+~^]+$`)
)

// Header tags and types this reader needs.
const (
	rpmTagName    = 1000
	rpmTagVersion = 1001
	rpmTagRelease = 1002
	rpmTagEpoch   = 1003
	rpmTagArch    = 1022

	rpmTypeInt32  = 4
	rpmTypeString = 6

	// rpm itself refuses headers beyond these (hdrchkTags, hdrchkData).
	maxRPMIndex = 0xffff
	maxRPMStore = 64 << 20
)

// ReadRPM reads an RPM package's lead and headers and returns its name,
// [epoch:]version-release and architecture. Anything out of bounds or
// missing is refused with the reason.
func ReadRPM(r io.Reader) (Package, error) {
	br := bufio.NewReader(r)
	var lead [96]byte
	if _, err := io.ReadFull(br, lead[:]); err != nil || !bytes.Equal(lead[:4], rpmLeadMagic) {
		return Package{}, errNotRPM
	}
	if lead[4] != 3 && lead[4] != 4 {
		return Package{}, fmt.Errorf("unsupported RPM format %d", lead[4])
	}
	if binary.BigEndian.Uint16(lead[78:80]) != 5 {
		return Package{}, errors.New("the RPM lead does not announce a signature header")
	}
	_, sigStore, err := rpmHeader(br)
	if err != nil {
		return Package{}, fmt.Errorf("the signature header: %w", err)
	}
	if pad := (8 - sigStore%8) % 8; pad > 0 {
		if _, err := br.Discard(pad); err != nil {
			return Package{}, errors.New("the RPM is cut short after its signature header")
		}
	}
	h, _, err := rpmHeader(br)
	if err != nil {
		return Package{}, fmt.Errorf("the header: %w", err)
	}
	str := func(tag uint32, what string) (string, error) {
		s, ok, err := h.str(tag)
		if err != nil {
			return "", err
		}
		if !ok || s == "" {
			return "", fmt.Errorf("the header has no %s", what)
		}
		return s, nil
	}
	var p Package
	if p.Name, err = str(rpmTagName, "name"); err != nil {
		return Package{}, err
	}
	ver, err := str(rpmTagVersion, "version")
	if err != nil {
		return Package{}, err
	}
	rel, err := str(rpmTagRelease, "release")
	if err != nil {
		return Package{}, err
	}
	if p.Arch, err = str(rpmTagArch, "architecture"); err != nil {
		return Package{}, err
	}
	switch {
	case len(p.Name) > 128 || !rpmNameRE.MatchString(p.Name):
		return Package{}, fmt.Errorf("the header's name %.40q is not a package name", p.Name)
	case len(ver) > 64 || !rpmVerRE.MatchString(ver), len(rel) > 64 || !rpmVerRE.MatchString(rel):
		return Package{}, fmt.Errorf("the header's version %.40q-%.40q is not an RPM version", ver, rel)
	case len(p.Arch) > 32 || !rpmNameRE.MatchString(p.Arch):
		return Package{}, fmt.Errorf("the header's architecture %.40q is not an architecture", p.Arch)
	}
	p.Version = ver + "-" + rel
	if epoch, ok, err := h.int32(rpmTagEpoch); err != nil {
		return Package{}, err
	} else if ok {
		p.Version = strconv.FormatUint(uint64(epoch), 10) + ":" + p.Version
	}
	return p, nil
}

// rpmIndex is a read header: its index entries and data store.
type rpmIndex struct {
	entries []rpmEntry
	store   []byte
}

type rpmEntry struct{ tag, typ, off, count uint32 }

// rpmHeader reads one header structure and returns it with the size of
// its store.
func rpmHeader(r io.Reader) (rpmIndex, int, error) {
	var pre [16]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return rpmIndex{}, 0, errors.New("cut short")
	}
	if !bytes.Equal(pre[:4], rpmHeaderMagic) {
		return rpmIndex{}, 0, errors.New("damaged (no header magic)")
	}
	n := binary.BigEndian.Uint32(pre[8:12])
	size := binary.BigEndian.Uint32(pre[12:16])
	if n == 0 || n > maxRPMIndex || size > maxRPMStore {
		return rpmIndex{}, 0, fmt.Errorf("out of bounds (%d entries, %d bytes)", n, size)
	}
	raw := make([]byte, 16*int(n))
	if _, err := io.ReadFull(r, raw); err != nil {
		return rpmIndex{}, 0, errors.New("cut short")
	}
	h := rpmIndex{entries: make([]rpmEntry, n)}
	for i := range h.entries {
		b := raw[16*i:]
		h.entries[i] = rpmEntry{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])}
		if size == 0 || h.entries[i].off >= size {
			return rpmIndex{}, 0, errors.New("an index entry points past the data")
		}
	}
	// Read the store in steps, so a header claiming 64 MiB in a file of a
	// few bytes does not allocate them.
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(size)); err != nil {
		return rpmIndex{}, 0, errors.New("cut short")
	}
	h.store = buf.Bytes()
	return h, int(size), nil
}

func (h rpmIndex) find(tag uint32) (rpmEntry, bool) {
	for _, e := range h.entries {
		if e.tag == tag {
			return e, true
		}
	}
	return rpmEntry{}, false
}

// str reads a STRING entry: NUL-terminated text at its offset.
func (h rpmIndex) str(tag uint32) (string, bool, error) {
	e, ok := h.find(tag)
	if !ok {
		return "", false, nil
	}
	if e.typ != rpmTypeString || e.count != 1 {
		return "", false, fmt.Errorf("the header's tag %d is not a string", tag)
	}
	rest := h.store[e.off:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return "", false, fmt.Errorf("the header's tag %d runs past the data", tag)
	}
	return string(rest[:end]), true, nil
}

// int32 reads the first value of an INT32 entry.
func (h rpmIndex) int32(tag uint32) (uint32, bool, error) {
	e, ok := h.find(tag)
	if !ok {
		return 0, false, nil
	}
	if e.typ != rpmTypeInt32 || e.count < 1 || e.off%4 != 0 || uint64(e.off)+4 > uint64(len(h.store)) {
		return 0, false, fmt.Errorf("the header's tag %d is not a number", tag)
	}
	return binary.BigEndian.Uint32(h.store[e.off:]), true, nil
}
