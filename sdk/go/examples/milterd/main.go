// Command milterd is an example of a licensed daemon, shaped like a milter: it checks its
// Storekeep license at start and daily, keeps its licensed feature (malware scanning) on
// through the grace period with a warning in its log, and turns it off after, while mail
// keeps flowing. See sdk/go/README.md.
//
//	milterd -listen 127.0.0.1:10025 -keys license-keys.json -key SK1.… \
//	        -api https://shop.example.com -state /var/lib/milterd
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:10025", "address to listen on")
	keysPath := flag.String("keys", "license-keys.json", "the vendor's /.well-known/storekeep-license-keys.json (embed it in a real product)")
	key := flag.String("key", os.Getenv("MILTERD_LICENSE_KEY"), "license key")
	api := flag.String("api", "", "the vendor's site for online checks (empty: offline, license file only)")
	state := flag.String("state", "/var/lib/milterd", "directory for the license file and the clock guard")
	flag.Parse()
	logger := log.New(os.Stderr, "milterd: ", log.LstdFlags)

	doc, err := os.ReadFile(*keysPath)
	if err != nil {
		logger.Fatal(err)
	}
	v, err := license.NewVerifierFromJSON(doc)
	if err != nil {
		logger.Fatal(err)
	}
	fp, err := license.Fingerprint(license.FingerprintOptions{App: "example-milter"})
	if err != nil {
		logger.Fatal(err)
	}
	host, _ := os.Hostname()
	c := &Checker{
		Verifier: v, Key: *key, Product: "example-milter", Feature: "malware-scan",
		Fingerprint: fp, Hostname: host,
		FilePath: filepath.Join(*state, "license.txt"),
		LastSeen: &license.LastSeenFile{Path: filepath.Join(*state, "last-seen.json")},
	}
	if *api != "" {
		c.Client = license.NewClient(*api, v)
	}
	ticker := time.NewTicker(24 * time.Hour)
	defer ticker.Stop()
	d := &Daemon{Log: logger, Now: time.Now, Ticks: ticker.C, Check: c.Check}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := d.Serve(ctx, l); err != nil && ctx.Err() == nil {
		logger.Fatal(err)
	}
}
