package staff

import (
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// totpPeriod is the TOTP time step; authenticator apps use 30 seconds.
const totpPeriod = 30

// NewTOTPKey creates a TOTP secret for account, to be shown as a QR code or
// typed into an authenticator app.
func NewTOTPKey(issuer, account string) (*otp.Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod, SecretSize: 20})
	if err != nil {
		return nil, fmt.Errorf("generate TOTP secret: %w", err)
	}
	return k, nil
}

// TOTPKey is the key of an enrolment already begun: the same secret (base32,
// as NewTOTPKey made it) for issuer and account, so a form shown again after
// a wrong code offers the same QR code and link as the first time.
func TOTPKey(issuer, account, secret string) (*otp.Key, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("TOTP secret: not base32")
	}
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod, Secret: raw})
	if err != nil {
		return nil, fmt.Errorf("TOTP key: %w", err)
	}
	return k, nil
}

// TOTPStep is the time step a code belongs to.
func TOTPStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// CheckTOTP checks code against secret at time now, allowing one step of
// clock drift either way. It returns the step the code matched, which must
// be greater than the last step accepted for this account (lastStep): a
// code is accepted once, never replayed.
func CheckTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	cur := TOTPStep(now)
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		if step <= lastStep {
			continue
		}
		ok, err := hotp.ValidateCustom(code, uint64(step), secret, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok {
			return step, true
		}
	}
	return 0, false
}

// TOTPCode computes the code for secret at t; tests and the demo use it.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}
