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
