// Package monitor holds the Prometheus metrics of the work behind the
// site: the outbox, the privacy requests' deadlines and the periodic jobs.
// (Requests are counted by internal/web, license validations by the
// license API; docs/metrics.md lists every metric.)
//
// Two kinds, chosen by where the truth lives. A fact of the database (how
// much mail is queued, how many requests are overdue) is read from the
// database when Prometheus scrapes, with a short timeout: every instance
// reports the same value, so a dashboard takes max() over instances and
// gets the truth whichever instance it asks, and no counter drifts when
// an instance restarts. An event that happens in one process (a periodic
// job ran here, a validation was answered here) is a counter or gauge of
// that instance, summed over instances.
//
// Labels have small fixed value sets (a kind, a state, a job's name from
// the one table of periodic jobs) and never carry an address, a key or
// anything else of a person.
package monitor
