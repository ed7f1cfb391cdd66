# shellcheck shell=bash
# Ports and servers for the suites that run real network traffic (sourced,
# bash, after testuser.sh: servers are stopped by its tu_on_exit).
#
#   . tests/lib/net.sh
#   P=$(net_free_port)                        # a random free port
#   P=$(net_free_port 18080)                  # the first free one from 18080
#   net_serve "$P" "$PY" "$W/srv.py" tcp 127.0.0.1 "$P"
#
# Tests never assume a port free: they ask ss(8) now, and a server is up
# once ss sees it, not after a fixed sleep.

# net_free_port [FROM]: a port no TCP or UDP socket of this network
# namespace uses, in any state (listening, connected, closing): FROM or the
# first free one above it, or else one picked at random in 20000-49999
# (suites running at once rarely pick the same).
net_free_port() {
	local p=${1:-$((20000 + RANDOM % 30000))}
	while ss -Htanu "sport = :$p" | grep -q .; do
		if [ $# -gt 0 ]; then p=$((p + 1)); else p=$((20000 + RANDOM % 30000)); fi
	done
	echo "$p"
}

# net_serve PORT CMD [ARG]...: CMD in the background, its pid in NET_PID
# and killed when the suite ends (tu_on_exit); back once a socket listens
# on PORT (TCP) or is bound to it (UDP). Return: 1 when none is after 2.5 s.
net_serve() {
	local port=$1 _
	shift
	"$@" &
	NET_PID=$!
	tu_on_exit kill "$NET_PID"
	for _ in $(seq 50); do
		ss -Hltun "sport = :$port" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
