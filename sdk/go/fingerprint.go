package license

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables that override the machine fingerprint (containers, where
// /etc/machine-id is absent or shared by every replica of an image).
const (
	// FingerprintEnv holds a stable identity for this machine (any text, e.g. a UUID the
	// orchestrator assigns per instance).
	FingerprintEnv = "STOREKEEP_FINGERPRINT"
	// FingerprintFileEnv names a file whose content is that identity (e.g. a mounted secret).
	FingerprintFileEnv = "STOREKEEP_FINGERPRINT_FILE"
)

// DefaultMachineIDPaths are read in order for the machine's identity.
var DefaultMachineIDPaths = []string{"/etc/machine-id", "/var/lib/dbus/machine-id"}

// FingerprintOptions says where the identity comes from. The zero value (with App set) reads
// the environment variables, then DefaultMachineIDPaths.
type FingerprintOptions struct {
	// App is the application-specific salt, e.g. "example-milter". Two products on one
	// machine get unrelated fingerprints, and neither reveals the machine id. Required.
	App string
	// File, if set, is read first (before the environment): an explicit override.
	File string
	// Getenv replaces os.Getenv (tests); MachineIDPaths replaces DefaultMachineIDPaths.
	Getenv         func(string) string
	MachineIDPaths []string
	// ReadFile replaces os.ReadFile (tests).
	ReadFile func(string) ([]byte, error)
}

// Fingerprint returns this machine's fingerprint: 64 lower-case hex digits,
// HMAC-SHA256(key = "storekeep-fingerprint-v1:" + App, message = identity), where identity
// is, in order: the content of opts.File; $STOREKEEP_FINGERPRINT; the content of the file
// named by $STOREKEEP_FINGERPRINT_FILE; /etc/machine-id; /var/lib/dbus/machine-id (white
// space trimmed). It is stable across restarts as long as its source is, and it never is the
// raw identity.
func Fingerprint(opts FingerprintOptions) (string, error) {
	if opts.App == "" {
		return "", errors.New("license: FingerprintOptions.App (the application salt) is required")
	}
	getenv, read := opts.Getenv, opts.ReadFile
	if getenv == nil {
		getenv = os.Getenv
	}
	if read == nil {
		read = os.ReadFile
	}
	fromFile := func(path string) (string, error) {
		b, err := read(path)
		if err != nil {
			return "", err
		}
		if len(b) > 4096 {
			return "", fmt.Errorf("license: fingerprint source %s is larger than 4 KiB", path)
		}
		id := strings.TrimSpace(string(b))
		if id == "" {
			return "", fmt.Errorf("license: fingerprint source %s is empty", path)
		}
		return id, nil
	}
	var id string
	switch {
	case opts.File != "":
		v, err := fromFile(opts.File)
		if err != nil {
			return "", err
		}
		id = v
	case strings.TrimSpace(getenv(FingerprintEnv)) != "":
		id = strings.TrimSpace(getenv(FingerprintEnv))
	case getenv(FingerprintFileEnv) != "":
		v, err := fromFile(getenv(FingerprintFileEnv))
		if err != nil {
			return "", err
		}
		id = v
	default:
		paths := opts.MachineIDPaths
		if paths == nil {
			paths = DefaultMachineIDPaths
		}
		for _, p := range paths {
			v, err := fromFile(p)
			if err == nil && v != "uninitialized" {
				id = v
				break
			}
		}
		if id == "" {
			return "", fmt.Errorf("license: no machine id in %s; set %s or %s", strings.Join(paths, " or "), FingerprintEnv, FingerprintFileEnv)
		}
	}
	m := hmac.New(sha256.New, []byte("storekeep-fingerprint-v1:"+opts.App))
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil)), nil
}
