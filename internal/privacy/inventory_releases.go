package privacy

// releasesPart declares releases and their artifacts. Neither holds
// personal data: they are the vendor's software, its checksums and
// signatures, and what its package metadata says. Who created, published
// or yanked a release is in the audit log (release.* entries), not in a
// column here.
var releasesPart = Inventory{
	Tables: []Table{
		{Name: "releases", Description: "Releases of each product: version, channel, notes, state and the signed checksums file.",
			Columns: plain("id", "product_id", "version", "version_core", "channel", "notes", "checksums", "checksums_signature",
				"created_at", "updated_at", "published_at", "yanked_at", "yank_reason")},
		{Name: "release_artifacts", Description: "The files of each release: name, platform, kind, size, SHA-256, minisign signature, where the store keeps it, and a package's name, version, architecture and control data.",
			Columns: append(plain("id", "release_id", "file_name", "platform", "kind", "size", "sha256", "signature", "store_key",
				"pkg_name", "pkg_version", "pkg_arch", "created_at"),
				Column{Name: "pkg_control", Note: "a .deb's control paragraph as the vendor built it; its Maintainer field names whoever the vendor chose to publish in every copy of the package, so it is the package's public metadata, not data we collect about a person"})},
	},
}
