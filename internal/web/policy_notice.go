package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// PolicyNotice is the announcement of a significant change to one of the
// policies, which the public layout shows above every page while it runs
// (docs/policy-archive.md).
type PolicyNotice struct {
	// Label names the policy ("privacy policy"), Href the page that shows
	// what changed.
	Label, Href string
	Seq         int
	Date        time.Time
	Note        string
	// Until is when the announcement ends: cached pages that show it
	// expire then.
	Until time.Time
}

// PolicyHooks connect the core to the policy archive (internal/web/site),
// which alone can render the policies.
type PolicyHooks struct {
	// Notice returns the announcement to show now, nil for none.
	Notice func(ctx context.Context, now time.Time) (*PolicyNotice, error)
	// Publish records the current version of both policies, with their
	// text, at once: after an edit of what they say.
	Publish func(ctx context.Context) error
}

// SetPolicyHooks installs the policy archive's hooks (the site area's
// Mount).
func (s *Server) SetPolicyHooks(h PolicyHooks) { s.policy = h }

// PublishPolicies records the policies' current versions now; without the
// site area mounted it does nothing, and the next view of a policy page
// records them.
func (s *Server) PublishPolicies(ctx context.Context) error {
	if s.policy.Publish == nil {
		return nil
	}
	return s.policy.Publish(ctx)
}

// CurrentPolicyNotice is the announcement running now, nil for none.
func (s *Server) CurrentPolicyNotice(ctx context.Context) (*PolicyNotice, error) {
	if s.policy.Notice == nil {
		return nil, nil
	}
	return s.policy.Notice(ctx, s.clock.Now())
}

// policyNotice is the announcement for the public layout of r: none in
// the console. A failure to read it leaves the page without it rather
// than failing the page (error pages among them).
func (s *Server) policyNotice(r *http.Request) *PolicyNotice {
	if strings.HasPrefix(r.URL.Path, "/staff") {
		return nil
	}
	n, err := s.CurrentPolicyNotice(r.Context())
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "policy notice", slog.String("error", err.Error()))
		return nil
	}
	return n
}
