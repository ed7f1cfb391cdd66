#!/bin/bash
# Root installing a daemon engine for a user on a host without a user
# manager starts the launch itself, detached, as the user: its log goes to
# $XDG_RUNTIME_DIR/rootless-setup/ENGINE/launch.log, a directory the user
# owns and may have prepared. The attacks: launch.log a symlink to a root
# file, the state dir a symlink to a root directory, a "lock" the user holds
# naming a root process. Root's files stay as they were, nothing is
# signalled, and the process that does start is the user's: its uids and
# groups, no capability, its own session, only the unit's environment, and
# no descriptor of root's.
#
#   RS_BIN=build/rootless-setup RS_TEST_USER=rsdetach bash tests/security/t-detach.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

sec_begin "detached start attacks" "root runs install for the user: needs root"
command -v containerd > /dev/null || { skip "detached start attacks" "containerd is not installed"; done_testing; exit; }
sec_records
sec_scratch detach
S="$TU_XDG/rootless-setup/containerd"
uninst() { "$RS" --user "$TU_NAME" --engine containerd uninstall --purge --yes > "$O/un.out" 2>&1; }
tu_on_exit uninst
echo keep > "$D/decoy" && chmod 0644 "$D/decoy"
mkdir -p "$D/rootdir" && echo keep > "$D/rootdir/f"
before=$(digest "$D/decoy" "$D/rootdir")

# 1. launch.log planted as a symlink to a root file
tu_run mkdir -p "$S"
tu_run ln -s "$D/decoy" "$S/launch.log"
"$RS" --user "$TU_NAME" --engine containerd install > "$O/1" 2>&1
check "a symlinked launch.log: nothing started, and said why" grep -q 'cannot start .*symbolic links' "$O/1"
check "a symlinked launch.log: the root file it names is unchanged" [ "$before" = "$(digest "$D/decoy" "$D/rootdir")" ]
check "a symlinked launch.log: no containerd of the user's" sh -c "! pgrep -u $TU_UID -x containerd"
tu_run rm -rf "$TU_XDG/rootless-setup"

# 2. the state dir a symlink to a root directory
tu_run mkdir -p "$TU_XDG/rootless-setup"
tu_run ln -s "$D/rootdir" "$S"
"$RS" --user "$TU_NAME" --engine containerd install > "$O/2" 2>&1
check "a symlinked state dir: nothing started, and said why" grep -q 'cannot start' "$O/2"
check "a symlinked state dir: the root directory is unchanged" [ "$before" = "$(digest "$D/decoy" "$D/rootdir")" ]
tu_run rm -rf "$TU_XDG/rootless-setup"

# 3. a lock the user holds, naming a root process
sleep 300 & rootp=$!
tu_on_exit kill "$rootp"
tu_run mkdir -p "$S"
tu_run sh -c "echo $rootp > '$S/lock'"
tu_run flock "$S/lock" sleep 300 2> /dev/null &
for _ in $(seq 50); do pgrep -u "$TU_UID" -x sleep > /dev/null && break; sleep 0.1; done
"$RS" --user "$TU_NAME" --engine containerd install > "$O/3" 2>&1
check "a held lock: taken as a running launch, nothing started" sh -c "grep -q 'already running' '$O/3' && ! pgrep -u $TU_UID -x containerd"
check "the root process the lock names is not signalled" kill -0 "$rootp"
pkill -u "$TU_UID" -x flock; pkill -u "$TU_UID" -x sleep
tu_run rm -rf "$TU_XDG/rootless-setup"

# 4. the launch that starts: the user's, nothing of root's
export SECRET_OF_ROOT=do-not-leak
"$RS" --user "$TU_NAME" --engine containerd install > "$O/4" 2>&1
unset SECRET_OF_ROOT
check "install started the launch" grep -q 'started (no systemd user manager)' "$O/4"
lp=$(cat "$S/lock" 2>/dev/null | tr -d '\n')
check "the launcher's pid is in the state dir's lock ($lp)" sh -c "[ -n '$lp' ] && [ -d '/proc/$lp' ]"
st=/proc/$lp/status
check "the launcher's uids and gids are all the user's" sh -c \
	"[ \"\$(awk '/^Uid:/ {print \$2,\$3,\$4,\$5}' $st)\" = '$TU_UID $TU_UID $TU_UID $TU_UID' ] && [ \"\$(awk '/^Gid:/ {print \$2,\$3,\$4,\$5}' $st)\" = '$TU_GID $TU_GID $TU_GID $TU_GID' ]"
check "no capability in its own namespace" sh -c "[ \"\$(awk '/^CapEff:/ {print \$2}' $st)\" = 0000000000000000 ] && [ \"\$(awk '/^CapPrm:/ {print \$2}' $st)\" = 0000000000000000 ]"
check "its groups are the user's" [ "$(awk '/^Groups:/ {$1 = ""; print}' "$st" | xargs)" = "$(id -G "$TU_NAME" | xargs)" ]
check "a session of its own, no terminal" sh -c "[ \"\$(ps -o sid= -p $lp | tr -d ' ')\" = '$lp' ] && [ \"\$(ps -o tty= -p $lp | tr -d ' ')\" = '?' ]"
env_names=$(tr '\0' '\n' < "/proc/$lp/environ" | cut -d= -f1 | sort | xargs)
check "only the unit's environment ($env_names)" [ "$env_names" = "HOME LOGNAME PATH USER XDG_RUNTIME_DIR" ]
check "stdin is /dev/null, stdout and stderr the log" sh -c \
	"[ \"\$(readlink /proc/$lp/fd/0)\" = /dev/null ] && [ \"\$(readlink /proc/$lp/fd/1)\" = '$S/launch.log' ] && [ \"\$(readlink /proc/$lp/fd/2)\" = '$S/launch.log' ]"
rootfds=$(for f in /proc/"$lp"/fd/*; do t=$(readlink "$f"); case $t in /var/lib/rootless-setup* | /etc/* | /root*) echo "$t" ;; esac; done)
check "no descriptor of root's files${rootfds:+ ($rootfds)}" [ -z "$rootfds" ]
check "the log is the user's, 0600" [ "$(stat -c '%U %a' "$S/launch.log")" = "$TU_NAME 600" ]
uninst
check "uninstall stops it and removes the log" sh -c "grep -q 'the running launch: stopped' '$O/un.out' && [ ! -e '$S/launch.log' ]"
done_testing
