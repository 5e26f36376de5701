package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestRead(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.10", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	in := read(bi, "", "", "")
	want := Info{Version: "dev", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-30T10:00:00Z",
		Modified: true, GoVersion: "go1.26.10", OS: "linux", Arch: "arm64"}
	if in != want {
		t.Errorf("from the vcs stamp:\n got %+v\nwant %+v", in, want)
	}
	if got := in.Short(); got != "dev+0123456789ab-modified" {
		t.Errorf("Short = %q", got)
	}

	// A release build's -X values win over the stamp.
	in = read(bi, "1.4.0", "fedcba9876543210fedcba9876543210fedcba98", "2026-12-01T00:00:00Z")
	if in.Version != "1.4.0" || in.Commit != "fedcba9876543210fedcba9876543210fedcba98" || in.Date != "2026-12-01T00:00:00Z" || in.Short() != "1.4.0" {
		t.Errorf("with -X: %+v, Short %q", in, in.Short())
	}

	// go install module@version, no VCS.
	in = read(&debug.BuildInfo{GoVersion: "go1.26.10", Main: debug.Module{Version: "v1.5.0"}}, "", "", "")
	if in.Version != "v1.5.0" || in.Commit != "" || in.Short() != "v1.5.0" {
		t.Errorf("go install: %+v", in)
	}
	if in := read(nil, "", "", ""); in.Version != "dev" || in.GoVersion == "" || in.OS == "" {
		t.Errorf("without build info: %+v", in)
	}
}
