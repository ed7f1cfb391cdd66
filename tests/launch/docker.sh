#!/bin/bash
# End to end with the programs people run: Docker's own, unmodified
# dockerd-rootless.sh (Debian's docker.io) with `rootless-setup launch`
# standing in for RootlessKit, through a `rootlesskit` shim first on the
# test user's PATH that execs `rootless-setup launch "$@"`, as a user would.
# dockerd starts, `docker run` of a locally imported busybox image works,
# and `docker run -d -p PORT:80` serves a page that curl on the host's
# 127.0.0.1:PORT reads: Docker calls Debian's rootlesskit-docker-proxy,
# unchanged, which talks to our RootlessKit API. Network drivers: the
# script's default (slirp4netns), then DOCKERD_ROOTLESS_ROOTLESSKIT_NET=pasta
# (the 20.10 script passes --net through, so our launcher's pasta serves it),
# each with the default builtin port driver; the slirp4netns port driver;
# slirp4netns with its sandbox and seccomp forced on and MTU 1500; and our
# embedded network, DOCKERD_ROOTLESS_ROOTLESSKIT_NET=libslirp, with the
# builtin port driver and with its own, where `docker run` also reads a
# page from a server on a host-local address (one added to lo for the run)
# through the container's bridge, dockerd's NAT and libslirp;
# and then a script of ours in the manner of the newest dockerd-rootless.sh (moby,
# 2026): its flag set with pasta and the implicit port driver (pasta
# forwards what docker-proxy, started by Debian's rootlesskit-docker-proxy
# 1.1, listens on inside), less --detach-netns, which Docker 20.10 predates
# (it would set up its iptables in the host's network namespace).
# /dev/net/tun is root-only here: the user gets an ACL entry for the run.
# Cleanup: TERM to the launcher stops dockerd, no process of the user is
# left, the ACL entry goes, the user and its data go (tests/lib/testuser.sh).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

SCRIPT=$(dpkg -L docker.io 2>/dev/null | grep '/dockerd-rootless\.sh$' | head -1)
[ -n "$SCRIPT" ] && [ -f "$SCRIPT" ] ||
	{ skip "docker end to end" "Debian's docker.io (dockerd-rootless.sh) is not installed"; done_testing; exit; }
for b in dockerd docker rootlesskit-docker-proxy busybox slirp4netns curl setfacl; do
	command -v $b >/dev/null || { skip "docker end to end" "$b is not installed"; done_testing; exit; }
done
[ -c /dev/net/tun ] || { skip "docker end to end" "no /dev/net/tun"; done_testing; exit; }
tu_setup || { skip "docker end to end" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN

# the shim a user would write: `rootlesskit` is our launcher
mkdir -p "$W/bin"
printf '#!/bin/sh\nexec %s launch "$@"\n' "$RS" > "$W/bin/rootlesskit"
chmod 755 "$W/bin" "$W/bin/rootlesskit"
UPATH="$W/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
check "the shim is the user's rootlesskit" \
	[ "$(tu_run env PATH="$UPATH" sh -c 'command -v rootlesskit')" = "$W/bin/rootlesskit" ]

# /dev/net/tun for the user (slirp4netns and pasta open it in the namespace)
if setfacl -m "u:$TU_UID:rw" /dev/net/tun; then
	tu_on_exit setfacl -x "u:$TU_UID" /dev/net/tun
else
	skip "docker end to end" "cannot give the user an ACL on /dev/net/tun"; done_testing; exit
fi

# a busybox image from Debian's busybox-static, no registry: busybox, its
# applet links, a page for httpd
R="$W/rootfs"
mkdir -p "$R/bin" "$R/www" "$R/tmp" "$R/etc"
cp "$(command -v busybox)" "$R/bin/busybox"
for a in sh echo cat httpd wget ls; do ln -s busybox "$R/bin/$a"; done
echo "hello-from-docker-$$" > "$R/www/index.html"
tar -C "$R" -cf "$W/busybox.tar" .
chmod -R a+rX "$W"

# a host-local server for the containers' traffic out: an address on lo
# (one nobody holds: another test may have added its own meanwhile)
for i in $(seq 0 199); do
	A4=198.18.$((($$ + i) % 200 + 20)).1
	ip -4 addr show | grep -qF " $A4/" && continue
	ip addr add "$A4/32" dev lo 2> /dev/null && { tu_on_exit ip addr del "$A4/32" dev lo; break; }
done
mkdir -p "$W/hostwww" && echo "hello-from-the-host-$$" > "$W/hostwww/index.html"
OPORT=18080
while ss -Hltn "sport = :$OPORT" | grep -q .; do OPORT=$((OPORT + 1)); done
/usr/bin/python3 -m http.server -b "$A4" -d "$W/hostwww" "$OPORT" >/dev/null 2>&1 &
tu_on_exit kill $!

SOCK="$TU_XDG/docker.sock"
DK() { tu_run env PATH="$UPATH" DOCKER_HOST="unix://$SOCK" docker "$@"; }
# a free local port for -p (8080 unless some other program has it)
HPORT=8080
while ss -Hltn "sport = :$HPORT" | grep -q .; do HPORT=$((HPORT + 1)); done

# start NAME VAR=VALUE...: dockerd-rootless.sh as the user with those
# DOCKERD_ROOTLESS_* variables, waiting for docker.sock
start() {
	local name=$1; shift
	LOG="$W/dockerd-$name.log"
	tu_run env PATH="$UPATH" "$@" sh "$SCRIPT" > "$LOG" 2>&1 &
	LP=$!
	for _ in $(seq 300); do
		[ -S "$SOCK" ] && DK version >/dev/null 2>&1 && return 0
		kill -0 "$LP" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# stop: TERM to the launcher (the process the shim exec'd), then wait
stop() {
	local l
	l=$(pgrep -u "$TU_UID" -f "^$RS launch " | head -1)
	[ -n "$l" ] && kill -TERM "$l"
	for _ in $(seq 200); do kill -0 "$LP" 2>/dev/null || break; sleep 0.1; done
	wait "$LP" 2>/dev/null
	sleep 0.3
}

# dockerd's parent chain reaches the process the shim exec'd
launcher_is_ancestor() {
	local l p
	l=$(pgrep -u "$TU_UID" -f "^$RS launch " | head -1)
	p=$(pgrep -u "$TU_UID" -x dockerd | head -1)
	[ -n "$l" ] && [ -n "$p" ] || return 1
	while [ "$p" -gt 1 ]; do
		[ "$p" = "$l" ] && return 0
		p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || return 1
	done
	return 1
}
proxy_running() { pgrep -u "$TU_UID" -f "rootlesskit-docker-proxy .*-host-port $HPORT" >/dev/null; }
# the user's processes but zombies (a containerd-shim reparented to a
# PID 1 that reaps late is gone, only not yet collected)
live_user_procs() {
	pgrep -u "$TU_UID" | while read -r p; do tu_dead "$p" || echo "$p"; done
}
no_user_procs() { [ -z "$(live_user_procs)" ]; }

# scenario NAME VAR=VALUE...: one dockerd-rootless.sh run, end to end
scenario() {
	local sc=$1 out id page v
	NET=slirp4netns PD=builtin
	for v in "${@:2}"; do
		case $v in
		DOCKERD_ROOTLESS_ROOTLESSKIT_NET=*) NET=${v#*=} ;;
		DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=*) PD=${v#*=} ;;
		esac
	done
	if ! start "$@"; then
		not_ok "$sc: dockerd-rootless.sh starts dockerd under the shim"
		tail -25 "$LOG" | sed 's/^/# /'
		stop
		return
	fi
	ok "$sc: dockerd-rootless.sh starts dockerd under the shim"
	check "$sc: the script exec'd the shim with --net=$NET and --port-driver=$PD" \
		grep -q "^+ exec rootlesskit .*--net=$NET .*--port-driver=$PD " "$LOG"
	diag "$(grep -m1 '^+ exec rootlesskit' "$LOG")"
	check "$sc: the shim's launcher is dockerd's ancestor" launcher_is_ancestor
	out=$(DK info --format '{{.SecurityOptions}}' 2>&1)
	check "$sc: docker info says rootless" grep -q rootless <<<"$out"
	[ -n "$(grep rootless <<<"$out")" ] || echo "$out" | head -3 | sed 's/^/# /'
	DK image inspect bb:local >/dev/null 2>&1 ||
		DK import "$W/busybox.tar" bb:local >/dev/null 2>&1
	out=$(DK run --rm bb:local /bin/busybox echo hello-from-busybox 2>&1)
	check "$sc: docker run of the imported busybox prints its line" grep -qx hello-from-busybox <<<"$out"
	[ -n "$(grep -x hello-from-busybox <<<"$out")" ] || echo "$out" | tail -5 | sed 's/^/# /'
	# traffic out of a container: not through Debian 12's pasta (2023-03),
	# where the container's connection is taken and never answered here
	# (pasta itself reaches the server from the namespace)
	if [ "$NET" != pasta ]; then
		# busybox-static's wget dies in a tree with no libraries (glibc's
		# static NSS); its nc speaks the request
		out=$(DK run --rm bb:local /bin/busybox sh -c \
			"printf 'GET / HTTP/1.0\r\n\r\n' | /bin/busybox timeout 10 /bin/busybox nc -w 5 $A4 $OPORT" 2>&1)
		check "$sc: docker run reaches a server on the host ($A4:$OPORT) out through $NET" \
			grep -q "^hello-from-the-host-$$" <<<"$out"
		[ -n "$(grep "^hello-from-the-host-$$" <<<"$out")" ] || echo "$out" | tail -3 | sed 's/^/# /'
	fi
	id=$(DK run -d -p "$HPORT:80" bb:local /bin/busybox httpd -f -p 80 -h /www 2>&1)
	page=
	for _ in $(seq 50); do
		page=$(curl -s -m 2 "http://127.0.0.1:$HPORT/" 2>/dev/null) && [ -n "$page" ] && break
		sleep 0.2
	done
	check "$sc: docker run -d -p $HPORT:80 httpd: curl 127.0.0.1:$HPORT reads the page" \
		[ "$page" = "hello-from-docker-$$" ]
	[ "$page" = "hello-from-docker-$$" ] || { echo "$id" | tail -3 | sed 's/^/# /'; tail -15 "$LOG" | sed 's/^/# /'; }
	check "$sc: Docker's proxy is Debian's rootlesskit-docker-proxy" proxy_running
	DK rm -f "${id:0:12}" >/dev/null 2>&1
	for _ in $(seq 30); do
		curl -s -m 1 "http://127.0.0.1:$HPORT/" >/dev/null 2>&1 || break
		sleep 0.1
	done
	check "$sc: docker rm -f closes the port on the host" \
		sh -c "! curl -s -m 1 http://127.0.0.1:$HPORT/ >/dev/null 2>&1"
	stop
	check "$sc: TERM to the launcher stops dockerd; no process of the user is left" no_user_procs
	left=$(live_user_procs)
	if [ -n "$left" ]; then
		ps -o pid=,ppid=,stat=,args= -p "$(echo $left | tr ' ' ,)" | sed 's/^/# left: /'
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null
	fi
}

# RS_DOCKER_ONLY=NAME runs one scenario
run() { [ -z "${RS_DOCKER_ONLY:-}" ] || [ "$RS_DOCKER_ONLY" = "$1" ] && scenario "$@"; }
run default
run pasta DOCKERD_ROOTLESS_ROOTLESSKIT_NET=pasta
run slirp-port DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=slirp4netns
run slirp-sandbox DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=1500 \
	DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SANDBOX=true DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SECCOMP=true
run libslirp DOCKERD_ROOTLESS_ROOTLESSKIT_NET=libslirp
run libslirp-port DOCKERD_ROOTLESS_ROOTLESSKIT_NET=libslirp \
	DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=libslirp
if command -v pasta >/dev/null; then
	cat > "$W/bin/drs-newest" <<'SH'
#!/bin/sh
set -e -x
if [ -z "${_DOCKERD_ROOTLESS_CHILD:-}" ]; then
	_DOCKERD_ROOTLESS_CHILD=1
	export _DOCKERD_ROOTLESS_CHILD
	exec rootlesskit --state-dir="$XDG_RUNTIME_DIR/dockerd-rootless" --net=pasta --mtu=65520 \
		--slirp4netns-sandbox=auto --slirp4netns-seccomp=auto --disable-host-loopback \
		--port-driver=implicit --copy-up=/etc --copy-up=/run --propagation=rslave "$0" "$@"
fi
rm -f /run/docker /run/containerd /run/xtables.lock
nsenter -n/proc/self/ns/net sysctl -w net.ipv4.ip_forward=1
exec dockerd "$@"
SH
	chmod 755 "$W/bin/drs-newest"
	SCRIPT="$W/bin/drs-newest"
	run newest-pasta DOCKERD_ROOTLESS_ROOTLESSKIT_NET=pasta DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=implicit
else
	skip "the newest dockerd-rootless.sh's flags with pasta" "pasta is not installed"
fi

setfacl -x "u:$TU_UID" /dev/net/tun
check "the user's ACL entry on /dev/net/tun is gone" \
	sh -c "! getfacl -pn /dev/net/tun 2>/dev/null | grep -q '^user:$TU_UID:'"

cp $W/dockerd-*.log /tmp/; done_testing
