# shellcheck shell=bash
# Throwaway unprivileged test user for the live tests and the benchmarks (sourced, bash).
#
#   . tests/lib/testuser.sh
#   tu_setup || exit 1       # as root: create user "rstest"; otherwise: the caller
#   tu_run CMD [ARG]...      # run CMD as that user, clean environment, cwd = its home
#   tu_on_exit CMD [ARG]...  # register more cleanup (run before the user is removed)
#
# After tu_setup: TU_NAME TU_UID TU_GID TU_HOME TU_XDG (its XDG_RUNTIME_DIR),
# TU_CREATED (1 when this file created the user and will remove it).
#
# As root, the user gets its own /etc/subuid and /etc/subgid range of 65536 ids:
# the first range at or above 100000 that overlaps no line of either file. An
# EXIT/INT/TERM trap removes the user, its home, its subid lines and its
# /run/user/UID (when this file created it). A user left by an aborted run is
# recognised by its GECOS marker and recreated from scratch; a user of the same
# name without the marker is never touched.
#
# Environment: RS_TEST_USER (default rstest), RS_TEST_SUBID_COUNT (65536).

TU_NAME=${RS_TEST_USER:-rstest}
TU_COUNT=${RS_TEST_SUBID_COUNT:-65536}
TU_MARK="rootless-setup test user (throwaway)"
TU_UID=
TU_GID=
TU_HOME=
TU_XDG=
TU_CREATED=0
TU_CREATED_XDG=0
TU_CLEANUPS=()
TU_DONE=0
TU_LOCKFD=

tu_log() { echo "# testuser: $*" >&2; }

# tu_free_start FILE...: first start >= 100000 of a block of TU_COUNT ids that
# overlaps no range listed in any FILE (lines NAME:START:COUNT).
tu_free_start() {
	cat "$@" 2>/dev/null | awk -F: -v want="$TU_COUNT" '
		NF >= 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { n++; s[n] = $2 + 0; e[n] = $2 + $3 }
		END {
			c = 100000
			do {
				moved = 0
				for (i = 1; i <= n; i++)
					if (s[i] < c + want && c < e[i]) { c = e[i]; moved = 1 }
			} while (moved)
			print c
		}'
}

# tu_purge: remove user TU_NAME (ours, by the marker), its subid lines, home, run dir.
tu_purge() {
	local ent gecos uid pids line start count f
	ent=$(getent passwd "$TU_NAME") || ent=
	if [ -n "$ent" ]; then
		gecos=$(printf '%s' "$ent" | cut -d: -f5)
		uid=$(printf '%s' "$ent" | cut -d: -f3)
		if [ "$gecos" != "$TU_MARK" ]; then
			tu_log "user '$TU_NAME' exists and was not made by this helper; not touching it"
			return 1
		fi
		# processes of the throwaway user (a probe or launch left by a test)
		pids=$(ps -u "$uid" -o pid= 2>/dev/null | tr -s ' \n' ' ')
		if [ -n "${pids// /}" ]; then
			tu_log "killing processes left by '$TU_NAME': $pids"
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null
			sleep 0.2
		fi
		for f in /etc/subuid /etc/subgid; do
			while IFS=: read -r _ start count; do
				[ -n "$start" ] || continue
				if [ "$f" = /etc/subuid ]; then
					usermod --del-subuids "$start-$((start + count - 1))" "$TU_NAME" 2>/dev/null
				else
					usermod --del-subgids "$start-$((start + count - 1))" "$TU_NAME" 2>/dev/null
				fi
			done < <(grep -E "^($TU_NAME|$uid):" "$f" 2>/dev/null)
		done
		userdel -r "$TU_NAME" 2>/dev/null || userdel -f -r "$TU_NAME" 2>/dev/null ||
			tu_log "userdel $TU_NAME failed"
		if [ -d "/run/user/$uid" ] && [ "$(stat -c %u "/run/user/$uid")" = "$uid" ]; then
			rm -rf "/run/user/$uid"
		fi
	fi
	# lines by name that survived (userdel of an older shadow, manual edits)
	for f in /etc/subuid /etc/subgid; do
		if grep -q "^$TU_NAME:" "$f" 2>/dev/null; then
			line=$(grep -v "^$TU_NAME:" "$f")
			printf '%s\n' "$line" | grep -v '^$' > "$f.rstest.$$" && cat "$f.rstest.$$" > "$f"
			rm -f "$f.rstest.$$"
		fi
	done
	[ -d "/home/$TU_NAME" ] && [ -z "$ent" ] && rm -rf "/home/${TU_NAME:?}"
	getent group "$TU_NAME" >/dev/null && [ -z "$(getent passwd "$TU_NAME")" ] &&
		groupdel "$TU_NAME" 2>/dev/null
	return 0
}

tu_on_exit() { TU_CLEANUPS+=("$(printf '%q ' "$@")"); }

tu_cleanup() {
	local c i
	[ "$TU_DONE" = 1 ] && return 0
	TU_DONE=1
	for ((i = ${#TU_CLEANUPS[@]} - 1; i >= 0; i--)); do
		c=${TU_CLEANUPS[$i]}
		eval "$c" || true
	done
	if [ "$TU_CREATED_XDG" = 1 ] && [ -n "$TU_XDG" ]; then
		rm -rf "$TU_XDG"
	fi
	if [ "$TU_CREATED" = 1 ]; then
		tu_purge || true
	fi
	if [ -n "$TU_LOCKFD" ]; then
		exec {TU_LOCKFD}>&-
		TU_LOCKFD=
	fi
	return 0
}

tu_setup() {
	local start
	trap 'tu_cleanup' EXIT
	trap 'tu_cleanup; trap - INT; kill -INT $$' INT
	trap 'tu_cleanup; trap - TERM; kill -TERM $$' TERM
	if [ "$(id -u)" != 0 ]; then
		TU_NAME=$(id -un)
		TU_UID=$(id -u)
		TU_GID=$(id -g)
		TU_HOME=${HOME:-$(getent passwd "$TU_UID" | cut -d: -f6)}
		if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ]; then
			TU_XDG=$XDG_RUNTIME_DIR
		elif [ -d "/run/user/$TU_UID" ] && [ -O "/run/user/$TU_UID" ]; then
			TU_XDG=/run/user/$TU_UID
		else
			TU_XDG=$(mktemp -d "${TMPDIR:-/tmp}/rs-xdg.XXXXXX") || return 1
			chmod 0700 "$TU_XDG"
			TU_CREATED_XDG=1
		fi
		return 0
	fi

	# root: one suite at a time owns the user (make -j check, a bench beside
	# the tests): wait for the others
	mkdir -p /run/lock
	if exec {TU_LOCKFD}>"/run/lock/rootless-setup-testuser-$TU_NAME.lock" &&
		! flock -n "$TU_LOCKFD"; then
		tu_log "waiting for another run that uses '$TU_NAME'"
		flock -w 900 "$TU_LOCKFD" || { tu_log "gave up waiting for the lock"; return 1; }
	fi
	# a fresh throwaway user (an earlier aborted run's is recreated)
	if getent passwd "$TU_NAME" >/dev/null; then
		tu_log "'$TU_NAME' left by an earlier run: recreating it"
		tu_purge || return 1
	fi
	start=$(tu_free_start /etc/subuid /etc/subgid)
	# -K SUB_*_COUNT=0: no automatic subid allocation, the range is ours to pick
	if ! useradd -m -U -s /bin/sh -c "$TU_MARK" \
		-K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$TU_NAME"; then
		tu_log "useradd $TU_NAME failed"
		return 1
	fi
	TU_CREATED=1
	if ! usermod --add-subuids "$start-$((start + TU_COUNT - 1))" \
		--add-subgids "$start-$((start + TU_COUNT - 1))" "$TU_NAME"; then
		tu_log "usermod --add-subuids failed"
		return 1
	fi
	TU_UID=$(id -u "$TU_NAME")
	TU_GID=$(id -g "$TU_NAME")
	TU_HOME=$(getent passwd "$TU_NAME" | cut -d: -f6)
	TU_XDG=/run/user/$TU_UID
	if [ -e "$TU_XDG" ]; then
		# a free uid's run dir is stale by definition
		rm -rf "$TU_XDG"
	fi
	mkdir -p /run/user
	install -d -m 0700 -o "$TU_UID" -g "$TU_GID" "$TU_XDG" || return 1
	TU_CREATED_XDG=1
	tu_log "user $TU_NAME uid $TU_UID, subids $start:$TU_COUNT, home $TU_HOME, XDG_RUNTIME_DIR $TU_XDG"
	return 0
}

# tu_env: the clean environment of the test user, as NAME=VALUE words.
tu_env() {
	printf '%s\n' "HOME=$TU_HOME" "USER=$TU_NAME" "LOGNAME=$TU_NAME" \
		"SHELL=/bin/sh" "PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin" \
		"XDG_RUNTIME_DIR=$TU_XDG" "LANG=C.UTF-8"
}

# tu_run CMD [ARG]...: CMD as the test user, with only tu_env's variables,
# in its home directory. Exit status is CMD's.
tu_run() {
	local -a envv
	mapfile -t envv < <(tu_env)
	if [ "$(id -u)" = 0 ] && [ "$TU_UID" != 0 ]; then
		(cd "$TU_HOME" && { [ -z "$TU_LOCKFD" ] || exec {TU_LOCKFD}>&-; } && exec setpriv --reuid="$TU_UID" --regid="$TU_GID" --init-groups \
			--inh-caps=-all env -i "${envv[@]}" "$@")
	else
		(cd "$TU_HOME" && exec env -i "${envv[@]}" "$@")
	fi
}

# tu_dead PID: the process is gone, or a zombie (this machine's PID 1 does
# not reap)
tu_dead() {
	local s
	s=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)
	[ -z "$s" ] || [ "$s" = Z ]
}

# tu_bin: a copy of $RS_BIN the test user can run (the work tree may not be
# traversable for it) in TU_WORK, a 0755 scratch directory removed at exit.
# Sets TU_BIN and TU_WORK.
tu_bin() {
	TU_WORK=$(mktemp -d /tmp/rs-test.XXXXXX) || return 1
	chmod 755 "$TU_WORK"
	cp "$RS_BIN" "$TU_WORK/rootless-setup" && chmod 755 "$TU_WORK/rootless-setup" || return 1
	# shellcheck disable=SC2034 # for the scripts that source this file
	TU_BIN="$TU_WORK/rootless-setup"
	tu_on_exit rm -rf "$TU_WORK"
}
