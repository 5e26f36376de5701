// Package licensing is the license domain: the signed key and file format
// (docs/license-format.md), license policies per edition, licenses issued
// for paid order lines or by staff, the machines holding their seats, and
// the checks the license API answers (Validate, Activate, Deactivate,
// CheckIn, File).
//
// A license's state is an answer, never an error: the API functions return
// a Result whose Code says VALID, SUSPENDED, TOO_MANY_MACHINES and so on;
// their error is a failure of ours (the database), never of the caller.
package licensing

import (
	"time"

	sdk "github.com/storekeep/storekeep/sdk/go"
)

// Code is the machine-readable answer of the license API.
type Code string

// The codes of docs/license-format.md, spelt once, by the SDK the product
// verifies with (sdk/go), so server and client cannot drift apart.
const (
	CodeValid              = Code(sdk.CodeValid)
	CodeInGrace            = Code(sdk.CodeInGrace)
	CodeNotFound           = Code(sdk.CodeNotFound)
	CodeInvalidKey         = Code(sdk.CodeInvalidKey)
	CodeUnknownKeyID       = Code(sdk.CodeUnknownKeyID)
	CodeWrongProduct       = Code(sdk.CodeWrongProduct)
	CodeSuspended          = Code(sdk.CodeSuspended)
	CodeRevoked            = Code(sdk.CodeRevoked)
	CodeExpired            = Code(sdk.CodeExpired)
	CodeTooManyMachines    = Code(sdk.CodeTooManyMachines)
	CodeNotActivated       = Code(sdk.CodeNotActivated)
	CodeFingerprintScope   = Code(sdk.CodeFingerprintScopeMismatch)
	CodeEntitlementsMissed = Code(sdk.CodeEntitlementsMissing)
	CodeRateLimited        = Code(sdk.CodeRateLimited)
	CodeBadRequest         = Code(sdk.CodeBadRequest)
	// Verifiers' own codes; the API never sends them.
	CodeClockSkew   = Code(sdk.CodeClockSkew)
	CodeFileExpired = Code(sdk.CodeFileExpired)
)

// Codes lists every code the API answers (the OpenAPI document's enum).
var Codes = []Code{CodeValid, CodeInGrace, CodeNotFound, CodeInvalidKey, CodeUnknownKeyID, CodeWrongProduct,
	CodeSuspended, CodeRevoked, CodeExpired, CodeTooManyMachines, CodeNotActivated, CodeFingerprintScope,
	CodeEntitlementsMissed, CodeRateLimited, CodeBadRequest}

// OK reports whether the code lets the product run: VALID or IN_GRACE.
func (c Code) OK() bool { return c == CodeValid || c == CodeInGrace }

// State is a license's state at a moment, as a license file's "st" says it.
type State string

// The states.
const (
	StateActive    State = "active"
	StateSuspended State = "suspended"
	StateRevoked   State = "revoked"
	StateExpired   State = "expired"
	StateInGrace   State = "in_grace"
)

// Status is what is stored: the state before the clock is asked.
type Status string

// The stored statuses.
const (
	Active    Status = "active"
	Suspended Status = "suspended"
	Revoked   Status = "revoked"
)

// License is one license: what its key says was sold, and what the server
// knows now (status, expiry as extended, machine limit as changed).
type License struct {
	ID           int64  // internal row id
	LicenseID    string // lic_..., as in the key
	Key          string // the key as issued
	KID          string // the key id that signed the key
	CustomerID   int64  // 0 when none (erased)
	OrderID      int64  // 0 when issued by staff
	OrderLineID  int64  // 0 when issued by staff
	EditionID    int64
	Product      string // product slug
	Edition      string // edition slug
	Entitlements []string
	Status       Status
	// SuspendedBy says who suspended it: "order" (refund, dispute) or
	// "staff"; a won dispute reinstates only what the order suspended.
	SuspendedBy  string
	IssuedAt     time.Time
	ExpiresAt    time.Time // zero: perpetual
	UpdatesUntil time.Time // zero: no limit
	GraceDays    int
	MaxMachines  int // 0: unlimited
	CheckInDays  int // 0: no check-in required
	UpdatedAt    time.Time
	// State and GraceEndsAt are computed for the moment it was read.
	State       State
	GraceEndsAt time.Time // zero when there is none
}

// Perpetual reports whether the license never expires.
func (l License) Perpetual() bool { return l.ExpiresAt.IsZero() }

// stateAt computes the state at now.
func (l License) stateAt(now time.Time) (State, time.Time) {
	var graceEnd time.Time
	if !l.ExpiresAt.IsZero() && l.GraceDays > 0 {
		graceEnd = l.ExpiresAt.AddDate(0, 0, l.GraceDays)
	}
	switch {
	case l.Status == Revoked:
		return StateRevoked, graceEnd
	case l.Status == Suspended:
		return StateSuspended, graceEnd
	case l.ExpiresAt.IsZero() || now.Before(l.ExpiresAt):
		return StateActive, graceEnd
	case !graceEnd.IsZero() && now.Before(graceEnd):
		return StateInGrace, graceEnd
	}
	return StateExpired, graceEnd
}

// Machine is a machine holding a seat of a license.
type Machine struct {
	ID          int64
	LicenseID   int64
	Fingerprint string // SHA-256 hex of the fingerprint the product sent
	Hostname    string
	Platform    string
	Version     string // the installed product version, from the last check-in
	ActivatedAt time.Time
	LastCheckIn time.Time // zero before the first check-in
	LastSeenAt  time.Time
}

// MachineInfo is what a product sends when it activates a machine.
type MachineInfo struct {
	Fingerprint string
	Hostname    string
	Platform    string
}

// Check is what Validate is asked: a key, and optionally the scopes it
// must satisfy.
type Check struct {
	Key          string
	Fingerprint  string   // "": any machine
	Product      string   // "": any product
	Entitlements []string // every one must be held
	// Version is the installed product version (optional): with a
	// fingerprint holding a seat, it is recorded for the machine when it
	// changed, as a check-in records it.
	Version string
}

// Result is the answer of the license API: a code, a message for people,
// and the license and machine when there are.
type Result struct {
	Code    Code
	Message string
	License *License // nil for INVALID_KEY, UNKNOWN_KEY_ID, NOT_FOUND
	Machine *Machine // when the request named a machine that holds a seat
}

// messages say each code to a person.
var messages = map[Code]string{
	CodeValid:              "The license is valid.",
	CodeInGrace:            "The license has expired and is in its grace period: renew it before the grace period ends.",
	CodeNotFound:           "No license has this key.",
	CodeInvalidKey:         "This is not a valid license key: check that it was copied completely.",
	CodeUnknownKeyID:       "This license key was signed by a key this server does not know.",
	CodeWrongProduct:       "This license key is for another product.",
	CodeSuspended:          "The license is suspended: contact the vendor.",
	CodeRevoked:            "The license has been revoked.",
	CodeExpired:            "The license has expired: renew it to keep using the product.",
	CodeTooManyMachines:    "Every machine seat of this license is taken: deactivate a machine first.",
	CodeNotActivated:       "This machine is not activated for the license: activate it first.",
	CodeFingerprintScope:   "This machine holds no seat of the license and every seat is taken by other machines: deactivate one of them first.",
	CodeEntitlementsMissed: "The license does not include every feature asked for.",
}

// Message says code to a person.
func Message(c Code) string { return messages[c] }

func result(c Code, l *License, m *Machine) Result {
	return Result{Code: c, Message: messages[c], License: l, Machine: m}
}

// stateCode is the code of a license's own state.
func stateCode(s State) Code {
	switch s {
	case StateRevoked:
		return CodeRevoked
	case StateSuspended:
		return CodeSuspended
	case StateExpired:
		return CodeExpired
	case StateInGrace:
		return CodeInGrace
	}
	return CodeValid
}
