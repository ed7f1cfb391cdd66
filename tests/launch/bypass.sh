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

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		ss -Htanu "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
serve() { # KIND ADDR PORT: up when this returns
	$PY "$W/srv.py" "$@" &
	tu_on_exit kill "$!"
	for _ in $(seq 50); do
		ss -Hltun "sport = :$3" | grep -q . && return 0
		sleep 0.05
	done
}
TA=$(free_port); serve tcp "$A" "$TA"
TB=$(free_port); serve tcp "$B" "$TB"
HA=$(free_port); serve http "$A" "$HA"
UA=$(free_port); serve udp "$A" "$UA"
LP=$(free_port); serve tcp 127.0.0.1 "$LP"

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

# 6. bad input: one line, 125, nothing started
out=$(L --net-bypass=0.0.0.0/0 -- true 2>&1); rc=$?
check "--net-bypass with --net=host: 125 and one line" eval '[ $rc = 125 ] && [ $(wc -l <<<"$out") = 1 ] && grep -q "needs the command in a network of its own" <<<"$out"'
out=$(L --net=slirp4netns --net-bypass=10.1.2.3/8 -- true 2>&1); rc=$?
check "--net-bypass=10.1.2.3/8 (not a network address): 125" eval '[ $rc = 125 ] && grep -q "bad --net-bypass" <<<"$out"'
out=$(L --net=slirp4netns --net-bypass=0.0.0.0/0, -- true 2>&1); rc=$?
check "--net-bypass with an empty item: 125" [ $rc = 125 ]

done_testing
