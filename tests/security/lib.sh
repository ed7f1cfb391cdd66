# Helpers for the attack scripts (sourced after tests/lib/tap.sh and
# tests/lib/testuser.sh).

# digest PATH...: one line per entry below each PATH (the path itself
# included): relative path, type, mode, owner, size and content hash for
# files, link target for symlinks. Directory mtimes are left out, so only what
# an attack could change counts. Absent paths are listed as absent.
digest() {
	local p
	for p in "$@"; do
		if [ ! -e "$p" ] && [ ! -L "$p" ]; then
			echo "absent $p"
			continue
		fi
		find "$p" -xdev \( -type f -printf '%p f %m %U:%G %s ' -exec sh -c 'sha256sum < "$1" | cut -c1-16' _ {} \; \) \
			-o \( -type l -printf '%p l %l\n' \) \
			-o \( -printf '%p %y %m %U:%G\n' \) 2>/dev/null | LC_ALL=C sort
	done | sha256sum | cut -c1-32
}

# as_user CMD...: CMD as the throwaway user (tu_run without the cd noise)
as_user() { tu_run "$@"; }

# sec_begin WHAT WHY: the start of an attack script that root runs for the
# throwaway user. Not root: one skip (WHAT, WHY) and the end. Else the user
# and a copy of the binary it can run: RS (the binary), U (name), H (home).
sec_begin() {
	if [ "$(id -u)" != 0 ]; then
		skip "$1" "$2"
		done_testing
		exit 0
	fi
	tu_setup || { echo "Bail out! cannot set up the test user"; exit 1; }
	tu_bin || { echo "Bail out! cannot copy the binary"; exit 1; }
	RS=$TU_BIN
	U=$TU_NAME
	H=$TU_HOME
}

# sec_records: root's records for the user go again at exit, and so do the
# directories of /var/lib/rootless-setup this run made
sec_records() {
	[ -d /var/lib/rootless-setup ] ||
		tu_on_exit sh -c "rmdir /var/lib/rootless-setup 2>/dev/null; true"
	[ -d /var/lib/rootless-setup/users ] ||
		tu_on_exit sh -c "rmdir /var/lib/rootless-setup/users 2>/dev/null; true"
	tu_on_exit rm -rf "/var/lib/rootless-setup/users/$TU_UID"
}

# sec_scratch NAME: D, a 0755 scratch directory removed at exit, and O=$D/out
sec_scratch() {
	D=$(mktemp -d "/tmp/rs-$1.XXXXXX") || exit 1
	chmod 755 "$D"
	tu_on_exit rm -rf "$D"
	O=$D/out
	mkdir "$O"
}
