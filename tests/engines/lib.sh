# shellcheck shell=bash
# Shared by tests/engines/*.sh (sourced, bash): the throwaway user, the
# digest of its XDG trees, a busybox image, and the truth table's lines.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

# en_setup: the user and a copy of the binary it can run (TU_BIN, TU_WORK).
en_setup() {
	tu_setup || return 1
	tu_bin || return 1
	# shellcheck disable=SC2034 # for the scripts that source this file
	RS=$TU_BIN
	W=$TU_WORK
}

# en_digest: the user's ~/.config, ~/.local/share and ~/.local/state: paths,
# types, modes, owners and contents; directory mtimes left out.
en_digest() {
	local p
	for p in "$TU_HOME/.config" "$TU_HOME/.local/share" "$TU_HOME/.local/state"; do
		if [ ! -e "$p" ] && [ ! -L "$p" ]; then
			echo "absent $p"
			continue
		fi
		find "$p" -xdev \( -type f -printf '%p f %m %U:%G %s ' -exec sh -c 'sha256sum < "$1" | cut -c1-16' _ {} \; \) \
			-o \( -type l -printf '%p l %l\n' \) -o \( -printf '%p %y %m %U:%G\n' \) 2>/dev/null | LC_ALL=C sort
	done
}

# en_home_digest: the whole home as en_digest sees its trees (paths,
# types, modes, owners, contents; directory mtimes left out).
en_home_digest() {
	find "$TU_HOME" -xdev \( -type f -printf '%p f %m %U:%G %s ' -exec sh -c 'sha256sum < "$1" | cut -c1-16' _ {} \; \) \
		-o \( -type l -printf '%p l %l\n' \) -o \( -printf '%p %y %m %U:%G\n' \) 2>/dev/null | LC_ALL=C sort
}

# en_need WHAT BIN...: the suite WHAT is skipped (and the script ends)
# unless it runs as root (it makes a throwaway user) and each BIN is
# installed. en_start WHAT: the throwaway user, or the same skip.
en_need() {
	local what=$1 b
	shift
	[ "$(id -u)" = 0 ] || { skip "$what" "needs root for a throwaway user"; done_testing; exit; }
	for b in "$@"; do
		command -v "$b" >/dev/null || { skip "$what" "$b is not installed"; done_testing; exit; }
	done
}
en_start() {
	en_setup || { skip "$1" "no test user"; done_testing; exit; }
}

# en_rootfs_tar FILE: a root file system of Debian's busybox-static, as a tar.
en_rootfs_tar() {
	local d
	d=$(mktemp -d "$W/rootfs.XXXXXX") || return 1
	mkdir -p "$d/bin" "$d/etc" "$d/tmp" "$d/proc" "$d/sys" "$d/dev"
	cp "$(command -v busybox)" "$d/bin/busybox"
	for a in sh echo true cat id ls; do ln -s busybox "$d/bin/$a"; done
	echo "root:x:0:0:root:/:/bin/sh" > "$d/etc/passwd"
	# a directory of another uid, read-only: in the user's storage it is
	# owned by a subordinate id, as image layers are
	mkdir -p "$d/home/app/data" && echo x > "$d/home/app/data/f"
	chown -R 1000:1000 "$d/home/app" && chmod 0555 "$d/home/app/data" "$d/home/app"
	tar -C "$d" -cf "$1" . && chmod 644 "$1"
	chmod -R u+w "$d"; rm -rf "$d"
}

# en_oci_busybox FILE: en_rootfs_tar's file system as an OCI archive,
# made by root in scratch storage below $W. Return: whether it was made.
en_oci_busybox() {
	local -a P=(podman --root "$W/ps" --runroot "$W/pr" --storage-driver vfs)
	en_rootfs_tar "$W/bb.tar"
	"${P[@]}" import "$W/bb.tar" localhost/bb > /dev/null 2>&1 &&
		"${P[@]}" save --format oci-archive -o "$1" localhost/bb > /dev/null 2>&1
	chmod 644 "$1" 2>/dev/null
	"${P[@]}" rmi -a > /dev/null 2>&1
	rm -rf "$W/ps" "$W/pr"
	[ -s "$1" ]
}

# en_truth ENGINE ASPECT PREDICTED SHOWN: one line of the truth table (the
# report's verdict against what the engine reported doing), and a check.
en_truth() {
	printf '# truth: %-10s %-12s report=%-14s run=%s\n' "$1" "$2" "$3" "$4"
	check "truth $1/$2: the report's '$3' is what the run showed ('$4')" [ "$3" = "$4" ]
}

# en_note_out FILE: the command install printed after "run a container with: "
en_client_cmd() {
	sed -n 's/.*run a container with: \(.*\) IMAGE .*/\1/p' "$1" | head -1
}
