#!/bin/sh
# Storekeep's package: after its files are removed (dpkg's postrm,
# rpm's %postun). The database in /var/lib/storekeep and the storekeep
# user stay, even on purge: the database holds orders and invoices that
# the law may require the vendor to keep, and a package must not be the
# way they are lost. Remove them by hand when you mean it.
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
case "$1" in
	purge)
		rmdir /etc/storekeep 2>/dev/null || true
		if [ -d /var/lib/storekeep ]; then
			echo "storekeep: /var/lib/storekeep and the storekeep user are kept; remove them by hand once the data is no longer needed"
		fi
		;;
esac
