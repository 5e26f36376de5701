package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/privacy"
)

// configureInventory applies the operator's retention choices to the data
// inventory before anything reads it: the policy page, the purge, the
// records of processing and the privacy commands then all use them.
func configureInventory(cfg *config.Config) error {
	if err := configureLogAddress(cfg); err != nil {
		return err
	}
	if cfg.SupportRetention == "" {
		return nil // a command without the flag: the declared default
	}
	r, err := parsePeriod(cfg.SupportRetention)
	if err != nil {
		return usageError{err: fmt.Errorf("--support-retention %q: %w", cfg.SupportRetention, err)}
	}
	if cur, ok := supportRetention(privacy.Declared); ok && cur.Years*12+cur.Months == r.Years*12+r.Months && cur.Days == r.Days {
		return nil // as declared: nothing to change (and no write that concurrent readers would race with)
	}
	inv, err := privacy.Declared.WithRetention("support", r)
	if err != nil {
		return usageError{err: fmt.Errorf("--support-retention %q: %w", cfg.SupportRetention, err)}
	}
	privacy.Declared = inv
	return nil
}

// parsePeriod reads "24m", "2y" or "400d".
func parsePeriod(s string) (privacy.Retention, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if len(s) < 2 {
		return privacy.Retention{}, fmt.Errorf("give a number and d, m or y, such as 24m")
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return privacy.Retention{}, fmt.Errorf("give a positive number and d, m or y, such as 24m")
	}
	switch s[len(s)-1] {
	case 'd':
		return privacy.Retention{Days: n}, nil
	case 'm':
		return privacy.Retention{Months: n}, nil
	case 'y':
		return privacy.Retention{Years: n}, nil
	}
	return privacy.Retention{}, fmt.Errorf("the unit must be d (days), m (months) or y (years), such as 24m")
}

// supportRetention is the support tickets' retention in inv.
func supportRetention(inv privacy.Inventory) (privacy.Retention, bool) {
	for _, t := range inv.Tables {
		for _, c := range t.Columns {
			if c.Retention.Setting == "support" {
				return c.Retention, true
			}
		}
	}
	return privacy.Retention{}, false
}

// configureLogAddress applies --log-address-days: how long the request
// log keeps full network addresses before the purge shortens them.
func configureLogAddress(cfg *config.Config) error {
	if cfg.LogAddressDays == 0 {
		return nil // a command without the flag: the declared default
	}
	if cur, ok := truncateAfter(privacy.Declared, privacy.LogAddressSetting); ok && cur.Years == 0 && cur.Months == 0 && cur.Days == cfg.LogAddressDays {
		return nil // as declared
	}
	inv, err := privacy.Declared.WithRetention(privacy.LogAddressSetting, privacy.Retention{Days: cfg.LogAddressDays})
	if err != nil {
		return usageError{err: fmt.Errorf("--log-address-days %d: %w", cfg.LogAddressDays, err)}
	}
	privacy.Declared = inv
	return nil
}

// truncateAfter is the TruncateAfter period named setting in inv.
func truncateAfter(inv privacy.Inventory, setting string) (privacy.Retention, bool) {
	for _, t := range inv.Tables {
		for _, c := range t.Columns {
			if c.TruncateAfter.Setting == setting {
				return c.TruncateAfter, true
			}
		}
	}
	return privacy.Retention{}, false
}
