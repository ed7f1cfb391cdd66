#!/bin/bash
# The Debian package: builds, installs, its postinst leaves a preflight
# report and never fails the install (even where a rule fails), man and
# --version work, reinstalling is idempotent, remove and purge clean up.
# The RPM spec builds with rpmbuild.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
MK="$TOP/tests/fixtures/mkhost.sh"
T=$(mktemp -d /tmp/rs-pkg.XXXXXX)
trap 'rm -rf "$T"; dpkg -P rootless-setup >/dev/null 2>&1' EXIT

if [ "$(id -u)" != 0 ] || ! command -v dpkg-buildpackage >/dev/null; then
	skip "packages" "needs root and dpkg-buildpackage"
	done_testing; exit
fi
if dpkg -s rootless-setup >/dev/null 2>&1; then
	skip "packages" "rootless-setup is installed on this machine; not touching it"
	done_testing; exit
fi
make -C "$TOP" deb BUILD="$T/build" > "$T/deb.log" 2>&1
check "make deb builds a .deb" ls "$T"/build/rootless-setup_*_*.deb
DEB=$(ls "$T"/build/rootless-setup_*_*.deb | head -1)
if command -v lintian >/dev/null; then
	out=$(lintian --allow-root -I "$DEB" 2>&1)
	check "lintian finds nothing, not even at info level" [ -z "$out" ]
	[ -z "$out" ] || echo "$out" | head -5 | sed 's/^/# /'
else
	skip "lintian" "not installed"
fi
mkdir -p "$T/host"; bash "$MK" debian10 "$T/host"
ROOTLESS_SETUP_ROOT="$T/host" dpkg -i "$DEB" > "$T/i1.log" 2>&1
check "dpkg -i succeeds although the preflight finds a failing rule" [ $? -eq 0 ]
check "the postinst named the failing rule" grep -q "userns.clone" "$T/i1.log"
check "the preflight report is valid JSON" jq -e '.schema == "rootless-setup/report/v1"' /var/lib/rootless-setup/preflight.json
check "the report shows the failure" jq -e '.summary.fail > 0' /var/lib/rootless-setup/preflight.json
check "/usr/bin/rootless-setup --version" /usr/bin/rootless-setup --version
check "man rootless-setup opens" sh -c 'man -P cat rootless-setup 2>/dev/null | grep -q "rootless-setup - prepare a host"'
check "bash completion installed" [ -f /usr/share/bash-completion/completions/rootless-setup ]
check "man rootless-setup-rules opens" sh -c 'man -P cat rootless-setup-rules 2>/dev/null | grep -q "userns.probe"'
check "the udev and AppArmor templates are installed" [ -f /usr/share/rootless-setup/udev/99-rootless-setup-kvm.rules -a -f /usr/share/rootless-setup/apparmor/rootless-setup ]
dpkg -i "$DEB" > "$T/i2.log" 2>&1
check "reinstalling works" [ $? -eq 0 ]
dpkg -r rootless-setup > /dev/null 2>&1
check "dpkg -r removes the program" [ ! -e /usr/bin/rootless-setup ]
check "dpkg -r keeps the report" [ -f /var/lib/rootless-setup/preflight.json ]
dpkg -P rootless-setup > /dev/null 2>&1
check "dpkg -P removes the report" [ ! -e /var/lib/rootless-setup ]

if command -v rpmbuild >/dev/null; then
	mkdir -p "$T/rpm/SOURCES"
	git -C "$TOP" archive --prefix=rootless-setup-0.1.0/ -o "$T/rpm/SOURCES/rootless-setup-0.1.0.tar.gz" HEAD
	rpmbuild -bb --nodeps --define "_topdir $T/rpm" "$TOP/distro/rpm/rootless-setup.spec" > "$T/rpm.log" 2>&1
	check "rpmbuild -bb builds the RPM" ls "$T"/rpm/RPMS/*/rootless-setup-0.1.0-*.rpm
	[ -n "$(ls "$T"/rpm/RPMS/*/*.rpm 2>/dev/null)" ] || tail -5 "$T/rpm.log" | sed 's/^/# /'
else
	skip "rpm" "rpmbuild is not installed"
fi
done_testing
