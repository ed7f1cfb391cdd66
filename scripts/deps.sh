#!/bin/sh
# Install the build and test dependencies of rootless-setup from Debian's archive.
# Idempotent: only packages that are missing are installed. Needs root (or prints
# the apt-get line to run when not root).
set -eu

# What the build and the root-free suites (unit, fuzz replay, man) need:
# (libslirp-dev and libseccomp-dev: headers only, for the embedded network's
# helper, which opens the libraries on first use)
BUILD_PKGS="build-essential pkg-config libmount-dev libblkid-dev libselinux1-dev libjansson-dev
libacl1-dev libslirp-dev libseccomp-dev libcmocka-dev scdoc groff-base"
# iSulad from ../shared/ext (tests/engines/isulad.sh), built on Debian 12:
# the shared libraries its binaries need beyond the base system, kmod (its
# daemon runs modprobe, see isulad.runtime) and locales (its en_US.UTF-8)
EXT_PKGS="kmod locales libarchive13 libcurl3-gnutls libdevmapper1.02.1 libgrpc++1.51 libgrpc29
libabsl20220623 libhttp-parser2.9 libprotobuf32 libseccomp2 libwebsockets17 libyajl2"
# What the suites that run real engines as a throwaway user need (root only):
PKGS="$BUILD_PKGS clang libclang-rt-14-dev uidmap acl busybox-static containerd runc
podman slirp4netns passt fuse-overlayfs rootlesskit hyperfine iperf3 valgrind util-linux passwd
iproute2 procps jq xxd proot crun time
strace gdb systemd python3 bsdutils
docker.io curl
debhelper dpkg-dev fakeroot rpm gpg python3-yaml lintian
clang-format clang-tidy cppcheck bear shellcheck
ansible-core ansible-lint rpmlint debootstrap qemu-system-x86 e2fsprogs
$EXT_PKGS"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "rootless-setup deps: missing packages:$missing" >&2
	echo "rootless-setup deps: run as root: apt-get install -y$missing" >&2
	# a contributor without root still builds and runs the root-free suites
	for p in $BUILD_PKGS; do
		case " $missing " in *" $p "*) exit 1 ;; esac
	done
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
