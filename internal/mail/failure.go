package mail

import (
	"context"
	"errors"
	"net"
)

// The kinds of a failed delivery attempt, as Worker.OnFailure reports
// them: a small fixed set, for metrics. None names the address or quotes
// the relay's answer.
const (
	FailPermanent  = "permanent"  // the relay refused for good (ErrPermanent): given up at once
	FailAttachment = "attachment" // the message's file could not be rendered; retried
	FailTimeout    = "timeout"    // the delivery took longer than SendTimeout; retried
	FailConnection = "connection" // the relay could not be reached; retried
	FailRefused    = "refused"    // any other refusal (an SMTP 4xx answer, ...); retried
)

// FailureKinds lists every kind.
var FailureKinds = []string{FailPermanent, FailAttachment, FailTimeout, FailConnection, FailRefused}

// failureKind classifies a failed attempt's error; attachment says the
// file could not be made, timedOut that the delivery's time ran out.
func failureKind(err error, attachment, timedOut bool) string {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, ErrPermanent):
		return FailPermanent
	case attachment:
		return FailAttachment
	case timedOut || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return FailTimeout
	case errors.As(err, &oe):
		return FailConnection
	}
	return FailRefused
}
