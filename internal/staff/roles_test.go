package staff

import "testing"

func TestRoleGrants(t *testing.T) {
	for _, tc := range []struct {
		role Role
		perm Permission
		want bool
	}{
		{Owner, PermStaffManage, true},
		{Support, PermCustomersView, true},
		{Support, PermBillingView, false},
		{Finance, PermBillingView, true},
		{Finance, PermSupportTickets, false},
		{Analyst, PermStatsView, true},
		{Owner, PermStatsView, true},
		{Support, PermStatsView, false},
		{Finance, PermStatsView, false},
		{Analyst, PermCustomersView, false},
		{Analyst, PermAuditView, false},
		{Role("intruder"), PermDashboard, false},
		{Owner, PermLicensesManage, true},
		{Support, PermLicensesView, true},
		{Support, PermLicensesManage, false},
		{Finance, PermLicensesManage, false},
		{Owner, Permission("made.up"), false},
		{Owner, PermNoticesSend, true},
		{Support, PermNoticesSend, true},
		{Finance, PermNoticesSend, false},
		{Analyst, PermNoticesSend, false},
		{Owner, PermFraudReview, true},
		{Finance, PermFraudReview, true},
		{Support, PermFraudReview, false},
		{Analyst, PermFraudReview, false},
	} {
		if got := tc.role.Can(tc.perm); got != tc.want {
			t.Errorf("%s.Can(%s) = %v, want %v", tc.role, tc.perm, got, tc.want)
		}
	}
	if !Owner.RequiresTwoFactor() || Support.RequiresTwoFactor() {
		t.Error("only the owner role must require 2FA by itself")
	}
}
