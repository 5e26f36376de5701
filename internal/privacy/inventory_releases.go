package privacy

// releasesPart declares releases and their artifacts, and the download
// log. Neither holds
// personal data: they are the vendor's software, its checksums and
// signatures, and what its package metadata says. Who created, published
// or yanked a release is in the audit log (release.* entries), not in a
// column here.
var releasesPart = Inventory{
	Purposes: []Purpose{
		{ID: "download_records", Name: "Recording downloads",
			Description: "recording each download of a release (which file, when, how it was fetched, with which license, from which network) so that we can tell you what you downloaded, answer questions about a download and notice a license key used far beyond what it was bought for",
			Basis:       LegitimateInterest, Interest: "delivering the software that was bought and keeping license keys from being shared"},
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
					Retention: downloadRetention, Erasure: EraseDelete, Source: Automatically, Export: "network"},
				downloadColumn("first_byte", "first_byte", "where a resumed download started"),
				downloadColumn("at", "at", ""),
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
var downloadRetention = Retention{Years: 1, From: FromCollection, Why: "long enough to answer questions about last year's downloads and to see a key shared over time"}

func downloadColumn(name, export, note string) Column {
	return Column{Name: name, Personal: true, Category: "user.license.download", Purposes: []string{"download_records"},
		Retention: downloadRetention, Erasure: EraseDelete, Source: Automatically, Export: export, Note: note}
}
