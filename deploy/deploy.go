// Package deploy holds the files that install Storekeep on a server: the
// systemd unit, the environment file of settings, the package's
// maintainer scripts (internal/packaging puts them into the .deb and the
// .rpm) and the compose example. The Dockerfile is at the repository's
// root, where docker build looks for it.
package deploy

import (
	"bytes"
	_ "embed"

	"github.com/storekeep/storekeep/internal/config"
)

// Where the packages install things.
const (
	BinPath     = "/usr/bin/storekeep"
	UnitPath    = "/lib/systemd/system/storekeep.service"
	EnvFilePath = "/etc/storekeep/storekeep.env"
	DataDir     = "/var/lib/storekeep"
	User        = "storekeep"
)

// Unit is the systemd unit, storekeep.service.
//
//go:embed storekeep.service
var Unit []byte

// The maintainer scripts (dpkg's preinst, postinst, prerm, postrm; rpm's
// %pre, %post, %preun, %postun).
var (
	//go:embed preinstall.sh
	PreInstall []byte
	//go:embed postinstall.sh
	PostInstall []byte
	//go:embed preremove.sh
	PreRemove []byte
	//go:embed postremove.sh
	PostRemove []byte
)

// EnvFile is storekeep.env as committed: every setting commented out with
// its default, the data directory the unit's. A test checks that it is
// what EnvFileFor(nil) writes, so it never lacks a setting.
//
//go:embed storekeep.env
var EnvFile []byte

// EnvFileFor is the environment file with the settings in set active,
// as the package ships it (set empty) and storekeep init writes it.
func EnvFileFor(set map[string]string) ([]byte, error) {
	var b bytes.Buffer
	err := config.EnvFile{Set: set, Defaults: map[string]string{"STOREKEEP_DATA_DIR": DataDir}}.Write(&b)
	return b.Bytes(), err
}
