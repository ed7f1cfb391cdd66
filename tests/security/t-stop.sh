#!/bin/bash
# uninstall stops a running launch of the engine: the state dir's
# child_pid is the user's to write, so root never signals on its say. A
# child_pid naming a root process, the user's own process outside a user
# namespace, or a symlinked state dir: nothing is signalled, and uninstall
# says why. Root runs uninstall for the user (--user).
#
#   RS_BIN=build/rootless-setup RS_TEST_USER=rsstop bash tests/security/t-stop.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

sec_begin "uninstall stop attacks" "root runs uninstall for the user: needs root"
sec_records
S="$TU_XDG/rootless-setup/containerd"
start_of() { awk '{ sub(/^.*\) /, ""); split($0, f, " "); print f[20] }' "/proc/$1/stat"; }

# plant ONE: child_pid/child_start as the user writes them
plant() {
	tu_run mkdir -p "$S"
	tu_run sh -c "echo $1 > '$S/child_pid'; echo $2 > '$S/child_start'"
}
unin() { "$RS" --user "$TU_NAME" --engine containerd uninstall > "$1" 2>&1; }

# 1. a root process (a decoy sleep), named with its true start time
sleep 300 & rootp=$!
tu_on_exit kill "$rootp"
plant "$rootp" "$(start_of "$rootp")"
unin "$TU_WORK/u1"
check "a root process named by child_pid is not signalled" kill -0 "$rootp"
check "and uninstall says why" grep -q 'not a launch of uid' "$TU_WORK/u1"

# 2. the user's own process, not in a user namespace (not a launch)
tu_run sleep 300 & up=$!
sleep 0.3
upid=$(pgrep -u "$TU_UID" -x sleep | head -1)
plant "$upid" "$(start_of "$upid")"
unin "$TU_WORK/u2"
check "the user's process outside a user namespace is not signalled" kill -0 "$upid"
check "and uninstall says why" grep -q 'not a launch of uid' "$TU_WORK/u2"
kill "$upid" 2>/dev/null; wait "$up" 2>/dev/null

# 3. a wrong start time (a recycled pid): stale, nothing signalled, no word
plant "$rootp" 12345
unin "$TU_WORK/u3"
check "a stale child_start: the process is not signalled" kill -0 "$rootp"
check "and nothing is said of stopping" sh -c "! grep -q stop '$TU_WORK/u3'"

# 4. the state dir a symlink to a root-owned directory holding child_pid
D=$(mktemp -d /tmp/rs-stop.XXXXXX); tu_on_exit rm -rf "$D"
echo "$rootp" > "$D/child_pid"; start_of "$rootp" > "$D/child_start"
before=$(digest "$D")
tu_run rm -rf "$S"; tu_run ln -s "$D" "$S"
unin "$TU_WORK/u4"
check "a symlinked state dir: the root process is not signalled" kill -0 "$rootp"
check "the decoy directory is unchanged" [ "$before" = "$(digest "$D")" ]
check "and uninstall says it refused" grep -q 'symbolic link' "$TU_WORK/u4"
done_testing
