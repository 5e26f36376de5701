package license

import (
	"errors"
	"time"
)

// Code is a machine-readable answer code from docs/license-format.md.
type Code string

// Codes of the API and of the offline verifier (docs/license-format.md).
const (
	CodeValid                    Code = "VALID"
	CodeInGrace                  Code = "IN_GRACE"
	CodeNotFound                 Code = "NOT_FOUND"
	CodeInvalidKey               Code = "INVALID_KEY"
	CodeUnknownKeyID             Code = "UNKNOWN_KEY_ID"
	CodeWrongProduct             Code = "WRONG_PRODUCT"
	CodeSuspended                Code = "SUSPENDED"
	CodeRevoked                  Code = "REVOKED"
	CodeExpired                  Code = "EXPIRED"
	CodeTooManyMachines          Code = "TOO_MANY_MACHINES"
	CodeNotActivated             Code = "NOT_ACTIVATED"
	CodeFingerprintScopeMismatch Code = "FINGERPRINT_SCOPE_MISMATCH"
	CodeEntitlementsMissing      Code = "ENTITLEMENTS_MISSING"
	CodeRateLimited              Code = "RATE_LIMITED"
	CodeBadRequest               Code = "BAD_REQUEST"

	// CodeClockSkew: the clock was set back (a license file issued more than 24 hours in the
	// future, a last-seen time moving backwards), or a signed answer's creation time is more
	// than five minutes from the local clock.
	CodeClockSkew Code = "CLOCK_SKEW"
	// CodeFileExpired: the license file is past its own expiry (fexp); fetch a new one.
	CodeFileExpired Code = "FILE_EXPIRED"

	// SDK-only codes, never sent by the server.

	// CodeUnverifiedResponse: an answer that failed verification (digest, signature, nonce,
	// size, syntax): whatever it says is not to be trusted.
	CodeUnverifiedResponse Code = "UNVERIFIED_RESPONSE"
	// CodeUnavailable: no answer (network error, timeout, an unsigned 5xx from a proxy).
	CodeUnavailable Code = "UNAVAILABLE"
)

// Error is the error type of the SDK: every error it returns is an *Error with a Code.
type Error struct {
	Code    Code
	Message string
	// HTTPStatus is the status of a verified API answer, 0 otherwise.
	HTTPStatus int
	// RetryAfter is the server's Retry-After for RATE_LIMITED, 0 otherwise.
	RetryAfter time.Duration
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, &license.Error{Code: license.CodeExpired}) match by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Err == nil
}

// CodeOf returns the code of an *Error in err's chain, "" if there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func newError(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

func wrapError(code Code, msg string, err error) *Error {
	return &Error{Code: code, Message: msg, Err: err}
}
