// Command storekeep-release builds a release of Storekeep: the binaries
// for linux/amd64 and linux/arm64, their .deb and .rpm packages, SHA256SUMS
// and a minisign signature of each file (docs/install.md, "Release
// builds"). Run it from the repository's root at the commit to release:
//
//	go run ./cmd/storekeep-release --version 1.4.0 --key-dir /secure/release-key --out dist
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/storekeep/storekeep/internal/packaging"
)

func main() {
	fs := flag.NewFlagSet("storekeep-release", flag.ContinueOnError)
	var o packaging.Options
	var arches string
	fs.StringVar(&o.Version, "version", "", "the release's version (semantic versioning, e.g. 1.4.0; required)")
	fs.StringVar(&o.Out, "out", "dist", "directory to write the files to")
	fs.StringVar(&o.Source, "source", ".", "the repository's root")
	fs.StringVar(&arches, "arch", strings.Join(packaging.Arches, ","), "comma-separated architectures")
	fs.StringVar(&o.KeyDir, "key-dir", "", "directory of the release signing key (storekeep release keygen); empty: no signatures")
	fs.BoolVar(&o.AllowDirty, "allow-dirty", false, "build a tree with uncommitted changes (not for a release)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if o.Version == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "storekeep-release: --version is required (and no arguments are taken), e.g. --version 1.4.0")
		os.Exit(2)
	}
	o.Arches = strings.Split(arches, ",")
	o.Log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := packaging.Build(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storekeep-release:", err)
		os.Exit(1)
	}
	if !res.Signed {
		fmt.Fprintln(os.Stderr, "storekeep-release: no --key-dir: the files are not signed")
	}
	fmt.Print(res.Checksums)
}
