#!/bin/sh
# Storekeep's package: before its files are removed (dpkg's prerm with
# "remove", rpm's %preun with 0). An upgrade keeps the service running
# until postinstall restarts it.
set -e

case "$1" in
	remove|0)
		if [ -d /run/systemd/system ]; then
			systemctl disable --now storekeep.service || true
		fi
		;;
esac
