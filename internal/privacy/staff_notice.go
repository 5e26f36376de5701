package privacy

import "github.com/storekeep/storekeep/internal/settings"

// StaffNotice is the privacy notice for the vendor's staff (Art. 13 GDPR),
// derived like the public policy but from the declarations of staff data
// only: what the console and the audit log keep about the people who use
// them, why, on which basis, for how long, and who receives it. The
// cookies listed are the staff's (the console's sign-in cookies).
func StaffNotice(inv Inventory, v settings.Vendor) Policy {
	p := build(inv, v, Facts{}, func(s Subject) bool { return s == Staff })
	p.Cookies = nil
	for _, c := range inv.Cookies {
		if c.Subject == Staff {
			p.Cookies = append(p.Cookies, c)
		}
	}
	return p
}
