package packaging

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"

	"github.com/storekeep/storekeep/deploy"
	"github.com/storekeep/storekeep/internal/releases"
)

// rpmUnitPath is where Fedora and RHEL keep units (%{_unitdir}); Debian's
// packages still use /lib, which usrmerge makes the same directory.
const rpmUnitPath = "/usr/lib/systemd/system/storekeep.service"

// Package builds the .deb or .rpm (format) of the binary bin for arch into
// dir and returns its file name. source is the repository, whose
// docs/install.md goes into the package.
func Package(format, source, bin, arch string, v releases.Version, mtime time.Time, dir string) (string, error) {
	installDoc, err := os.ReadFile(filepath.Join(source, "docs", "install.md"))
	if err != nil {
		return "", err
	}
	// nfpm reads contents and scripts from files: write deploy's.
	tmp, err := os.MkdirTemp("", "storekeep-package-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	write := func(name string, b []byte, mode os.FileMode) (string, error) {
		p := filepath.Join(tmp, name)
		return p, os.WriteFile(p, b, mode)
	}
	paths := map[string]string{}
	for name, b := range map[string][]byte{
		"storekeep.service": deploy.Unit, "storekeep.env": deploy.EnvFile, "install.md": installDoc,
		"preinstall.sh": deploy.PreInstall, "postinstall.sh": deploy.PostInstall,
		"preremove.sh": deploy.PreRemove, "postremove.sh": deploy.PostRemove,
	} {
		p, err := write(name, b, 0o644)
		if err != nil {
			return "", err
		}
		paths[name] = p
	}
	unitPath := deploy.UnitPath
	if format == "rpm" {
		unitPath = rpmUnitPath
	}
	root := &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o644, MTime: mtime}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:        "storekeep",
		Arch:        arch,
		Platform:    "linux",
		Version:     v.Core(),
		Release:     "1",
		Section:     "web",
		Priority:    "optional",
		Maintainer:  "Storekeep <packages@storekeep.invalid>",
		Description: "Website and back office for software vendors\nThe public site, checkout, licenses, downloads, support and every privacy\nright of the customers, in one binary on SQLite or PostgreSQL.",
		Vendor:      "Storekeep",
		Homepage:    "https://github.com/storekeep/storekeep",
		License:     "Proprietary",
		MTime:       mtime,
		Overridables: nfpm.Overridables{
			Contents: files.Contents{
				{Source: bin, Destination: deploy.BinPath, FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o755, MTime: mtime}},
				{Source: paths["storekeep.service"], Destination: unitPath, FileInfo: root},
				{Source: paths["install.md"], Destination: "/usr/share/doc/storekeep/install.md", FileInfo: root},
				{Destination: filepath.Dir(deploy.EnvFilePath), Type: files.TypeDir,
					FileInfo: &files.ContentFileInfo{Owner: "root", Group: deploy.User, Mode: 0o750, MTime: mtime}},
				{Source: paths["storekeep.env"], Destination: deploy.EnvFilePath, Type: files.TypeConfigNoReplace,
					FileInfo: &files.ContentFileInfo{Owner: "root", Group: deploy.User, Mode: 0o640, MTime: mtime}},
				{Destination: deploy.DataDir, Type: files.TypeDir,
					FileInfo: &files.ContentFileInfo{Owner: deploy.User, Group: deploy.User, Mode: 0o750, MTime: mtime}},
			},
			Scripts: nfpm.Scripts{
				PreInstall: paths["preinstall.sh"], PostInstall: paths["postinstall.sh"],
				PreRemove: paths["preremove.sh"], PostRemove: paths["postremove.sh"],
			},
			// A fixed build host: nfpm would write the machine's name
			// into the .rpm, and two builds would differ.
			RPM: nfpm.RPM{BuildHost: "storekeep-release", Group: "Applications/Internet", Summary: "Website and back office for software vendors"},
		},
	})
	if v.Prerelease() {
		info.Prerelease = v.Core()[len(fmt.Sprintf("%d.%d.%d-", v.Major, v.Minor, v.Patch)):]
	}
	var p nfpm.Packager
	switch format {
	case "deb":
		p = deb.Default
	case "rpm":
		p = rpm.DefaultRPM
	default:
		return "", fmt.Errorf("package format %q: deb or rpm", format)
	}
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		return "", fmt.Errorf("nfpm %s: %w", format, err)
	}
	name := p.ConventionalFileName(info)
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	if err := p.Package(info, f); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("nfpm %s: %w", format, err)
	}
	return name, f.Close()
}
