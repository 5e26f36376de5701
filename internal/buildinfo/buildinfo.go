// Package buildinfo says which Storekeep this binary is: its version, the
// commit and time it was built from, the Go version and the platform. A
// release build (internal/packaging) sets the version, commit and date at
// link time; any other build reads the commit and its time from the
// version-control stamp the go command embeds (-buildvcs).
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set at link time by release builds:
//
//	-ldflags "-X github.com/storekeep/storekeep/internal/buildinfo.version=1.2.3
//	          -X github.com/storekeep/storekeep/internal/buildinfo.commit=<sha>
//	          -X github.com/storekeep/storekeep/internal/buildinfo.date=<RFC 3339>"
//
// They are variables, not constants, because -X can only set variables.
var version, commit, date string

// Package is this package's import path, for -X.
const Package = "github.com/storekeep/storekeep/internal/buildinfo"

// Info describes the running binary.
type Info struct {
	Version string `json:"version"`
	// Commit is the full revision the binary was built from, "" when
	// unknown (a build outside a Git checkout without -X).
	Commit string `json:"commit"`
	// Date is the commit's time (not the time of the build, so that two
	// builds of one commit are the same file), RFC 3339 in UTC.
	Date string `json:"date"`
	// Modified is true when the working tree had uncommitted changes.
	Modified  bool   `json:"modified"`
	GoVersion string `json:"go"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// Read returns the running binary's Info.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return read(bi, version, commit, date)
}

// read is Read with the build information and link-time values given.
func read(bi *debug.BuildInfo, ldVersion, ldCommit, ldDate string) Info {
	in := Info{Version: "dev", GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi != nil {
		in.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			in.Version = v // go install module@version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.Date = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			case "GOOS":
				in.OS = s.Value
			case "GOARCH":
				in.Arch = s.Value
			}
		}
	}
	if ldVersion != "" {
		in.Version = ldVersion
	}
	if ldCommit != "" {
		in.Commit = ldCommit
	}
	if ldDate != "" {
		in.Date = ldDate
	}
	return in
}

// Short is the version as one word: the release's version, or for other
// builds "dev+<12 digits of the commit>" (and "-modified" for a dirty
// tree), as the User-Agent and start-up log use it.
func (in Info) Short() string {
	v := in.Version
	if v == "dev" && len(in.Commit) >= 12 {
		v += "+" + in.Commit[:12]
		if in.Modified {
			v += "-modified"
		}
	}
	return v
}
