#!/bin/bash
# launch --net-bypass (docs/security.md, "A bypassed socket is the user's"):
# the user's processes inside the launch try to get, through the
# launcher's supervisor, a socket or a destination they could not have
# outside or that the rules keep in the namespace. A thread rewrites the
# address between the supervisor's read and the kernel's (blocking
# connects, which the kernel continues, and nonblocking ones) aiming at the
# host's loopback; a bypassed UDP socket is disconnected (AF_UNSPEC) and
# connected again to the host's loopback; a socket bound inside to port 80
# or marked with IP_TRANSPARENT (privileges of the namespace's root) asks
# for the bypass. None reaches the host's loopback, none leaves the host
# with port 80 or a transparent socket.
#   RS_TEST_USER=rsbypass RS_BIN=build/rootless-setup bash tests/security/t-net-bypass.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/../lib/net.sh"
. "$HERE/lib.sh"

sec_begin "--net-bypass attacks" "needs root (a throwaway user, an address on lo)"
PY=/usr/bin/python3
for b in $PY slirp4netns ip ss; do
	command -v "$b" >/dev/null || { skip "--net-bypass attacks" "$b is not installed"; done_testing; exit; }
done
W=$TU_WORK
R=$(($$ % 200 + 20))
A=198.18.$R.3
ip addr add "$A/32" dev lo && tu_on_exit ip addr del "$A/32" dev lo

# servers as root: each connection or datagram appends "PEERPORT" to its log
cat > "$W/srv.py" <<'PY'
import socket, sys
kind, addr, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
if kind == "tcp":
    s.listen(128)
while True:
    if kind == "udp":
        d, a = s.recvfrom(100); s.sendto(b"ok", a)
    else:
        c, a = s.accept()
        try:
            c.sendall(b"ok")
        except OSError:
            pass
        c.close()
    with open(log, "a") as f:
        f.write("%d\n" % a[1])
PY
# the attacks, inside: race BLOCKING N | udp-reconnect | bound | transparent
cat > "$W/atk.py" <<'PY'
import ctypes, socket, struct, sys, threading
mode, A, TA, LP, UA, ULP = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
libc = ctypes.CDLL(None, use_errno=True)
def sin(a, p):
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H4s8x", p, socket.inet_aton(a))
good, bad = sin(A, TA), sin("127.0.0.1", LP)
if mode == "race":
    blocking, n = sys.argv[7] == "1", int(sys.argv[8])
    buf = ctypes.create_string_buffer(good, 16)
    stop = False
    def flip():
        while not stop:
            ctypes.memmove(buf, bad, 16); ctypes.memmove(buf, good, 16)
    t = threading.Thread(target=flip); t.start()
    done = 0
    for _ in range(n):
        s = socket.socket(); s.setblocking(blocking)
        libc.connect(s.fileno(), buf, 16)
        s.close(); done += 1
    stop = True; t.join()
    print("raced %d" % done)
elif mode == "udp-reconnect":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
    s.connect((A, UA)); s.send(b"x"); s.recv(10)
    me = s.getsockname()[0]
    unspec = ctypes.create_string_buffer(struct.pack("=H14x", socket.AF_UNSPEC), 16)
    libc.connect(s.fileno(), unspec, 16)
    try:
        s.connect(("127.0.0.1", ULP)); s.send(b"x"); r = s.recv(10)
        print("reached %s via %s" % (r, me))
    except OSError as e:
        print("refused %s via %s" % (e.__class__.__name__, me))
else:
    s = socket.socket(); s.settimeout(5)
    if mode == "bound":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 80))
    else:
        s.setsockopt(socket.SOL_IP, 19, 1)  # IP_TRANSPARENT
    s.connect((A, TA)); s.recv(10)
    print("me %s:%d" % s.getsockname())
PY
chmod -R a+rX "$W"
serve() { : > "$4"; net_serve "$3" "$PY" "$W/srv.py" "$@"; } # KIND ADDR PORT LOG
TA=$(net_free_port); serve tcp "$A" "$TA" "$W/a.log"
LP=$(net_free_port); serve tcp 127.0.0.1 "$LP" "$W/lo.log"
UA=$(net_free_port); serve udp "$A" "$UA" "$W/ua.log"
ULP=$(net_free_port); serve udp 127.0.0.1 "$ULP" "$W/ulo.log"
atk() { local m=$1; shift; tu_run "$RS" launch --net=slirp4netns --net-bypass=0.0.0.0/0 -- \
	$PY "$W/atk.py" "$m" "$A" "$TA" "$LP" "$UA" "$ULP" "$@" 2>/dev/null; }

out=$(atk race 1 150)
check "race, blocking connects (the kernel continues them): all $out done" [ "$out" = "raced 150" ]
out=$(atk race 0 150)
check "race, nonblocking connects: all $out done" [ "$out" = "raced 150" ]
check "the races reached the host address" [ -s "$W/a.log" ]
check "no raced connect reached the host's 127.0.0.1 ($(wc -l < "$W/lo.log") did)" [ ! -s "$W/lo.log" ]

out=$(atk udp-reconnect)
check "a bypassed UDP socket (via $A) connected again to the host's 127.0.0.1 is refused" \
	grep -q "^refused .* via $A\$" <<<"$out"
check "nothing reached the host's loopback UDP server" [ ! -s "$W/ulo.log" ]

: > "$W/a.log"
out=$(atk bound)
check "a socket bound inside to port 80 goes through slirp4netns ($out)" grep -q "^me 10.0.2.100:80\$" <<<"$out"
check "the host saw no connection from port 80" eval '! grep -qx 80 "$W/a.log"'
out=$(atk transparent)
check "an IP_TRANSPARENT socket is not bypassed ($out)" grep -q "^me 10.0.2.100:" <<<"$out"

# bind(2): only a published port's child side is bypassed, only to the
# address the port driver held; a bind to another port (80 included,
# which root of the namespace may bind inside), a published one with
# IP_TRANSPARENT, or one whose address is rewritten while the supervisor
# reads it, never gets a host socket elsewhere; a port of another user, or
# a privileged one, cannot be published to begin with
cat > "$W/bnd.py" <<'PY'
import ctypes, errno, fcntl, os, socket, struct, sys, threading
mode, pub, other, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
libc = ctypes.CDLL(None, use_errno=True)
NETNS = os.stat("/proc/self/ns/net").st_ino
def where(s):
    # SIOCGSKNS: the socket's namespace; EPERM for the host's (no
    # capability there)
    try:
        fd = fcntl.ioctl(s.fileno(), 0x894C)
    except OSError as e:
        return "host" if e.errno == errno.EPERM else "?"
    ino = os.fstat(fd).st_ino; os.close(fd)
    return "inside" if ino == NETNS else "other"
def sin(p):
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H4s8x", p, socket.inet_aton("0.0.0.0"))
lines = []
if mode == "tfo":
    # a bypassed socket not connected (bound to the published port, or a
    # bypassed connect undone with AF_UNSPEC) asks the kernel to connect
    # it with sendto(MSG_FASTOPEN): that address the supervisor never saw
    LP = int(sys.argv[5]); A, TA = sys.argv[6], int(sys.argv[7])
    s = socket.socket(); s.bind(("0.0.0.0", 80))
    w = where(s)
    try:
        s.sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", LP)); r = "sent"
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    lines.append("bound %s %s" % (w, r))
    s = socket.socket(); s.settimeout(3); s.connect((A, TA)); w = where(s)
    unspec = ctypes.create_string_buffer(struct.pack("=H14x", socket.AF_UNSPEC), 16)
    libc.connect(s.fileno(), unspec, 16)
    try:
        s.sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", LP)); r = "sent"
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    lines.append("disconnected %s %s" % (w, r))
elif mode == "plain":
    for port in (other, 81, 80):
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port)); s.listen(1)
        lines.append("%d %s" % (s.getsockname()[1], where(s))); s.close()
    s = socket.socket(); s.setsockopt(socket.SOL_IP, 19, 1)  # IP_TRANSPARENT
    s.bind(("0.0.0.0", 80)); s.listen(1)
    lines.append("transparent %d %s" % (s.getsockname()[1], where(s))); s.close()
else:
    buf = ctypes.create_string_buffer(sin(80), 16)
    stop = False
    def flip():
        while not stop:
            ctypes.memmove(buf, sin(other), 16); ctypes.memmove(buf, sin(80), 16)
    t = threading.Thread(target=flip); t.start()
    for _ in range(int(mode)):
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if libc.bind(s.fileno(), buf, 16) == 0:
            lines.append("%d %s" % (s.getsockname()[1], where(s)))
        else:
            lines.append("error %d" % ctypes.get_errno())
        s.close()
    stop = True; t.join()
open(out, "w").write("\n".join(lines) + "\n")
PY
chmod a+r "$W/bnd.py"
PP=$(net_free_port); OP=$(net_free_port)
bnd() { : > "$W/bnd.out"; chmod 666 "$W/bnd.out"
	tu_run "$RS" launch --net=slirp4netns --port-driver=builtin -p "$PP:80/tcp4" --net-bypass="$A/32" -- \
		$PY "$W/bnd.py" "$1" "$PP" "$OP" "$W/bnd.out" "$LP" "$A" "$TA" 2>/dev/null; }
bnd plain
diag "$(tr '\n' ';' < "$W/bnd.out")"
check "a bind to a port not published ($OP) stays inside" grep -qx "$OP inside" "$W/bnd.out"
check "so does one to port 81 (not published, privileged on the host)" grep -qx "81 inside" "$W/bnd.out"
check "the published child port 80 is the host's port $PP" grep -qx "$PP host" "$W/bnd.out"
check "a bind with IP_TRANSPARENT (the namespace's privilege) stays inside" grep -qx "transparent 80 inside" "$W/bnd.out"
bnd 150
check "race: 150 binds answered" [ "$(wc -l < "$W/bnd.out")" = 150 ]
check "race: some were bypassed to the published port" grep -qx "$PP host" "$W/bnd.out"
check "race: every host socket is at the published port $PP, none at the rewritten $OP" \
	eval '! grep " host$" "$W/bnd.out" | grep -qvx "$PP host"'
check "race: no socket of another namespace" eval '! grep -Eq " (other|\?)$" "$W/bnd.out"'
: > "$W/lo.log"
bnd tfo
diag "$(tr '\n' ';' < "$W/bnd.out")"
check "sendto(MSG_FASTOPEN) on a bypassed bound socket is refused" grep -Eqx "bound host (EOPNOTSUPP|ENOTSUP)" "$W/bnd.out"
check "so is it on a bypassed connect undone with AF_UNSPEC" grep -Eqx "disconnected host (EOPNOTSUPP|ENOTSUP)" "$W/bnd.out"
sleep 0.5
check "no TCP Fast Open connect reached the host's 127.0.0.1" [ ! -s "$W/lo.log" ]

# another user's port: root listens on it (SO_REUSEPORT too); the launch
# cannot publish it, so no bind of the launch can reach it
$PY -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1); s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1)
time.sleep(60)' "$OP" &
rp=$!; tu_on_exit kill "$rp"
for _ in $(seq 50); do ss -Hltn "sport = :$OP" | grep -q . && break; sleep 0.05; done
out=$(tu_run "$RS" launch --net=slirp4netns --port-driver=builtin -p "$OP:80/tcp4" --net-bypass="$A/32" -- true 2>&1); rc=$?
check "publishing root's port $OP is refused ($rc: $out)" [ "$rc" != 0 ]
check "root's listener is untouched" eval 'ss -Hltnp "sport = :$OP" | grep -q "pid=$rp,"'
start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
if [ "$start" -gt 80 ]; then
	out=$(tu_run "$RS" launch --net=slirp4netns --port-driver=builtin -p 80:80/tcp4 --net-bypass="$A/32" -- true 2>&1); rc=$?
	check "publishing privileged port 80 is refused ($rc)" eval '[ $rc != 0 ] && grep -q "privileged port 80" <<<"$out"'
else
	skip "privileged port 80" "ip_unprivileged_port_start is $start here"
fi

done_testing
