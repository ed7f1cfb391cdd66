#!/bin/bash
# The Debian package: builds, installs, its postinst leaves a preflight
# report and never fails the install (even where a rule fails), man and
# --version work, reinstalling is idempotent, remove and purge clean up.
# Then the .deb in a debootstrap chroot (cached under build/), with and
# without /proc: no live preflight from a chroot, the last good report never
# replaced with nothing, dpkg -P leaves nothing. The RPM spec builds, is
# rpmlint-clean of errors (signed with a throwaway key), and its %post does
# nothing live under rpm --root.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
MK="$TOP/tests/fixtures/mkhost.sh"
T=$(mktemp -d /tmp/rs-pkg.XXXXXX)
C="$T/chroot"
cleanup() {
	mountpoint -q "$C/proc" 2>/dev/null && umount "$C/proc"
	[ -d "$T/sign/gnupg" ] && GNUPGHOME="$T/sign/gnupg" gpgconf --kill all 2>/dev/null
	rm -rf "$T"
	dpkg -P rootless-setup >/dev/null 2>&1
}
trap cleanup EXIT
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

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

# --- the .deb in a chroot ---------------------------------------------------------
# A minimal bookworm from Debian's archive, made once and kept as a tarball
# (debootstrap takes about two minutes; unpacking it a few seconds).
# The package's run-time libraries beyond minbase (debian/control's
# Depends: libjansson4; libslirp0 for launch --net=libslirp); the cache is
# named by them, so a new dependency makes a new tree.
DBS_INCLUDE=libjansson4,libslirp0,libseccomp2
CACHE="$TOP/build/debootstrap/bookworm-minbase-${DBS_INCLUDE//,/-}.tar"
if [ ! -f "$CACHE" ] && command -v debootstrap >/dev/null; then
	mkdir -p "$(dirname "$CACHE")"; t0=$(now)
	if debootstrap --variant=minbase --include="$DBS_INCLUDE" bookworm "$T/dbs" \
		"${RS_DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$T/dbs.log" 2>&1; then
		tar -C "$T/dbs" -cf "$CACHE.tmp" . && mv "$CACHE.tmp" "$CACHE"
		diag "debootstrap: $(took "$t0") s (cached in $CACHE)"
	else
		tail -3 "$T/dbs.log" | sed 's/^/# /'
	fi
	rm -rf "$T/dbs"
fi
if [ -f "$CACHE" ]; then
	t0=$(now); mkdir -p "$C"; tar -C "$C" -xpf "$CACHE"; diag "chroot unpacked in $(took "$t0") s"
	cp "$DEB" "$C/tmp/rs.deb"
	R="$C/var/lib/rootless-setup"
	mkdir -p "$R"; echo '{"schema": "rootless-setup/report/v1", "kept": true}' > "$R/preflight.json"
	good=$(sha256sum < "$R/preflight.json")
	find "$C" -xdev \( -path "$C/var/lib/dpkg" -o -path "$C/var/log" -o -path "$C/var/cache" -o -path "$C/tmp" \) -prune -o -print |
		sed "s|^$C||" | grep -v '^/var/lib/rootless-setup' | sort > "$T/before"
	for procfs in without with; do
		[ $procfs = with ] && mount -t proc proc "$C/proc"
		SUDO_USER=nobody chroot "$C" dpkg -i /tmp/rs.deb > "$T/c.log" 2>&1; rc=$?
		check "chroot $procfs /proc: dpkg -i succeeds ($rc)" [ $rc = 0 ]
		check "chroot $procfs /proc: no live preflight (it says why)" grep -q 'preflight skipped' "$T/c.log"
		check "chroot $procfs /proc: the last good report is kept" [ "$(sha256sum < "$R/preflight.json")" = "$good" ]
		[ $procfs = with ] && umount "$C/proc"
	done
	ROOTLESS_SETUP_ROOT=/nonexistent chroot "$C" dpkg -i /tmp/rs.deb > "$T/c.log" 2>&1
	check "a preflight that cannot run keeps the last good report, not a 0-byte file" \
		sh -c "[ \"\$(sha256sum < '$R/preflight.json')\" = '$good' ] && grep -q 'the last one is kept' '$T/c.log'"
	check "and leaves no temporary file" [ -z "$(find "$R" -name '.preflight*')" ]
	mkdir -p "$C/srv/tree"; bash "$MK" debian10 "$C/srv/tree"
	ROOTLESS_SETUP_ROOT=/srv/tree chroot "$C" dpkg -i /tmp/rs.deb > "$T/c.log" 2>&1
	check "a preflight of a tree replaces the report with its new one" \
		jq -e '.schema == "rootless-setup/report/v1" and .host.root == "/srv/tree"' "$R/preflight.json"
	rm -rf "$C/srv/tree"
	chroot "$C" dpkg -P rootless-setup > "$T/c.log" 2>&1
	find "$C" -xdev \( -path "$C/var/lib/dpkg" -o -path "$C/var/log" -o -path "$C/var/cache" -o -path "$C/tmp" \) -prune -o -print |
		sed "s|^$C||" | sort > "$T/after"
	check "dpkg -P in the chroot leaves nothing (no file added or lost)" [ -z "$(diff "$T/before" "$T/after")" ]
	diff "$T/before" "$T/after" | head -5 | sed 's/^/# /'
	check "dpkg -P removes dpkg's own records of it" [ -z "$(find "$C/var/lib/dpkg/info" -name 'rootless-setup*')" ]
else
	skip "the .deb in a chroot" "debootstrap is not installed or could not reach the archive"
fi

if command -v rpmbuild >/dev/null; then
	mkdir -p "$T/rpm/SOURCES"
	git -C "$TOP" archive --prefix=rootless-setup-0.1.0/ -o "$T/rpm/SOURCES/rootless-setup-0.1.0.tar.gz" HEAD
	rpmbuild -bb --nodeps --define "_topdir $T/rpm" \
		--define "packager rootless-setup developers <dev@rootless-setup.invalid>" \
		"$TOP/distro/rpm/rootless-setup.spec" > "$T/rpm.log" 2>&1
	check "rpmbuild -bb builds the RPM" ls "$T"/rpm/RPMS/*/rootless-setup-0.1.0-*.rpm
	RPM=$(ls "$T"/rpm/RPMS/*/rootless-setup-0.1.0-*.rpm 2>/dev/null | head -1)
	[ -n "$RPM" ] || tail -5 "$T/rpm.log" | sed 's/^/# /'
	check "the RPM's paths are spelt without Fedora-only macros (/var/lib, no /usr/com)" \
		sh -c "rpm -qlp '$RPM' | grep -qx /var/lib/rootless-setup && ! rpm -qp --scripts '$RPM' | grep -q /usr/com"
	if command -v rpmlint >/dev/null; then
		# signed as a distribution would, with a throwaway key in a private
		# keyring and rpm database (rpmlint's signature check reads rpm's
		# database: ~/.rpmmacros points it at ours, the host's is not touched)
		S="$T/sign"
		install -d -m 0700 "$S/gnupg" && mkdir -p "$S/home" "$S/rpmdb"
		printf '%%_dbpath %s\n' "$S/rpmdb" >"$S/home/.rpmmacros"
		export GNUPGHOME="$S/gnupg"
		gpg --batch --passphrase '' --quick-gen-key \
			'rootless-setup test key <test@rootless-setup.invalid>' rsa2048 sign never \
			>"$T/gpg.log" 2>&1
		gpg --batch --export -a test@rootless-setup.invalid >"$S/key.asc" 2>>"$T/gpg.log"
		HOME="$S/home" rpm --initdb && HOME="$S/home" rpm --import "$S/key.asc"
		HOME="$S/home" rpmsign --addsign --define "__gpg $(command -v gpg)" \
			--define "_gpg_name test@rootless-setup.invalid" "$RPM" </dev/null >"$T/sign.log" 2>&1
		rc=$?
		check "rpmsign signs the RPM with the test key" [ $rc -eq 0 ]
		[ $rc -eq 0 ] || tail -3 "$T/sign.log" | sed 's/^/# /'
		check "rpm -K: digests and signature OK" \
			sh -c "HOME='$S/home' rpm -K '$RPM' 2>/dev/null | grep -q 'signatures OK'"
		HOME="$S/home" rpmlint "$RPM" "$TOP/distro/rpm/rootless-setup.spec" >"$T/rpmlint.log" 2>&1
		unset GNUPGHOME
		errs=$(grep ': E: ' "$T/rpmlint.log")
		check "rpmlint: no errors" [ -z "$errs" ]
		[ -z "$errs" ] || echo "$errs" | head -5 | sed 's/^/# /'
		diag "rpmlint: $(grep -c ': W: ' "$T/rpmlint.log") warnings"
	else
		skip "rpmlint" "not installed"
	fi
	if [ -f "$CACHE" ] && [ -n "$RPM" ]; then
		# rpm --root runs %post chrooted into the tree (no /proc there)
		rpm --root "$C" --initdb
		rpm --root "$C" -i --nodeps "$RPM" > "$T/rpmi.log" 2>&1; rc=$?
		check "rpm --root installs into the chroot ($rc)" [ $rc = 0 ]
		check "its %post ran no live preflight there" [ ! -e "$C/var/lib/rootless-setup/preflight.json" -a ! -e "$C/var/lib/rootless-setup/.preflight.json.new" ]
		rpm --root "$C" -e rootless-setup > /dev/null 2>&1
		check "rpm -e removes its files and directory" [ ! -e "$C/usr/bin/rootless-setup" -a ! -e "$C/var/lib/rootless-setup" ]
	fi
else
	skip "rpm" "rpmbuild is not installed"
fi
done_testing
