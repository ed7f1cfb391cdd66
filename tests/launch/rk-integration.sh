#!/bin/bash
# Our versions of RootlessKit's own integration tests (hack/integration-*.sh
# in rootless-containers/rootlesskit), run as a throwaway user the way
# upstream runs them: through `rootlesskit` first on PATH, here a symlink
# to our binary (invoked by that name it takes RootlessKit's command line
# and exit statuses), with Debian's `rootlessctl` against its API.
#
# Scenarios, each as upstream's asserts it: exit-code (0 and 42 under each
# reaper mode, 255 and the signal's name for SIGUSR1 to child_pid),
# pdeathsig, propagation (all six modes, in a mount namespace of root's
# whose / is shared, as upstream's CI job that makes / rshared), restart
# (kill -9, then at once a launch on the same state dir; 10 runs), port
# (the 15 cases of the builtin and slirp4netns drivers), net (slirp4netns
# and pasta, each with and without --detach-netns), ipv6, systemd socket
# activation (1, 2 and 3 sockets, and a server that answers on its fd),
# run without reaper.
#
# What upstream takes from outside is made here, hermetic: the name
# lookup of integration-net.sh asks a resolver of the test's own (a few
# lines of Python on a 127.0.53.x address, named by a resolv.conf bound
# over /etc/resolv.conf in a mount namespace of root's, where the launch
# runs); integration-ipv6.sh's dummy interface is the host's ::1, reached
# through slirp4netns' fd00::2; uuidd (not installed) is a server on the
# activated socket.
#
# RS_RK_REFERENCE=/usr/bin/rootlesskit runs the same scenarios against
# that RootlessKit instead (Debian 12's is 1.1: what it lacks, pasta and
# --detach-netns, is skipped), to compare.
# The waits below end as soon as what they wait for is there; their bounds
# (30 s for a launch) are for a slow machine, the lab's emulated one.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"
. "$(dirname "$0")/../lib/net.sh"

for b in busybox curl python3 rootlessctl unshare nsenter setfacl; do
	command -v $b >/dev/null || { skip "RootlessKit's integration tests" "$b is not installed"; done_testing; exit; }
done
tu_setup || { skip "RootlessKit's integration tests" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
REF=${RS_RK_REFERENCE:-}
mkdir -p "$W/bin"
ln -s "${REF:-$RS}" "$W/bin/rootlesskit"
chmod 755 "$W/bin"
UPATH="$W/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
[ -n "$REF" ] && diag "reference run: rootlesskit is $REF ($("$REF" --version 2>&1 | head -1))"
# RK ARGS...: `rootlesskit ARGS...` as the user, as upstream's $ROOTLESSKIT
# (a minute at most: a hang is a failure, not the end of the run)
RK() { tu_run env PATH="$UPATH" timeout -k 5 60 rootlesskit "$@"; }
# the launcher started for state dir $1 (argv[0] is the name it was run by)
launcher_of() { pgrep -u "$TU_UID" -f "^rootlesskit (.* )?--state-dir=$1( |$)" | head -1; }
wait_file() { for _ in $(seq 1200); do [ -s "$1" ] && return 0; sleep 0.025; done; return 1; }
# FILE OLD: until FILE holds something other than OLD (a killed launch's
# child_pid stays behind it)
wait_new() { for _ in $(seq 1200); do [ -s "$1" ] && [ "$(cat "$1")" != "$2" ] && return 0; sleep 0.025; done; return 1; }
gone() { for _ in $(seq 500); do tu_dead "$1" && return 0; sleep 0.02; done; return 1; }
get() { curl -fsS -m 2 "$1" 2>/dev/null; }
HAVE_TUN=0
if [ -c /dev/net/tun ] && setfacl -m "u:$TU_NAME:rw" /dev/net/tun; then
	HAVE_TUN=1
	tu_on_exit setfacl -x "u:$TU_NAME" /dev/net/tun
fi
have() { command -v "$1" >/dev/null; }
# the reference RootlessKit's --help does not name WORD (a driver, a flag)
ref_lacks() { [ -n "$REF" ] && ! "$REF" --help 2>&1 | grep -q -- "$1"; }
HAVE_V6=0
grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null && HAVE_V6=1

# ------------------------------------------------------------ exit-code
for args in "--pidns=false" "--pidns=true --reaper=auto" "--pidns=true --reaper=true" "--pidns=true --reaper=false"; do
	for f in 0 42; do
		# shellcheck disable=SC2086
		RK $args sh -exc "exit $f" >/dev/null 2>&1
		check "exit-code: exit $f with $args" [ $? = $f ]
	done
	S="$TU_XDG/rk-exit"
	# shellcheck disable=SC2086
	RK --state-dir="$S" $args sleep infinity > "$W/exit.out" 2>&1 &
	lp=$!
	wait_file "$S/child_pid"
	kill -USR1 "$(cat "$S/child_pid")"
	wait "$lp"
	code=$?
	check "exit-code: SIGUSR1 to child_pid with $args gives 255 (rc $code)" [ $code = 255 ]
	check "exit-code: and says \"user defined signal 1\"" grep -q "user defined signal 1" "$W/exit.out"
done
if [ -z "$REF" ]; then
	tu_run "$RS" launch sh -c 'kill -USR1 $$' 2>/dev/null
	check "exit-code: \`rootless-setup launch\` keeps 128+N (138)" [ $? = 138 ]
	tu_run "$RS" launch --rootlesskit-compat sh -c 'kill -USR1 $$' 2>/dev/null
	check "exit-code: --rootlesskit-compat gives 255" [ $? = 255 ]
	check "--print-semver=major is RootlessKit's 2" [ "$(RK --print-semver=major)" = 2 ]
fi

# ------------------------------------------------------------ pdeathsig
# The command checks its parent; were it orphaned it would leave a mark.
cat > "$W/orphan-check.sh" <<'SH'
#!/bin/sh
p=$(cut -d' ' -f4 /proc/$$/stat)
while :; do
	[ "$(cut -d' ' -f4 /proc/$$/stat)" = "$p" ] || { touch "$1"; exit 1; }
	sleep 0.05
done
SH
chmod 755 "$W/orphan-check.sh"
for reaper in true false; do
	S="$TU_XDG/rk-pdeathsig-$reaper"
	rm -f "$W/orphaned"
	extra=(); [ $reaper = true ] && extra=(--pidns)
	RK --state-dir="$S" --reaper $reaper "${extra[@]}" "$W/orphan-check.sh" "$W/orphaned" &
	lp=$!
	wait_file "$S/child_pid"
	l=$(launcher_of "$S")
	child=$(pgrep -P "$l" | head -1)
	[ -n "$l" ] && kill -9 "$l"
	check "pdeathsig, --reaper $reaper: the launcher's child (${child:-none found}) dies with it" \
		[ -n "$child" ] && gone "$child"
	sleep 0.3
	check "pdeathsig, --reaper $reaper: the command was never orphaned" [ ! -e "$W/orphaned" ]
	wait "$lp" 2>/dev/null
done

# ------------------------------------------------------------ propagation
# A mount namespace of root's whose / is made rshared (upstream's CI
# makes the container's / rshared); the host's own mounts are untouched.
# mntns_up: NSP, a process in a mount namespace of its own (root's), whose
# mounts are private first, so nothing mounted in it reaches the host
# (whose / is shared under systemd); it exists once its ns link differs
# from ours, never before: a mount made "in" it earlier would be the host's
mntns_up() {
	unshare -m --propagation private sleep 600 &
	NSP=$!
	tu_on_exit kill "$NSP"
	for _ in $(seq 1000); do
		[ "$(readlink "/proc/$NSP/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && return 0
		sleep 0.02
	done
	return 1
}
IN() { nsenter -t "$NSP" -m -- "$@"; }
# RKNS ARGS...: RK, inside that mount namespace
RKNS() {
	local -a envv
	mapfile -t envv < <(tu_env)
	(cd "$TU_HOME" && { [ -z "$TU_LOCKFD" ] || exec {TU_LOCKFD}>&-; } &&
		exec nsenter -t "$NSP" -m -- setpriv --reuid="$TU_UID" --regid="$TU_GID" --init-groups \
			--inh-caps=-all env -i "${envv[@]}" PATH="$UPATH" rootlesskit "$@")
}
# where the host's later mount is made: a directory on the mount of "/",
# since a non-recursive "private" changes only that mount (a /tmp of its
# own, as Debian 13 boots with, stays shared and rightly shows the mount)
PROP_BASE=""
for b in "$W" /var/tmp /root; do
	[ "$(findmnt -n -o TARGET -T "$b" 2>/dev/null)" = / ] && { PROP_BASE=$b; break; }
done
if mntns_up && IN mount --make-rshared /; then
	for prop in private rprivate slave rslave shared rshared; do
		if [ -z "$PROP_BASE" ] && [ "$prop" = private ]; then
			skip "propagation private" "no directory of ours on the mount of / ($W is on $(findmnt -n -o TARGET -T "$W"))"
			continue
		fi
		d=$(mktemp -d "${PROP_BASE:-$W}/rs-prop.XXXXXX")
		tu_on_exit rm -rf "$d"
		chmod 755 "$d"
		S="$TU_XDG/rk-prop"
		RKNS --state-dir="$S" --propagation=$prop -- sleep infinity 2> "$W/prop.err" &
		lp=$!
		wait_file "$S/child_pid"
		pid=$(cat "$S/child_pid")
		mkdir -p "$d/a"
		touch "$d/a/before_mount"
		IN mount -t tmpfs none "$d/a"
		IN touch "$d/a/after_mount"
		case $prop in
		private | rprivate)
			check "propagation $prop: the host's later mount is not seen" \
				[ -f "/proc/$pid/root/$d/a/before_mount" -a ! -f "/proc/$pid/root/$d/a/after_mount" ] ;;
		*)
			check "propagation $prop: the host's later mount is seen" \
				[ ! -f "/proc/$pid/root/$d/a/before_mount" -a -f "/proc/$pid/root/$d/a/after_mount" ] ;;
		esac
		IN umount "$d/a"
		kill "$(launcher_of "$S")"
		wait "$lp"
		case $prop in
		private | rprivate | slave | rslave)
			check "propagation $prop with --copy-up=/run" \
				[ "$(RKNS --propagation=$prop --copy-up=/run echo test 2>/dev/null)" = test ] ;;
		esac
	done
else
	skip "propagation" "cannot make / rshared in a mount namespace"
fi

# ------------------------------------------------------------ restart
# #220: SIGKILL of the launcher, then at once a launch on the same
# --state-dir with a port driver; its API must work. Ten runs.
if [ $HAVE_TUN = 1 ] && have slirp4netns; then
	S="$TU_XDG/rk-restart"
	fails=0
	for i in $(seq 10); do
		old=$(cat "$S/child_pid" 2>/dev/null)
		RK --state-dir="$S" --port-driver=builtin --net=slirp4netns sleep infinity 2>/dev/null &
		lp=$!
		wait_new "$S/child_pid" "$old"
		l=$(launcher_of "$S")
		[ -n "$l" ] && kill -9 "$l"
		out=$(RK --state-dir="$S" --port-driver=builtin --net=slirp4netns rootlessctl list-ports 2>&1) ||
			{ fails=$((fails + 1)); diag "restart run $i: $out"; }
		wait "$lp" 2>/dev/null
	done
	check "restart: 10 runs of kill -9 and restart, rootlessctl list-ports works ($fails failed)" [ $fails = 0 ]
else
	skip "restart" "no /dev/net/tun for the user, or no slirp4netns"
fi

# ------------------------------------------------------------ port
# test_port DRIVER URL EXPECTATION PROBE ARGS...: busybox httpd on port 80
# inside; PROBE (a URL that must work first, so a "should fail" is not
# judged before the server is up) and URL as curl sees them.
P=$(net_free_port 18080)
mkdir -p "$W/html"
chmod -R a+rX "$W/html"
test_port() {
	local driver=$1 url=${2//PORT/$P} want=$3 probe=${4//PORT/$P} ok=0
	shift 4
	local args=("${@//PORT/$P}")
	echo "test_port $driver ${args[*]}" > "$W/html/index.html"
	S="$TU_XDG/rk-port"
	RK --state-dir="$S" --net=slirp4netns --disable-host-loopback --copy-up=/etc \
		--port-driver="$driver" "${args[@]}" busybox httpd -f -v -p 80 -h "$W/html" > "$W/port.out" 2>&1 &
	local lp=$!
	for _ in $(seq 600); do get "$probe" >/dev/null && { ok=1; break; }; sleep 0.05; done
	if [ "$want" = success ]; then
		[ $ok = 1 ] && get "$url" >/dev/null
	else
		[ $ok = 1 ] && ! get "$url" >/dev/null
	fi
	check "port, $driver ${args[*]}: $url $([ "$want" = success ] && echo reaches httpd || echo is refused)" [ $? = 0 ]
	kill -TERM "$(cat "$S/child_pid" 2>/dev/null)" 2>/dev/null
	wait "$lp"
}
V4="http://127.0.0.1:PORT" V6="http://[::1]:PORT"
if [ $HAVE_TUN = 1 ] && have slirp4netns && [ $HAVE_V6 = 1 ]; then
	# "tcp" listens on both v4 and v6
	test_port builtin "$V4" success "$V4" -p 0.0.0.0:PORT:80/tcp
	test_port builtin "$V6" success "$V6" -p 0.0.0.0:PORT:80/tcp
	# "tcp4" is strictly v4-only
	test_port builtin "$V4" success "$V4" -p 0.0.0.0:PORT:80/tcp4
	test_port builtin "$V6" fail "$V4" -p 0.0.0.0:PORT:80/tcp4
	# "tcp6" is strictly v6-only
	test_port builtin "$V4" fail "$V6" -p "[::]:PORT:80/tcp6"
	test_port builtin "$V6" success "$V6" -p "[::]:PORT:80/tcp6"
	# v6 to v6
	test_port builtin "$V6" success "$V6" -p "[::]:PORT:[::1]:80/tcp6"
	test_port builtin "$V6" success "$V6" -p "[::]:PORT:[::1]:80/tcp"
	# v6 to v4
	test_port builtin "$V6" success "$V6" -p "[::]:PORT:[127.0.0.1]:80/tcp6"
	test_port builtin "$V6" success "$V6" -p "[::]:PORT:[127.0.0.1]:80/tcp"
	# v4 to v6
	test_port builtin "$V4" success "$V4" -p "0.0.0.0:PORT:[::1]:80/tcp4"
	test_port builtin "$V4" success "$V4" -p "0.0.0.0:PORT:[::1]:80/tcp"
	# "tcp4" and "tcp6" do not conflict
	test_port builtin "$V4" success "$V4" -p 0.0.0.0:PORT:80/tcp4 -p "[::]:PORT:80/tcp6"
	# slirp4netns (IPv4 only): "tcp" listens on v4, "tcp4" is v4-only
	test_port slirp4netns "$V4" success "$V4" -p 0.0.0.0:PORT:80/tcp
	test_port slirp4netns "$V6" fail "$V4" -p 0.0.0.0:PORT:80/tcp4
else
	skip "port" "no /dev/net/tun for the user, no slirp4netns, or no ::1"
fi

# ------------------------------------------------------------ net
# `nslookup` as upstream's, against a resolver of the test's own that the
# host's /etc/resolv.conf names in a second mount namespace of root's.
DNSIP=127.0.53.$((10 + RANDOM % 200))
cat > "$W/dns.py" <<'PY'
import socket, struct, sys
# A for the one name, NXDOMAIN for any other; enough for nslookup
addr, name, ans = sys.argv[1], sys.argv[2], socket.inet_aton(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 17:
        continue
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 5 <= len(q) else 0
    hit = ".".join(labels).lower() == name
    an = 1 if hit and qtype == 1 else 0
    r = struct.pack("!HHHHHH", struct.unpack("!H", q[:2])[0], 0x8180 | (0 if hit else 3), 1, an, 0, 0)
    r += q[12:i + 5]
    if an:
        r += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + ans
    s.sendto(r, peer)
PY
python3 "$W/dns.py" "$DNSIP" rk-test.example 192.0.2.7 &
DNSP=$!
tu_on_exit kill "$DNSP"
# the resolver answers once it is bound (a loaded machine starts Python slowly)
for _ in $(seq 600); do ss -Hlun "src $DNSIP:53" | grep -q . && break; sleep 0.05; done
printf 'nameserver %s\n' "$DNSIP" > "$W/resolv.conf"
chmod 644 "$W/resolv.conf"
if [ $HAVE_TUN = 1 ] && mntns_up && IN mount --bind "$W/resolv.conf" /etc/resolv.conf; then
	for net in slirp4netns pasta; do
		for flags in "" "--detach-netns"; do
			if ! have $net; then
				skip "net $net $flags" "$net is not installed"; continue
			fi
			if ref_lacks "$net" || ref_lacks "${flags:-$net}"; then
				skip "net $net $flags" "this RootlessKit has no $net $flags"; continue
			fi
			# shellcheck disable=SC2086
			out=$(RKNS --net=$net --copy-up=/etc --copy-up=/run --disable-host-loopback $flags \
				-- busybox nslookup rk-test.example 2>&1)
			check "net $net $flags: nslookup resolves through the namespace's resolver" \
				grep -q "Address: 192.0.2.7" <<<"$out"
			grep -q "Address: 192.0.2.7" <<<"$out" || echo "$out" | tail -4 | sed 's/^/# /'
		done
	done
else
	skip "net" "no /dev/net/tun for the user, or cannot bind a resolv.conf"
fi

# ------------------------------------------------------------ ipv6
if [ $HAVE_TUN = 1 ] && have slirp4netns && [ $HAVE_V6 = 1 ]; then
	P6=$(net_free_port $((P + 100)))
	mkdir -p "$W/html6" && echo "hello ipv6" > "$W/html6/index.html" && chmod -R a+rX "$W/html6"
	busybox httpd -f -p "[::1]:$P6" -h "$W/html6" &
	hp=$!
	# the address comes from slirp4netns' router advertisement: a few
	# moments (upstream sleeps 3 s)
	out=$(RK --net=slirp4netns --ipv6 sh -euc \
		"for i in \$(seq 300); do curl -fsSL -m 1 http://[fd00::2]:$P6 2>/dev/null && exit 0; sleep 0.1; done; exit 1" 2>/dev/null)
	check "ipv6: the namespace reaches the host over IPv6" [ "$out" = "hello ipv6" ]
	kill "$hp"
	wait "$hp" 2>/dev/null
else
	skip "ipv6" "no /dev/net/tun for the user, no slirp4netns, or no ::1"
fi

# ------------------------------------------------------------ systemd socket activation
if have systemd-socket-activate; then
	cat > "$W/check-env.sh" <<'SH'
#!/bin/bash
# OK_FILE FAIL_FILE N: LISTEN_FDS is N, LISTEN_PID is us, fds 3.. are open
failed=$2
fail() { echo "$*" > "$failed"; exit 1; }
[ "${LISTEN_FDS:-}" = "$3" ] || fail "LISTEN_FDS=${LISTEN_FDS:-} want $3"
[ "${LISTEN_PID:-}" = $$ ] || fail "LISTEN_PID=${LISTEN_PID:-} is not $$"
for ((fd = 3; fd < 3 + LISTEN_FDS; fd++)); do [ -e /proc/$$/fd/$fd ] || fail "no fd $fd"; done
touch "$1"
SH
	chmod 755 "$W/check-env.sh"
	for n in 1 2 3; do
		ls=()
		for i in $(seq $n); do ls+=(-l "$TU_XDG/rk-act$i.sock"); done
		tu_run env PATH="$UPATH" timeout 30 systemd-socket-activate "${ls[@]}" rootlesskit \
			"$W/check-env.sh" "$TU_XDG/ok$n" "$TU_XDG/fail$n" $n 2>/dev/null &
		act=$!
		for _ in $(seq 1000); do [ -S "$TU_XDG/rk-act1.sock" ] && break; sleep 0.02; done
		curl -s -m 2 --unix-socket "$TU_XDG/rk-act1.sock" http://x/ >/dev/null 2>&1
		wait "$act"
		check "socket activation, $n socket(s): LISTEN_FDS, LISTEN_PID and the fds reach the command" \
			[ -e "$TU_XDG/ok$n" ]
		[ -e "$TU_XDG/fail$n" ] && sed 's/^/# /' "$TU_XDG/fail$n"
		rm -f "$TU_XDG"/rk-act*.sock
	done
	# the daemon: a server that takes the activated socket (fd 3) as its own
	tu_run env PATH="$UPATH" timeout 30 systemd-socket-activate -l "$TU_XDG/rk-daemon.sock" rootlesskit \
		python3 -c 'import socket; s = socket.socket(fileno=3); c, _ = s.accept(); c.recv(100); c.sendall(b"from-the-activated-daemon")' &
	act=$!
	for _ in $(seq 1000); do [ -S "$TU_XDG/rk-daemon.sock" ] && break; sleep 0.02; done
	out=$(python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"hi"); print(s.recv(100).decode())' "$TU_XDG/rk-daemon.sock" 2>&1)
	wait "$act"
	check "socket activation: a daemon under rootlesskit answers on its activated socket, exit 0" \
		[ "$out" = from-the-activated-daemon -a $? = 0 ]
else
	skip "socket activation" "systemd-socket-activate is not installed"
fi

# ------------------------------------------------------------ run without reaper
check "run-without-reap: the command runs" grep -q hello <<<"$(RK --reaper=false echo hello 2>&1)"
RK --reaper=false sh -c "exit 42" >/dev/null 2>&1
check "run-without-reap: exit 42" [ $? = 42 ]
if have script; then
	tu_run env PATH="$UPATH" script -qec "rootlesskit --reaper=false sh -c 'tty; echo DONE'" /dev/null > "$W/tty.out" 2>&1
	check "run-without-reap: the terminal stays the command's" \
		[ -z "$(grep -i "cannot set terminal process group" "$W/tty.out")" -a -n "$(grep DONE "$W/tty.out")" ]
else
	skip "run-without-reap with a terminal" "script(1) is not installed"
fi
# ------------------------------------------------------------ nsenter into RootlessKit's
# A state dir RootlessKit made (child_pid, no child_start): our nsenter
# enters it, deciding on the process
if [ -z "$REF" ] && [ -x /usr/bin/rootlesskit ]; then
	S="$TU_XDG/rk-real"
	tu_run /usr/bin/rootlesskit --state-dir="$S" sleep 30 2>/dev/null &
	lp=$!
	wait_file "$S/child_pid"
	out=$(tu_run "$RS" nsenter --state-dir="$S" -- sh -c 'head -1 /proc/self/uid_map' 2>&1)
	check "nsenter enters RootlessKit's own state dir ($out)" \
		[ "$(awk '{print $1, $2}' <<<"$out")" = "0 $TU_UID" ]
	kill "$(cat "$S/child_pid")" 2>/dev/null
	wait "$lp"
else
	skip "nsenter into RootlessKit's state dir" "Debian's rootlesskit is not installed, or a reference run"
fi
done_testing
