#!/bin/bash
# Published ports of a launch, as a real unprivileged throwaway user:
# RootlessKit's API on STATE_DIR/api.sock (Debian's rootlessctl against it,
# unchanged), the builtin driver's TCP and UDP over IPv4 and IPv6, removal,
# the `ports` verb, refusals (malformed -p, a port in use, a privileged
# port), the API of a launch with nothing to publish, and the slirp4netns
# driver. Loopback only.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

tu_setup || { skip "port tests" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
PY=/usr/bin/python3
[ -x $PY ] || { skip "port tests" "no /usr/bin/python3"; done_testing; exit; }
# ports from the local range nobody listens on: one base per run
BASE=$((20000 + ($$ % 2000) * 10))

# inside the launch: an HTTP server on 8000 (dual-stack) and a UDP echo on
# 9000, IPv4 and IPv6
cat > "$W/servers.py" <<'PY'
import http.server, socket, threading, os, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
def echo(fam, addr):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, 9000))
    while True:
        d, a = s.recvfrom(65536)
        s.sendto(b"echo:" + d, a)
for f, a in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    threading.Thread(target=echo, args=(f, a), daemon=True).start()
os.chdir(sys.argv[1])
S(("::", 8000), H).serve_forever()
PY
mkdir -p "$W/www" && echo hello-from-the-launch > "$W/www/index.html"
chmod -R a+rX "$W"

udp() { # HOST PORT: one datagram, the echo or nothing
	$PY - "$1" "$2" <<'PY'
import socket, sys
h, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
try:
    s.sendto(b"ping", (h, p)); print(s.recvfrom(100)[0].decode())
except OSError:
    pass
PY
}
get() { curl -s -m 3 "$1" 2>/dev/null; }
wait_sock() { for _ in $(seq 100); do [ -S "$1/api.sock" ] && return 0; sleep 0.05; done; return 1; }
wait_http() { for _ in $(seq 60); do [ -n "$(get "$1")" ] && return 0; sleep 0.1; done; return 1; }
launcher_of() { pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$1" | head -1; }
user_procs() { pgrep -u "$TU_UID" | wc -l; }
# LABEL: SIGTERM to the launcher $lpid (job $lp) ends it within 5 s, and
# nothing of the user's is left
term_ends() {
	kill -TERM "$lpid"
	for _ in $(seq 50); do tu_dead "$lpid" && break; sleep 0.1; done
	check "$1" tu_dead "$lpid"
	wait "$lp"
	sleep 0.3
	check "  and no process of the user is left" [ "$(user_procs)" = 0 ]
}

S=$TU_XDG/rs-ports
rm -rf "$S"
P1=$BASE P2=$((BASE + 1)) P3=$((BASE + 2)) P4=$((BASE + 3)) P5=$((BASE + 4))
tu_run "$RS" launch --state-dir="$S" --net=none --port-driver=builtin \
	-p "127.0.0.1:$P1:8000/tcp" --publish "[::1]:$P2:8000/tcp6" -p "127.0.0.1:$P3:9000/udp" \
	-- $PY "$W/servers.py" "$W/www" &
lp=$!
wait_sock "$S"
check "api.sock is there before the command runs, mode 0600" [ "$(stat -c %a "$S/api.sock" 2>/dev/null)" = 600 ]

# 1. builtin: TCP and UDP, IPv4 and IPv6
wait_http "http://127.0.0.1:$P1/"
check "tcp: 127.0.0.1:$P1 reaches the server inside" [ "$(get "http://127.0.0.1:$P1/")" = hello-from-the-launch ]
check "tcp6: [::1]:$P2 reaches it" [ "$(get "http://[::1]:$P2/")" = hello-from-the-launch ]
check "udp: 127.0.0.1:$P3 echoes" [ "$(udp 127.0.0.1 "$P3")" = echo:ping ]
big=$(head -c 3000000 /dev/urandom | base64 -w0 | head -c 4000000)
echo "$big" > "$W/www/big"
check "tcp: 4 MB arrive whole" [ "$(get "http://127.0.0.1:$P1/big" | sha1sum)" = "$(sha1sum < "$W/www/big")" ]

# 2. Debian's rootlessctl, unchanged, against our API
RC=(tu_run rootlessctl --socket "$S/api.sock")
if command -v rootlessctl >/dev/null; then
	out=$("${RC[@]}" info --json)
	check "rootlessctl info: apiVersion 1.1.1" grep -q '"apiVersion": "1.1.1"' <<<"$out"
	check "rootlessctl info: builtin with protos" grep -q '"udp6"' <<<"$out"
	check "rootlessctl info: builtin allows a loopback child IP" \
		sh -c "! grep -q disallowLoopbackChildIP" <<<"$out"
	check "rootlessctl list-ports: our three ports" [ "$("${RC[@]}" list-ports | grep -c "${BASE%?}")" = 3 ]
	id=$("${RC[@]}" add-ports "127.0.0.1:$P4:9000/udp4")
	check "rootlessctl add-ports: an id ($id)" grep -qx '[0-9]*' <<<"$id"
	check "udp4 added at run time echoes" [ "$(udp 127.0.0.1 "$P4")" = echo:ping ]
	id6=$("${RC[@]}" add-ports "[::1]:$P5:[::1]:9000/udp6")
	check "udp6 added at run time echoes" [ "$(udp ::1 "$P5")" = echo:ping ]
	"${RC[@]}" remove-ports "$id" >/dev/null
	check "rootlessctl remove-ports: the port is closed" [ -z "$(udp 127.0.0.1 "$P4")" ]
	"${RC[@]}" remove-ports "$id6" >/dev/null
	out=$("${RC[@]}" add-ports "127.0.0.1:$P1:80/tcp" 2>&1)
	check "rootlessctl: a conflict is refused with upstream's message" grep -q "conflict with ID 1" <<<"$out"
else
	skip "rootlessctl" "rootlesskit is not installed"
fi

# 3. the wire format of errors, as RootlessKit 2.x's: the status, and
#    {"message": ...} with a newline (Go's json.Encoder) as text/plain
C=(tu_run curl -s --unix-socket "$S/api.sock" -w ' %{http_code} %{content_type}')
check "DELETE of an unknown id: 400 and a message" \
	[ "$("${C[@]}" -X DELETE http://x/v1/ports/99)" = $'{"message":"unknown id: 99"}\n 400 text/plain; charset=utf-8' ]
C=(tu_run curl -s --unix-socket "$S/api.sock" -w ' %{http_code}')
check "an unknown path: 404" grep -q ' 404$' <<<"$("${C[@]}" http://x/v1/nothing)"
check "PUT /v1/info: 405" grep -q ' 405$' <<<"$("${C[@]}" -X PUT http://x/v1/info)"
check "a body that is not JSON: 400" grep -q '^{"message":.* 400$' <<<"$("${C[@]}" -X POST -d garbage http://x/v1/ports | tr -d '\n')"
out=$("${C[@]}" -X POST -d '{"spec":{"proto":"tcp","parentIP":"127.0.0.1","parentPort":'$P4',"childPort":8000}}' http://x/v1/ports)
check "POST {\"spec\": ...}: 201 and the status" grep -q '"parentPort":'$P4'.* 201$' <<<"$out"
big=$(head -c 100000 /dev/zero | tr '\0' x)
check "a body over 64 KiB: 413" grep -q ' 413$' <<<"$("${C[@]}" -X POST -d "$big" http://x/v1/ports)"
# 40 idle connections at once: the server stays up for the next client
$PY - "$S/api.sock" <<'PY' &
import socket, sys, time
ss = []
for i in range(40):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); ss.append(s)
    except OSError: pass
time.sleep(3)
PY
hp=$!
sleep 0.5
check "with 40 idle API clients, info still answers" grep -q ' 200$' <<<"$("${C[@]}" -m 3 http://x/v1/info)"
wait $hp

# 4. the ports verb
out=$(tu_run "$RS" ports --state-dir "$S" list)
check "ports list: a header and the ports" [ "$(grep -c "${BASE%?}" <<<"$out")" -ge 3 ]
id=$(tu_run "$RS" ports --state-dir "$S" add "127.0.0.1:$P5:8000/tcp4")
check "ports add: the port works" [ "$(get "http://127.0.0.1:$P5/")" = hello-from-the-launch ]
tu_run "$RS" ports --state-dir "$S" remove "$id" >/dev/null
check "ports remove: the port is closed" [ -z "$(get "http://127.0.0.1:$P5/")" ]
out=$(tu_run "$RS" ports --state-dir "$S" remove 4242 2>&1); rc=$?
check "ports remove of an unknown id: exit 1, the API's message ($out)" [ $rc = 1 ] && [ "$out" = "rootless-setup: unknown id: 4242" ]

# the API and the ports are served by the launcher itself: its processes
# are the launcher and the port helper in the child's network namespace
lpid=$(launcher_of "$S")
check "the launch's own processes: the launcher and its port helper" \
	[ "$(pgrep -u "$TU_UID" -x rootless-setup | sort | tr '\n' ' ')" = "$( (echo "$lpid"; pgrep -u "$TU_UID" -P "$lpid" -x rootless-setup) | sort | tr '\n' ' ')" ] && \
	[ "$(pgrep -u "$TU_UID" -x rootless-setup | wc -l)" = 2 ]
check "api.sock is the launcher's own socket" \
	grep -q "$(ss -xlnH src "$S/api.sock" | awk '{ print $6 }')" <<<"$(ls -l /proc/"$lpid"/fd 2>/dev/null)"
# a client stuck half-way through a request and an idle forwarded TCP
# connection: a SIGTERM still reaches the command and ends the launch
$PY - "$S/api.sock" "$P1" <<'PY' &
import socket, sys, time
a = socket.socket(socket.AF_UNIX); a.connect(sys.argv[1]); a.send(b"GET /v1/info HTTP/1.1\r\nHost: x\r\n")
t = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
time.sleep(8)
PY
hp=$!
sleep 0.5
term_ends "SIGTERM ends the launch while an API client and a TCP connection are open"
kill "$hp" 2>/dev/null
wait "$hp" 2>/dev/null
check "after the launch: api.sock is gone" [ ! -e "$S/api.sock" ]
check "after the launch: the ports are closed" [ -z "$(get "http://127.0.0.1:$P1/")" ]

# 4b. the port helper runs as the user, who may stop it: a connection then
# fails within the helper's bound, the API still answers, signals still
# reach the command, and the stopped helper is ended
rm -rf "$S"
tu_run "$RS" launch --state-dir="$S" --net=none --port-driver=builtin \
	-p "127.0.0.1:$P1:8000/tcp" -- $PY "$W/servers.py" "$W/www" &
lp=$!
wait_sock "$S"
wait_http "http://127.0.0.1:$P1/"
lpid=$(launcher_of "$S")
helper=$(pgrep -u "$TU_UID" -P "$lpid" -x rootless-setup)
# it holds stdio and its socket to the launcher, none of the launch's fds
fds=$(ls /proc/"$helper"/fd | sort -n | paste -sd' ')
check "the port helper holds fds 0-3 only ($fds)" [ "$fds" = "0 1 2 3" ] && \
	[ "$(stat -L -c %F "/proc/$helper/fd/3")" = socket ]
kill -STOP "$helper"
get "http://127.0.0.1:$P1/" >/dev/null
check "with the port helper stopped, the API still answers" grep -q ' 200$' <<<"$(tu_run curl -s -m 5 --unix-socket "$S/api.sock" -w ' %{http_code}' http://x/v1/info)"
check "and the stopped helper was ended" [ ! -e "/proc/$helper" ]
term_ends "and SIGTERM still ends the launch"

# 4c. TCP's ends through the builtin driver: a client's EOF reaches the
# server while the other direction still flows (half-close); more
# connections at once than get threads (RS_SPLICE_THREADED_MAX, 64: the rest
# move in the event loop), all whole; afterwards the launcher holds the fds
# and threads it held before
cat > "$W/count.py" <<'PY'
import hashlib, socket, threading
def serve(c):
    h, n = hashlib.sha1(), 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        h.update(d); n += len(d)
    c.sendall(f"{n} {h.hexdigest()}".encode()); c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9001)); s.listen(512)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
PY
chmod a+r "$W/count.py"
count() { # N SIZE: N connections at once, each sends SIZE bytes, shuts its
	# write side and reads the server's answer; prints how many were right
	$PY - "$P1" "$1" "$2" <<'PY'
import hashlib, os, socket, sys
port, n, size = (int(a) for a in sys.argv[1:])
data = os.urandom(size)
want = f"{size} {hashlib.sha1(data).hexdigest()}"
socks = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(n)]
for s in socks:
    s.sendall(data); s.shutdown(socket.SHUT_WR)
ok = 0
for s in socks:
    got = b""
    while d := s.recv(4096):
        got += d
    ok += got.decode() == want
    s.close()
print(ok)
PY
}
rm -rf "$S"
tu_run "$RS" launch --state-dir="$S" --net=none --port-driver=builtin \
	-p "127.0.0.1:$P1:9001/tcp" -- $PY "$W/count.py" &
lp=$!
wait_sock "$S"
lpid=$(launcher_of "$S")
# before its first connection (whose threads the server's start may race)
fds0=$(ls /proc/"$lpid"/fd | wc -l) tasks0=$(ls /proc/"$lpid"/task | wc -l)
for _ in $(seq 50); do [ "$(count 1 1 2>/dev/null)" = 1 ] && break; sleep 0.1; done
check "tcp half-close: 3 MB, then EOF, and the answer comes back" [ "$(count 1 3000000)" = 1 ]
check "tcp: 100 connections at once, past the threaded 64, all whole" [ "$(count 100 100000)" = 100 ]
for _ in $(seq 50); do
	fds=$(ls /proc/"$lpid"/fd | wc -l) tasks=$(ls /proc/"$lpid"/task | wc -l)
	[ "$fds $tasks" = "$fds0 $tasks0" ] && break
	sleep 0.1
done
check "and the launcher is back to its fds ($fds0: $fds) and threads ($tasks0: $tasks)" \
	[ "$fds $tasks" = "$fds0 $tasks0" ]
term_ends "and SIGTERM ends the launch"

# 5. refusals: one line, non-zero, no hang, nothing left behind
one_line() { # EXPECTED-RC PATTERN ARGS...: launch as the user and judge
	local want=$1 pat=$2; shift 2
	local out rc
	out=$(tu_run timeout 20 "$RS" launch --state-dir="$S" "$@" -- true 2>&1); rc=$?
	check "refused ($*): exit $want, one line naming it: $out" \
		[ $rc = "$want" ] && [ "$(grep -c '^rootless-setup:' <<<"$out")" = 1 ] && grep -q -- "$pat" <<<"$out"
	check "  and no process is left" [ "$(user_procs)" = 0 ]
}
one_line 125 "bad -p" --net=none --port-driver=builtin -p "127.0.0.1:$P1:80"
one_line 125 "bad -p" --net=none --port-driver=builtin -p "::1:$P1:80/tcp"
one_line 125 "needs a --port-driver" --net=none -p "$P1:80/tcp"
one_line 125 "needs the child's own network" --port-driver=builtin -p "$P1:80/tcp"
start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
if [ "$start" -gt 1 ]; then
	one_line 125 "net.ipv4.ip_unprivileged_port_start" --net=none --port-driver=builtin -p "127.0.0.1:$((start - 1)):80/tcp"
else
	skip "a privileged port" "ip_unprivileged_port_start is $start"
fi
$PY -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(8)' "$P1" &
hold=$!
sleep 0.3
one_line 125 "Address already in use" --net=none --port-driver=builtin -p "127.0.0.1:$P1:80/tcp"
kill "$hold"; wait "$hold" 2>/dev/null

# 5b. RootlessKit 2.x's API where there is nothing to publish: served
#     without a port driver too (rootlessctl info), no networkDriver for
#     the host's network, no portDriver, and an empty list is null
rm -rf "$S"
tu_run "$RS" launch --state-dir="$S" -- sleep 30 &
lp=$!
wait_sock "$S"
out=$(tu_run curl -s --unix-socket "$S/api.sock" http://x/v1/info)
check "no port driver: api.sock is served, info names neither driver" \
	[ "$(jq -c '[.apiVersion, .childPID > 0, has("networkDriver"), has("portDriver")]' <<<"$out")" = '["1.1.1",true,false,false]' ]
if command -v rootlessctl >/dev/null; then
	check "no port driver: rootlessctl info works" tu_run rootlessctl --socket "$S/api.sock" info
fi
check "no port driver: GET /v1/ports is 400, no PortDriver" \
	[ "$(tu_run curl -s --unix-socket "$S/api.sock" -w ' %{http_code}' http://x/v1/ports | tr -d '\n')" = '{"message":"no PortDriver is available"} 400' ]
lpid=$(launcher_of "$S")
kill -TERM "$lpid"
wait "$lp"
rm -rf "$S"
tu_run "$RS" launch --state-dir="$S" --net=none --port-driver=builtin -- sleep 30 &
lp=$!
wait_sock "$S"
check "no ports: GET /v1/ports is null, as Go's empty slice" \
	[ "$(tu_run curl -s --unix-socket "$S/api.sock" http://x/v1/ports)" = null ]
check "no ports: ports list reads it" [ "$(tu_run "$RS" ports --state-dir "$S" list | wc -l)" = 1 ]
lpid=$(launcher_of "$S")
kill -TERM "$lpid"
wait "$lp"

# 6. the slirp4netns driver (with an ACL on /dev/net/tun for the test only)
if command -v slirp4netns >/dev/null && command -v setfacl >/dev/null; then
	setfacl -m "u:$TU_NAME:rw" /dev/net/tun
	tu_run "$RS" launch --state-dir="$S" --net=slirp4netns --disable-host-loopback \
		--port-driver=slirp4netns -p "127.0.0.1:$P1:8000/tcp" -- $PY "$W/servers.py" "$W/www" &
	lp=$!
	wait_sock "$S"
	wait_http "http://127.0.0.1:$P1/"
	check "slirp4netns driver: -p reaches the server inside" [ "$(get "http://127.0.0.1:$P1/")" = hello-from-the-launch ]
	id=$(tu_run "$RS" ports --state-dir "$S" add "127.0.0.1:$P2:8000/tcp")
	check "slirp4netns driver: add at run time" [ "$(get "http://127.0.0.1:$P2/")" = hello-from-the-launch ]
	tu_run "$RS" ports --state-dir "$S" remove "$id" >/dev/null
	check "slirp4netns driver: removed is closed" [ -z "$(get "http://127.0.0.1:$P2/")" ]
	# Docker's rootlesskit-docker-proxy reads this to listen on the tap
	# address: slirp4netns cannot reach the namespace's loopback
	out=$(curl -s --unix-socket "$S/api.sock" http://x/v1/info)
	check "slirp4netns driver: info says disallowLoopbackChildIP, and the childIP" \
		[ "$(jq -r '[.portDriver.disallowLoopbackChildIP, .networkDriver.childIP] | @tsv' <<<"$out")" = "$(printf 'true\t10.0.2.100')" ]
	out=$(tu_run "$RS" ports --state-dir "$S" add "[::1]:$P3:8000/tcp6" 2>&1)
	check "slirp4netns driver: tcp6 refused with a reason" grep -q "does not forward tcp6" <<<"$out"
	# slirp4netns runs as the user, who may stop it: adds fail in bounded
	# time (its listen backlog filling up included), the launch goes on
	lpid=$(launcher_of "$S")
	kill -STOP "$(pgrep -u "$TU_UID" -x slirp4netns)"
	fails=0
	for i in 1 2 3 4; do
		out=$(tu_run timeout 20 "$RS" ports --state-dir "$S" add "127.0.0.1:$((P3 + i)):8000/tcp" 2>&1)
		grep -q "slirp4netns" <<<"$out" && fails=$((fails + 1))
	done
	check "slirp4netns stopped: each add fails, naming it ($fails of 4)" [ "$fails" = 4 ]
	term_ends "slirp4netns stopped: SIGTERM still ends the launch"
	setfacl -x "u:$TU_NAME" /dev/net/tun
	check "the ACL is gone afterwards" [ -z "$(getfacl -p /dev/net/tun 2>/dev/null | grep "user:$TU_NAME")" ]
else
	skip "slirp4netns port driver" "slirp4netns or setfacl is not installed"
fi
done_testing
