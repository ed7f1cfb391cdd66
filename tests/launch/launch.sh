#!/bin/bash
# The launcher as a real unprivileged throwaway user: maps, copy-up,
# exit statuses, signals, the state dir, lifetime, the single-id fallback,
# nsenter, --pidns, --net=none and slirp4netns, and the shape of iSulad's
# rootless guide (daemon.json shown at /etc/isulad by --overlay-file).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

tu_setup || { skip "launcher tests" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
L() { tu_run "$RS" launch "$@"; }
state() { echo "$TU_XDG/rs-test-$1"; }

# 1. maps
range=$(awk -F: -v u="$TU_NAME" '$1 == u {print $2, $3; exit}' /etc/subuid)
out=$(L -- cat /proc/self/uid_map)
first=$(echo "$out" | awk 'NR == 1 {print $1, $2, $3}')
second=$(echo "$out" | awk 'NR == 2 {print $1, $2, $3}')
check "uid map: own uid -> 0" [ "$first" = "0 $TU_UID 1" ]
check "uid map: subordinate range -> 1 ($second)" [ "$second" = "1 $range" ]
out=$(L -- cat /proc/self/gid_map | awk 'NR == 1 {print $1, $2, $3}')
check "gid map: own gid -> 0" [ "$out" = "0 $TU_GID 1" ]
check "the command runs as uid 0" [ "$(L -- id -u)" = 0 ]

# 2. copy-up
name="rs-copyup-$$"
out=$(L --copy-up=/etc -- sh -c "echo x > /etc/$name && cat /etc/$name && ls /etc/ssl/certs | head -1 && rm -f /etc/hostname && ! test -e /etc/hostname && echo removed")
check "copy-up: a file created in /etc inside" grep -qx x <<<"$out"
check "copy-up: not on the host" [ ! -e "/etc/$name" ]
check "copy-up: /etc/ssl/certs (relative links) resolves" [ "$(echo "$out" | sed -n 2p)" != "" ]
check "copy-up: rm -f of a copied-up entry works" grep -qx removed <<<"$out"
check "copy-up: the host's /etc/hostname is still there" [ -e /etc/hostname ]

# 3. exit statuses and signals
L -- sh -c 'exit 7'; check "exit 7 -> 7" [ $? -eq 7 ]
L -- sh -c 'kill -TERM $$'; check "SIGTERM -> 143" [ $? -eq 143 ]
L -- /nonexistent 2>/dev/null; check "a missing command -> 127" [ $? -eq 127 ]
S=$(state trap); rm -rf "$S"
tu_run "$RS" launch --state-dir="$S" -- sh -c 'trap "exit 9" TERM; while :; do sleep 0.05; done' &
lp=$!
for _ in $(seq 100); do [ -s "$S/child_pid" ] && break; sleep 0.05; done
sleep 0.2
launcher=$(pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$S" | head -1)
# a launch needs no libmount, libblkid, libselinux or libacl: they are
# opened on first use, so the launcher has not mapped them
libs=$(grep -oE 'lib(mount|blkid|selinux|acl|pcre2-8)\.so[.0-9]*' "/proc/$launcher/maps" | sort -u | tr '\n' ' ')
check "the launcher maps none of the libraries it does not use (${libs:-none})" [ -z "$libs" ]
kill -TERM "$launcher"
wait "$lp"
check "a forwarded TERM reaches the command's trap (exit 9)" [ $? -eq 9 ]

# 4. state dir
S=$(state held); rm -rf "$S"
tu_run "$RS" launch --state-dir="$S" -- sleep 2 &
lp=$!
for _ in $(seq 100); do [ -s "$S/child_pid" ] && break; sleep 0.05; done
check "state dir is 0700" [ "$(stat -c %a "$S")" = 700 ]
check "child_pid is a number and a newline" grep -qx '[0-9]*' "$S/child_pid"
tu_run "$RS" launch --state-dir="$S" -- true 2> "$W/held.err"
rc=$?
check "a second launch on a held state dir fails at once (125)" [ $rc -eq 125 ]
check "and names the dir" grep -q "$S" "$W/held.err"
wait "$lp"
check "our files are gone afterwards" [ -z "$(ls -A "$S")" ]
check "a state dir given with --state-dir is kept" [ -d "$S" ]
before=$(ls "$TU_XDG/rootless-setup" 2>/dev/null | wc -l)
L -- true
after=$(ls "$TU_XDG/rootless-setup" 2>/dev/null | wc -l)
check "the default state dir (launch-PID) is removed" [ "$before" = "$after" ]

# 5. lifetime: SIGKILL of the launcher kills the command
for mode in plain pidns; do
	S=$(state kill-$mode); rm -rf "$S"
	opt=(); [ $mode = pidns ] && opt=(--pidns)
	tu_run "$RS" launch "${opt[@]}" --state-dir="$S" -- sh -c 'sleep 60 & sleep 60' &
	for _ in $(seq 100); do [ -s "$S/child_pid" ] && break; sleep 0.05; done
	sleep 0.3
	child=$(cat "$S/child_pid")
	kids=$(pgrep -u "$TU_UID" -x sleep | tr '\n' ' ')
	launcher=$(pgrep -u "$TU_UID" -f "rootless-setup launch.*--state-dir=$S" | head -1)
	kill -KILL "$launcher"
	sleep 0.5
	check "$mode: after SIGKILL of the launcher the command is gone" tu_dead "$child"
	if [ $mode = pidns ]; then
		alive=0
		for k in $kids; do tu_dead "$k" || alive=1; done
		check "pidns: and its children too" [ $alive -eq 0 ]
	fi
	pkill -KILL -u "$TU_UID" -x sleep 2>/dev/null
	S2=$(state kill-$mode); tu_run "$RS" launch --state-dir="$S2" -- true
	check "$mode: the stale state dir is reused" [ $? -eq 0 ]
done

# 6. single-id fallback: a user without subordinate ids
sed -i.rsbak "/^$TU_NAME:/d" /etc/subuid /etc/subgid
out=$(L -- cat /proc/self/uid_map 2> "$W/single.err")
mv /etc/subuid.rsbak /etc/subuid; mv /etc/subgid.rsbak /etc/subgid
check "single-id fallback: one map line" [ "$(echo "$out" | wc -l)" = 1 ]
check "single-id fallback: a one-line warning" [ "$(grep -c 'single-id map' "$W/single.err")" = 1 ]

# 7. nsenter
S=$(state ns); rm -rf "$S"
tu_run "$RS" launch --state-dir="$S" --copy-up=/etc -- sh -c 'echo inside > /etc/rs-ns-mark; sleep 3' &
lp=$!
for _ in $(seq 100); do [ -s "$S/child_pid" ] && break; sleep 0.05; done
sleep 0.3
out=$(tu_run "$RS" nsenter --state-dir="$S" -- sh -c 'head -1 /proc/self/uid_map; cat /etc/rs-ns-mark')
check "nsenter joins the user namespace" [ "$(echo "$out" | head -1 | awk '{print $1, $2}')" = "0 $TU_UID" ]
check "nsenter joins the mount namespace" [ "$(echo "$out" | sed -n 2p)" = inside ]
kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null
mkdir -p "$W/stale"; echo 999999 > "$W/stale/child_pid"; echo 1 > "$W/stale/child_start"; chown -R "$TU_UID" "$W/stale"
tu_run "$RS" nsenter --state-dir="$W/stale" -- true 2> "$W/stale.err"
check "nsenter refuses a stale child_pid (125)" [ $? -eq 125 ]
check "and says it is stale" grep -q "stale" "$W/stale.err"

# 8. --pidns
out=$(L --pidns -- sh -c 'echo $$; ls /proc | grep -c "^[0-9]"; exit 4')
rc=$?
check "--pidns: the command is PID 1's child" [ "$(echo "$out" | head -1)" = 2 ]
check "--pidns: a new /proc" [ "$(echo "$out" | sed -n 2p)" -le 5 ]
check "--pidns: the exit status comes back" [ $rc -eq 4 ]

# 9. --net=none
out=$(L --net=none -- cat /proc/net/dev | awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}')
check "--net=none: only lo" [ "$out" = lo ]
flags=$(L --net=none -- cat /sys/class/net/lo/flags 2>/dev/null)
check "--net=none: lo is up ($flags)" [ $(( ${flags:-0} & 1 )) -eq 1 ]

# 10. slirp4netns, with an ACL on /dev/net/tun for the test only
if command -v slirp4netns >/dev/null && command -v setfacl >/dev/null; then
	setfacl -m "u:$TU_NAME:rw" /dev/net/tun
	out=$(L --net=slirp4netns --copy-up=/etc --disable-host-loopback -- sh -c 'cat /proc/net/fib_trie | grep -c 10.0.2.100; cat /etc/resolv.conf')
	setfacl -x "u:$TU_NAME" /dev/net/tun
	check "slirp4netns: tap0 has 10.0.2.100" [ "$(echo "$out" | head -1)" -ge 1 ]
	check "slirp4netns: resolv.conf names 10.0.2.3" grep -q "nameserver 10.0.2.3" <<<"$out"
	check "the ACL is gone afterwards" [ -z "$(getfacl -p /dev/net/tun 2>/dev/null | grep "user:$TU_NAME")" ]
else
	skip "slirp4netns" "slirp4netns or setfacl is not installed"
fi

# 11. iSulad's guide: iSulad's daemon.json seen at /etc/isulad/daemon.json
REF="$(cd "$(dirname "$0")/../fixtures/ref" && pwd)"
cp "$REF/isulad/daemon.json" "$W/daemon.json"; chmod 644 "$W/daemon.json"
# the host's /etc/isulad (present on a host with iSulad, absent elsewhere) is
# the same before and after: the overlay lives in the launch's mounts only
isulad_state() { if [ -e /etc/isulad ]; then find /etc/isulad -xdev -printf '%p %m %s %T@\n' 2>/dev/null | sort | sha256sum; else echo absent; fi; }
before=$(isulad_state)
out=$(L --cgroupns --copy-up=/run --copy-up=/usr/local --copy-up=/etc --overlay-file="$W/daemon.json:/etc/isulad/daemon.json" -- cat /etc/isulad/daemon.json)
check "iSulad guide: daemon.json placed at /etc/isulad/daemon.json" [ "$out" = "$(cat "$W/daemon.json")" ]
check "iSulad guide: the host's /etc/isulad is as it was" [ "$(isulad_state)" = "$before" ]
done_testing
