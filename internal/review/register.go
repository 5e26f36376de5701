package review

import (
	"context"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
)

// Register is the recipients register (internal/privacy/register.go) as
// the review reads it: the problems privacy.LoadRecipientProblems finds
// for the inventory Inv, at the time Now gives.
type Register struct {
	Inv privacy.Inventory
	Now func() time.Time
}

// RecipientProblems implements Recipients.
func (g Register) RecipientProblems(ctx context.Context, q db.Querier) ([]RecipientProblem, error) {
	probs, err := privacy.LoadRecipientProblems(ctx, q, g.Inv, g.Now())
	if err != nil {
		return nil, err
	}
	out := make([]RecipientProblem, 0, len(probs))
	for _, p := range probs {
		out = append(out, RecipientProblem{Recipient: p.Recipient, Problem: p.Problem})
	}
	return out, nil
}
