// Package refuse is the one error type for "refused, and here is what to
// do": a request that cannot be carried out for a reason the person who
// made it can act on. Every domain returns these for input it will not take
// and states it will not enter; the web layer maps the Kind to an HTTP
// status in one place (internal/web, errors.go) and the CLI prints the
// message. Any other error is a failure of ours: logged, never shown.
package refuse

import (
	"errors"
	"fmt"
)

// Kind says why a request was refused. It decides the HTTP status.
type Kind int

// The kinds of refusal.
const (
	// Invalid: the input is wrong or incomplete (400).
	Invalid Kind = iota + 1
	// NotFound: the thing asked for does not exist, or is not the
	// caller's to see (404).
	NotFound
	// Conflict: the thing exists but its state does not allow the step,
	// or it would duplicate something (409).
	Conflict
	// Forbidden: the caller may not do this (403).
	Forbidden
	// Limited: too many attempts; try again later (429).
	Limited
	// Gone: the thing existed but has expired or been used (410).
	Gone
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case Limited:
		return "limited"
	case Gone:
		return "gone"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a refusal. Msg is written for the person who asked: what went
// wrong and what to do next. Code, when set, lets callers tell refusals of
// the same kind apart without comparing messages (errors.Is compares
// codes).
type Error struct {
	Kind Kind
	Code string
	Msg  string
	// Field names the form field or JSON member at fault, if one is.
	Field string
}

func (e *Error) Error() string { return e.Msg }

// Is matches refusals by code when the target has one, else by kind, so
// errors.Is(err, orders.ErrNotPending) holds whatever the message says.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t.Code != "" {
		return t.Code == e.Code
	}
	return t.Kind == e.Kind && t.Msg == ""
}

// New returns a refusal of kind with a code and a message.
func New(kind Kind, code, msg string) *Error { return &Error{Kind: kind, Code: code, Msg: msg} }

// Newf is New with a formatted message.
func Newf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid refusal about one input field.
func Field(field, msg string) *Error {
	return &Error{Kind: Invalid, Code: "invalid_" + field, Msg: msg, Field: field}
}

// As returns the refusal in err's chain, if there is one.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// With returns a copy of e whose message is msg: a sentinel with its code
// kept and the message made specific.
func (e *Error) With(msg string) *Error {
	c := *e
	c.Msg = msg
	return &c
}

// Withf is With with a formatted message.
func (e *Error) Withf(format string, args ...any) *Error {
	return e.With(fmt.Sprintf(format, args...))
}
