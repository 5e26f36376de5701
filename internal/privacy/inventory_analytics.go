package privacy

// analyticsPart declares the usage analytics (internal/analytics,
// docs/analytics.md): the page views and engaged times the site's one
// script reports, counted without cookies.
//
// A visitor in these rows is a number: a keyed hash of the network
// address, the user agent and the site under the day's salt, which lives
// only in the instances' memory and is forgotten when the day ends
// (internal/analytics/salt). Neither the address nor the user agent is
// stored. Within a day the number ties one browser's views together (that
// is how visitors, entry and exit pages and the funnel's first step are
// counted); after the day nobody can compute it again, not even the vendor,
// so it points to nobody. The raw rows are kept two days, until the
// roll-up has counted them into the daily aggregates, which hold counts
// only.
//
// Do Not Track, Global Privacy Control, a visitor's "do not count me"
// choice and a customer's objection to "improvement" or restriction are
// honoured before anything is written: such a visit is not counted at
// all.
var analyticsPart = Inventory{
	Cookies: []Cookie{
		{Name: "sk_nocount", Subject: Visitor, Category: Necessary,
			Purpose:  "set only when a visitor asks on the usage statistics page not to be counted; it holds \"1\" and nothing else, and the site then counts nothing of that browser (named __Host-sk_nocount over HTTPS)",
			Duration: "1 year, or until the visitor asks to be counted again"},
	},
	Tables: []Table{
		{Name: "analytics_views", Description: "Page views for the usage statistics: the page (its path, without what follows a question mark), when, the referring site, the campaign a link was tagged with, the browser's family, the kind of device and screen size, the country when configured, and a visitor number that changes every day and cannot be traced back.",
			Subject: Visitor, Dated: "at",
			Link: Link{Unlinkable: "a row holds no address, user agent, cookie or account: its visitor number is a keyed hash under a salt that is never stored and is forgotten each day, so after the day nobody can tell whose it was; during the day it cannot be computed for a given person without the salt, which only the running instances hold"},
			Columns: []Column{
				{Name: "id"},
				analyticsColumn("day", "user.usage.pages"),
				analyticsColumn("at", "user.usage.pages"),
				analyticsColumn("view", "user.usage.pages"),
				analyticsColumn("visitor", "user.usage.visitor"),
				analyticsColumn("path", "user.usage.pages"),
				analyticsColumn("referrer_host", "user.usage.referrer"),
				analyticsColumn("utm_source", "user.usage.campaign"),
				analyticsColumn("utm_medium", "user.usage.campaign"),
				analyticsColumn("utm_campaign", "user.usage.campaign"),
				analyticsColumn("browser", "user.device.user_agent"),
				analyticsColumn("device", "user.device.user_agent"),
				analyticsColumn("screen", "user.device.screen"),
				analyticsColumn("country", "user.location.country"),
			}},
		{Name: "analytics_engaged", Description: "How long a page view was visible and in use, for the usage statistics' time on page.",
			Subject: Visitor, Dated: "at",
			Link: Link{Unlinkable: "a row holds a page view's random number and a duration, nothing about the browser or the person"},
			Columns: []Column{
				{Name: "id"},
				analyticsColumn("day", "user.usage.pages"),
				analyticsColumn("at", "user.usage.pages"),
				analyticsColumn("view", "user.usage.pages"),
				analyticsColumn("ms", "user.usage.pages"),
			}},
		{Name: "analytics_salt_peers", Description: "The running instances' public keys of the day, through which they share the visitor salt sealed so that only their memory can open it; rows go when the day or the instance ends.",
			Columns: plain("day", "peer", "generation", "public_key", "sealed", "sealed_by", "seen_at")},
		{Name: "analytics_daily", Description: "Usage statistics per day: counts of page views, visitors, entries, exits and engaged time per page, referring site, campaign, browser, device, screen size class and country.",
			Columns: plain("dim", "day", "value", "views", "visitors", "entries", "exits", "bounces", "engaged_ms", "engaged_views")},
		{Name: "analytics_monthly", Description: "The same usage statistics summed per calendar month, so that long ranges are quick to show.",
			Columns: plain("dim", "month", "value", "views", "visitors", "entries", "exits", "bounces", "engaged_ms", "engaged_views")},
		{Name: "analytics_funnel", Description: "The purchase funnel per day and product: counts of product page visitors, checkout visitors, paid orders and activated licenses.",
			Columns: plain("day", "product", "product_visitors", "checkout_visitors", "orders_paid", "activated")},
	},
}

// analyticsRetention: the raw rows are needed until the day they belong to
// has been counted for the last time, shortly after it ends.
var analyticsRetention = Retention{Days: 2, From: FromCollection,
	Why: "a day's views are counted into the daily statistics during the day and once more after it ends; then only the counts are kept"}

func analyticsColumn(name string, c Category) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"improvement"},
		Retention: analyticsRetention, Erasure: EraseDelete, Source: Automatically}
}
