#!/bin/sh
# Stages the root file system of the FROM scratch image: the binary at
# /usr/bin/rootless-setup, every shared library ldd(1) says it loads and
# those it opens on first use, each at the path the dynamic linker will
# look for it (the loader too).
#   sh deploy/kubernetes/stage.sh build/rootless-setup build/image
set -eu
bin=$1
out=$2
rm -rf "$out/rootfs"
mkdir -p "$out/rootfs/usr/bin" "$out/rootfs/host" "$out/rootfs/tmp"
cp "$bin" "$out/rootfs/usr/bin/rootless-setup"
chmod 0755 "$out/rootfs/usr/bin/rootless-setup"
# ldd lines: "libX.so.1 => /lib/.../libX.so.1 (0x...)" or "/lib64/ld-linux... (0x...)";
# linux-vdso has no file. A library ldd cannot find stops the build.
copy_libs() {
	ldd "$1" | while read -r a b c _; do
		case "$b" in
		"=>") lib=$c ;;
		"(0x"*) case "$a" in /*) lib=$a ;; *) continue ;; esac ;;
		*) continue ;;
		esac
		case "$lib" in
		/*) ;;
		*) echo "stage.sh: ldd found no file for '$a'" >&2; exit 1 ;;
		esac
		mkdir -p "$out/rootfs$(dirname "$lib")"
		cp -L "$lib" "$out/rootfs$lib"
	done
}
copy_libs "$bin"
# The libraries the binary opens with dlopen(3) on first use
# (src/host/libs.c) are not in ldd's list: the binary names them in its
# .note.dlopen ELF note (freedesktop.org's dlopen metadata, a JSON array).
# Each is taken from the directory libc was found in (the binary's
# architecture), with what it needs in turn.
libdir=$(dirname "$(ldd "$bin" | awk '$1 ~ /^libc\.so/ { print $3 }')")
sonames=$(objcopy -O binary --only-section=.note.dlopen "$bin" /dev/stdout |
	strings -n 8 | jq -r '.[].soname[]') || { echo "stage.sh: cannot read the .note.dlopen of '$bin'" >&2; exit 1; }
for so in $sonames; do
	[ -e "$out/rootfs$libdir/$so" ] && continue
	[ -e "$libdir/$so" ] || { echo "stage.sh: no '$libdir/$so'" >&2; exit 1; }
	cp -L "$libdir/$so" "$out/rootfs$libdir/$so"
	copy_libs "$libdir/$so"
done
cp "$(dirname "$0")/Containerfile" "$out/Containerfile"
