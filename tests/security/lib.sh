# shellcheck shell=bash
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
	# RS, U, H: for the attack scripts that source this file
	# shellcheck disable=SC2034
	{
		RS=$TU_BIN
		U=$TU_NAME
		H=$TU_HOME
	}
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

# sec_user2: a second throwaway user, ${RS_TEST_USER}2 (another user's
# launch, a flood from another uid), with a runtime dir of its own; removed
# at exit (only one this file made). Sets U2, U2ID, U2GID, U2XDG; as_u2 CMD
# runs CMD as it with a clean environment. Return: 1 when it cannot be made.
sec_user2() {
	local mark="rootless-setup test user (throwaway)"
	U2=${RS_TEST_USER:-rstest}2
	if getent passwd "$U2" > /dev/null; then
		[ "$(getent passwd "$U2" | cut -d: -f5)" = "$mark" ] || return 1
		pkill -KILL -u "$U2" 2>/dev/null
		sleep 0.1
		userdel -r "$U2" 2>/dev/null
	fi
	useradd -m -U -s /bin/sh -c "$mark" -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$U2" || return 1
	U2ID=$(id -u "$U2") U2GID=$(id -g "$U2")
	U2XDG=/run/user/$U2ID
	tu_on_exit sec_user2_del
	rm -rf "$U2XDG"
	install -d -m 0700 -o "$U2ID" -g "$U2GID" "$U2XDG"
}
sec_user2_del() {
	pkill -KILL -u "$U2ID" 2>/dev/null
	sleep 0.2
	userdel -r "$U2" 2>/dev/null
	rm -rf "$U2XDG"
}
as_u2() {
	(cd / && { [ -z "$TU_LOCKFD" ] || exec {TU_LOCKFD}>&-; } && exec setpriv --reuid="$U2ID" --regid="$U2GID" --init-groups --inh-caps=-all \
		env -i HOME="/home/$U2" USER="$U2" LOGNAME="$U2" PATH=/usr/local/bin:/usr/bin:/bin \
		XDG_RUNTIME_DIR="$U2XDG" LANG=C.UTF-8 "$@")
}
