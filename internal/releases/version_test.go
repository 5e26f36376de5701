package releases

import (
	"slices"
	"testing"
)

func TestParseVersion(t *testing.T) {
	good := map[string]string{
		"1.2.3": "1.2.3", "v1.2.3": "1.2.3", "0.0.0": "0.0.0", "10.20.30": "10.20.30",
		"1.0.0-alpha": "1.0.0-alpha", "1.0.0-alpha.1": "1.0.0-alpha.1", "1.0.0-0.3.7": "1.0.0-0.3.7",
		"1.0.0-x.7.z.92": "1.0.0-x.7.z.92", "1.0.0-x-y-z.--": "1.0.0-x-y-z.--",
		"1.0.0+20130313144700": "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85": "1.0.0-beta+exp.sha.5114f85",
	}
	for in, want := range good {
		v, err := ParseVersion(in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", in, err)
			continue
		}
		if v.String() != want {
			t.Errorf("ParseVersion(%q) = %q, want %q", in, v.String(), want)
		}
	}
	for _, in := range []string{"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3-01", "1.2.3+", "1.2.3-a..b",
		"1.2.3-a_b", "1.2.3 ", " 1.2.3", "vv1.2.3", "1.2.-3", "a.b.c", "1.2.3-ä", "99999999999999999999.0.0", "1.2.3+a+b"} {
		if v, err := ParseVersion(in); err == nil {
			t.Errorf("ParseVersion(%q) = %v, want an error", in, v)
		}
	}
}

// TestVersionPrecedence is semver.org's own example ordering (§11), and
// numbers compared as numbers.
func TestVersionPrecedence(t *testing.T) {
	ordered := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
		"1.0.0-rc.1", "1.0.0", "1.0.1", "1.9.0", "1.10.0", "2.0.0-0", "2.0.0"}
	var vs []Version
	for _, s := range ordered {
		v, err := ParseVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	shuffled := slices.Clone(vs)
	slices.Reverse(shuffled)
	shuffled[0], shuffled[5] = shuffled[5], shuffled[0]
	slices.SortFunc(shuffled, Version.Compare)
	for i := range vs {
		if shuffled[i].String() != vs[i].String() {
			t.Fatalf("sorted: %v, want %v", shuffled, vs)
		}
		for j := range vs {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("%s vs %s = %d, want %d", vs[i], vs[j], got, want)
			}
		}
	}
	a, _ := ParseVersion("1.0.0+a")
	b, _ := ParseVersion("1.0.0+b")
	if a.Compare(b) != 0 || a.Core() != b.Core() {
		t.Errorf("build metadata takes part in precedence: %v vs %v", a, b)
	}
}

func TestCleanFileName(t *testing.T) {
	good := map[string]string{"app-1.0.0-linux-amd64.tar.gz": "app-1.0.0-linux-amd64.tar.gz", " app_1.0.0_amd64.deb ": "app_1.0.0_amd64.deb",
		"app-1.0.0~rc1+git.x86_64.rpm": "app-1.0.0~rc1+git.x86_64.rpm", "README": "README"}
	for in, want := range good {
		got, err := CleanFileName(in)
		if err != nil || got != want {
			t.Errorf("CleanFileName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "..", "../etc/passwd", "a/b.tar", `a\b.tar`, "/abs.deb", ".hidden", "-rf", "a..b", "a\x00b", "a\nb", "a\x7fb",
		"a b.tar", "app\u202e.deb", "café.tar", "SHA256SUMS", "app.tar.gz.minisig", string(make([]byte, 201))} {
		if got, err := CleanFileName(in); err == nil {
			t.Errorf("CleanFileName(%q) = %q, want a refusal", in, got)
		}
	}
}
