#!/bin/bash
# `ports` as root for a user (issue 19, items 5 and 9). Root lists or adds
# the ports of a user's launch through STATE_DIR/api.sock; the user shapes
# that path. A symlinked api.sock, state dir or runtime-dir component aimed
# at a second user's launch must not make root add a port there (which would
# expose that user's private service); a socket whose server never accepts,
# or accepts and never answers, must not hold root for longer than the
# bound, and root is told which socket. Root's request reaches the user's
# server with the user's uid. Then the builtin driver's UDP: the second
# user floods the first user's published UDP port from thousands of source
# ports, and another client (root) still gets every answer.
#   RS_TEST_USER=rsports RS_BIN=build/rootless-setup bash tests/security/t-ports.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

sec_begin "ports attacks" "needs root (two throwaway users)"
PY=/usr/bin/python3
[ -x $PY ] || { skip "ports attacks" "no /usr/bin/python3"; done_testing; exit; }
sec_user2 || { skip "ports attacks" "cannot create a second user"; done_testing; exit; }
W=$TU_WORK
BASE=$((30000 + ($$ % 2000) * 10))
launches=()
stop_launches() {
	local p
	for p in "${launches[@]}"; do kill "$p" 2>/dev/null; done
	for p in $(pgrep -u "$TU_UID" -f "rootless-setup launch") $(pgrep -u "$U2ID" -f "rootless-setup launch"); do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for _ in $(seq 50); do
		[ -z "$(pgrep -u "$TU_UID")$(pgrep -u "$U2ID")" ] && return
		sleep 0.1
	done
	diag "left: $(ps -o pid=,user=,args= -u "$TU_UID","$U2ID" | tr '\n' ';')"
}
tu_on_exit stop_launches
# said RC WANT TEXT PATTERN: exit status WANT and PATTERN in TEXT
said() { [ "$1" = "$2" ] && grep -q -- "$4" <<<"$3"; }
wait_sock() { for _ in $(seq 200); do [ -S "$1/api.sock" ] && return 0; sleep 0.05; done; return 1; }
# the ports a state dir's launch forwards, as its owner sees them
ports_of() { # STATE-DIR RUNNER
	"$2" "$RS" ports --state-dir "$1" list 2>&1 | sort
}
# a UDP echo on 9000 inside a launch
cat > "$W/echo.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 9000))
while True:
    d, a = s.recvfrom(65536)
    s.sendto(b"echo:" + d, a)
PY
chmod 644 "$W/echo.py"

# the victim: the second user's launch, its API socket in its own 0700
# runtime dir, nothing published
S2=$U2XDG/rs-victim
as_u2 "$RS" launch --state-dir="$S2" --net=none --port-driver=builtin -- sleep 1000 &
launches+=($!)
# the attacker's own launch, for the legitimate case
S1=$TU_XDG/rs-own
tu_run "$RS" launch --state-dir="$S1" --net=none --port-driver=builtin -- $PY "$W/echo.py" &
launches+=($!)
if ! wait_sock "$S2" || ! wait_sock "$S1"; then
	not_ok "both launches serve their API"
	done_testing; exit
fi
victim_before=$(ports_of "$S2" as_u2)
digest_before=$(digest "$S2")

# 0. root for the user, on the user's own launch: works, as the user
out=$("$RS" ports --state-dir "$S1" list 2>&1); rc=$?
check "root lists the user's own launch's ports (rc $rc)" said $rc 0 "$out" '^ID'

out=$("$RS" --user "$U2" ports --state-dir "$S1" list 2>&1); rc=$?
check "--user naming another user: refused (rc $rc): $out" said $rc 3 "$out" "not uid $U2ID"
# root's request reaches the server with the user's uid (SO_PEERCRED)
mkdir -p "$W/cred" && chown "$TU_UID:$TU_GID" "$W/cred"
tu_run mkdir -p "$TU_XDG/rs-cred"
tu_run $PY - "$TU_XDG/rs-cred/api.sock" "$W/cred/uid" <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
c, _ = s.accept()
pid, uid, gid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
open(sys.argv[2], "w").write(str(uid))
c.recv(4096)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]")
c.close()
PY
credp=$!
for _ in $(seq 100); do [ -S "$TU_XDG/rs-cred/api.sock" ] && break; sleep 0.05; done
"$RS" ports --state-dir "$TU_XDG/rs-cred" list > /dev/null 2>&1
wait $credp
check "root's request comes from the user's uid, not root's ($(cat "$W/cred/uid" 2>/dev/null))" \
	[ "$(cat "$W/cred/uid" 2>/dev/null)" = "$TU_UID" ]

# 1. a symlinked api.sock into the second user's launch
P=$BASE
tu_run mkdir -p "$TU_XDG/rs-evil1"
tu_run ln -s "$S2/api.sock" "$TU_XDG/rs-evil1/api.sock"
out=$("$RS" ports --state-dir "$TU_XDG/rs-evil1" add "127.0.0.1:$P:80/tcp" 2>&1); rc=$?
check "a symlinked api.sock: refused (rc $rc): $out" said $rc 3 "$out" symlink
# 2. the state dir itself a symlink to the victim's
tu_run ln -s "$S2" "$TU_XDG/rs-evil2"
out=$("$RS" ports --state-dir "$TU_XDG/rs-evil2" add "127.0.0.1:$((P + 1)):80/tcp" 2>&1); rc=$?
check "a symlinked state dir: refused (rc $rc): $out" said $rc 3 "$out" symlink
# 3. a component of the path in the user's runtime dir a symlink
tu_run ln -s "$U2XDG" "$TU_XDG/rs-evil3"
out=$("$RS" ports --state-dir "$TU_XDG/rs-evil3/rs-victim" add "127.0.0.1:$((P + 2)):80/tcp" 2>&1); rc=$?
check "a symlink on the way: refused (rc $rc): $out" said $rc 3 "$out" symlink
# 4. --engine as root for the user: the runtime dir's engine dir a symlink
tu_run mkdir -p "$TU_XDG/rootless-setup"
tu_run ln -s "$S2" "$TU_XDG/rootless-setup/podman"
out=$("$RS" --user "$TU_NAME" --engine podman ports add "127.0.0.1:$((P + 3)):80/tcp" 2>&1); rc=$?
check "--engine for the user, its engine dir a symlink: refused (rc $rc): $out" said $rc 3 "$out" symlink
check "the second user's launch forwards nothing new" [ "$(ports_of "$S2" as_u2)" = "$victim_before" ]
check "and its state dir is as it was" [ "$(digest "$S2")" = "$digest_before" ]
listening=$(ss -Hltn "sport >= :$P and sport <= :$((P + 3))" 2>/dev/null | wc -l)
check "no port of the attack listens ($listening)" [ "$listening" = 0 ]

# 5. a socket that never accepts (its backlog full) and one that accepts
# and never answers: root gives up within the bound, naming the socket
tu_run mkdir -p "$TU_XDG/rs-stuck" "$TU_XDG/rs-mute"
tu_run $PY - "$TU_XDG/rs-stuck/api.sock" "$TU_XDG/rs-mute/api.sock" <<'PY' &
import socket, sys, time
a = socket.socket(socket.AF_UNIX); a.bind(sys.argv[1]); a.listen(0)
fill = []
for _ in range(4):  # the backlog full: a further connect(2) blocks
    c = socket.socket(socket.AF_UNIX); c.setblocking(False)
    try: c.connect(sys.argv[1])
    except OSError: pass
    fill.append(c)
b = socket.socket(socket.AF_UNIX); b.bind(sys.argv[2]); b.listen(4)
conns = []
t = time.time()
while time.time() - t < 60:
    b.settimeout(1)
    try: conns.append(b.accept()[0])  # and never answer
    except OSError: pass
PY
stuckp=$!
for _ in $(seq 100); do [ -S "$TU_XDG/rs-mute/api.sock" ] && break; sleep 0.05; done
timeout 60 "$RS" ports --state-dir "$TU_XDG/rs-stuck" list > /dev/null 2> "$W/stuck.err"; rc=$?
check "a socket that never accepts: root gives up (rc $rc): $(cat "$W/stuck.err")" \
	sh -c "[ $rc = 3 ] && grep -q \"'$TU_XDG/rs-stuck/api.sock'\" '$W/stuck.err' && [ \$(wc -l < '$W/stuck.err') = 1 ]"
timeout 60 "$RS" ports --state-dir "$TU_XDG/rs-mute" list > /dev/null 2> "$W/mute.err"; rc=$?
check "a server that never answers: root gives up (rc $rc): $(cat "$W/mute.err")" \
	sh -c "[ $rc = 3 ] && grep -q \"no answer from '$TU_XDG/rs-mute/api.sock'\" '$W/mute.err'"
# the same as the user itself (no root in the way): bounded too
tu_run timeout 60 "$RS" ports --state-dir "$TU_XDG/rs-stuck" list > /dev/null 2> "$W/stuck2.err"; rc=$?
check "the user's own call on it is bounded too (rc $rc)" [ $rc = 3 ]
kill "$stuckp" 2>/dev/null; wait "$stuckp" 2>/dev/null

# 6. UDP: the second user floods the first user's published UDP port from
# thousands of source ports; root's queries (a new source port each, as a
# DNS client does) all get their answers meanwhile
UP=$((BASE + 5))
id=$("$RS" ports --state-dir "$S1" add "127.0.0.1:$UP:9000/udp" 2>&1)
check "root publishes the user's UDP echo (id $id)" grep -qx '[0-9]*' <<<"$id"
lpid=$(pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$S1" | head -1)
fds0=$(ls "/proc/$lpid/fd" 2>/dev/null | wc -l)
# a new source port per datagram, 1000 a second (what the launcher forwards
# even under ASan: a faster flood only overflows the socket's receive
# buffer, where the kernel drops datagrams of everyone alike); each socket
# stays open a while, so the launcher can tell whose it is
cat > "$W/flood.py" <<'PY'
import resource, socket, sys, time
port, secs, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
keep = min(hard - 64, 4000)
socks, sent, t0 = [], 0, time.time()
while time.time() < t0 + secs:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(b"flood", ("127.0.0.1", port))
    socks.append(s)
    sent += 1
    if len(socks) > keep:
        socks.pop(0).close()
    ahead = t0 + sent / 1000.0 - time.time()
    if ahead > 0:
        time.sleep(ahead)
open(out, "w").write(str(sent))
PY
cat > "$W/ask.py" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
got = 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for _ in range(3):
        try:
            s.sendto(b"q%d" % i, ("127.0.0.1", port))
            if s.recvfrom(100)[0] == b"echo:q%d" % i:
                got += 1
                break
        except OSError:
            pass
    s.close()
    time.sleep(0.3)
print(got)
PY
chmod 644 "$W/flood.py" "$W/ask.py"
mkdir -p "$W/fl" && chown "$U2ID" "$W/fl"
as_u2 $PY "$W/flood.py" "$UP" 12 "$W/fl/sent" &
floodp=$!
sleep 2
got=$($PY "$W/ask.py" "$UP" 20)
fds=$(ls "/proc/$lpid/fd" 2>/dev/null | wc -l)
wait "$floodp"
sent=$(cat "$W/fl/sent" 2>/dev/null || echo 0)
check "the flood came from more source ports than the table holds ($sent datagrams)" [ "$sent" -gt 512 ]
check "every query of another client got its answer during the flood ($got of 20)" [ "$got" = 20 ]
# one flow is one socket of the launcher: the flooder's share stays its cap
check "the launcher held at most 32 flows of the flooder ($fds0 fds before, $fds during)" \
	[ "$fds" -le $((fds0 + 32 + 20 + 2)) ]
done_testing
