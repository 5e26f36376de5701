package notices_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/testutil"
)

// audienceFixture is nine customers with one license of "mailer" or
// "other" each; see the comments.
func audienceFixture(t *testing.T, d *db.DB) {
	customerWith(t, d, "a@example.com", license{product: "mailer", edition: "pro", version: "2.3.0"})                                    // active, perpetual, old version
	customerWith(t, d, "b@example.com", license{product: "mailer", edition: "basic", expires: start.AddDate(0, 1, 0), version: "2.4.2"}) // active term
	customerWith(t, d, "c@example.com", license{product: "mailer", edition: "pro", expires: start.AddDate(0, 0, -5), graceDays: 14})     // in grace
	customerWith(t, d, "d@example.com", license{product: "mailer", edition: "pro", expires: start.AddDate(0, 0, -30), graceDays: 14})    // expired
	customerWith(t, d, "e@example.com", license{product: "other", edition: "pro"})                                                       // another product
	customerWith(t, d, "f@example.com", license{product: "mailer", edition: "pro", status: "revoked"})                                   // revoked: never
	g := customerWith(t, d, "g@example.com", license{product: "mailer", edition: "pro"})                                                 // objected to notices
	choose(t, d, g, "objection", "notices")
	h := customerWith(t, d, "h@example.com", license{product: "mailer", edition: "pro"}) // restricted: never
	choose(t, d, h, "restriction", "")
	customerWith(t, d, "i@example.com", license{product: "mailer", edition: "pro", updatesUntil: start.AddDate(0, 0, -1), version: "not-semver"}) // updates lapsed
	// Two licenses, one message.
	customerWith(t, d, "j@example.com", license{product: "mailer", edition: "pro", expires: start.AddDate(0, 0, -1), graceDays: 3},
		license{product: "mailer", edition: "pro", expires: start.AddDate(0, 0, -1)})
}

func TestAudience(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		audienceFixture(t, d)
		for _, c := range []struct {
			name string
			kind notices.Kind
			a    notices.Audience
			want int64
		}{
			{"security, active and in grace", notices.Security, notices.Audience{Product: "mailer"}, 6},     // a b c g i j
			{"update honours the objection", notices.ProductUpdate, notices.Audience{Product: "mailer"}, 5}, // a b c i j
			{"every product", notices.Security, notices.Audience{}, 7},
			{"edition", notices.Security, notices.Audience{Product: "mailer", Editions: []string{"basic"}}, 1},
			{"expired", notices.Security, notices.Audience{Product: "mailer", States: []licensing.State{licensing.StateExpired}}, 2},  // d j
			{"in grace", notices.Security, notices.Audience{Product: "mailer", States: []licensing.State{licensing.StateInGrace}}, 2}, // c j
			{"active", notices.Security, notices.Audience{Product: "mailer", States: []licensing.State{licensing.StateActive}}, 4},    // a b g i
			{"updates current", notices.Security, notices.Audience{Product: "mailer", Updates: notices.UpdatesCurrent}, 5},
			{"updates lapsed", notices.Security, notices.Audience{Product: "mailer", Updates: notices.UpdatesLapsed}, 1},
			{"version below 2.4.0", notices.Security, notices.Audience{Product: "mailer", VersionBelow: "2.4.0"}, 1},
			{"version below 3.0.0", notices.Security, notices.Audience{Product: "mailer", VersionBelow: "3.0.0"}, 2},
			{"version below 1.0.0", notices.Security, notices.Audience{Product: "mailer", VersionBelow: "1.0.0"}, 0},
		} {
			got, err := notices.Count(ctx, d, nil, notices.Notice{Kind: c.kind, Audience: c.a}, start)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got != c.want {
				t.Errorf("%s: %d in the audience, want %d", c.name, got, c.want)
			}
		}
	})
}

// TestAudienceStatesAreLicensings checks the SQL states against
// licensing's own, license by license, at moments around the grace end.
func TestAudienceStatesAreLicensings(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		exp := start.AddDate(0, 0, -7)
		for i, g := range []int{0, 7, 8, 30} {
			customerWith(t, d, fmt.Sprintf("s%d@example.com", i), license{product: "p", edition: "e", expires: exp, graceDays: g})
		}
		rows, err := d.QueryContext(ctx, `SELECT l.lic, c.email FROM licenses l JOIN customers c ON c.id = l.customer_id`)
		if err != nil {
			t.Fatal(err)
		}
		type lc struct{ lic, email string }
		var all []lc
		for rows.Next() {
			var x lc
			rows.Scan(&x.lic, &x.email)
			all = append(all, x)
		}
		rows.Close()
		// Each grace end, a nanosecond before and at it, and the expiry.
		var moments []time.Time
		for _, g := range []int{0, 7, 8, 30} {
			end := exp.AddDate(0, 0, g)
			moments = append(moments, end.Add(-1), end, end.Add(1))
		}
		for _, at := range moments {
			for _, st := range notices.AudienceStates {
				var members = map[string]bool{}
				aud := notices.Audience{Product: "p", States: []licensing.State{st}}
				id := newNotice(t, d, notices.Input{Kind: notices.Security, Audience: aud})
				if _, err := notices.Start(ctx, d, nil, staffer, id, at); err != nil && !errors.Is(err, notices.ErrEmptyAudience) {
					t.Fatal(err)
				}
				ms, err := notices.Messages(ctx, d, id, "", 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					members[m.Email] = true
				}
				for _, x := range all {
					l, err := licensing.ByLicenseID(ctx, d, x.lic, at)
					if err != nil {
						t.Fatal(err)
					}
					if (l.State == st) != members[x.email] {
						t.Errorf("at %s: license of %s is %s in licensing; audience %s has it: %v", at, x.email, l.State, st, members[x.email])
					}
				}
			}
		}
	})
}

func TestEmptyAudienceQueuesNothing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		customerWith(t, d, "a@example.com", license{product: "mailer", edition: "pro"})
		id := newNotice(t, d, notices.Input{Kind: notices.Security, Audience: notices.Audience{Product: "nothing"}})
		if n, err := notices.Start(ctx, d, nil, staffer, id, start); !errors.Is(err, notices.ErrEmptyAudience) || n != 0 {
			t.Fatalf("Start of an empty audience = %d, %v; want ErrEmptyAudience", n, err)
		}
		n, err := notices.ByID(ctx, d, id)
		if err != nil || n.Status != notices.Draft || n.Recipients != 0 {
			t.Fatalf("after: %+v, %v; want an untouched draft", n, err)
		}
		var rs int
		d.QueryRowContext(ctx, `SELECT COUNT(*) FROM notice_recipients`).Scan(&rs)
		if rs != 0 || outboxCount(t, d) != 0 {
			t.Fatalf("%d recipients, %d messages written", rs, outboxCount(t, d))
		}
	})
}
