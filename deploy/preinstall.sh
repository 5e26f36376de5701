#!/bin/sh
# Storekeep's package: before the files are unpacked (dpkg's preinst,
# rpm's %pre), so that the configuration and data directory are owned by
# the storekeep group and user from the start.
set -e

if ! getent group storekeep >/dev/null; then
	groupadd --system storekeep
fi
if ! getent passwd storekeep >/dev/null; then
	useradd --system --gid storekeep --home-dir /var/lib/storekeep --no-create-home \
		--shell /usr/sbin/nologin --comment "Storekeep service" storekeep
fi
