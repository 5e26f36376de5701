package repos

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/releases/releasetest"
)

// BenchmarkBuildYUM generates the metadata of a product with 1,000
// package versions: one nfpm-built package (a few files, dependencies,
// a config file) read as an upload is, its header's fields repeated with
// a version, checksum and artifact of its own each time. Run with
//
//	go test -run '^$' -bench BuildYUM -benchmem ./internal/repos/
func BenchmarkBuildYUM(b *testing.B) {
	s, err := GenerateKey(b.TempDir(), "Example Vendor", clockAt(t0))
	if err != nil {
		b.Fatal(err)
	}
	base := yumPackageOf(b, 1, releasetest.RPMOf(b, releasetest.RPMSpec{
		Name: "mailguard", Version: "1.0.0", Arch: "amd64", Summary: "Stops spam before it reaches inboxes",
		Description: "Mailguard is a milter for Postfix and Sendmail.\n\nIt filters spam, checks DKIM and greylists.",
		Depends:     []string{"postfix >= 3.5", "openssl"},
		Files: map[string]string{"/etc/mailguard/mailguard.conf": "x\n", "/usr/lib/mailguard/rules.db": "x",
			"/usr/share/doc/mailguard/README": "x", "/lib/systemd/system/mailguard.service": "x"},
	}))
	pkgs := make([]YUMPackage, 1000)
	for i := range pkgs {
		p := base
		p.Artifact.ID = int64(i + 1)
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		p.Artifact.SHA256 = hex.EncodeToString(sum[:])
		p.Meta.Version = fmt.Sprintf("%d.%d.%d", 1+i/100, i/10%10, i%10)
		p.Artifact.FileName = "mailguard-" + p.Meta.Version + "-1.x86_64.rpm"
		p.Href = PackageHref(p.Artifact)
		pkgs[i] = p
	}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var md *YUMMetadata
	for b.Loop() {
		if md, err = BuildYUM(pkgs, at, s); err != nil {
			b.Fatal(err)
		}
	}
	for name, f := range md.Files {
		open := len(gunzip(b, f))
		kind := name[65 : len(name)-len(".xml.gz")]
		b.ReportMetric(float64(len(f)), kind+".gz-bytes")
		b.ReportMetric(float64(open), kind+"-bytes")
	}
	b.ReportMetric(float64(len(md.RepoMD)), "repomd-bytes")
}
