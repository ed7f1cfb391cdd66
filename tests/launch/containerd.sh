#!/bin/bash
# End to end, containerd's rootless guide with RootlessKit replaced: real containerd under
# `rootless-setup launch`, `ctr` through `rootless-setup nsenter`, a
# busybox container run by ctr with an OCI spec made by `runc spec
# --rootless` inside, and TERM to the launcher stopping everything.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

for b in containerd ctr runc busybox; do
	command -v $b >/dev/null || { skip "containerd end to end" "$b is not installed"; done_testing; exit; }
done
tu_setup || { skip "containerd end to end" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
S="$TU_XDG/rootless-setup/containerd"
SOCK="$TU_XDG/containerd/containerd.sock"
mkdir -p "$W/cfg"
cat > "$W/cfg/config.toml" <<TOML
version = 2
root = "$TU_HOME/.local/share/containerd"
state = "$TU_XDG/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$SOCK"
TOML
chown -R "$TU_UID" "$W/cfg"

tu_run "$RS" launch --copy-up=/etc --copy-up=/run --state-dir="$S" \
	sh -c "rm -f /run/containerd; exec containerd -c $W/cfg/config.toml" > "$W/containerd.log" 2>&1 &
lp=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
check "containerd is up under the launcher" [ -S "$SOCK" ]
[ -S "$SOCK" ] || grep -i -E 'error|fatal' "$W/containerd.log" | head -5 | sed 's/^/# /'
NS() { tu_run "$RS" nsenter --state-dir="$S" -- "$@"; }
out=$(NS ctr --address "$SOCK" version 2>&1)
check "ctr version answers through nsenter" grep -q "Server:" <<<"$out"
[ -n "$(grep Server: <<<"$out")" ] || echo "$out" | head -5 | sed 's/^/# /'

out=$(tu_run "$RS" --engine containerd nsenter -- sh -c 'echo "$CONTAINERD_ADDRESS"; ctr version >/dev/null && echo ok')
check "nsenter --engine containerd finds the launch and sets CONTAINERD_ADDRESS" [ "$out" = "$(printf '%s\nok' "$SOCK")" ]

# root acting for the user (--user): the user's /run/user/UID, never
# root's own; the command runs as the user (a file it makes is the
# user's on the host), with the client's variable
probe="$TU_HOME/.nsenter-probe"
out=$(env XDG_RUNTIME_DIR=/run/user/0 "$RS" --user "$TU_NAME" --engine containerd nsenter -- \
	sh -c 'touch "$1"; echo "$CONTAINERD_ADDRESS"; ctr version >/dev/null && echo ok' _ "$probe" 2>&1 </dev/null)
check "root: --user NAME nsenter --engine containerd runs in the user's launch with its address" \
	[ "$out" = "$(printf '%s\nok' "$SOCK")" ]
[ "$out" = "$(printf '%s\nok' "$SOCK")" ] || echo "$out" | tail -3 | sed 's/^/# /'
check "root: --user NAME nsenter --engine: the command ran as the user" [ "$(stat -c %u "$probe" 2>/dev/null)" = "$TU_UID" ]
rm -f "$probe"
# ports: root's answer for the user is the user's own (this launch has no
# port driver: the API says so, to both)
mine=$(tu_run "$RS" --engine containerd ports list 2>&1)
out=$(XDG_RUNTIME_DIR=/run/user/0 "$RS" --user "$TU_NAME" --engine containerd ports list 2>&1)
check "root: --user NAME ports --engine containerd list reaches the user's launch ($out)" \
	[ -n "$mine" ] && [ "$out" = "$mine" ]

# a busybox bundle; the spec is made inside the namespace, rootless
B="$W/bundle"
mkdir -p "$B/rootfs/bin" "$B/rootfs/proc" "$B/rootfs/dev" "$B/rootfs/sys" "$B/rootfs/tmp"
cp "$(command -v busybox)" "$B/rootfs/bin/busybox"
chown -R "$TU_UID" "$B"
NS sh -c "cd '$B' && runc spec --rootless"
jq '.process.terminal = false | .process.args = ["/bin/busybox", "echo", "hello-from-busybox"] | .root.path = "'"$B/rootfs"'"' \
	"$B/config.json" > "$B/c.json" && mv "$B/c.json" "$B/config.json"; chown "$TU_UID" "$B/config.json"
out=$(NS ctr --address "$SOCK" run --rm --config "$B/config.json" --cgroup "" bb1 2>&1)
check "a busybox container run by ctr prints its line" grep -qx hello-from-busybox <<<"$out"
[ -n "$(grep -x hello-from-busybox <<<"$out")" ] || echo "$out" | tail -5 | sed 's/^/# /'

launcher=$(pgrep -u "$TU_UID" -f "rootless-setup launch --copy-up=/etc --copy-up=/run --state-dir=$S" | head -1)
kill -TERM "$launcher"
wait "$lp"
sleep 0.5
left=$(pgrep -u "$TU_UID" -f 'containerd' | while read -r p; do tu_dead "$p" || echo "$p"; done)
check "TERM to the launcher stops containerd and everything under it" [ -z "$left" ]
check "the launch's state files are gone" [ ! -e "$S/child_pid" ]
done_testing
