#!/bin/bash
# `oci rootless -i FILE` run by root on a user's bundle (issue 19, item
# 10). The user shapes FILE: a FIFO (root must not block), a symlink to
# /etc/shadow or one on the way (not followed), a file only the user may
# not read (root reads as the user), and a parse error (root names the
# position and what was expected, never the text: no token of the file
# reaches root's terminal, nor of /etc/shadow through any of these).
#   RS_TEST_USER=rsoci RS_BIN=build/rootless-setup bash tests/security/t-oci-input.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

sec_begin "oci rootless -i attacks" "needs root (a throwaway user)"
W=$TU_WORK
B=$H/bundle
tu_run mkdir -p "$B"
conv() { timeout 30 "$RS" oci rootless -i "$1" > "$W/out" 2> "$W/err"; }
# what of /etc/shadow could leak: its first line and every field of it
# that is long enough to be telling
leaks() {
	local f
	[ -r /etc/shadow ] || return 1
	grep -qF -- "$(head -1 /etc/shadow)" "$W/out" "$W/err" && return 0
	for f in $(head -1 /etc/shadow | tr ':' ' '); do
		[ ${#f} -ge 6 ] && grep -qF -- "$f" "$W/out" "$W/err" && return 0
	done
	return 1
}

# 0. the user's good config.json: converted as before
printf '{"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"}, "mounts": [], "linux": {"namespaces": [{"type": "mount"}]}}\n' |
	tu_run sh -c "cat > '$B/config.json'"
conv "$B/config.json"; rc=$?
check "root converts the user's own config.json (rc $rc)" sh -c "[ $rc = 0 ] && grep -q uidMappings '$W/out'"

# 1. a FIFO: no writer ever comes; root must neither wait nor write
tu_run rm -f "$B/config.json"
tu_run mkfifo "$B/config.json"
conv "$B/config.json"; rc=$?
check "a FIFO: refused at once, not waited on (rc $rc): $(cat "$W/err")" \
	sh -c "[ $rc = 1 ] && grep -q 'not a regular file' '$W/err'"
check "and the FIFO is still a FIFO" [ -p "$B/config.json" ]

# 2. a symlink to /etc/shadow, and a symlinked directory on the way
tu_run rm -f "$B/config.json"
tu_run ln -s /etc/shadow "$B/config.json"
conv "$B/config.json"; rc=$?
check "a symlink to /etc/shadow: refused (rc $rc): $(cat "$W/err")" \
	sh -c "[ $rc = 1 ] && grep -q 'symlink' '$W/err'"
check "and no token of /etc/shadow was printed" bash -c "$(declare -f leaks); W='$W'; ! leaks"
tu_run ln -s /etc "$H/etc-link"
conv "$H/etc-link/shadow"; rc=$?
check "a symlinked directory on the way: refused (rc $rc): $(cat "$W/err")" \
	sh -c "[ $rc = 1 ] && grep -q 'symlink' '$W/err'"
check "and no token of /etc/shadow was printed" bash -c "$(declare -f leaks); W='$W'; ! leaks"

# 3. a hard link to /etc/shadow (only where protected_hardlinks is off)
tu_run rm -f "$B/config.json"
if tu_run ln /etc/shadow "$B/config.json" 2>/dev/null; then
	conv "$B/config.json"; rc=$?
	check "a hard link to /etc/shadow: read as the user, so refused (rc $rc)" [ $rc = 1 ]
	check "and no token of /etc/shadow was printed" bash -c "$(declare -f leaks); W='$W'; ! leaks"
	tu_run rm -f "$B/config.json"
else
	diag "fs.protected_hardlinks: the user cannot link /etc/shadow (the kernel's refusal)"
fi

# 4. a file the user made unreadable to itself: root reads as the user
printf '{"ociVersion": "1.0.2"}\n' | tu_run sh -c "cat > '$B/config.json'; chmod 000 '$B/config.json'"
conv "$B/config.json"; rc=$?
check "a file the user cannot read is not read by root either (rc $rc): $(cat "$W/err")" \
	sh -c "[ $rc = 1 ] && grep -q 'Permission denied' '$W/err'"

# 5. a parse error: the position and what was expected, never the text
tu_run rm -f "$B/config.json"
printf '{"ociVersion": "1.0.2",\n "x": SECRET-TOKEN-4242 }\n' | tu_run sh -c "cat > '$B/config.json'"
conv "$B/config.json"; rc=$?
check "a parse error: one line with the position (rc $rc): $(cat "$W/err")" \
	sh -c "[ $rc = 1 ] && [ \$(wc -l < '$W/err') = 1 ] && grep -q 'line 2, column' '$W/err'"
check "and not the file's text" sh -c "! grep -q SECRET '$W/err' '$W/out'"

# 6. larger than the bound: refused before reading
tu_run sh -c "truncate -s 17M '$B/config.json'"
conv "$B/config.json"; rc=$?
check "a file over 16 MiB: refused (rc $rc): $(cat "$W/err")" sh -c "[ $rc = 1 ] && grep -q 'larger than' '$W/err'"
check "and the user's bundle is as the user left it" [ "$(stat -c '%U %s' "$B/config.json")" = "$U 17825792" ]
done_testing
