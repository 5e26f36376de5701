#!/bin/sh
# Storekeep's package: after the files are in place (dpkg's postinst with
# "configure", rpm's %post with 1 for an install or 2 for an upgrade).
set -e

# The user again, in case preinstall did not run (dpkg --unpack, then
# the user deleted before --configure).
if ! getent group storekeep >/dev/null; then
	groupadd --system storekeep
fi
if ! getent passwd storekeep >/dev/null; then
	useradd --system --gid storekeep --home-dir /var/lib/storekeep --no-create-home \
		--shell /usr/sbin/nologin --comment "Storekeep service" storekeep
fi

# The data directory holds the database: the service's alone. The
# settings may hold passwords: root writes them, the service reads them.
install -d -o storekeep -g storekeep -m 0750 /var/lib/storekeep
chown root:storekeep /etc/storekeep
chmod 0750 /etc/storekeep
if [ -e /etc/storekeep/storekeep.env ]; then
	chown root:storekeep /etc/storekeep/storekeep.env
	chmod 0640 /etc/storekeep/storekeep.env
fi

upgrade=no
case "$1" in
	configure) [ -n "$2" ] && upgrade=yes ;;
	2) upgrade=yes ;;
esac

# Only where systemd runs (not in a container or a chroot).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	if [ "$upgrade" = yes ]; then
		# A running service moves to the new binary; a stopped one stays
		# stopped.
		systemctl try-restart storekeep.service || true
	fi
fi

if [ "$upgrade" = no ]; then
	cat <<'MSG'
Storekeep is installed. Set it up with:
  sudo storekeep init
then start it with:
  sudo systemctl enable --now storekeep
(docs: /usr/share/doc/storekeep/install.md)
MSG
fi
