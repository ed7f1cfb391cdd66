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
        c, a = s.accept(); c.sendall(b"ok"); c.close()
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
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		ss -Htanu "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
serve() { # KIND ADDR PORT LOG
	: > "$4"
	$PY "$W/srv.py" "$@" &
	tu_on_exit kill "$!"
	for _ in $(seq 50); do
		ss -Hltun "sport = :$3" | grep -q . && return 0
		sleep 0.05
	done
}
TA=$(free_port); serve tcp "$A" "$TA" "$W/a.log"
LP=$(free_port); serve tcp 127.0.0.1 "$LP" "$W/lo.log"
UA=$(free_port); serve udp "$A" "$UA" "$W/ua.log"
ULP=$(free_port); serve udp 127.0.0.1 "$ULP" "$W/ulo.log"
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

done_testing
