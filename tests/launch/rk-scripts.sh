#!/bin/bash
# The flag sets the newest rootless scripts pass to `rootlesskit`, through
# a `rootlesskit` symlink to our binary first on the user's PATH, each with
# what the script's child part then does, and a stand-in daemon where the
# script starts one (Debian 12's Docker 20.10 predates --detach-netns: it
# would set up its iptables in the host's network namespace; docker.sh runs
# the real daemons):
#
# - moby's contrib/dockerd-rootless.sh (2026): --state-dir, --net=NET
#   --mtu=65520, --slirp4netns-sandbox=auto --slirp4netns-seccomp=auto,
#   --disable-host-loopback, --port-driver (builtin; implicit for pasta),
#   --copy-up=/etc --copy-up=/run, --propagation=rslave, --detach-netns.
#   The child removes the copy-up links of /run/docker, /run/containerd
#   and /run/xtables.lock, turns on forwarding with `nsenter
#   -n$ROOTLESSKIT_STATE_DIR/netns sysctl`, and runs the daemon, whose
#   published port must reach the host: through the API (rootlessctl
#   add-ports, as Docker's port driver client does) for builtin, by pasta
#   itself for implicit.
# - nerdctl's extras/rootless/containerd-rootless.sh (2026): the same with
#   --net=slirp4netns --port-driver=builtin, --copy-up=/var/lib too,
#   --detach-netns when `rootlesskit --help` names it, and --ipv6 when
#   CONTAINERD_ROOTLESS_ROOTLESSKIT_IPV6 is set. The child removes the
#   links of /run/containerd, /run/nri, /var/lib/containerd, /var/lib/cni
#   and /etc/containerd, rebinds /etc/ssl, and bind-mounts the user's
#   directories on the paths containerd hard-codes.
#
# In both, the command keeps the host's network namespace and so the
# host's resolver (RootlessKit's semantics), and STATE/netns has the
# network.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

for b in busybox curl slirp4netns setfacl rootlessctl nsenter; do
	command -v $b >/dev/null || { skip "the newest scripts' flag sets" "$b is not installed"; done_testing; exit; }
done
[ -c /dev/net/tun ] || { skip "the newest scripts' flag sets" "no /dev/net/tun"; done_testing; exit; }
tu_setup || { skip "the newest scripts' flag sets" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
mkdir -p "$W/bin" "$W/www"
ln -s "$RS" "$W/bin/rootlesskit"
echo "from-the-netns" > "$W/www/index.html"
chmod -R a+rX "$W"
UPATH="$W/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
setfacl -m "u:$TU_NAME:rw" /dev/net/tun || { skip "the newest scripts' flag sets" "no ACL on /dev/net/tun"; done_testing; exit; }
tu_on_exit setfacl -x "u:$TU_NAME" /dev/net/tun
P=18380
while ss -Hltun "sport = :$P" | grep -q .; do P=$((P + 1)); done
live_user_procs() { pgrep -u "$TU_UID" | while read -r p; do tu_dead "$p" || echo "$p"; done; }

# The child's part, in the scripts' manner; it reports on stdout, then
# stays (the daemon) until the launcher gets TERM.
cat > "$W/child.sh" <<'SH'
#!/bin/sh
# KIND WWW PORT DRIVER
kind=$1 www=$2 port=$3 pd=$4
netns=$ROOTLESSKIT_STATE_DIR/netns
say() { echo "$*"; }
if [ "$kind" = dockerd ]; then
	rm -f /run/docker /run/containerd /run/xtables.lock
	mkdir -p /run/docker && say run-docker-created
	nsenter -n"$netns" sysctl -w net.ipv4.ip_forward=1 >/dev/null && say forwarding-on
	nsenter -n"$netns" sysctl -w net.ipv6.conf.all.forwarding=1 >/dev/null 2>&1 || true
else
	rm -f /run/containerd /run/nri /run/xtables.lock /var/lib/containerd /var/lib/cni /etc/containerd
	ssl=$(realpath /etc/ssl)
	rm -f /etc/ssl && mkdir /etc/ssl && mount --rbind "$ssl" /etc/ssl && say ssl-rebound
	for m in "$XDG_RUNTIME_DIR/containerd:/run/containerd" "$HOME/.local/share/containerd:/var/lib/containerd" \
		"$HOME/.local/share/cni:/var/lib/cni" "$HOME/.config/containerd:/etc/containerd"; do
		mkdir -p "${m%%:*}" "${m#*:}" && mount --bind "${m%%:*}" "${m#*:}" || exit 1
	done
	touch /var/lib/containerd/mark && [ -e "$HOME/.local/share/containerd/mark" ] && say dirs-bound
	[ -n "$(ls /etc/ssl/certs)" ] && say certs-readable
fi
say "resolver $(grep -m1 '^nameserver' /etc/resolv.conf)"
nsenter -n"$netns" cat /proc/net/fib_trie | grep -q 10.0.2.100 && say netns-has-network
# the stand-in daemon ends on TERM with what it started, as dockerd does
trap 'kill $httpd; exit 0' TERM
if [ "$pd" = implicit ]; then
	nsenter -n"$netns" busybox httpd -f -p "$port" -h "$www" &
else
	nsenter -n"$netns" busybox httpd -f -p 127.0.0.1:8000 -h "$www" &
	rootlessctl --socket "$ROOTLESSKIT_STATE_DIR/api.sock" add-ports "127.0.0.1:$port:127.0.0.1:8000/tcp" >/dev/null &&
		say port-added
fi
httpd=$!
say ready
wait
SH
chmod 755 "$W/child.sh"

# scenario NAME KIND DRIVER ROOTLESSKIT-FLAGS...
scenario() {
	local sc=$1 kind=$2 pd=$3 page l
	shift 3
	local S="$TU_XDG/$kind-rootless"
	tu_run env PATH="$UPATH" rootlesskit --state-dir="$S" "$@" "$W/child.sh" "$kind" "$W/www" "$P" "$pd" \
		> "$W/$sc.out" 2> "$W/$sc.err" &
	local lp=$!
	for _ in $(seq 1200); do grep -q '^ready$' "$W/$sc.out" 2>/dev/null && break; sleep 0.05; done
	check "$sc: the child's part ran" grep -q '^ready$' "$W/$sc.out"
	[ -n "$(grep '^ready$' "$W/$sc.out")" ] || sed 's/^/# /' "$W/$sc.err" | tail -5
	if [ "$kind" = dockerd ]; then
		check "$sc: /run/docker made in the copied-up /run" grep -q run-docker-created "$W/$sc.out"
		check "$sc: nsenter -n\$ROOTLESSKIT_STATE_DIR/netns sysctl works" grep -q forwarding-on "$W/$sc.out"
	else
		check "$sc: /etc/ssl rebound, its certificates readable" \
			[ -n "$(grep ssl-rebound "$W/$sc.out")" -a -n "$(grep certs-readable "$W/$sc.out")" ]
		check "$sc: the user's dirs bound on containerd's paths" grep -q dirs-bound "$W/$sc.out"
	fi
	check "$sc: the command keeps the host's resolver" \
		grep -qx "resolver $(grep -m1 '^nameserver' /etc/resolv.conf)" "$W/$sc.out"
	check "$sc: STATE/netns has the network" grep -q netns-has-network "$W/$sc.out"
	[ "$pd" = builtin ] && check "$sc: rootlessctl add-ports" grep -q port-added "$W/$sc.out"
	page=
	for _ in $(seq 300); do page=$(curl -s -m 1 "http://127.0.0.1:$P/" 2>/dev/null) && [ -n "$page" ] && break; sleep 0.1; done
	check "$sc: the daemon's port in STATE/netns reaches the host ($pd)" [ "$page" = from-the-netns ]
	l=$(pgrep -u "$TU_UID" -f "^rootlesskit --state-dir=$S " | head -1)
	[ -n "$l" ] && kill -TERM "$l"
	wait "$lp"
	sleep 0.3
	check "$sc: TERM to the launcher ends it all" [ -z "$(live_user_procs)" ]
	check "$sc: the state dir's files are gone" [ -z "$(ls -A "$S" 2>/dev/null)" ]
}

COMMON=(--mtu=65520 --slirp4netns-sandbox=auto --slirp4netns-seccomp=auto --disable-host-loopback
	--copy-up=/etc --copy-up=/run --propagation=rslave)
"$W/bin/rootlesskit" --help | grep -qw -- --detach-netns
check "rootlesskit --help names --detach-netns (containerd-rootless.sh's test)" [ $? = 0 ]
scenario dockerd-slirp4netns dockerd builtin --net=slirp4netns "${COMMON[@]}" --port-driver=builtin --detach-netns
if command -v pasta >/dev/null; then
	scenario dockerd-pasta dockerd implicit --net=pasta "${COMMON[@]}" --port-driver=implicit --detach-netns
else
	skip "dockerd-rootless.sh with pasta" "pasta is not installed"
fi
scenario containerd containerd builtin --net=slirp4netns "${COMMON[@]}" --copy-up=/var/lib \
	--port-driver=builtin --detach-netns
scenario containerd-ipv6 containerd builtin --net=slirp4netns "${COMMON[@]}" --copy-up=/var/lib \
	--port-driver=builtin --ipv6 --detach-netns
done_testing
