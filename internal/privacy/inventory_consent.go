package privacy

// consentPart declares what cookie consent keeps: the cookie that
// remembers a browser's choice and the record of each choice. Both exist
// only when the cookie registry holds a cookie that needs consent; while
// every cookie is strictly necessary no banner is shown, nothing is
// written, and neither appears in the policies (OnlyWithOptionalCookies).
//
// A record holds no account, address or browser detail: consent to
// cookies is given in one browser, for that browser, and the random id
// its cookie carries is all that ties a record to it. Storing a signed-in
// customer's id as well would tie a browser's choices to a person without
// making the proof any better, so the record leaves it out (docs/cookies.md).
// The records therefore cannot be found for an access or erasure request;
// the person sees theirs on the cookie settings page, by the id in their
// cookie.
var consentPart = Inventory{
	Purposes: []Purpose{
		{ID: "consent_records", Name: "Proof of cookie consent",
			Description: "keeping a record of the choices made about optional cookies in each browser, so that we can show which cookies we were allowed to set and when",
			Basis:       LegalObligation},
	},
	Cookies: []Cookie{
		{Name: "sk_consent", Subject: Visitor, Category: Necessary, OnlyWithOptionalCookies: true,
			Purpose:  "remembers the choice you made about optional cookies, so that we do not ask again on every page; it holds the random id of the record of your choice, the date, the choice per category and a signature, nothing about you (named __Host-sk_consent over HTTPS)",
			Duration: "6 months, or until you make another choice"},
	},
	Tables: []Table{
		{Name: "cookie_consents", OnlyWithOptionalCookies: true,
			Description: "Records of the choices made about optional cookies: a random id, when, the choice per category and the version of the cookie policy shown.",
			Subject:     Visitor, Dated: "given_at",
			Link: Link{Unlinkable: "a record names no account, address or browser detail: only the random id kept in the browser's own consent cookie points to it"},
			Columns: []Column{
				{Name: "id"},
				consentColumn("consent_id"),
				consentColumn("given_at"),
				consentColumn("action"),
				consentColumn("preferences"),
				consentColumn("statistics"),
				consentColumn("marketing"),
				{Name: "policy_seq", Note: "the version of the cookie policy, the same for everyone who saw it"},
			}},
	},
}

// consentRetention: a choice holds for the consent cookie's 6 months; the
// record stays three years beyond, the limitation period within which a
// claim or a regulator's question about what we set may come, and then
// goes.
var consentRetention = Retention{Years: 3, Months: 6, From: FromCollection,
	Why: "a choice holds for the 6 months its cookie lives; its record stays 3 years beyond, so that we can prove the consent for as long as it can be questioned"}

func consentColumn(name string) Column {
	return Column{Name: name, Personal: true, Category: "user.account.preferences", Purposes: []string{"consent_records"},
		Retention: consentRetention, Erasure: EraseDelete, Source: FromSubject}
}
