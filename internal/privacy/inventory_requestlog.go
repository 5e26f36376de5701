package privacy

// requestLogPart declares the request log (internal/requestlog): one row
// per page request of the site, the log data the privacy policy speaks
// of. Its rows belong to whoever sent the request, a visitor we do not
// know: nothing in a row names an account, a cookie or an email address,
// so it cannot be tied to a person and is neither exported nor erased per
// person. What it holds is kept minimal instead (a route pattern, not the
// address typed; browser family and major version, not the user agent;
// the referring site's host, not its page), the full network address only
// for the first days (--log-address-days, 7 by default: then the purge
// shortens it to its network), and every row only for 90 days.
//
// Its one purpose is the security of the site (an overriding legitimate
// interest: the log is how an attack, a scan or a broken page is noticed
// and looked into). It is not used to count visitors or improve the site:
// that is the usage analytics' work, which honours objections, Do Not
// Track and Global Privacy Control; a log that cannot be tied to anyone
// could not honour them.
var requestLogPart = Inventory{
	Tables: []Table{
		{Name: "request_log", Description: "The request log: for each page request, the page (its route, never what was typed after it), when, the answer's status, the browser's family and major version and kind of device, the referring site and the network address.",
			Subject: Visitor, Dated: "at",
			Link: Link{Unlinkable: "a row names no account, cookie or email address: only the network address could point to a person, and it is shortened to its network after a few days (--log-address-days); the rows go after 90 days"},
			Columns: []Column{
				{Name: "id"},
				requestLogColumn("at", "user.usage.pages"),
				requestLogColumn("route", "user.usage.pages"),
				requestLogColumn("status", "user.usage.pages"),
				requestLogColumn("browser", "user.device.user_agent"),
				requestLogColumn("browser_version", "user.device.user_agent"),
				requestLogColumn("device", "user.device.user_agent"),
				requestLogColumn("referrer_host", "user.usage.referrer"),
				func() Column {
					c := requestLogColumn("network", "user.network.ip")
					c.TruncateAfter = Retention{Days: 7, From: FromCollection, Setting: LogAddressSetting,
						Why: "the full address is needed only to look into an attack or an abusive request rate while it is fresh; after that its network is enough"}
					return c
				}(),
			}},
	},
}

// LogAddressSetting names the period after which the request log's
// network addresses are shortened (--log-address-days; see
// Inventory.WithRetention).
const LogAddressSetting = "log_address"

// requestLogRetention: three months of log data cover an attack noticed
// late and a comparison with the month before; older rows are deleted.
var requestLogRetention = Retention{Days: 90, From: FromCollection,
	Why: "long enough to look into an attack or a broken page noticed weeks later; the network address is shortened to its network after the first days"}

func requestLogColumn(name string, c Category) Column {
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"security"},
		Retention: requestLogRetention, Erasure: EraseDelete, Source: Automatically}
}
