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
