package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/storekeep/storekeep/internal/refuse"
)

// Argon2Params are the argon2id cost parameters. The defaults were chosen
// with BenchmarkHashPassword on the 2-core machines we deploy on: about
// 40-60 ms per hash, enough to make guessing expensive while a login stays
// quick (see docs/benchmarks.md). They are stored in every hash, so they
// can be raised later without invalidating existing passwords.
type Argon2Params struct {
	Time    uint32
	MemoryK uint32 // KiB
	Threads uint8
	KeyLen  uint32
}

// RecommendedArgon2 are the production parameters (RFC 9106's second
// recommended option, with two lanes for our two cores).
var RecommendedArgon2 = Argon2Params{Time: 2, MemoryK: 64 * 1024, Threads: 2, KeyLen: 32}

// DefaultArgon2 is used for new hashes. Tests lower it to stay fast.
var DefaultArgon2 = RecommendedArgon2

// MinPasswordLen is the shortest password accepted. Length beats
// composition rules (NIST SP 800-63B).
const MinPasswordLen = 12

// maxPasswordLen bounds the work an attacker can ask for per request.
const maxPasswordLen = 256

// ErrWeakPassword is returned for passwords that are too short or too long.
var ErrWeakPassword = &refuse.Error{Kind: refuse.Invalid, Code: "staff_weak_password", Field: "password",
	Msg: fmt.Sprintf("choose a password of %d to %d characters; a phrase of several words works well", MinPasswordLen, maxPasswordLen)}

// CheckPasswordPolicy reports whether pw is acceptable as a new password.
func CheckPasswordPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen || len(pw) > maxPasswordLen {
		return ErrWeakPassword
	}
	return nil
}

// HashPassword returns an argon2id hash of pw in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashPassword(pw string, p Argon2Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryK, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryK, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// VerifyPassword reports whether pw matches the PHC-encoded hash, in time
// that does not depend on where the two differ.
func VerifyPassword(pw, encoded string) (bool, error) {
	if len(pw) > maxPasswordLen {
		return false, nil
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryK, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	if p.MemoryK > 1<<21 || p.Time > 16 || p.Threads == 0 { // refuse absurd costs from a tampered row
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryK, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when an account does not exist, so a login
// for an unknown address takes as long as one for a known address.
// It is made on first use, not at start-up.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("storekeep-no-such-account", DefaultArgon2)
	if err != nil {
		panic(err)
	}
	return h
})
