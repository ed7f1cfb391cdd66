#!/bin/bash
# launch --net-bypass, as a real unprivileged throwaway user with real
# traffic: TCP (blocking, asyncio's nonblocking connect, curl, from a
# second thread) and UDP connects to a host address (one added to lo for
# the run) go out from the
# host's network namespace (the client's own address is the one the server
# sees, not slirp's 10.0.2.100 behind a second connection), over slirp4netns
# and pasta, with --pidns; a destination outside the rules, loopback (also
# as ::ffff:127.0.0.1) and the launch's own network stay in the namespace;
# the bypassed socket is the user's (its uid on the host), a host firewall
# rule for the user still refuses it, a socket with SO_MARK (a privilege
# the user lacks outside) is not bypassed; a process that outlives the
# launcher gets ENOSYS from connect; bad input is one line and 125.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"
. "$(dirname "$0")/../lib/net.sh"

PY=/usr/bin/python3
for b in $PY slirp4netns ip ss curl; do
	command -v "$b" >/dev/null || { skip "--net-bypass" "$b is not installed"; done_testing; exit; }
done
tu_setup || { skip "--net-bypass" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
L() { tu_run "$RS" launch "$@"; }

# two host-local addresses, one per run, on lo: A bypassed, B not always
R=$(($$ % 200 + 20))
A=198.18.$R.1
B=198.18.$R.2
for a in $A $B; do
	ip addr add "$a/32" dev lo && tu_on_exit ip addr del "$a/32" dev lo
done

# the server (host side, as root) answers "peer IP:PORT uid N": the
# client's address as it sees it and the owner of the client's socket on
# the host (from /proc/net/tcp); "http" wraps that in an HTTP reply
cat > "$W/srv.py" <<'PY'
import socket, sys
kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def owner(peer):
    want = "%s:%04X" % ("".join("%02X" % int(x) for x in reversed(peer[0].split("."))), peer[1])
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        f = line.split()
        if f[1] == want:
            return f[7]
    return "?"
if kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        d, a = s.recvfrom(4096)
        s.sendto(("peer %s:%d" % a).encode(), a)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port)); s.listen(64)
while True:
    c, a = s.accept()
    msg = "peer %s:%d uid %s" % (a[0], a[1], owner(a))
    if kind == "http":
        c.recv(4096)
        msg = "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(msg), msg)
    c.sendall(msg.encode()); c.close()
PY
# the client (inside) prints "me IP:PORT | REPLY" or "error NAME"
cat > "$W/cli.py" <<'PY'
import asyncio, socket, sys
kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    if kind == "tcp":
        s = socket.socket(); s.settimeout(5); s.connect((addr, port))
        r = s.recv(200)
    elif kind == "tcp6":
        s = socket.socket(socket.AF_INET6); s.settimeout(5); s.connect((addr, port))
        r = s.recv(200)
    elif kind == "thread":
        import threading
        out = []
        def go():
            t = socket.socket(); t.settimeout(5); t.connect((addr, port)); out.append(t)
        th = threading.Thread(target=go); th.start(); th.join()
        s = out[0]; r = s.recv(200)
    elif kind == "mark":
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 7)
        s.settimeout(5); s.connect((addr, port)); r = s.recv(200)
    elif kind == "async":
        async def go():
            rd, wr = await asyncio.open_connection(addr, port)
            s = wr.get_extra_info("socket")
            me = s.getsockname(); r = await rd.read(200); wr.close()
            return me, r
        me, r = asyncio.run(go())
        print("me %s:%d | %s" % (me[0], me[1], r.decode())); sys.exit(0)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
        s.connect((addr, port))
        for _ in range(3):
            s.send(b"hello")
            try:
                r = s.recv(200); break
            except socket.timeout:
                r = b""
    me = s.getsockname()
    print("me %s:%d | %s" % (me[0], me[1], r.decode()))
except OSError as e:
    print("error %s" % e.__class__.__name__)
PY
chmod -R a+rX "$W"
CLI="$PY $W/cli.py"

serve() { net_serve "$3" "$PY" "$W/srv.py" "$@"; } # KIND ADDR PORT: up when this returns
TA=$(net_free_port); serve tcp "$A" "$TA"
TB=$(net_free_port); serve tcp "$B" "$TB"
HA=$(net_free_port); serve http "$A" "$HA"
UA=$(net_free_port); serve udp "$A" "$UA"
LP=$(net_free_port); serve tcp 127.0.0.1 "$LP"

# "me X | peer X ...": the server saw the client's own socket
bypassed() { [ "${1#me }" != "$1" ] && [ "$(sed 's/^me \([^ ]*\) | peer \([^ ]*\).*/\1/' <<<"$1")" = "$(sed 's/^me \([^ ]*\) | peer \([^ ]*\).*/\2/' <<<"$1")" ]; }
slirped() { grep -q "^me 10\.0\.2\.100:.* | peer" <<<"$1"; }
line() { sed -n "${1}p" <<<"$out"; }

# 1. TCP and UDP out through the bypass, slirp4netns
out=$(L --net=slirp4netns --net-bypass=0.0.0.0/0 -- sh -c \
	"$CLI tcp $A $TA; $CLI async $A $TA; $CLI udp $A $UA; curl -s -w ' | me %{local_ip}:%{local_port}' http://$A:$HA/")
diag "$(tr '\n' ';' <<<"$out")"
check "TCP, blocking connect: bypassed (the server sees the client's own $A:port)" bypassed "$(line 1)"
check "TCP, asyncio's nonblocking connect (EINPROGRESS): bypassed" bypassed "$(line 2)"
check "UDP connect: bypassed" bypassed "$(line 3)"
c=$(line 4)
check "curl: bypassed (its local address is the one the server saw)" \
	[ "$(sed 's/^peer \([^ ]*\) .*| me \(.*\)$/\1/' <<<"$c")" = "$(sed 's/^peer \([^ ]*\) .*| me \(.*\)$/\2/' <<<"$c")" ]
check "the bypassed socket is the user's own on the host (uid $TU_UID)" grep -q " uid $TU_UID\$" <<<"$(line 1)"
out=$(L --net=slirp4netns --net-bypass=0.0.0.0/0 -- $CLI thread "$A" "$TA")
check "a connect from a thread other than the leader (as Go makes them): bypassed" bypassed "$out"

# 2. what stays in the namespace
out=$(L --net=slirp4netns --net-bypass="$A/32" -- sh -c "$CLI tcp $B $TB; $CLI tcp $A $TA")
check "a destination outside the rules goes through slirp4netns (10.0.2.100)" slirped "$(line 1)"
check "one inside them is bypassed" bypassed "$(line 2)"
out=$(L --net=slirp4netns --net-bypass=0.0.0.0/0,::/0 -- sh -c \
	"$CLI tcp 127.0.0.1 $LP; $CLI tcp6 ::ffff:127.0.0.1 $LP; $CLI tcp 10.0.2.2 $LP")
check "loopback is never bypassed (the host's 127.0.0.1:$LP is not reached)" grep -q "^error" <<<"$(line 1)"
check "nor ::ffff:127.0.0.1 on an IPv6 socket" grep -q "^error" <<<"$(line 2)"
check "the launch's own network (10.0.2.2) stays slirp4netns' (its host loopback)" slirped "$(line 3)"
out=$(L --net=slirp4netns --net-bypass=0.0.0.0/0 -- $CLI mark "$A" "$TA")
check "a socket with SO_MARK (CAP_NET_ADMIN the user lacks outside) is not bypassed" slirped "$out"

# 3. a host firewall rule for the user applies to the bypassed socket
if command -v iptables >/dev/null && iptables -I OUTPUT -d "$A" -p tcp --dport "$TA" -m owner --uid-owner "$TU_UID" -j REJECT --reject-with tcp-reset 2>/dev/null; then
	out=$(L --net=slirp4netns --net-bypass=0.0.0.0/0 -- $CLI tcp "$A" "$TA")
	iptables -D OUTPUT -d "$A" -p tcp --dport "$TA" -m owner --uid-owner "$TU_UID" -j REJECT --reject-with tcp-reset
	check "a host rule refusing the user refuses the bypassed connect too" grep -qx "error ConnectionRefusedError" <<<"$out"
	out=$(L --net=slirp4netns --net-bypass=0.0.0.0/0 -- $CLI tcp "$A" "$TA")
	check "and it is bypassed again once the rule is gone" bypassed "$out"
else
	skip "host firewall rule" "iptables cannot add an owner rule here"
fi

# 4. --pidns (the supervisor sees host pids) and pasta
out=$(L --net=slirp4netns --pidns --net-bypass=0.0.0.0/0 -- sh -c "$CLI tcp $A $TA; $CLI udp $A $UA")
check "--pidns: TCP bypassed" bypassed "$(line 1)"
check "--pidns: UDP bypassed" bypassed "$(line 2)"
if command -v pasta >/dev/null; then
	out=$(L --net=pasta --net-bypass=0.0.0.0/0 -- $CLI tcp "$A" "$TA")
	check "pasta: TCP bypassed" bypassed "$out"
else
	skip "pasta" "pasta is not installed"
fi

# 5. the launcher gone: a process of the launch that outlives it (the
# parent-death signal ends only the launch's first process) gets ENOSYS
# from connect, never an unchecked connect
cat > "$W/late.py" <<'PY'
import errno, socket, sys, time
time.sleep(3)
s = socket.socket(); s.settimeout(5)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print("connected")
except OSError as e:
    print("error %s" % errno.errorcode.get(e.errno, e.errno))
PY
chmod a+r "$W/late.py"
S="$TU_XDG/rs-bypass-late"
: > "$W/late.out"; chmod 666 "$W/late.out"
L --state-dir="$S" --net=slirp4netns --net-bypass=0.0.0.0/0 -- \
	sh -c "$PY $W/late.py $A $TA > $W/late.out 2>&1 & exec sleep 60" 2>/dev/null &
for _ in $(seq 100); do [ -s "$S/child_pid" ] && break; sleep 0.05; done
lp=$(pgrep -u "$TU_UID" -f -- "launch --state-dir=$S " | head -1)
[ -n "$lp" ] && kill -9 "$lp"
for _ in $(seq 100); do [ -s "$W/late.out" ] && break; sleep 0.1; done
check "a connect after the launcher died fails with ENOSYS" grep -qx "error ENOSYS" "$W/late.out"
[ -s "$W/late.out" ] || diag "late.out: $(cat "$W/late.out")"
# late.py leaves after its answer: nothing of the launch stays
for _ in $(seq 50); do [ -z "$(ps -u "$TU_UID" -o pid=)" ] && break; sleep 0.1; done
check "nothing of the launch is left" [ -z "$(ps -u "$TU_UID" -o pid=)" ]
rm -rf "$S"

# 7. bind(2) of a published port (the builtin port driver): the service's
# listener is made in the host's namespace at the published address, so a
# host client reaches it without the driver's proxy and the service sees
# the client's own address and the host's port as its own; the driver's
# listener steps aside while it lives and comes back after; a bind to a
# port not published, or to loopback inside, stays in the namespace
cat > "$W/lsrv.py" <<'PY'
import os, socket, sys, time
proto, fam, addr, port, ready, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
def fmt(a):
    h = a[0][7:] if a[0].startswith("::ffff:") else a[0]
    return "%s:%d" % (h, a[1])
for i in range(rounds):
    s = socket.socket(socket.AF_INET6 if fam == "6" else socket.AF_INET,
                      socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
    if fam == "6":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if proto == "tcp":
        s.listen(8)
    with open(ready, "a") as f:
        f.write("ready %d %s\n" % (i, fmt(s.getsockname())))
    if proto == "tcp":
        c, a = s.accept()
        c.sendall(("peer %s me %s" % (fmt(a), fmt(c.getsockname()))).encode()); c.close()
    else:
        d, a = s.recvfrom(100)
        s.sendto(("peer %s me %s" % (fmt(a), fmt(s.getsockname()))).encode(), a)
    s.close()
    while i + 1 < rounds and not os.path.exists("%s.go%d" % (ready, i)):
        time.sleep(0.05)
PY
cat > "$W/lcli.py" <<'PY'
import socket, sys
proto, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    if proto == "tcp":
        s = socket.socket(); s.settimeout(5); s.connect((addr, port)); r = s.recv(200)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
        s.connect((addr, port)); s.send(b"hi"); r = s.recv(200)
    print("me %s:%d | %s" % (s.getsockname() + (r.decode(),)))
except OSError as e:
    print("error %s" % e.__class__.__name__)
PY
chmod a+r "$W/lsrv.py" "$W/lcli.py"
# the listener of PORT (TCP or UDP): "users:((NAME" of its owner, or nothing
holder() { ss -Hlnp -A "$1" "sport = :$2" | grep -o 'users:(("[^"]*"' | head -1; }
wait_ready() { # FILE N: the service's Nth "ready" line
	for _ in $(seq 200); do
		[ "$(grep -c '^ready' "$1" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# "me X | peer X me Y": the service saw the client's own address, and
# the client's destination is the service's own address
direct() { # OUT ADDR:PORT
	[ "$(sed -n 's/^me \([^ ]*\) | peer \([^ ]*\) me .*/\1/p' <<<"$1")" = "$(sed -n 's/^me \([^ ]*\) | peer \([^ ]*\) me .*/\2/p' <<<"$1")" ] &&
		grep -q " me $2\$" <<<"$1"
}
bind_case() { # NAME PROTO FAM INSIDE-ADDR SPEC-SUFFIX: one service, one client
	local name=$1 proto=$2 fam=$3 in=$4 pp cp=80 rf="$W/ready-$1" S="$TU_XDG/rs-bypass-$1"
	pp=$(net_free_port)
	: > "$rf"; chmod 666 "$rf"
	L --state-dir="$S" --net=slirp4netns --port-driver=builtin -p "$pp:$cp/$proto$5" \
		--net-bypass="$A/32" -- $PY "$W/lsrv.py" "$proto" "$fam" "$in" "$cp" "$rf" 1 \
		>"$W/launch-$name.out" 2>&1 &
	local lp=$!
	wait_ready "$rf" 1 || diag "$name: the service did not start: $(cat "$W/launch-$name.out")"
	own=$(holder "${proto/udp/udp}" "$pp")
	out=$($PY "$W/lcli.py" "$proto" "$A" "$pp")
	wait "$lp"
	PP=$pp
}
bind_case tcp4 tcp 4 0.0.0.0 4
diag "tcp4: $out ($own)"
check "TCP -p PORT:80/tcp4, the service binds 0.0.0.0:80: its listener is the host's port" grep -q python3 <<<"$own"
check "a host client reaches it directly (the service sees the client's address, $A:$PP its own)" direct "$out" "$A:$PP"
check "the host port is released when the launch ends" [ -z "$(holder tcp "$PP")" ]
bind_case tcp6 tcp 6 :: ""
diag "tcp: $out ($own)"
check "TCP -p PORT:80/tcp (dual-stack), the service binds [::]:80 dual-stack: bypassed" grep -q python3 <<<"$own"
check "and reached directly over IPv4" direct "$out" "$A:$PP"
bind_case udp4 udp 4 0.0.0.0 4
diag "udp4: $out ($own)"
check "UDP -p PORT:80/udp4: the service's socket is the host's port" grep -q python3 <<<"$own"
check "a datagram reaches it directly and the reply comes back" direct "$out" "0.0.0.0:$PP"
check "the host UDP port is released when the launch ends" [ -z "$(holder udp "$PP")" ]
bind_case lo tcp 4 127.0.0.1 4
diag "loopback: $out ($own)"
check "a bind to 127.0.0.1 inside (the namespace's loopback) is not bypassed: the driver keeps the port" grep -q rootless-setup <<<"$own"
check "and forwards to it as before" grep -q " me 127.0.0.1:80\$" <<<"$out"
bind_case v4on6 tcp 4 0.0.0.0 ""
diag "IPv4 service, dual-stack port: $out ($own)"
check "an IPv4-only service on a dual-stack port is not bypassed (it would lose IPv6 clients)" grep -q rootless-setup <<<"$own"

# a port not published stays inside; the same service binding again after
# closing its listener is bypassed again (the driver came back between)
pp=$(net_free_port); up=$(net_free_port); rf="$W/ready-again"; S="$TU_XDG/rs-bypass-again"
: > "$rf"; : > "$rf.un"; chmod 666 "$rf" "$rf.un"
L --state-dir="$S" --net=slirp4netns --port-driver=builtin -p "$pp:80/tcp4" --net-bypass="$A/32" -- sh -c \
	"$PY $W/lsrv.py tcp 4 0.0.0.0 $up $rf.un 1 & u=\$!; $PY $W/lsrv.py tcp 4 0.0.0.0 80 $rf 2; kill \$u; wait \$u" \
	>"$W/launch-again.out" 2>&1 &
lp=$!
wait_ready "$rf.un" 1
check "a bind to a port not published ($up) stays inside: no host listener" [ -z "$(holder tcp "$up")" ]
wait_ready "$rf" 1
out=$($PY "$W/lcli.py" tcp "$A" "$pp")
check "first listener: bypassed" direct "$out" "$A:$pp"
back=
for _ in $(seq 100); do
	grep -q rootless-setup <<<"$(holder tcp "$pp")" && { back=1; break; }
	sleep 0.1
done
check "its listener closed, the port driver listens again" [ -n "$back" ]
touch "$rf.go0"
wait_ready "$rf" 2
out=$($PY "$W/lcli.py" tcp "$A" "$pp")
check "a second bind takes the port from the driver again: bypassed" direct "$out" "$A:$pp"
wait "$lp"
rm -rf "$S" "$TU_XDG"/rs-bypass-{tcp4,tcp6,udp4,lo,v4on6}

# 6. bad input: one line, 125, nothing started
out=$(L --net-bypass=0.0.0.0/0 -- true 2>&1); rc=$?
check "--net-bypass with --net=host: 125 and one line" eval '[ $rc = 125 ] && [ $(wc -l <<<"$out") = 1 ] && grep -q "needs the command in a network of its own" <<<"$out"'
out=$(L --net=slirp4netns --net-bypass=10.1.2.3/8 -- true 2>&1); rc=$?
check "--net-bypass=10.1.2.3/8 (not a network address): 125" eval '[ $rc = 125 ] && grep -q "bad --net-bypass" <<<"$out"'
out=$(L --net=slirp4netns --net-bypass=0.0.0.0/0, -- true 2>&1); rc=$?
check "--net-bypass with an empty item: 125" [ $rc = 125 ]

done_testing
