#!/bin/bash
# Build the lab image: a Debian tree (debootstrap + apt-get from Debian's archive
# only) with systemd, the Debian kernel, the engines Debian ships, a lingering
# user with subordinate ids, our binary and the guest suite, written to an ext4
# image with mkfs.ext4 -d. `make vm` runs it.
#
#   bash lab/build-image.sh [SUITE]      SUITE: trixie (default) or bookworm
#
# Variants (RS_LAB_VARIANT): selinux: the same tree plus lab/packages.selinux
# (Debian's reference policy), every file labelled at build time with
# setfiles, booted enforcing by run-vm.sh; its own key and directory
# build/lab/SUITE-selinux-KEY, built from a copy of the plain tree.
#
# Cache: build/lab/SUITE-KEY/ where KEY hashes the recipe (this script and
# lab/packages); the tree is reused while the recipe is unchanged, the image is
# rewritten only when the tree, the binary or the guest files changed.
# Environment: RS_LAB_MIRROR (default http://deb.debian.org/debian),
# RS_BIN (default build/rootless-setup), RS_LAB_PRINT_KEY=1 (print the key),
# RS_LAB_VARIANT (empty or selinux), RS_LAB_UNCACHED=1 (rebuild the tree).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
SUITE=${1:-trixie}
VARIANT=${RS_LAB_VARIANT:-}
MIRROR=${RS_LAB_MIRROR:-http://deb.debian.org/debian}
: "${RS_BIN:=$TOP/build/rootless-setup}"
LAB_USER=labuser
LAB_UID=1000

say() { echo "lab: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, file ownership in the image)"
for t in debootstrap mkfs.ext4 sha256sum; do
	command -v "$t" >/dev/null || die "$t is missing (make deps)"
done
case $SUITE in trixie | bookworm) ;; *) die "unknown suite '$SUITE' (trixie, bookworm)" ;; esac
case $VARIANT in '' | selinux) ;; *) die "unknown variant '$VARIANT' (selinux)" ;; esac


MOUNTS=()
cleanup() {
	[ -n "${TREE:-}" ] || return 0
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -l "${MOUNTS[$i]}" 2>/dev/null || true
	done
	rm -f "$TREE/usr/sbin/policy-rc.d" 2>/dev/null || true
}
trap cleanup EXIT

bind() { mount --bind "$1" "$2" && MOUNTS+=("$2"); }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

pkgs() {
	sed -e 's/#.*//' "$HERE/packages" | while read -r a b; do
		[ -z "$a" ] && continue
		if [ -n "$b" ]; then [ "$a" = "$SUITE:" ] && echo "$b"; else echo "$a"; fi
	done
}

build_tree() {
	local t0
	rm -rf "$TREE" "$DIR/tree.ok"
	t0=$(now)
	say "debootstrap $SUITE (minbase) from $MIRROR"
	debootstrap --variant=minbase --components=main "$SUITE" "$TREE" "$MIRROR" \
		>"$DIR/debootstrap.log" 2>&1 || { tail -20 "$DIR/debootstrap.log" >&2; die "debootstrap failed (log: $DIR/debootstrap.log)"; }
	echo "debootstrap_s $(elapsed "$t0")" >"$DIR/times.tree"
	t0=$(now)
	# no service starts inside the chroot
	printf '#!/bin/sh\nexit 101\n' >"$TREE/usr/sbin/policy-rc.d"
	chmod 0755 "$TREE/usr/sbin/policy-rc.d"
	bind /proc "$TREE/proc"
	bind /sys "$TREE/sys"
	bind /dev "$TREE/dev"
	bind /dev/pts "$TREE/dev/pts"
	echo "deb $MIRROR $SUITE main" >"$TREE/etc/apt/sources.list"
	say "apt-get install $(pkgs | wc -l) packages into the tree"
	# shellcheck disable=SC2046
	chroot "$TREE" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 sh -c \
		'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' \
		sh $(pkgs) >"$DIR/apt.log" 2>&1 || { tail -30 "$DIR/apt.log" >&2; die "apt-get install in the tree failed (log: $DIR/apt.log)"; }
	cleanup
	MOUNTS=()
	echo "packages_s $(elapsed "$t0")" >>"$DIR/times.tree"
	echo "$KEY $(date -u +%FT%TZ)" >"$DIR/tree.ok"
}

# The variant's tree: a copy of the plain tree (built first when missing)
# plus the variant's packages; cheaper than a second debootstrap.
build_variant_tree() {
	local t0 base
	rm -rf "$TREE" "$DIR/tree.ok"
	base=$(RS_LAB_VARIANT="" RS_LAB_PRINT_KEY=1 bash "$0" "$SUITE")
	base=$TOP/build/lab/$SUITE-$base
	if [ ! -f "$base/tree.ok" ]; then
		say "the $VARIANT variant starts from the plain $SUITE tree: building it"
		RS_LAB_VARIANT="" bash "$0" "$SUITE" || die "the plain $SUITE tree failed"
	fi
	t0=$(now)
	cp -a "$base/tree" "$TREE"
	printf '#!/bin/sh\nexit 101\n' >"$TREE/usr/sbin/policy-rc.d"
	chmod 0755 "$TREE/usr/sbin/policy-rc.d"
	bind /proc "$TREE/proc"
	bind /sys "$TREE/sys"
	bind /dev "$TREE/dev"
	say "apt-get install the $VARIANT packages into a copy of the $SUITE tree"
	# shellcheck disable=SC2046
	chroot "$TREE" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 sh -c \
		'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' \
		sh $(sed -e 's/#.*//' "$HERE/packages.$VARIANT") >"$DIR/apt.log" 2>&1 ||
		{ tail -30 "$DIR/apt.log" >&2; die "apt-get install in the tree failed (log: $DIR/apt.log)"; }
	cleanup
	MOUNTS=()
	echo "variant_packages_s $(elapsed "$t0")" >"$DIR/times.tree"
	echo "$KEY $(date -u +%FT%TZ)" >"$DIR/tree.ok"
}

# SELinux without a relabelling boot: enforcing from the first boot, every
# file labelled now by the tree's own setfiles and policy (run in the tree,
# nothing bind-mounted: only the tree's files get labels); mkfs.ext4 -d
# copies the security.selinux attributes into the image.
configure_selinux() {
	local fc=/etc/selinux/default/contexts/files/file_contexts
	[ -f "$TREE$fc" ] || die "no $fc in the tree (selinux-policy-default)"
	printf 'SELINUX=enforcing\nSELINUXTYPE=default\n' >"$TREE/etc/selinux/config"
	rm -f "$TREE/.autorelabel"
	# the suite as an admin logged in (root is unconfined_u on Debian) and,
	# through runuser, the user as it logs in (labuser's manager runs
	# unconfined_t): as a plain system service (initrc_t) the user's
	# manager refuses it ("Access denied") and podman runs as podman_t,
	# which may not enter /run/user: neither is what a user meets
	mkdir -p "$TREE/etc/systemd/system/rs-lab-suite.service.d"
	printf '[Service]\nSELinuxContext=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023\n' \
		>"$TREE/etc/systemd/system/rs-lab-suite.service.d/selinux.conf"
}

label_tree() {
	local fc=/etc/selinux/default/contexts/files/file_contexts t0
	t0=$(now)
	chroot "$TREE" setfiles -F "$fc" / >"$DIR/setfiles.log" 2>&1 ||
		{ tail -10 "$DIR/setfiles.log" >&2; die "setfiles in the tree failed (log: $DIR/setfiles.log)"; }
	echo "label_s $(elapsed "$t0")" >>"$DIR/times.image"
}

configure_tree() {
	echo "rs-lab" >"$TREE/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 rs-lab\n' >"$TREE/etc/hosts"
	printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$TREE/etc/fstab"
	chroot "$TREE" passwd -d root >/dev/null
	chroot "$TREE" id "$LAB_USER" >/dev/null 2>&1 ||
		chroot "$TREE" useradd -m -u "$LAB_UID" -U -s /bin/bash "$LAB_USER"
	# subordinate ids (useradd may already have added a range: ours replaces it)
	echo "$LAB_USER:100000:65536" >"$TREE/etc/subuid"
	echo "$LAB_USER:100000:65536" >"$TREE/etc/subgid"
	# lingering: logind starts user@UID.service at boot, no login needed
	mkdir -p "$TREE/var/lib/systemd/linger"
	touch "$TREE/var/lib/systemd/linger/$LAB_USER"
	# the suite unit runs once the system is up, then powers off
	install -m 0644 "$HERE/guest/rs-lab-suite.service" "$TREE/etc/systemd/system/"
	mkdir -p "$TREE/etc/systemd/system/multi-user.target.wants"
	ln -sfn ../rs-lab-suite.service "$TREE/etc/systemd/system/multi-user.target.wants/"
	# nothing periodic or interactive to slow a software-emulated boot
	local u
	for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
		fstrim.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer \
		getty@tty1.service serial-getty@ttyS0.service man-db.timer; do
		ln -sfn /dev/null "$TREE/etc/systemd/system/$u"
	done
	# a fixed machine id: no first-boot units (systemd-firstboot would prompt
	# on the console); every boot is a -snapshot of the same image anyway
	[ -s "$TREE/etc/machine-id" ] || chroot "$TREE" systemd-machine-id-setup >/dev/null 2>&1
	if [ "$VARIANT" = selinux ]; then configure_selinux; fi
}

# our binary: the build host's libraries are bookworm's; a trixie guest has
# the same sonames with newer versions (glibc is backward compatible), so the
# binary is copied and every library it needs must resolve inside the tree.
install_binary() {
	[ -x "$RS_BIN" ] || die "$RS_BIN is not built (make)"
	install -m 0755 "$RS_BIN" "$TREE/usr/local/bin/rootless-setup"
	local missing
	missing=$(chroot "$TREE" ldd /usr/local/bin/rootless-setup 2>&1 | grep -E 'not found|not a dynamic' || true)
	[ -z "$missing" ] || die "rootless-setup needs libraries the $SUITE tree lacks: $missing"
	chroot "$TREE" /usr/local/bin/rootless-setup --version >/dev/null 2>&1 ||
		die "rootless-setup does not run inside the $SUITE tree"
	mkdir -p "$TREE/usr/local/lib/rs-lab"
	install -m 0644 "$TOP/tests/lib/tap.sh" "$TREE/usr/local/lib/rs-lab/tap.sh"
	install_ext
	install -m 0755 "$HERE/guest/suite.sh" "$TREE/usr/local/lib/rs-lab/suite.sh"
	install -m 0644 "$HERE/guest/rs-lab-suite.service" "$TREE/etc/systemd/system/"
	# the launcher's RootlessKit parity suites and the helpers they source
	mkdir -p "$TREE/usr/local/lib/rs-lab/tests/launch" "$TREE/usr/local/lib/rs-lab/tests/lib"
	install -m 0755 "$TOP/tests/launch/rk-integration.sh" "$TOP/tests/launch/rk-scripts.sh" \
		"$TREE/usr/local/lib/rs-lab/tests/launch/"
	install -m 0644 "$TOP/tests/lib/tap.sh" "$TOP/tests/lib/testuser.sh" \
		"$TREE/usr/local/lib/rs-lab/tests/lib/"
}

# BuildKit from ../shared/ext (tests/lib/ext.sh: checked against its
# SHA256SUMS, unpacked once into build/ext/HASH): static binaries, which
# the guest suite puts in the lab user's ~/.local/bin as a user would.
# Without ext the guest skips BuildKit, saying why.
install_ext() {
	local line dir
	EXT_BK_KEY=none EXT_IS_KEY=none
	rm -rf "$TREE/usr/local/lib/rs-lab/ext"
	# shellcheck source=../tests/lib/ext.sh
	. "$TOP/tests/lib/ext.sh"
	if ! ext_present; then
		say "no $EXT_ROOT: the guest skips BuildKit"
		return 0
	fi
	line=$(ext_archive buildkit)
	[ -n "$line" ] || die "$EXT_ROOT/SHA256SUMS lists no buildkit archive"
	set -- $line
	[ "$(sha256sum < "$EXT_ROOT/$2" | cut -d' ' -f1)" = "$1" ] || die "$EXT_ROOT/$2 does not match SHA256SUMS"
	dir=$(ext_unpack "$1" "$2") || die "cannot unpack $EXT_ROOT/$2"
	install -d "$TREE/usr/local/lib/rs-lab/ext/buildkit"
	install -m 0755 "$dir/buildkitd" "$dir/buildctl" "$TREE/usr/local/lib/rs-lab/ext/buildkit/"
	EXT_BK_KEY=$1
	install_ext_isulad
}

# iSulad from ../shared/ext: its bin, lib and etc as built (linked with
# Debian 12's libraries: the guest runs it on bookworm and says why it
# skips on trixie), and ext's busybox image for isula load.
install_ext_isulad() {
	local line dir
	EXT_IS_KEY=none
	line=$(ext_archive isulad)
	[ -n "$line" ] || die "$EXT_ROOT/SHA256SUMS lists no isulad archive"
	set -- $line
	[ "$(sha256sum < "$EXT_ROOT/$2" | cut -d' ' -f1)" = "$1" ] || die "$EXT_ROOT/$2 does not match SHA256SUMS"
	dir=$(ext_unpack "$1" "$2") || die "cannot unpack $EXT_ROOT/$2"
	install -d "$TREE/usr/local/lib/rs-lab/ext/isulad"
	cp -a "$dir/isulad/bin" "$dir/isulad/lib" "$dir/isulad/etc" "$TREE/usr/local/lib/rs-lab/ext/isulad/"
	chown -R root:root "$TREE/usr/local/lib/rs-lab/ext/isulad"
	xz -dc "$EXT_ROOT/busybox-image.docker.tar.xz" > "$TREE/usr/local/lib/rs-lab/ext/isulad/busybox.tar"
	chmod 0644 "$TREE/usr/local/lib/rs-lab/ext/isulad/busybox.tar"
	EXT_IS_KEY=$1
}

build_image() {
	local t0 size
	t0=$(now)
	# vmlinuz and initrd for qemu -kernel/-initrd
	cp -L "$TREE/vmlinuz" "$DIR/vmlinuz"
	cp -L "$TREE/initrd.img" "$DIR/initrd.img"
	size=$(du -sm "$TREE" | cut -f1)
	size=$((size + 2048)) # room for images and containers
	rm -f "$DIR/image.ext4.tmp"
	: >"$DIR/times.image"
	if [ "$VARIANT" = selinux ]; then label_tree; fi
	mkfs.ext4 -q -F -L rs-lab -d "$TREE" "$DIR/image.ext4.tmp" "${size}M" ||
		die "mkfs.ext4 -d failed"
	mv "$DIR/image.ext4.tmp" "$DIR/image.ext4"
	echo "image_s $(elapsed "$t0")" >>"$DIR/times.image"
}

# The key hashes what makes the tree (build_tree, the package list, suite,
# mirror); configure_tree is cheap and idempotent, so it runs every time.
KEY=$( (declare -f build_tree; cat "$HERE/packages"; echo "$SUITE $MIRROR") | sha256sum | cut -c1-12)
NAME=$SUITE
if [ -n "$VARIANT" ]; then
	# the variant's key: the plain tree's, its builder and its packages
	KEY=$( (echo "$KEY"; declare -f build_variant_tree; cat "$HERE/packages.$VARIANT") |
		sha256sum | cut -c1-12)
	NAME=$SUITE-$VARIANT
fi
[ "${RS_LAB_PRINT_KEY:-0}" = 1 ] && { echo "$KEY"; exit 0; }
DIR=$TOP/build/lab/$NAME-$KEY
TREE=$DIR/tree
mkdir -p "$DIR"
# build/lab/NAME -> the current key, for run-vm.sh and bench
ln -sfn "$NAME-$KEY" "$TOP/build/lab/$NAME"

T0=$(now)
if [ -f "$DIR/tree.ok" ] && [ "${RS_LAB_UNCACHED:-0}" != 1 ]; then
	say "tree cached: $TREE"
elif [ -n "$VARIANT" ]; then
	build_variant_tree
else
	build_tree
fi
configure_tree
install_binary
STAMP=$( (cat "$DIR/tree.ok" "$RS_BIN" "$HERE/guest/"* "$TOP/tests/launch/rk-"*.sh "$TOP/tests/lib/"*.sh
	echo "$EXT_BK_KEY $EXT_IS_KEY"
	declare -f configure_tree configure_selinux label_tree build_image install_ext install_ext_isulad) |
	sha256sum | cut -c1-16)
if [ -f "$DIR/image.ext4" ] && [ "$(cat "$DIR/image.stamp" 2>/dev/null)" = "$STAMP" ]; then
	say "image up to date: $DIR/image.ext4"
else
	build_image
	echo "$STAMP" >"$DIR/image.stamp"
fi
# older recipes' trees and images of this suite and variant are not needed
# any more (NAME-KEY, KEY 12 hex digits: trixie-* must not match trixie-selinux-*)
for old in "$TOP/build/lab/$NAME"-*; do
	[[ ${old##*/} =~ ^$NAME-[0-9a-f]{12}$ ]] || continue
	[ "$old" = "$DIR" ] || [ ! -d "$old" ] || grep -q " $old/" /proc/mounts || rm -rf "$old"
done
echo "total_s $(elapsed "$T0")" >"$DIR/times.last"
say "ready: $DIR/image.ext4 ($(cat "$DIR"/times.tree "$DIR"/times.image 2>/dev/null | tr '\n' ' '); this run $(cut -d' ' -f2 "$DIR/times.last") s)"
