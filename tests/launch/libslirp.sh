#!/bin/bash
# The embedded network (--net=libslirp), as a real unprivileged throwaway
# user, with real traffic: the interface and its settings, ping, TCP and UDP
# out to servers on a host-local address (one added to lo for the run) and
# on the host's loopback through 10.0.2.2, DNS through libslirp's forwarder
# to a resolver of ours (the launch sees a resolv.conf naming it, bound in a
# mount namespace of its own), IPv6 out, --disable-host-loopback, ports
# forwarded in (its own libslirp driver, TCP, UDP and IPv6, the API and the
# builtin driver), --detach-netns, the gvisor-tap-vsock alias, the helper's
# sandbox as /proc shows it, and its lifetime. /dev/net/tun is root-only
# here: the user gets an ACL entry for the run.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"
. "$(dirname "$0")/../lib/net.sh"

PY=/usr/bin/python3
for b in $PY setfacl busybox ip ss curl unshare; do
	command -v "$b" >/dev/null || { skip "embedded network" "$b is not installed"; done_testing; exit; }
done
[ -c /dev/net/tun ] || { skip "embedded network" "no /dev/net/tun"; done_testing; exit; }
tu_setup || { skip "embedded network" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
L() { tu_run "$RS" launch "$@"; }

if setfacl -m "u:$TU_UID:rw" /dev/net/tun; then
	tu_on_exit setfacl -x "u:$TU_UID" /dev/net/tun
else
	skip "embedded network" "cannot give the user an ACL on /dev/net/tun"; done_testing; exit
fi

# host-local addresses for the traffic out, one per run, on lo
R=$(($$ % 200 + 20))
A4=198.18.$R.1
A6=fd5e:5e:$R::1
DNS4=127.53.$R.1
ip addr add "$A4/32" dev lo && tu_on_exit ip addr del "$A4/32" dev lo
ip -6 addr add "$A6/128" dev lo nodad && tu_on_exit ip -6 addr del "$A6/128" dev lo

# servers (host side, as root) and a client (inside): TCP answers
# "tcp-ok PEER", UDP "udp-ok DATA", DNS answers every A query 192.0.2.53
cat > "$W/srv.py" <<'PY'
import socket, struct, sys
kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
if kind == "tcp":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(64)
    while True:
        c, a = s.accept()
        c.sendall(("tcp-ok %s\n" % a[0]).encode()); c.close()
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((addr, port))
while True:
    d, a = s.recvfrom(4096)
    if kind == "udp":
        s.sendto(b"udp-ok " + d, a)
        continue
    # DNS: the question back, with one A record when it asks for A
    q = d[12:]
    end = q.index(b"\0") + 5
    qtype = struct.unpack("!H", q[end - 4:end - 2])[0]
    ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.53")
    n = 1 if qtype == 1 else 0
    s.sendto(d[:2] + struct.pack("!HHHHH", 0x8180, 1, n, 0, 0) + q[:end] + (ans if n else b""), a)
PY
cat > "$W/cli.py" <<'PY'
import socket, sys
kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
try:
    if kind == "tcp":
        s = socket.create_connection((addr, port), timeout=5)
        # the builtin driver accepts before the server inside is up: EOF
        print(s.recv(200).decode().strip() or "error EOF")
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(2)
        for _ in range(3):
            s.sendto(b"hello", (addr, port))
            try:
                print(s.recvfrom(200)[0].decode()); break
            except socket.timeout:
                pass
except OSError as e:
    print("error %s" % e.__class__.__name__)
PY
chmod -R a+rX "$W"
CLI="$PY $W/cli.py"

serve() { net_serve "$3" "$PY" "$W/srv.py" "$@"; } # KIND ADDR PORT: a server of srv.py, up when this returns
TP=$(net_free_port); serve tcp "$A4" "$TP"
LP=$(net_free_port); serve tcp 127.0.0.1 "$LP"
UP=$(net_free_port); serve udp "$A4" "$UP"
TP6=$(net_free_port); serve tcp "$A6" "$TP6"
LP6=$(net_free_port); serve tcp ::1 "$LP6"

# 1. the interface
out=$(L --net=libslirp --copy-up=/etc -- sh -c 'ip -o link show tap0; ip -o -4 addr show dev tap0; ip route show default; cat /etc/resolv.conf')
check "tap0 has 10.0.2.100/24" grep -q "inet 10.0.2.100/24" <<<"$out"
check "tap0: MTU 65520 by default" grep -q "mtu 65520" <<<"$out"
check "tap0 is UP and keeps MULTICAST" grep -q "MULTICAST,UP" <<<"$out"
check "the default route is via 10.0.2.2" grep -q "default via 10.0.2.2 dev tap0" <<<"$out"
check "resolv.conf names 10.0.2.3 (--copy-up=/etc)" grep -qx "nameserver 10.0.2.3" <<<"$out"
out=$(L --net=libslirp --mtu=1500 --cidr=10.0.3.0/24 --ifname=eth7 -- sh -c 'ip -o link show eth7; ip -o -4 addr show dev eth7; ip route show default; python3 '"$W/cli.py tcp $A4 $TP")
has() { grep -q -- "$1" <<<"$out"; }
check "--mtu=1500 --cidr=10.0.3.0/24 --ifname=eth7: eth7, MTU 1500, 10.0.3.100" \
	eval 'has "eth7: .*mtu 1500" && has "inet 10.0.3.100/24"'
check "--cidr: the default route is via 10.0.3.2 and traffic flows" \
	eval 'has "default via 10.0.3.2" && has "^tcp-ok"'

# 2. ping: libslirp answers for its own addresses; ping out needs ICMP
# sockets (net.ipv4.ping_group_range) for the user, given for this test.
# The echo is the launch's first traffic: its socket must outlive the reply
out=$(L --net=libslirp -- sh -c 'busybox ping -c1 -W3 10.0.2.2 >/dev/null && echo gw; busybox ping -c1 -W3 10.0.2.3 >/dev/null && echo dns')
check "ping 10.0.2.2 (the host) and 10.0.2.3 (DNS)" [ "$(echo $out)" = "gw dns" ]
pgr=$(cat /proc/sys/net/ipv4/ping_group_range)
echo "$TU_GID $TU_GID" > /proc/sys/net/ipv4/ping_group_range
out=$(L --net=libslirp -- busybox ping -c1 -W3 "$A4" 2>&1)
echo "$pgr" > /proc/sys/net/ipv4/ping_group_range
check "ping out to a host address ($A4)" grep -q "1 packets received" <<<"$out"
grep -q "1 packets received" <<<"$out" || diag "$out"
check "ping_group_range is restored" [ "$(cat /proc/sys/net/ipv4/ping_group_range)" = "$pgr" ]

# 3. TCP and UDP out
out=$(L --net=libslirp -- sh -c "$CLI tcp $A4 $TP; $CLI tcp 10.0.2.2 $LP; $CLI udp $A4 $UP")
check "TCP out to a host address ($A4)" grep -q "^tcp-ok" <<<"$(echo "$out" | sed -n 1p)"
check "TCP to 10.0.2.2 reaches the host's 127.0.0.1" [ "$(echo "$out" | sed -n 2p)" = "tcp-ok 127.0.0.1" ]
check "UDP out to a host address" [ "$(echo "$out" | sed -n 3p)" = "udp-ok hello" ]

# 4. DNS: the launch's mount namespace has a resolv.conf naming our
# resolver on the host's loopback; the helper copies it before its
# sandbox and libslirp forwards 10.0.2.3 to it
bound() { # SRC DST CMD...: CMD as the user, seeing file SRC at DST (a mount namespace of its own)
	local f=$1 d=$2 e
	shift 2
	mapfile -t e < <(tu_env)
	(cd "$TU_HOME" && exec unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$f" "$d" \
		setpriv --reuid="$TU_UID" --regid="$TU_GID" --init-groups --inh-caps=-all \
		env -i "${e[@]}" "$@")
}
in_resolv() { bound "$1" /etc/resolv.conf "${@:2}"; }
if ! ss -Hlun "sport = :53" | grep -qE "(0\.0\.0\.0|\*|\[::\]):53 "; then
	serve dns "$DNS4" 53
	echo "nameserver $DNS4" > "$W/resolv.conf"; chmod 644 "$W/resolv.conf"
	out=$(in_resolv "$W/resolv.conf" "$RS" launch --net=libslirp -- busybox nslookup rs-slirp.test 10.0.2.3 2>&1)
	check "DNS: 10.0.2.3 forwards to the host's resolver" grep -q "192.0.2.53" <<<"$out"
	[ -n "$(grep 192.0.2.53 <<<"$out")" ] || echo "$out" | sed 's/^/# /'
	out=$(in_resolv "$W/resolv.conf" "$RS" launch --net=libslirp --disable-host-loopback -- busybox nslookup rs-slirp.test 10.0.2.3 2>&1)
	check "DNS: works with --disable-host-loopback (a loopback resolver)" grep -q "192.0.2.53" <<<"$out"
else
	skip "DNS" "port 53 is taken on every address of the host"
fi

# 5. IPv6
out=$(L --net=libslirp --ipv6 -- sh -c "ip -o -6 addr show dev tap0 scope global; $CLI tcp $A6 $TP6; $CLI tcp fd00::2 $LP6")
check "--ipv6: tap0 has fd00::100/64" grep -q "inet6 fd00::100/64" <<<"$out"
check "--ipv6: TCP out to a host IPv6 address ($A6)" grep -q "^tcp-ok" <<<"$(echo "$out" | grep tcp- | sed -n 1p)"
check "--ipv6: TCP to fd00::2 reaches the host's ::1" grep -qx "tcp-ok ::1" <<<"$out"

# 6. --disable-host-loopback
out=$(L --net=libslirp --ipv6 --disable-host-loopback -- sh -c "$CLI tcp 10.0.2.2 $LP; $CLI tcp fd00::2 $LP6; $CLI tcp $A4 $TP")
check "--disable-host-loopback: 10.0.2.2 does not reach the host's 127.0.0.1" grep -q "^error" <<<"$(echo "$out" | sed -n 1p)"
check "--disable-host-loopback: fd00::2 does not reach the host's ::1" grep -q "^error" <<<"$(echo "$out" | sed -n 2p)"
check "--disable-host-loopback: other host addresses still work" grep -q "^tcp-ok" <<<"$(echo "$out" | sed -n 3p)"

# 7. ports in: the libslirp driver (TCP, UDP, IPv6), the API, the sandbox
S="$TU_XDG/rs-slirp-ports"
HP=$(net_free_port); HU=$(net_free_port); H6=$(net_free_port); HA=$(net_free_port)
L --state-dir="$S" --pidns --net=libslirp --ipv6 --port-driver=libslirp \
	-p "127.0.0.1:$HP:80/tcp" -p "127.0.0.1:$HU:5353/udp" -p "[::1]:$H6:81/tcp6" -- \
	sh -c "$PY $W/srv.py tcp 0.0.0.0 80 & $PY $W/srv.py udp 0.0.0.0 5353 & $PY $W/srv.py tcp :: 81 & $PY $W/srv.py tcp 0.0.0.0 82 & sleep 60" 2>"$W/ports.err" &
LPID=$!
for _ in $(seq 100); do [ -s "$S/child_pid" ] && break; sleep 0.05; done
answer() { for _ in $(seq 50); do r=$($CLI "$@"); [ "${r#error}" = "$r" ] && { echo "$r"; return; }; sleep 0.1; done; echo "$r"; }
check "port driver libslirp: TCP 127.0.0.1:$HP -> 80 (the peer is libslirp's 10.0.2.2)" \
	[ "$(answer tcp 127.0.0.1 "$HP")" = "tcp-ok 10.0.2.2" ]
check "port driver libslirp: UDP 127.0.0.1:$HU -> 5353" [ "$(answer udp 127.0.0.1 "$HU")" = "udp-ok hello" ]
check "port driver libslirp: TCP [::1]:$H6 -> [fd00::100]:81 (--ipv6)" grep -q "^tcp-ok" <<<"$(answer tcp ::1 "$H6")"
info=$(curl -s --unix-socket "$S/api.sock" http://x/v1/info)
jqt() { jq -e "$1" >/dev/null 2>&1 <<<"$info"; }
check "API: the network driver is libslirp, the port driver too" \
	jqt '.networkDriver.driver == "libslirp" and .portDriver.driver == "libslirp" and
		.portDriver.disallowLoopbackChildIP and .networkDriver.childIP == "10.0.2.100"'
id=$(tu_run "$RS" ports --state-dir="$S" add "127.0.0.1:$HA:82/tcp")
check "ports add (at run time): 127.0.0.1:$HA -> 82" [ "$(answer tcp 127.0.0.1 "$HA")" = "tcp-ok 10.0.2.2" ]
tu_run "$RS" ports --state-dir="$S" remove "$id" >/dev/null
check "ports remove: $HA is closed" grep -q "^error" <<<"$($CLI tcp 127.0.0.1 "$HA")"
tu_run "$RS" ports --state-dir="$S" add "127.0.0.1:$HP:80/tcp" 2>"$W/dup.err" >/dev/null
check "ports add of a port in use is refused" [ $? -ne 0 ]

# the helper and its sandbox, as the host sees them
H=$(pgrep -u "$TU_UID" -f "__net-helper" | head -1)
launcher=$(pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$S" | head -1)
st() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$H/status"; }
check "sandbox: the helper is the launcher's child" [ -n "$H" ] && [ "$(awk '{print $4}' "/proc/$H/stat")" = "$launcher" ]
check "sandbox: seccomp filter (Seccomp: 2)" [ "$(st Seccomp)" = 2 ]
check "sandbox: NoNewPrivs: 1" [ "$(st NoNewPrivs)" = 1 ]
check "sandbox: no capabilities (effective, permitted, bounding, ambient)" \
	[ "$(st CapEff)$(st CapPrm)$(st CapBnd)$(st CapAmb)" = 0000000000000000000000000000000000000000000000000000000000000000 ]
check "sandbox: its root is a tmpfs" [ "$(stat -f -c %T "/proc/$H/root/")" = tmpfs ]
check "sandbox: holding etc/resolv.conf and nothing else ($(ls -A "/proc/$H/root" | tr '\n' ' '))" \
	[ "$(ls -A "/proc/$H/root")" = etc ] && [ "$(ls -A "/proc/$H/root/etc")" = resolv.conf ]
diag "readlink /proc/$H/root: $(readlink "/proc/$H/root")"
check "sandbox: one mount, read-only" sh -c "[ \$(wc -l < /proc/$H/mountinfo) = 1 ] && awk '{print \$6}' /proc/$H/mountinfo | grep -q '^ro'"
check "sandbox: a user namespace of its own (not the launch's)" \
	sh -c "[ '$(readlink "/proc/$H/ns/user")' != '$(readlink "/proc/$launcher/ns/user")' ] && [ '$(readlink "/proc/$H/ns/user")' != '$(readlink "/proc/$(cat "$S/child_pid")/ns/user")' ]"
check "sandbox: the host's network namespace" [ "$(readlink "/proc/$H/ns/net")" = "$(readlink "/proc/$launcher/ns/net")" ]
check "sandbox: an empty environment" [ ! -s "/proc/$H/environ" ]
check "sandbox: fds 0-2 /dev/null, 3 the tap, 4 a socket" \
	[ "$(for f in 0 1 2 3; do readlink "/proc/$H/fd/$f"; done | tr '\n' ' ')" = "/dev/null /dev/null /dev/null /dev/net/tun " ]
maps() { grep -oE 'lib(slirp|seccomp|glib-2\.0)\.so' "/proc/$1/maps" | sort -u | tr '\n' ' '; }
check "the helper maps libslirp and libseccomp ($(maps "$H"))" \
	eval 'grep -q libslirp "/proc/$H/maps" && grep -q libseccomp "/proc/$H/maps"'
check "the launcher maps neither (${launcher:+$(maps "$launcher")})" [ -z "$(maps "$launcher")" ]
kill -TERM "$launcher"; wait "$LPID" 2>/dev/null
sleep 0.2
check "the helper ends with the launch" tu_dead "$H"
check "its forwarded port is closed" grep -q "^error" <<<"$($CLI tcp 127.0.0.1 "$HP")"

# 8. the builtin port driver on the embedded network
S2="$TU_XDG/rs-slirp-builtin"
HB=$(net_free_port)
L --state-dir="$S2" --pidns --net=libslirp --port-driver=builtin -p "127.0.0.1:$HB:80/tcp" -- \
	sh -c "$PY $W/srv.py tcp 0.0.0.0 80 & sleep 60" 2>/dev/null &
LPID=$!
check "port driver builtin on --net=libslirp: 127.0.0.1:$HB -> 80" grep -q "^tcp-ok" <<<"$(answer tcp 127.0.0.1 "$HB")"
# 9. SIGKILL of the launcher: the helper dies too (parent-death signal)
H=$(pgrep -u "$TU_UID" -f "__net-helper" | head -1)
kill -KILL "$(pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$S2" | head -1)"
wait "$LPID" 2>/dev/null
sleep 0.5
check "SIGKILL of the launcher: the helper is gone" tu_dead "${H:-0}"
pkill -KILL -u "$TU_UID" -f "srv.py" 2>/dev/null

# 10. --detach-netns: the command keeps the host's network; the embedded
# one is at STATE/netns
out=$(L --net=libslirp --detach-netns -- sh -c "readlink /proc/self/ns/net; nsenter --net=\$ROOTLESSKIT_STATE_DIR/netns $CLI tcp $A4 $TP")
check "--detach-netns: the command is in the host's network namespace" [ "$(echo "$out" | head -1)" = "$(readlink /proc/self/ns/net)" ]
check "--detach-netns: STATE/netns has the embedded network" grep -q "^tcp-ok" <<<"$(echo "$out" | sed -n 2p)"

# 11. RootlessKit v3's name for its embedded network is ours
S3="$TU_XDG/rs-slirp-gvisor"
L --state-dir="$S3" --net=gvisor-tap-vsock --port-driver=gvisor-tap-vsock -- sleep 30 2>/dev/null &
LPID=$!
for _ in $(seq 100); do [ -S "$S3/api.sock" ] && break; sleep 0.05; done
info=$(curl -s --unix-socket "$S3/api.sock" http://x/v1/info)
check "--net=gvisor-tap-vsock --port-driver=gvisor-tap-vsock run the embedded network" \
	jqt '.networkDriver.driver == "libslirp" and .portDriver.driver == "libslirp"'
kill -TERM "$(pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$S3" | head -1)"; wait "$LPID" 2>/dev/null

# 12. refusals: /dev/net/tun the user cannot open (a root-only node in its
# place, whatever the host's own allows)
touch "$W/notun" && chmod 000 "$W/notun"
bound "$W/notun" /dev/net/tun "$RS" launch --net=libslirp -- true 2>"$W/tun.err"
rc=$?
check "no access to /dev/net/tun: 125" [ $rc -eq 125 ]
diag "$(cat "$W/tun.err")"
check "and one line naming /dev/net/tun and network.tun" \
	sh -c "[ \$(wc -l < '$W/tun.err') = 1 ] && grep -q \"/dev/net/tun.*network.tun\" '$W/tun.err'"
L --net=slirp4netns --port-driver=libslirp -- true 2>/dev/null
check "--port-driver=libslirp without --net=libslirp: 125" [ $? -eq 125 ]

sleep 0.2
left=$(pgrep -u "$TU_UID" | while read -r p; do tu_dead "$p" || echo "$p"; done)
check "no process of the user is left" [ -z "$left" ]
done_testing
