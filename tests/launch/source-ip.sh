#!/bin/bash
# Source-address propagation of the builtin port driver
# (--source-ip-transparent, RootlessKit v3's, on by default): a TCP
# service inside the launch sees the real client address of a connection
# through a published port, for IPv4 and IPv6, with --net=none (no route
# out at all) and --net=slirp4netns (a default route out of the tap);
# loopback clients and --source-ip-transparent=false are seen as loopback;
# bytes still arrive whole; rootlessctl still works. The client addresses
# are ones this test adds to the host's lo (free ones, checked before) and
# removes at the end.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

PY=/usr/bin/python3
[ -x $PY ] || { skip "source-ip tests" "no /usr/bin/python3"; done_testing; exit; }
[ "$(id -u)" = 0 ] || { skip "source-ip tests" "adding a client address to lo needs root"; done_testing; exit; }
tu_setup || { skip "source-ip tests" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
BASE=$((22000 + ($$ % 1000) * 8))

# client addresses on the host's lo, ones nobody has: an IPv4 /32 from
# 10.254/16 and an IPv6 /128 from a ULA prefix of our own
lo_before=$(ip -o addr show dev lo | awk '{print $4}' | sort)
A4="" A6=""
for _ in $(seq 20); do
	a=10.254.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	ip -o addr | grep -q " $a/" && continue
	ip addr add "$a/32" dev lo && A4=$a && break
done
[ -n "$A4" ] && tu_on_exit ip addr del "$A4/32" dev lo
if [ -e /proc/net/if_inet6 ]; then
	for _ in $(seq 20); do
		a=fd72:7273:$(printf %x $((RANDOM))):$(printf %x $((RANDOM)))::1
		ip -o addr | grep -q " $a/" && continue
		ip -6 addr add "$a/128" dev lo nodad 2>/dev/null && A6=$a && break
	done
	[ -n "$A6" ] && tu_on_exit ip -6 addr del "$A6/128" dev lo
fi
[ -n "$A4" ] || { skip "source-ip tests" "cannot add an address to lo"; done_testing; exit; }

# inside: a TCP server on 8000 (dual-stack) that answers the peer's address
# and closes; "big" answers 4 MB after the address
cat > "$W/peer.py" <<'PY'
import socket, threading, sys
data = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 8000)); s.listen(16)
def serve(c, a):
    h = a[0][7:] if a[0].startswith("::ffff:") else a[0]
    want = c.recv(10)
    c.sendall(h.encode() + b"\n" + (data if want.startswith(b"big") else b""))
    c.close()
while True:
    threading.Thread(target=serve, args=s.accept(), daemon=True).start()
PY
head -c 4000000 /dev/urandom > "$W/big"
chmod -R a+rX "$W"

# ask SRC DST PORT [big]: the first line the server answers
ask() {
	$PY - "$@" <<'PY'
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
what = sys.argv[4] if len(sys.argv) > 4 else "peer"
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
s.settimeout(3)
try:
    s.bind((src, 0)); s.connect((dst, port)); s.sendall(what.encode())
    b = b""
    while True:
        d = s.recv(1 << 16)
        if not d: break
        b += d
    h, _, rest = b.partition(b"\n")
    if what == "big":
        import hashlib; print(h.decode(), hashlib.sha1(rest).hexdigest())
    else:
        print(h.decode())
except OSError as e:
    print("error:", e)
PY
}
wait_sock() { for _ in $(seq 100); do [ -S "$1/api.sock" ] && return 0; sleep 0.05; done; return 1; }
wait_up() { for _ in $(seq 60); do [ "$(ask 127.0.0.1 127.0.0.1 "$1")" = 127.0.0.1 ] && return 0; sleep 0.1; done; return 1; }
stop() { # STATE LAUNCHER-JOB
	kill -TERM "$(cat "$1/child_pid" 2>/dev/null)" 2>/dev/null
	for _ in $(seq 50); do tu_dead "$2" && break; sleep 0.1; done
	kill -KILL "$2" 2>/dev/null
	wait "$2" 2>/dev/null
}

# one_net NET [LAUNCH-OPTS...]: the whole set against a launch on NET
one_net() {
	local net=$1 p4=$BASE p6=$((BASE + 1)) s="$TU_XDG/rs-srcip" lp out label=$1 enter=()
	shift
	BASE=$((BASE + 2))
	rm -rf "$s"
	# with --detach-netns the command keeps the host's network: the server
	# enters the launch's (as upstream's integration-port-source-ip.sh)
	case " $* " in *" --detach-netns "*)
		label="$net --detach-netns"
		enter=(sh -c 'exec nsenter --net="$0/netns" "$@"' "$s") ;;
	esac
	tu_run "$RS" launch --state-dir="$s" --net="$net" --port-driver=builtin "$@" \
		-p "0.0.0.0:$p4:8000/tcp" -p "[::]:$p6:[::1]:8000/tcp6" \
		-- "${enter[@]}" $PY "$W/peer.py" "$W/big" 2>"$W/stderr" &
	lp=$!
	wait_sock "$s"
	wait_up "$p4" || diag "the server did not come up: $(cat "$W/stderr")"
	out=$(ask "$A4" "$A4" "$p4")
	check "$label: an IPv4 client $A4 is seen as itself ($out)" [ "$out" = "$A4" ]
	out=$(ask 127.0.0.1 127.0.0.1 "$p4")
	check "$label: a loopback client is seen as 127.0.0.1 ($out)" [ "$out" = 127.0.0.1 ]
	out=$(ask "$A4" "$A4" "$p4" big)
	check "$label: 4 MB through a propagated connection arrive whole" \
		[ "$out" = "$A4 $(sha1sum <"$W/big" | cut -d' ' -f1)" ]
	out=$(ask "$A4" "$A4" "$p4")
	check "$label: and the address again on a later connection ($out)" [ "$out" = "$A4" ]
	if [ -n "$A6" ]; then
		out=$(ask "$A6" "$A6" "$p6")
		check "$label: an IPv6 client $A6 is seen as itself ($out)" [ "$out" = "$A6" ]
	else
		skip "$label: IPv6 client" "no IPv6 on this host's lo"
	fi
	if command -v rootlessctl >/dev/null; then
		local id p3=$((BASE)) rc=(tu_run rootlessctl --socket "$s/api.sock")
		BASE=$((BASE + 1))
		id=$("${rc[@]}" add-ports "0.0.0.0:$p3:8000/tcp")
		out=$(ask "$A4" "$A4" "$p3")
		check "$label: a port added with rootlessctl propagates too ($out)" [ "$out" = "$A4" ]
		"${rc[@]}" remove-ports "$id" >/dev/null
		check "$label: rootlessctl info still answers" \
			grep -q '"driver": "builtin"' <<<"$("${rc[@]}" info --json)"
	fi
	check "$label: no warning that it cannot propagate" sh -c "! grep -q propagate '$W/stderr'"
	stop "$s" "$lp"
}

one_net none
if [ -c /dev/net/tun ] && command -v slirp4netns >/dev/null &&
	setfacl -m "u:$TU_NAME:rw" /dev/net/tun; then
	tu_on_exit setfacl -x "u:$TU_NAME" /dev/net/tun
	one_net slirp4netns
	one_net slirp4netns --detach-netns
	setfacl -x "u:$TU_NAME" /dev/net/tun
else
	skip "slirp4netns" "no /dev/net/tun for the user, or no slirp4netns"
fi

# off: the old behaviour, the client seen as loopback
s="$TU_XDG/rs-srcip-off" p=$BASE
rm -rf "$s"
tu_run "$RS" launch --state-dir="$s" --net=none --port-driver=builtin \
	--source-ip-transparent=false -p "0.0.0.0:$p:8000/tcp" -- $PY "$W/peer.py" "$W/big" 2>/dev/null &
lp=$!
wait_sock "$s"
wait_up "$p"
out=$(ask "$A4" "$A4" "$p")
check "--source-ip-transparent=false: $A4 is seen as 127.0.0.1 ($out)" [ "$out" = 127.0.0.1 ]
stop "$s" "$lp"
out=$(tu_run "$RS" launch --source-ip-transparent=maybe -- true 2>&1)
check "a bad --source-ip-transparent value is one line" [ "$(wc -l <<<"$out")" = 1 ]

tu_cleanup
lo_after=$(ip -o addr show dev lo | awk '{print $4}' | sort)
check "the host's lo has its addresses as before" [ "$lo_before" = "$lo_after" ]
check "and no process of the user is left" [ -z "$(pgrep -u "$TU_UID" 2>/dev/null)" ]
done_testing
