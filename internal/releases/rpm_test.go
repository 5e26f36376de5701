package releases_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
	"github.com/storekeep/storekeep/internal/testutil"
)

// richRPM is a package with every field the repository indexes.
func richRPM(t testing.TB) []byte {
	return releasetest.RPMOf(t, releasetest.RPMSpec{
		Name: "acme-milter", Version: "2.1.0", Arch: "amd64", Release: "3",
		Summary:     `Acme's milter <fast> & "safe"`,
		Description: "Filters mail.\n\nLine two & <tags> ]]> \x01 here.",
		Depends:     []string{"postfix >= 3.5", "libc6", "acme-common = 2.1.0-3"},
		Provides:    []string{"acme-filter"},
		Conflicts:   []string{"old-milter < 1.0"},
		Replaces:    []string{"acme-legacy <= 0.9"},
		Recommends:  []string{"spamassassin"},
		Files:       map[string]string{"/etc/acme/acme.conf": "listen = 127.0.0.1\n", "/usr/lib/acme/helper.so": "ELF"},
		Dirs:        []string{"/var/lib/acme"},
		Ghosts:      []string{"/var/log/acme.log"},
	})
}

// TestReadRPMMeta reads what the YUM index needs from an nfpm-built
// package and, where rpm is installed, checks each field against what
// rpm itself says of the same file.
func TestReadRPMMeta(t *testing.T) {
	b := richRPM(t)
	p, err := releases.ReadRPM(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "acme-milter" || p.Version != "2.1.0-3" || p.Arch != "x86_64" {
		t.Fatalf("package %+v", p)
	}
	m, err := releases.ParseRPMMeta(p.Meta)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "2.1.0" || m.Release != "3" || m.Epoch != "" {
		t.Errorf("evr %q %q %q", m.Epoch, m.Version, m.Release)
	}
	if m.Summary != `Acme's milter <fast> & "safe"` || !strings.Contains(m.Description, "Line two & <tags>") {
		t.Errorf("summary %q description %q", m.Summary, m.Description)
	}
	if m.License != "Proprietary" || m.Vendor != "Test Vendor" || m.URL != "https://example.com" ||
		m.Group != "Applications/Internet" || m.BuildHost != "build.example.com" || m.Packager != "Test Vendor <packages@example.com>" {
		t.Errorf("fields %+v", m)
	}
	// The header range: the main header's magic at start, the payload
	// (gzip, nfpm's default) at end.
	if m.HeaderStart <= 96 || m.HeaderEnd <= m.HeaderStart || m.HeaderEnd >= int64(len(b)) {
		t.Fatalf("header range %d-%d of %d bytes", m.HeaderStart, m.HeaderEnd, len(b))
	}
	if !bytes.HasPrefix(b[m.HeaderStart:], []byte{0x8e, 0xad, 0xe8, 0x01}) || !bytes.HasPrefix(b[m.HeaderEnd:], []byte{0x1f, 0x8b}) {
		t.Errorf("header range %d-%d does not frame the header: % x ... % x", m.HeaderStart, m.HeaderEnd, b[m.HeaderStart:m.HeaderStart+4], b[m.HeaderEnd:m.HeaderEnd+2])
	}
	dep := func(deps []releases.RPMDep, name string) releases.RPMDep {
		for _, d := range deps {
			if d.Name == name {
				return d
			}
		}
		t.Errorf("no %s in %+v", name, deps)
		return releases.RPMDep{}
	}
	if d := dep(m.Requires, "postfix"); d.Comparison() != "GE" || d.Version != "3.5" || d.Release != "" {
		t.Errorf("postfix %+v", d)
	}
	if d := dep(m.Requires, "acme-common"); d.Comparison() != "EQ" || d.Version != "2.1.0" || d.Release != "3" {
		t.Errorf("acme-common %+v", d)
	}
	if d := dep(m.Conflicts, "old-milter"); d.Comparison() != "LT" || d.Version != "1.0" {
		t.Errorf("conflict %+v", d)
	}
	if d := dep(m.Obsoletes, "acme-legacy"); d.Comparison() != "LE" {
		t.Errorf("obsoletes %+v", d)
	}
	dep(m.Provides, "acme-filter")
	dep(m.Recommends, "spamassassin")
	types := map[string]string{}
	for _, f := range m.Files {
		types[f.Path] = f.Type
	}
	for path, typ := range map[string]string{"/usr/bin/acme-milter": "", "/etc/acme/acme.conf": "", "/usr/lib/acme/helper.so": "",
		"/var/lib/acme": "dir", "/var/log/acme.log": "ghost"} {
		if got, ok := types[path]; !ok || got != typ {
			t.Errorf("file %s: type %q (listed %v), want %q; files %+v", path, got, ok, typ, m.Files)
		}
	}

	bin, err := exec.LookPath("rpm")
	if err != nil {
		if testutil.Required() {
			t.Fatal("rpm is not installed (apt-get install rpm)")
		}
		t.Skip("rpm is not installed")
	}
	file := filepath.Join(t.TempDir(), "acme.rpm")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	q := func(format string) string {
		out, err := exec.Command(bin, "-qp", "--nosignature", "--nodigest", "--queryformat", format, file).CombinedOutput()
		if err != nil {
			t.Fatalf("rpm -qp %s: %v: %s", format, err, out)
		}
		return string(out)
	}
	for format, want := range map[string]string{
		"%{SUMMARY}": m.Summary, "%{DESCRIPTION}": m.Description, "%{LICENSE}": m.License, "%{VENDOR}": m.Vendor,
		"%{URL}": m.URL, "%{GROUP}": m.Group, "%{BUILDHOST}": m.BuildHost, "%{PACKAGER}": m.Packager,
		"%{BUILDTIME}": strconv.FormatInt(m.BuildTime, 10), "%{LONGSIZE}": strconv.FormatInt(m.InstalledSize, 10),
		"%{LONGARCHIVESIZE}": strconv.FormatInt(m.ArchiveSize, 10), "%{SOURCERPM}": or(m.SourceRPM, "(none)"),
	} {
		if got := q(format); got != want {
			t.Errorf("rpm says %s is %q, we read %q", format, got, want)
		}
	}
	var files []string
	for _, f := range m.Files {
		files = append(files, f.Path)
	}
	if got := strings.Fields(q("[%{FILENAMES}\n]")); !slices.Equal(got, files) {
		t.Errorf("rpm's files %q, ours %q", got, files)
	}
	for _, kind := range []struct {
		tag  string
		deps []releases.RPMDep
	}{{"REQUIRE", m.Requires}, {"PROVIDE", m.Provides}, {"CONFLICT", m.Conflicts}, {"OBSOLETE", m.Obsoletes}, {"RECOMMEND", m.Recommends}} {
		got := q("[%{" + kind.tag + "NAME} %{" + kind.tag + "FLAGS} %{" + kind.tag + "VERSION}\n]")
		var want strings.Builder
		for _, d := range kind.deps {
			v := d.Version
			if d.Epoch != "" {
				v = d.Epoch + ":" + v
			}
			if d.Release != "" {
				v += "-" + d.Release
			}
			want.WriteString(d.Name + " " + strconv.FormatUint(uint64(d.Flags), 10) + " " + v + "\n")
		}
		if got != want.String() {
			t.Errorf("rpm's %s entries:\n%s\nours:\n%s", kind.tag, got, want.String())
		}
	}
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// TestReadRPMRefusesBadMeta: a header whose dependency arrays disagree or
// whose file list points past its directories is refused, not listed.
func TestReadRPMRefusesBadMeta(t *testing.T) {
	b := richRPM(t)
	p, err := releases.ReadRPM(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := releases.ParseRPMMeta(p.Meta)
	// Find the main header's index and break entries in place.
	for _, c := range []struct {
		tag  uint32
		want string
		edit func(e []byte)
	}{
		{1048, "requires", func(e []byte) { binary.BigEndian.PutUint32(e[12:], binary.BigEndian.Uint32(e[12:])-1) }}, // REQUIREFLAGS one short
		{1116, "file list", func(e []byte) { binary.BigEndian.PutUint32(e[4:], 6) }},                                 // DIRINDEXES not numbers
		{1117, "file list", func(e []byte) { binary.BigEndian.PutUint32(e[12:], 1<<20) }},                            // BASENAMES count beyond limit
	} {
		bad := slices.Clone(b)
		entries := bad[m.HeaderStart+16:]
		n := int(binary.BigEndian.Uint32(bad[m.HeaderStart+8:]))
		found := false
		for i := range n {
			e := entries[16*i : 16*i+16]
			if binary.BigEndian.Uint32(e) == c.tag {
				c.edit(e)
				found = true
			}
		}
		if !found {
			t.Fatalf("no tag %d", c.tag)
		}
		if _, err := releases.ReadRPM(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("tag %d broken: %v, want a refusal naming %s", c.tag, err, c.want)
		}
	}
}

func TestSplitEVR(t *testing.T) {
	for in, want := range map[string][3]string{
		"1.0": {"", "1.0", ""}, "1.0-2": {"", "1.0", "2"}, "3:1.0-2.el9": {"3", "1.0", "2.el9"},
		"1.0-rc-1": {"", "1.0-rc", "1"}, "a:1": {"", "a:1", ""}, "": {"", "", ""},
	} {
		e, v, r := releases.SplitEVR(in)
		if [3]string{e, v, r} != want {
			t.Errorf("SplitEVR(%q) = %q %q %q, want %q", in, e, v, r, want)
		}
	}
}
