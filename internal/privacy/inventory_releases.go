package privacy

// releasesPart declares releases and their artifacts, the download log,
// and the requests for email-gated downloads. Releases and artifacts hold
// personal data: they are the vendor's software, its checksums and
// signatures, and what its package metadata says. Who created, published
// or yanked a release is in the audit log (release.* entries), not in a
// column here.
var releasesPart = Inventory{
	Purposes: []Purpose{
		{ID: "download_records", Name: "Recording downloads",
			Description: "recording each download of a release (which file, when, how it was fetched, with which license, from which network) so that we can tell you what you downloaded, answer questions about a download and notice a license key used far beyond what it was bought for",
			Basis:       LegitimateInterest, Interest: "delivering the software that was bought and keeping license keys from being shared",
			Overriding: "the log is how a download that failed or a key shared with strangers is noticed and answered; it holds only the download itself, the address shortened after a week"},
		// A visitor asks for a trial or free download and gets it through
		// the address: using the address to deliver what the person asked
		// for, under the download's terms, is a step taken at their
		// request (Art. 6(1)(b)), not an interest of ours to weigh. It
		// serves nothing else: no marketing, no announcements.
		{ID: "trial_downloads", Name: "Trial and free downloads",
			Description: "sending you the link that confirms your email address when you ask to download a trial or free release, and letting you download it for a week once confirmed; the address is used for nothing else",
			Basis:       Contract},
	},
	Tables: []Table{
		{Name: "downloads", Description: "The download log: which file was fetched, when, how, with which license and from which network.",
			Subject: Customer, Link: Link{Column: "customer_id"}, Dated: "at", Columns: []Column{
				{Name: "id"},
				{Name: "artifact_id", Note: "points to the release's file"},
				downloadColumn("license_id", "license", "the license row the download was made with"),
				downloadColumn("customer_id", "", ""),
				downloadColumn("via", "via", ""),
				{Name: "network", Personal: true, Category: "user.network.ip", Purposes: []string{"download_records"},
					Retention: downloadRetention, Erasure: EraseDelete, Source: Automatically, Export: "network",
					TruncateAfter: Retention{Days: 7, From: FromCollection, Why: "the full address helps only with a download that failed or looks abused this week; after that its network is enough"}},
				downloadColumn("first_byte", "first_byte", "where a resumed download started"),
				downloadColumn("at", "at", ""),
				downloadColumn("request_id", "", "the email-gated download request the download was made with; erasing or purging the request deletes these rows (ON DELETE CASCADE)"),
			}},
		// Visitors asking for a trial usually have no account: the rows
		// belong to whoever holds the address, so access requests and
		// erasure by address (internal/requests, the privacy center)
		// find them through the email column.
		{Name: "download_requests", Description: "Requests to download a trial or free release: the email address, which release, and when the address was confirmed.",
			Subject: Customer, Link: Link{EmailColumn: "email"}, Dated: "created_at", Columns: []Column{
				{Name: "id", Export: "request"},
				trialColumn("email", "user.contact.email", FromSubject, "email", "mail"),
				trialColumn("release_id", "user.license.download", FromSubject, "release", ""),
				trialColumn("token_hash", "user.account.credentials", Automatically, "", ""),
				trialColumn("created_at", "user.license.download", Automatically, "requested_at", ""),
				trialColumn("expires_at", "user.license.download", Automatically, "", ""),
				trialColumn("confirmed_at", "user.license.download", Automatically, "confirmed_at", ""),
				trialColumn("access_until", "user.license.download", Automatically, "downloads_until", ""),
			}},
		{Name: "releases", Description: "Releases of each product: version, channel, notes, state and the signed checksums file.",
			Columns: plain("id", "product_id", "version", "version_core", "channel", "notes", "checksums", "checksums_signature",
				"created_at", "updated_at", "published_at", "yanked_at", "yank_reason", "requires", "email_gated")},
		{Name: "release_artifacts", Description: "The files of each release: name, platform, kind, size, SHA-256, minisign signature, where the store keeps it, and a package's name, version, architecture and control data.",
			Columns: append(plain("id", "release_id", "file_name", "platform", "kind", "size", "sha256", "signature", "store_key",
				"pkg_name", "pkg_version", "pkg_arch", "created_at"),
				Column{Name: "pkg_control", Note: "a .deb's control paragraph as the vendor built it; its Maintainer field names whoever the vendor chose to publish in every copy of the package, so it is the package's public metadata, not data we collect about a person"},
				Column{Name: "pkg_meta", Note: "an .rpm's header fields the YUM index repeats, as the vendor built them; its Packager field names whoever the vendor chose to publish in every copy of the package, so it is the package's public metadata, not data we collect about a person"})},
	},
}

// downloadRetention: a year of downloads answers "what did we download
// last year" and shows sharing; older rows are deleted.
var downloadRetention = Retention{Years: 1, From: FromCollection, Why: "long enough to answer questions about last year's downloads and to see a key shared over time; the network address is shortened to its network (the first three parts of an IPv4 address) after 7 days"}

func downloadColumn(name, export, note string) Column {
	return Column{Name: name, Personal: true, Category: "user.license.download", Purposes: []string{"download_records"},
		Retention: downloadRetention, Erasure: EraseDelete, Source: Automatically, Export: export, Note: note}
}

// trialRetention: a request confirms within a day and opens the files for
// a week; a month answers a question about it, then it goes, and with it
// its download log rows.
var trialRetention = Retention{Days: 30, From: FromCollection, Why: "the confirmation link works for a day and the downloads for a week after it; a month also answers a question about the download"}

func trialColumn(name string, c Category, src Source, export, recipient string) Column {
	col := Column{Name: name, Personal: true, Category: c, Purposes: []string{"trial_downloads"},
		Retention: trialRetention, Erasure: EraseDelete, Source: src, Export: export}
	if recipient != "" {
		col.Recipients = []string{recipient}
	}
	return col
}
