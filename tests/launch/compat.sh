#!/bin/bash
# RootlessKit compatibility of `launch`, as a throwaway user: every flag
# RootlessKit's clients pass, in both value forms (a table); the
# ROOTLESSKIT_* environment; and our equivalents of the scenarios of
# RootlessKit's integration scripts: exit codes and signals to child_pid,
# pdeathsig, restart on a stale state dir, run without reaper, propagation,
# socket activation, network with slirp4netns and with pasta, detach-netns,
# evacuate-cgroup2, bad input.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

tu_setup || { skip "launcher compat tests" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
L() { tu_run "$RS" launch "$@"; }
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }
launcher_of() { pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$1( |$)" | head -1; }
stop_launch() { # STATE_DIR JOB: TERM to the launcher, then wait for it
	local l; l=$(launcher_of "$1")
	[ -n "$l" ] && kill -TERM "$l"
	wait "$2" 2>/dev/null
	for _ in $(seq 100); do [ -e "$1/child_pid" ] || break; sleep 0.05; done
}
# /dev/net/tun is root's here: the user gets it for this test only
HAVE_TUN=0
if command -v setfacl >/dev/null && [ -c /dev/net/tun ]; then
	setfacl -m "u:$TU_NAME:rw" /dev/net/tun && HAVE_TUN=1
	tu_on_exit setfacl -x "u:$TU_NAME" /dev/net/tun
fi

# 1. every flag, both value forms: "--flag=value" and "--flag value"
#    (switches: bare, =true, =false); each must start `true` (status 0)
S="$TU_XDG/rs-compat-table"
while IFS='|' read -r name value needs; do
	[ -n "$name" ] || continue
	case "$needs" in tun) [ $HAVE_TUN = 1 ] || continue ;; esac
	command -v pasta >/dev/null || case "$value$needs" in *pasta*) continue ;; esac
	if [ "$value" = SWITCH ]; then
		forms=("--$name" "--$name=true" "--$name=false")
	else
		forms=("--$name=$value" "--$name $value")
	fi
	for f in "${forms[@]}"; do
		# shellcheck disable=SC2086
		extra=()
		case "$needs" in
		tun) extra=(--net=slirp4netns) ;;
		pasta) extra=(--net=pasta) ;;
		pidcg) extra=(--pidns --cgroupns) ;;
		pid) extra=(--pidns) ;;
		ownnet) extra=(--net=none) ;;
		esac
		# shellcheck disable=SC2086
		L "${extra[@]}" $f -- true 2> "$W/flag.err"
		rc=$?
		check "flag $f ${extra[*]} is accepted (rc $rc)" [ $rc -eq 0 ]
		[ $rc -eq 0 ] || sed 's/^/# /' "$W/flag.err"
	done
done <<EOF
net|host|
net|none|
net|slirp4netns|tun
net|pasta|tun
mtu|1500|tun
cidr|10.0.3.0/24|tun
ifname|eth0|tun
disable-host-loopback|SWITCH|tun
ipv6|SWITCH|tun
slirp4netns-binary|slirp4netns|tun
slirp4netns-sandbox|auto|tun
slirp4netns-sandbox|true|tun
slirp4netns-sandbox|false|tun
slirp4netns-seccomp|auto|tun
slirp4netns-seccomp|true|tun
slirp4netns-seccomp|false|tun
pasta-binary|pasta|pasta
port-driver|none|
port-driver|builtin|ownnet
port-driver|slirp4netns|tun
port-driver|implicit|pasta
copy-up|/etc|
copy-up-mode|tmpfs+symlink|
propagation|rprivate|
propagation|rslave|
pidns|SWITCH|
cgroupns|SWITCH|
utsns|SWITCH|
ipcns|SWITCH|
reaper|auto|
reaper|true|pid
reaper|false|
detach-netns|SWITCH|
state-dir|$S|
subid-source|auto|
subid-source|static|
subid-source|dynamic|
debug|SWITCH|
EOF
# -p / --publish in every form (the builtin driver needs a network of the
# child's own: --net=none is the one without a helper)
for f in "-p 127.0.0.1:18080:80/tcp" "--publish=127.0.0.1:18080:80/tcp" "--publish 127.0.0.1:18080:80/tcp"; do
	# shellcheck disable=SC2086
	L --net=none --port-driver=builtin $f -- true
	check "flag $f is accepted" [ $? -eq 0 ]
done

# 2. the environment clients read
out=$(L --state-dir="$S" -- sh -c 'echo "$ROOTLESSKIT_STATE_DIR $ROOTLESSKIT_PARENT_EUID $ROOTLESSKIT_PARENT_EGID"')
check "ROOTLESSKIT_STATE_DIR, _PARENT_EUID, _PARENT_EGID reach the child" [ "$out" = "$S $TU_UID $TU_GID" ]

# 3. bad input: one line, 125, nothing left running
bad_case() { # DESCRIPTION ARGS...
	local d=$1; shift
	L "$@" -- sleep 30 > "$W/bad.out" 2> "$W/bad.err"
	local rc=$?
	check "bad input, $d: 125 (rc $rc)" [ $rc -eq 125 ]
	check "bad input, $d: one line ($(head -1 "$W/bad.err"))" [ "$(wc -l < "$W/bad.err")" -eq 1 ]
}
bad_case "malformed switch value" --pidns=maybe
bad_case "malformed tri value" --reaper=sometimes
bad_case "bad CIDR (host bits)" --cidr=10.0.2.1/24
bad_case "bad CIDR (text)" --cidr=tenzero
bad_case "bad MTU" --mtu=9999999
bad_case "unknown driver" --net=vpnkit
bad_case "unknown port driver" --port-driver=magic
bad_case "unknown option" --no-such-flag
bad_case "missing pasta" --net=pasta --pasta-binary=/nonexistent/pasta
bad_case "missing slirp4netns" --net=slirp4netns --slirp4netns-binary=no-such-slirp4netns
bad_case "reaper=true without pidns" --reaper=true
check "bad input: no sleep left" [ -z "$(pgrep -u "$TU_UID" -x sleep)" ]
out=$(L --net=vpnkit -- true 2>&1)
check "an unsupported driver names the drivers we have" grep -q "host, slirp4netns, pasta, libslirp and none" <<<"$out"

# 4. exit codes (integration-exit-code.sh): 0 and 42 under each reaper mode
for args in "--pidns=false" "--pidns=true --reaper=auto" "--pidns=true --reaper=true" "--pidns=true --reaper=false"; do
	for code in 0 42; do
		# shellcheck disable=SC2086
		L $args -- sh -c "exit $code"
		check "exit $code with $args" [ $? -eq $code ]
	done
	# a signal sent to child_pid: ours is 128+N and a line naming it (RootlessKit: 255)
	S="$TU_XDG/rs-compat-sig"
	# shellcheck disable=SC2086
	tu_run "$RS" launch --state-dir="$S" $args -- sleep infinity > "$W/sig.out" 2>&1 &
	lp=$!
	wait_file "$S/child_pid"; sleep 0.3
	kill -USR1 "$(cat "$S/child_pid")"
	wait "$lp"; rc=$?
	check "SIGUSR1 to child_pid with $args: 138 (rc $rc)" [ $rc -eq 138 ]
	check "and a line saying so" grep -qi "user defined signal 1" "$W/sig.out"
done

# 5. pdeathsig (integration-pdeathsig.sh): SIGKILL of the launcher kills the command
for args in "--pidns --reaper=true" "--reaper=false"; do
	S="$TU_XDG/rs-compat-pd"
	# shellcheck disable=SC2086
	tu_run "$RS" launch --state-dir="$S" $args -- sh -c "sleep 30; touch $W/pd-alive" &
	wait_file "$S/child_pid"; sleep 0.3
	child=$(cat "$S/child_pid")
	launcher=$(pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$S" | head -1)
	kill -KILL "$launcher"; sleep 0.5
	check "pdeathsig with $args: the child is gone" tu_dead "$child"
done

# 6. restart on a stale state dir (integration-restart.sh, #220)
S="$TU_XDG/rs-compat-restart"
tu_run "$RS" launch --state-dir="$S" --net=none --port-driver=builtin -- sleep infinity &
wait_file "$S/child_pid"; sleep 0.2
kill -KILL "$(pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$S" | head -1)"; sleep 0.3
L --state-dir="$S" --net=none --port-driver=builtin -- sh -c 'test "$(cat "$ROOTLESSKIT_STATE_DIR/child_pid")" = $$'
check "restart after SIGKILL on the same --state-dir works, child_pid is new" [ $? -eq 0 ]

# 7. without reaper (integration-run-without-reap.sh)
check "--reaper=false runs the command" [ "$(L --reaper=false -- echo hello)" = hello ]
L --reaper=false -- sh -c 'exit 42'; check "--reaper=false: exit 42" [ $? -eq 42 ]
if command -v script >/dev/null; then
	tu_run script -qec "$RS launch --reaper=false -- sh -c 'tty; echo DONE'" /dev/null > "$W/tty.out" 2>&1
	check "--reaper=false keeps the terminal" grep -q DONE "$W/tty.out"
	check "and its process group" [ -z "$(grep -i "cannot set terminal process group" "$W/tty.out")" ]
else
	skip "tty under --reaper=false" "script(1) is not installed"
fi

# 8. propagation (integration-propagation.sh): a shared mount of ours, so
#    it does not depend on the host's /. The recursive modes reach it; the
#    plain ones (private, slave) change / only, as RootlessKit's do, and the
#    table above runs them.
P="$W/prop"; mkdir -p "$P"; mount -t tmpfs rs-prop "$P"; mount --make-shared "$P"
chmod 777 "$P"
for prop in rprivate rslave; do
	S="$TU_XDG/rs-compat-prop"; mkdir -p "$P/a"; touch "$P/a/before"
	tu_run "$RS" launch --state-dir="$S" --propagation=$prop -- sleep 30 2> "$W/prop.err" &
	lp=$!
	wait_file "$S/child_pid"; pid=$(cat "$S/child_pid")
	mount -t tmpfs rs-prop-a "$P/a"; touch "$P/a/after"
	case $prop in
	*private) check "--propagation=$prop: the host's later mount is not seen" \
		[ -f "/proc/$pid/root$P/a/before" -a ! -f "/proc/$pid/root$P/a/after" ] ;;
	*) check "--propagation=$prop: the host's later mount is seen" \
		[ -f "/proc/$pid/root$P/a/after" ] ;;
	esac
	umount "$P/a"; stop_launch "$S" "$lp"
	rm -rf "${P:?}/a"
done
umount "$P"
if ! findmnt -n -o PROPAGATION / | grep -q shared; then
	L --propagation=rslave -- true 2> "$W/prop.err"
	check "--propagation=rslave on a private / runs, with a warning" grep -q "not shared" "$W/prop.err"
fi
L --propagation=rslave --copy-up=/run -- echo test > "$W/prop.out" 2>/dev/null
check "--propagation=rslave with --copy-up=/run" grep -qx test "$W/prop.out"

# 9. socket activation with 1, 2 and 3 sockets (integration-systemd-socket.sh)
if command -v systemd-socket-activate >/dev/null; then
	for n in 1 2 3; do
		ls=(); for i in $(seq $n); do ls+=(-l "$TU_XDG/rs-act-$n-$i.sock"); done
		tu_run timeout 20 systemd-socket-activate "${ls[@]}" "$RS" launch -- sh -c \
			'ok=1; [ "$LISTEN_FDS" = '$n' ] || ok=0; [ "$LISTEN_PID" = $$ ] || ok=0
			 for i in $(seq 3 $((2 + LISTEN_FDS))); do [ -e /proc/$$/fd/$i ] || ok=0; done; echo ok=$ok' \
			> "$W/act.out" 2>&1 &
		act=$!
		for _ in $(seq 50); do [ -S "$TU_XDG/rs-act-$n-1.sock" ] && break; sleep 0.1; done
		tu_run python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" \
			"$TU_XDG/rs-act-$n-1.sock" 2>/dev/null
		wait "$act"
		check "socket activation, $n socket(s): LISTEN_FDS, LISTEN_PID and the fds" grep -qx ok=1 "$W/act.out"
	done
else
	skip "socket activation" "systemd-socket-activate is not installed"
fi

# 10. network (integration-net.sh), each driver: address, DNS in resolv.conf
if [ $HAVE_TUN = 1 ]; then
	for net in slirp4netns pasta; do
		command -v $net >/dev/null || { skip "--net=$net" "$net is not installed"; continue; }
		out=$(L --net=$net --copy-up=/etc --copy-up=/run --disable-host-loopback -- \
			sh -c 'cat /proc/net/fib_trie | grep -c 10.0.2.100; cat /etc/resolv.conf')
		check "--net=$net: the child has 10.0.2.100" [ "$(echo "$out" | head -1)" -ge 1 ]
		check "--net=$net: resolv.conf names 10.0.2.3" grep -q "nameserver 10.0.2.3" <<<"$out"
		out=$(L --net=$net --cidr=10.0.5.0/24 --ifname=eth7 --mtu=1500 -- sh -c 'ip -o link show eth7; cat /proc/net/fib_trie' 2>&1)
		check "--net=$net: --ifname, --mtu and --cidr are used" \
			[ -n "$(grep "eth7:.* mtu 1500 " <<<"$out")" -a -n "$(grep 10.0.5.100 <<<"$out")" ]
		out=$(L --net=$net --detach-netns -- sh -c 'wc -l < /proc/net/dev; nsenter --net="$ROOTLESSKIT_STATE_DIR/netns" cat /proc/net/fib_trie | grep -c 10.0.2.100')
		check "--net=$net --detach-netns: the command keeps the host netns" [ "$(echo "$out" | head -1)" = "$(wc -l < /proc/net/dev)" ]
		check "--net=$net --detach-netns: STATE/netns has the network" [ "$(echo "$out" | sed -n 2p)" -ge 1 ]
		# containerd-rootless.sh's way: the state dir under a --copy-up'd
		# /run, whose link there has a target only the child's / has
		out=$(L --net=$net --detach-netns --copy-up=/run --state-dir="$TU_XDG/rs-compat-dn" -- \
			sh -c 'nsenter --net="$ROOTLESSKIT_STATE_DIR/netns" cat /proc/net/fib_trie | grep -c 10.0.2.100' 2>&1)
		check "--net=$net --detach-netns, state dir under --copy-up=/run: the helper finds STATE/netns" \
			[ "$out" = 1 -o "$out" = 2 ]
		{ [ "$out" = 1 ] || [ "$out" = 2 ]; } || echo "$out" | head -3 | sed 's/^/# /'
		# the helper dies with a SIGKILLed launcher: no orphan
		S="$TU_XDG/rs-compat-net"
		tu_run "$RS" launch --state-dir="$S" --net=$net -- sleep 30 &
		wait_file "$S/child_pid"; sleep 0.3
		kill -KILL "$(pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$S" | head -1)"; sleep 0.5
		left=$(pgrep -u "$TU_UID" -f "^(/usr/bin/)?($net|passt)" | while read -r p; do tu_dead "$p" || echo "$p"; done)
		check "--net=$net: a SIGKILLed launcher leaves no $net" [ -z "$left" ]
	done
	# --detach-netns and the builtin port driver: a published port reaches
	# a server in STATE/netns (the client runs in the child, which keeps
	# the host's network namespace and so reaches the host's 127.0.0.1)
	if command -v busybox >/dev/null && command -v curl >/dev/null; then
		mkdir -p "$W/dn-www" && echo in-detached-netns > "$W/dn-www/i" && chmod -R a+rX "$W/dn-www"
		DP=$((21000 + $$ % 2000))
		out=$(L --net=slirp4netns --detach-netns --copy-up=/run --port-driver=builtin \
			-p "127.0.0.1:$DP:8000/tcp" --state-dir="$TU_XDG/rs-compat-dn" -- sh -c \
			'nsenter --net="$ROOTLESSKIT_STATE_DIR/netns" busybox httpd -f -p 127.0.0.1:8000 -h "$1" & h=$!
			for i in $(seq 30); do curl -sf -m 1 "http://127.0.0.1:$2/i" && break; sleep 0.1; done; kill $h' \
			sh "$W/dn-www" "$DP" 2>&1)
		check "--detach-netns --port-driver=builtin: -p reaches a server in STATE/netns" [ "$out" = in-detached-netns ]
		[ "$out" = in-detached-netns ] || echo "$out" | head -3 | sed 's/^/# /'
	fi
	# a pasta that dies at once: one line, non-zero, no hang
	printf '#!/bin/sh\nexit 3\n' > "$W/fake-pasta"; chmod 755 "$W/fake-pasta"
	tu_run timeout 20 "$RS" launch --net=pasta --pasta-binary="$W/fake-pasta" -- true 2> "$W/fp.err"
	rc=$?
	check "a pasta that exits: 125, no hang (rc $rc)" [ $rc -eq 125 ]
	check "and one line naming it" [ "$(grep -c pasta "$W/fp.err")" -eq 1 ]
else
	skip "network drivers" "no setfacl or /dev/net/tun"
fi

# 11. --evacuate-cgroup2 (integration-evacuate-cgroup2.sh): in a group
#     delegated to the user, the command ends up in the sub-group
CG=/sys/fs/cgroup
[ "$(stat -f -c %T $CG 2>/dev/null)" = cgroup2fs ] || CG=/sys/fs/cgroup/unified
if [ "$(stat -f -c %T $CG 2>/dev/null)" = cgroup2fs ] && mkdir "$CG/rs-compat-$$" 2>/dev/null; then
	G="$CG/rs-compat-$$"
	chown "$TU_UID" "$G" "$G/cgroup.procs" "$G/cgroup.subtree_control" 2>/dev/null
	for form in "--evacuate-cgroup2=evac" "--evacuate-cgroup2 evac"; do
		# root puts the user's shell into the delegated group (moving needs
		# the common ancestor), then the shell becomes the launcher
		rm -f "$TU_XDG/evac.pid"
		tu_run sh -c "echo \$\$ > $TU_XDG/evac.pid; sleep 1; exec $RS launch --pidns --cgroupns $form -- cat /proc/self/cgroup" > "$W/evac.out" 2> "$W/evac.err" &
		ej=$!
		wait_file "$TU_XDG/evac.pid" && cat "$TU_XDG/evac.pid" > "$G/cgroup.procs"
		wait "$ej"
		check "$form: the command is in /evac" grep -qx "0::/evac" "$W/evac.out"
	done
	[ -n "$(grep -x "0::/evac" "$W/evac.out")" ] || sed 's/^/# /' "$W/evac.out" "$W/evac.err"
	for p in $(cat "$G/evac/cgroup.procs" "$G/cgroup.procs" 2>/dev/null); do echo "$p" > "$CG/cgroup.procs"; done 2>/dev/null
	rmdir "$G/evac" "$G" 2>/dev/null
else
	skip "--evacuate-cgroup2" "no cgroup v2 we can create a group in"
fi
done_testing
