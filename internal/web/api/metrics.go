package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/refuse"
)

// validations counts license validations by the result the check gave:
// one of licensing.Codes, or INTERNAL_ERROR. A count of events on this
// instance (each instance counts its own; sum them): the label has a
// small, fixed set of values and carries no key, license or machine.
type validations struct{ c *prometheus.CounterVec }

func newValidations() validations {
	v := validations{prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "storekeep_license_validations_total",
		Help: "License validations answered by this instance (POST /api/v1/licenses/validate), by result code.",
	}, []string{"result"})}
	// Every series from the start, so that rate() sees the first one.
	for _, c := range licensing.Codes {
		v.c.WithLabelValues(string(c))
	}
	v.c.WithLabelValues(string(codeInternal))
	return v
}

// count records one validation: the result's code, or what err made of
// the request (BAD_REQUEST for a refusal, INTERNAL_ERROR otherwise).
func (v validations) count(code licensing.Code, err error) {
	if err != nil {
		code = codeInternal
		if rf, ok := refuse.As(err); ok && rf.Kind == refuse.Invalid {
			code = codeBadRequest
		}
	}
	v.c.WithLabelValues(string(code)).Inc()
}
