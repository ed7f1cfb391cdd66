#!/bin/bash
# The launcher's promises that need no daemon: systemd socket activation
# passes through (LISTEN_FDS kept, LISTEN_PID naming the command), and
# no_new_privs (which makes the setuid newuidmap powerless, RootlessKit#551
# hangs there) gives a one-line warning and a single-id map, never a hang.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

tu_setup || { skip "launcher activation tests" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN

if command -v systemd-socket-activate >/dev/null; then
	# systemd-socket-activate listens, then runs the launcher with fd 3 on
	# accept; a client connection starts it
	port=$((20000 + RANDOM % 20000))
	tu_run timeout 10 systemd-socket-activate -l "127.0.0.1:$port" "$RS" launch -- \
		sh -c 'echo "fds=$LISTEN_FDS pid=$LISTEN_PID self=$$"; [ -e /proc/self/fd/3 ] && echo fd3-open' \
		> "$W/act.out" 2>"$W/act.err" &
	act=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	wait "$act"
	out=$(cat "$W/act.out")
	check "LISTEN_FDS passes through ($out)" grep -q "fds=1" "$W/act.out"
	pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$W/act.out")
	self=$(sed -n 's/.*self=\([0-9]*\).*/\1/p' "$W/act.out")
	check "LISTEN_PID names the command itself" [ -n "$pid" -a "$pid" = "$self" ]
	check "the activated fd 3 reaches the command" grep -q fd3-open "$W/act.out"
else
	skip "socket activation" "systemd-socket-activate is not installed"
fi

# no_new_privs: the warning and a single-id map, within a bounded time
tu_run timeout 20 setpriv --no-new-privs "$RS" launch -- cat /proc/self/uid_map \
	> "$W/nnp.out" 2> "$W/nnp.err"
rc=$?
check "launch under no_new_privs does not hang (rc $rc)" [ $rc -ne 124 ]
check "launch under no_new_privs runs the command" [ $rc -eq 0 ]
check "no_new_privs gives a one-line warning" [ "$(grep -c no_new_privs "$W/nnp.err")" -eq 1 ]
check "no_new_privs gives a single-id map" [ "$(wc -l < "$W/nnp.out")" -eq 1 ]
done_testing
