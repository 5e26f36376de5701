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
	"strings"
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

// Header tags and types this reader needs (rpm's lib/rpmtag.h).
const (
	rpmTagName        = 1000
	rpmTagVersion     = 1001
	rpmTagRelease     = 1002
	rpmTagEpoch       = 1003
	rpmTagSummary     = 1004
	rpmTagDescription = 1005
	rpmTagBuildTime   = 1006
	rpmTagBuildHost   = 1007
	rpmTagSize        = 1009
	rpmTagVendor      = 1011
	rpmTagLicense     = 1014
	rpmTagPackager    = 1015
	rpmTagGroup       = 1016
	rpmTagURL         = 1020
	rpmTagArch        = 1022
	rpmTagOldFiles    = 1027
	rpmTagFileModes   = 1030
	rpmTagFileFlags   = 1037
	rpmTagSourceRPM   = 1044
	rpmTagArchiveSize = 1046
	rpmTagDirIndexes  = 1116
	rpmTagBasenames   = 1117
	rpmTagDirNames    = 1118
	rpmTagLongSize    = 5009

	// The signature header's tags for the payload's size.
	rpmSigPayloadSize     = 1007
	rpmSigLongArchiveSize = 271

	rpmTypeInt16       = 3
	rpmTypeInt32       = 4
	rpmTypeInt64       = 5
	rpmTypeString      = 6
	rpmTypeStringArray = 8
	rpmTypeI18NString  = 9

	// rpm itself refuses headers beyond these (hdrchkTags, hdrchkData).
	maxRPMIndex = 0xffff
	maxRPMStore = 64 << 20
	// maxRPMFiles bounds the file list kept for the repository's indexes;
	// a vendor's package has a few dozen.
	maxRPMFiles = 100_000
	// maxRPMDeps bounds each kind of dependency.
	maxRPMDeps = 10_000
	// maxRPMText bounds each text field kept (a description is a few
	// paragraphs; rpm allows more, the index needs no more).
	maxRPMText = 64 << 10
)

// rpmDepTags are the name, flags and version tags of each kind of
// dependency primary.xml lists, and the field of RPMMeta it fills.
var rpmDepTags = []struct {
	kind                 string
	name, flags, version uint32
	to                   func(*RPMMeta) *[]RPMDep
}{
	{"provides", 1047, 1112, 1113, func(m *RPMMeta) *[]RPMDep { return &m.Provides }},
	{"requires", 1049, 1048, 1050, func(m *RPMMeta) *[]RPMDep { return &m.Requires }},
	{"conflicts", 1054, 1053, 1055, func(m *RPMMeta) *[]RPMDep { return &m.Conflicts }},
	{"obsoletes", 1090, 1114, 1115, func(m *RPMMeta) *[]RPMDep { return &m.Obsoletes }},
	{"recommends", 5046, 5048, 5047, func(m *RPMMeta) *[]RPMDep { return &m.Recommends }},
	{"suggests", 5049, 5051, 5050, func(m *RPMMeta) *[]RPMDep { return &m.Suggests }},
	{"supplements", 5052, 5054, 5053, func(m *RPMMeta) *[]RPMDep { return &m.Supplements }},
	{"enhances", 5055, 5057, 5056, func(m *RPMMeta) *[]RPMDep { return &m.Enhances }},
}

// ReadRPM reads an RPM package's lead and headers and returns its name,
// [epoch:]version-release and architecture, with what a YUM repository's
// index needs in Meta (RPMMeta as JSON). Anything out of bounds or
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
	sig, err := rpmHeader(br)
	if err != nil {
		return Package{}, fmt.Errorf("the signature header: %w", err)
	}
	pad := (8 - len(sig.store)%8) % 8
	if pad > 0 {
		if _, err := br.Discard(pad); err != nil {
			return Package{}, errors.New("the RPM is cut short after its signature header")
		}
	}
	h, err := rpmHeader(br)
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
	m := RPMMeta{Version: ver, Release: rel}
	p.Version = ver + "-" + rel
	if epoch, ok, err := h.int32(rpmTagEpoch); err != nil {
		return Package{}, err
	} else if ok {
		m.Epoch = strconv.FormatUint(uint64(epoch), 10)
		p.Version = m.Epoch + ":" + p.Version
	}
	start := int64(len(lead)) + sig.size() + int64(pad)
	m.HeaderStart, m.HeaderEnd = start, start+h.size()
	if err := h.meta(sig, &m); err != nil {
		return Package{}, err
	}
	if p.Meta, err = m.Marshal(); err != nil {
		return Package{}, err
	}
	return p, nil
}

// meta reads the header's descriptive fields, sizes, dependencies and
// files into m. Text fields are optional (a header without a summary is
// listed with none); malformed ones are refused.
func (h rpmIndex) meta(sig rpmIndex, m *RPMMeta) error {
	for _, f := range []struct {
		tag uint32
		to  *string
	}{
		{rpmTagSummary, &m.Summary}, {rpmTagDescription, &m.Description}, {rpmTagPackager, &m.Packager},
		{rpmTagURL, &m.URL}, {rpmTagLicense, &m.License}, {rpmTagVendor, &m.Vendor}, {rpmTagGroup, &m.Group},
		{rpmTagBuildHost, &m.BuildHost}, {rpmTagSourceRPM, &m.SourceRPM},
	} {
		s, _, err := h.str(f.tag)
		if err != nil {
			return err
		}
		if len(s) > maxRPMText {
			return fmt.Errorf("the header's tag %d is longer than %d bytes", f.tag, maxRPMText)
		}
		*f.to = s
	}
	if t, ok, err := h.int32(rpmTagBuildTime); err != nil {
		return err
	} else if ok {
		m.BuildTime = int64(t)
	}
	var err error
	if m.InstalledSize, err = h.size64(rpmTagLongSize, rpmTagSize); err != nil {
		return err
	}
	if m.ArchiveSize, err = sig.size64(rpmSigLongArchiveSize, rpmSigPayloadSize); err != nil {
		return err
	}
	if m.ArchiveSize == 0 {
		if m.ArchiveSize, err = h.size64(0, rpmTagArchiveSize); err != nil {
			return err
		}
	}
	for _, d := range rpmDepTags {
		deps, err := h.deps(d.name, d.flags, d.version)
		if err != nil {
			return fmt.Errorf("the header's %s: %w", d.kind, err)
		}
		*d.to(m) = deps
	}
	files, err := h.files()
	if err != nil {
		return fmt.Errorf("the header's file list: %w", err)
	}
	m.Files = files
	return nil
}

// deps reads one kind of dependency: parallel arrays of names, flags and
// versions ([epoch:]version[-release], "" for none).
func (h rpmIndex) deps(nameTag, flagsTag, versionTag uint32) ([]RPMDep, error) {
	names, err := h.strs(nameTag, maxRPMDeps)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	flags, err := h.int32s(flagsTag, rpmTypeInt32, maxRPMDeps)
	if err != nil {
		return nil, err
	}
	versions, err := h.strs(versionTag, maxRPMDeps)
	if err != nil {
		return nil, err
	}
	if len(flags) != len(names) || len(versions) != len(names) {
		return nil, fmt.Errorf("%d names, %d flags and %d versions", len(names), len(flags), len(versions))
	}
	out := make([]RPMDep, len(names))
	for i, n := range names {
		if n == "" || len(n) > 4096 || len(versions[i]) > 256 {
			return nil, fmt.Errorf("the entry %.40q %.40q is out of bounds", n, versions[i])
		}
		out[i] = RPMDep{Name: n, Flags: flags[i]}
		if versions[i] != "" {
			out[i].Epoch, out[i].Version, out[i].Release = SplitEVR(versions[i])
		}
	}
	return out, nil
}

// SplitEVR splits an RPM [epoch:]version[-release].
func SplitEVR(evr string) (epoch, version, release string) {
	if i := strings.IndexByte(evr, ':'); i >= 0 && strings.Trim(evr[:i], "0123456789") == "" {
		epoch, evr = evr[:i], evr[i+1:]
	}
	version = evr
	if i := strings.LastIndexByte(evr, '-'); i >= 0 {
		version, release = evr[:i], evr[i+1:]
	}
	return epoch, version, release
}

// files reads the file list: directory names, base names and each base
// name's directory index (or the old format's full paths), with each
// file's mode and flags for its type.
func (h rpmIndex) files() ([]RPMFile, error) {
	var paths []string
	base, err := h.strs(rpmTagBasenames, maxRPMFiles)
	if err != nil {
		return nil, err
	}
	if len(base) > 0 {
		dirs, err := h.strs(rpmTagDirNames, maxRPMFiles)
		if err != nil {
			return nil, err
		}
		idx, err := h.int32s(rpmTagDirIndexes, rpmTypeInt32, maxRPMFiles)
		if err != nil {
			return nil, err
		}
		if len(idx) != len(base) {
			return nil, fmt.Errorf("%d names and %d directory indexes", len(base), len(idx))
		}
		paths = make([]string, len(base))
		for i, b := range base {
			if int64(idx[i]) >= int64(len(dirs)) {
				return nil, fmt.Errorf("a directory index points past the %d directories", len(dirs))
			}
			paths[i] = dirs[idx[i]] + b
		}
	} else if paths, err = h.strs(rpmTagOldFiles, maxRPMFiles); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, nil
	}
	modes, err := h.int32s(rpmTagFileModes, rpmTypeInt16, maxRPMFiles)
	if err != nil {
		return nil, err
	}
	flags, err := h.int32s(rpmTagFileFlags, rpmTypeInt32, maxRPMFiles)
	if err != nil {
		return nil, err
	}
	out := make([]RPMFile, len(paths))
	for i, p := range paths {
		if len(p) > 4096 {
			return nil, fmt.Errorf("a path of %d bytes", len(p))
		}
		out[i].Path = p
		switch {
		case i < len(flags) && flags[i]&rpmFileGhost != 0:
			out[i].Type = "ghost"
		case i < len(modes) && modes[i]&0o170000 == 0o040000:
			out[i].Type = "dir"
		}
	}
	return out, nil
}

// rpmFileGhost is RPMFILE_GHOST: a file the package owns but does not
// carry.
const rpmFileGhost = 1 << 6

// rpmIndex is a read header: its index entries and data store.
type rpmIndex struct {
	entries []rpmEntry
	store   []byte
}

type rpmEntry struct{ tag, typ, off, count uint32 }

// size is the header structure's length in the file: the 16 bytes before
// the index, the index and the store.
func (h rpmIndex) size() int64 { return 16 + 16*int64(len(h.entries)) + int64(len(h.store)) }

// rpmHeader reads one header structure.
func rpmHeader(r io.Reader) (rpmIndex, error) {
	var pre [16]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return rpmIndex{}, errors.New("cut short")
	}
	if !bytes.Equal(pre[:4], rpmHeaderMagic) {
		return rpmIndex{}, errors.New("damaged (no header magic)")
	}
	n := binary.BigEndian.Uint32(pre[8:12])
	size := binary.BigEndian.Uint32(pre[12:16])
	if n == 0 || n > maxRPMIndex || size > maxRPMStore {
		return rpmIndex{}, fmt.Errorf("out of bounds (%d entries, %d bytes)", n, size)
	}
	raw := make([]byte, 16*int(n))
	if _, err := io.ReadFull(r, raw); err != nil {
		return rpmIndex{}, errors.New("cut short")
	}
	h := rpmIndex{entries: make([]rpmEntry, n)}
	for i := range h.entries {
		b := raw[16*i:]
		h.entries[i] = rpmEntry{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])}
		if size == 0 || h.entries[i].off >= size {
			return rpmIndex{}, errors.New("an index entry points past the data")
		}
	}
	// Read the store in steps, so a header claiming 64 MiB in a file of a
	// few bytes does not allocate them.
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(size)); err != nil {
		return rpmIndex{}, errors.New("cut short")
	}
	h.store = buf.Bytes()
	return h, nil
}

func (h rpmIndex) find(tag uint32) (rpmEntry, bool) {
	for _, e := range h.entries {
		if e.tag == tag {
			return e, true
		}
	}
	return rpmEntry{}, false
}

// str reads a STRING entry, or the first (untranslated) text of an
// I18NSTRING one: NUL-terminated text at its offset.
func (h rpmIndex) str(tag uint32) (string, bool, error) {
	e, ok := h.find(tag)
	if !ok {
		return "", false, nil
	}
	if !(e.typ == rpmTypeString && e.count == 1 || e.typ == rpmTypeI18NString && e.count >= 1) {
		return "", false, fmt.Errorf("the header's tag %d is not a string", tag)
	}
	rest := h.store[e.off:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return "", false, fmt.Errorf("the header's tag %d runs past the data", tag)
	}
	return string(rest[:end]), true, nil
}

// strs reads a STRING_ARRAY entry of at most max strings; none when the
// tag is absent.
func (h rpmIndex) strs(tag uint32, max int) ([]string, error) {
	e, ok := h.find(tag)
	if !ok {
		return nil, nil
	}
	if e.typ != rpmTypeStringArray {
		return nil, fmt.Errorf("the header's tag %d is not a list of strings", tag)
	}
	if int64(e.count) > int64(max) {
		return nil, fmt.Errorf("the header's tag %d has %d entries, more than %d", tag, e.count, max)
	}
	out := make([]string, 0, min(e.count, 1024))
	rest := h.store[e.off:]
	for range e.count {
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			return nil, fmt.Errorf("the header's tag %d runs past the data", tag)
		}
		out = append(out, string(rest[:end]))
		rest = rest[end+1:]
	}
	return out, nil
}

// int32s reads an INT32 or INT16 (typ) entry of at most max values as
// unsigned numbers; none when the tag is absent.
func (h rpmIndex) int32s(tag uint32, typ uint32, max int) ([]uint32, error) {
	e, ok := h.find(tag)
	if !ok {
		return nil, nil
	}
	width := uint64(4)
	if typ == rpmTypeInt16 {
		width = 2
	}
	if e.typ != typ || int64(e.count) > int64(max) || uint64(e.off)%width != 0 || uint64(e.off)+width*uint64(e.count) > uint64(len(h.store)) {
		return nil, fmt.Errorf("the header's tag %d is not a list of numbers", tag)
	}
	out := make([]uint32, e.count)
	b := h.store[e.off:]
	for i := range out {
		if width == 2 {
			out[i] = uint32(binary.BigEndian.Uint16(b[2*i:]))
		} else {
			out[i] = binary.BigEndian.Uint32(b[4*i:])
		}
	}
	return out, nil
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

// size64 reads a size from the INT64 tag long, else the INT32 tag short
// (rpm writes the long form for packages of 4 GiB or more); 0 when
// neither is there.
func (h rpmIndex) size64(long, short uint32) (int64, error) {
	if e, ok := h.find(long); ok && long != 0 {
		if e.typ != rpmTypeInt64 || e.count < 1 || e.off%8 != 0 || uint64(e.off)+8 > uint64(len(h.store)) {
			return 0, fmt.Errorf("the header's tag %d is not a number", long)
		}
		n := binary.BigEndian.Uint64(h.store[e.off:])
		if n > 1<<62 {
			return 0, fmt.Errorf("the header's tag %d is out of bounds", long)
		}
		return int64(n), nil
	}
	n, _, err := h.int32(short)
	return int64(n), err
}
