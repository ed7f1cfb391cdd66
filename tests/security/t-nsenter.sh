#!/bin/bash
# nsenter as root into a user's launch (issue items 4 and 10): root enters
# as the launch's owner, never as host uid 0; child_pid (a file the user
# writes) cannot lead anyone into a process that is not their launch; a
# second user cannot enter the first user's launch; launched and entered
# commands get SIGPIPE back at its default and an empty signal mask.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

[ "$(id -u)" = 0 ] || { skip "nsenter attacks" "needs root"; done_testing; exit; }
tu_setup || { skip "nsenter attacks" "no test user"; done_testing; exit; }
tu_bin || { skip "nsenter attacks" "cannot copy the binary"; done_testing; exit; }
RS=$TU_BIN
W=$TU_WORK

# decoys: a root-owned 0755 directory only host root can write in
DECOY=$(mktemp -d /tmp/rs-decoy.XXXXXX)
tu_on_exit rm -rf "$DECOY"
chmod 755 "$DECOY"
install -d -m 0755 -o root -g root "$DECOY/decoydir"
echo keep > "$DECOY/decoydir/file"
# the user's own output directory, where its commands leave files
OUT=$W/out
install -d -m 0755 -o "$TU_UID" -g "$TU_GID" "$OUT"

launches=()
start_launch() { # STATE-DIR ARGS...: a launch as the user, waits for child_pid
	local s=$1; shift
	rm -rf "$s"
	tu_run "$RS" launch --state-dir="$s" "$@" &
	launches+=($!)
	for _ in $(seq 200); do [ -s "$s/child_pid" ] && break; sleep 0.05; done
	[ -s "$s/child_pid" ]
}
stop_launches() { # the launchers (tu_run's subshells exec them, $! is the subshell)
	local p
	for p in $(pgrep -u "$TU_UID" -f "rootless-setup launch --state-dir=$TU_XDG/rs-ns-"); do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
tu_on_exit stop_launches
starttime() { awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat"; }

# 1. the user's binary over /usr/bin/id inside its launch; root enters and runs id
cat > "$TU_HOME/evil" <<EOF
#!/bin/sh
touch "$DECOY/decoydir/pwned" 2>/dev/null
echo "evil-ran"
touch "$OUT/made-by-id"
EOF
chown "$TU_UID:$TU_GID" "$TU_HOME/evil"; chmod 755 "$TU_HOME/evil"
S=$TU_XDG/rs-ns-evil
start_launch "$S" -- sh -c "mount --bind $TU_HOME/evil /usr/bin/id && touch $OUT/mounted; sleep 1000"
for _ in $(seq 100); do [ -e "$OUT/mounted" ] && break; sleep 0.05; done
check "attack 1: the user bind-mounted its script over /usr/bin/id inside" [ -e "$OUT/mounted" ]
before=$(digest "$DECOY")
out=$("$RS" nsenter --state-dir="$S" -- id 2> "$W/1.err")
rc=$?
check "attack 1: root's nsenter ran (rc $rc)" [ $rc -eq 0 ]
check "attack 1: it ran the user's binary (the launch's mount namespace)" grep -qx evil-ran <<<"$out"
check "attack 1: no marker in the root-owned decoy dir" [ ! -e "$DECOY/decoydir/pwned" ]
check "attack 1: decoy digest unchanged" [ "$(digest "$DECOY")" = "$before" ]
check "attack 1: the command ran as the user (uid of its file)" \
	[ "$(stat -c %u "$OUT/made-by-id" 2>/dev/null)" = "$TU_UID" ]
check "attack 1: and with the user's gid" [ "$(stat -c %g "$OUT/made-by-id" 2>/dev/null)" = "$TU_GID" ]
# the entered process as the host sees it: the user's uids and gids (root's
# nsenter stays outside, root's, and runs the command as its child)
"$RS" nsenter --state-dir="$S" -- sleep 30 &
np=$!
cp=
for _ in $(seq 100); do
	cp=$(pgrep -P "$np" | head -n 1)
	[ -n "$cp" ] && grep -q "^Uid:.*\b$TU_UID\b" "/proc/$cp/status" 2>/dev/null && break
	sleep 0.05
done
hv=$(cat "/proc/${cp:-0}/status" 2>/dev/null)
kill "$np" 2>/dev/null; wait "$np" 2>/dev/null
check "attack 1: on the host the entered process has the user's uids" \
	[ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' <<<"$hv")" = "$TU_UID $TU_UID $TU_UID $TU_UID" ]
check "attack 1: and the user's gids" \
	[ "$(awk '/^Gid:/ {print $2, $3, $4, $5}' <<<"$hv")" = "$TU_GID $TU_GID $TU_GID $TU_GID" ]
check "attack 1: and no_new_privs" [ "$(awk '/^NoNewPrivs:/ {print $2}' <<<"$hv")" = 1 ]
pid=$(cat "$S/child_pid")

# 2. a fake state dir naming root-owned processes (a sleep, pid 1, an unshare -U)
sleep 1000 & rsleep=$!
unshare -U sleep 1000 & usleep=$!
tu_on_exit kill "$rsleep" "$usleep"
sleep 0.2
F=$TU_HOME/fake
fake() { # PID: the user writes child_pid and a matching child_start
	tu_run sh -c "mkdir -p '$F' && echo $1 > '$F/child_pid' && echo $(starttime "$1") > '$F/child_start'"
}
for target in "rsleep:$rsleep" "pid1:1" "unshare:$usleep"; do
	tn=${target%%:*} p=${target#*:}
	fake "$p"
	before=$(digest "$DECOY")
	"$RS" nsenter --state-dir="$F" -- touch "$DECOY/decoydir/pwned" > "$W/2r.out" 2>&1
	rc=$?
	check "attack 2 ($tn): root is refused (rc $rc)" [ $rc -eq 125 ]
	check "attack 2 ($tn): and told why: $(head -1 "$W/2r.out")" \
		grep -Eq "not a launch|refusing to enter" "$W/2r.out"
	tu_run "$RS" nsenter --state-dir="$F" -- touch "$DECOY/decoydir/pwned" > "$W/2u.out" 2>&1
	rc=$?
	check "attack 2 ($tn): the user is refused (rc $rc)" [ $rc -eq 125 ]
	check "attack 2 ($tn): and told why: $(head -1 "$W/2u.out")" grep -q "not your launch" "$W/2u.out"
	check "attack 2 ($tn): nothing ran (no marker, digest unchanged)" \
		[ ! -e "$DECOY/decoydir/pwned" ] && [ "$(digest "$DECOY")" = "$before" ]
done
# the same process, but child_start says it was recycled: stale
tu_run sh -c "echo $rsleep > '$F/child_pid'; echo 1 > '$F/child_start'"
"$RS" nsenter --state-dir="$F" -- true 2> "$W/2s.err"
check "attack 2: a child_start that does not match is stale" grep -q "stale" "$W/2s.err"
# a child_pid that is a symlink or a FIFO is not read
tu_run sh -c "rm -f '$F/child_pid' && ln -s /proc/self/stat '$F/child_pid'"
"$RS" nsenter --state-dir="$F" -- true 2> "$W/2l.err"
check "attack 2: a symlinked child_pid is refused (rc $?)" grep -q "cannot read" "$W/2l.err"

# 3. positive controls: the user enters its own launch, and root enters it as the user
out=$(tu_run "$RS" nsenter --state-dir="$S" -- sh -c 'head -1 /proc/self/uid_map; touch '"$OUT"'/made-by-user')
check "own launch: the user enters it (maps 0 -> its uid)" \
	[ "$(awk 'NR == 1 {print $1, $2}' <<<"$out")" = "0 $TU_UID" ]
check "own launch: the user's file is the user's" [ "$(stat -c %u "$OUT/made-by-user" 2>/dev/null)" = "$TU_UID" ]
out=$("$RS" nsenter --state-dir="$S" -- sh -c 'head -1 /proc/self/uid_map; echo $HOME; touch '"$OUT"'/made-by-root')
check "own launch: root enters it too" [ "$(awk 'NR == 1 {print $1, $2}' <<<"$out")" = "0 $TU_UID" ]
check "own launch: root's command is the user's (file owner)" \
	[ "$(stat -c %u:%g "$OUT/made-by-root" 2>/dev/null)" = "$TU_UID:$TU_GID" ]
check "own launch: with the user's HOME" [ "$(sed -n 2p <<<"$out")" = "$TU_HOME" ]

# 3b. root for the user (--user NAME --engine): the user's runtime dir,
# walked without its links: the engine's state dir a symlink (to the
# user's own launch, or anywhere) is refused, and nothing runs
tu_run mkdir -p "$TU_XDG/rootless-setup"
tu_run ln -sfn "$S" "$TU_XDG/rootless-setup/containerd"
out=$("$RS" --user "$TU_NAME" --engine containerd nsenter -- touch "$OUT/made-via-link" 2>&1); rc=$?
check "--user --engine: a symlinked engine state dir is refused (rc $rc): $out" \
	bash -c '[ "$1" -ne 0 ] && grep -q symlink <<<"$2"' _ "$rc" "$out"
check "--user --engine: and nothing ran" [ ! -e "$OUT/made-via-link" ]
tu_run rm -f "$TU_XDG/rootless-setup/containerd"
out=$("$RS" --user root nsenter --state-dir="$S" -- touch "$OUT/made-for-root" 2>&1); rc=$?
check "--user root with the user's state dir: refused, not root's (rc $rc): $out" \
	bash -c '[ "$1" -ne 0 ] && grep -q "belongs to uid" <<<"$2"' _ "$rc" "$out"
check "--user root: and nothing ran" [ ! -e "$OUT/made-for-root" ]

# 4. a second user cannot enter the first user's launch
U2=${RS_TEST_USER:-rstest}2
U2MARK="rootless-setup test user (throwaway)"
if getent passwd "$U2" > /dev/null && [ "$(getent passwd "$U2" | cut -d: -f5)" = "$U2MARK" ]; then
	pkill -KILL -u "$U2" 2>/dev/null; userdel -r "$U2" 2>/dev/null
fi
if ! getent passwd "$U2" > /dev/null && useradd -m -U -s /bin/sh -c "$U2MARK" "$U2"; then
	del_u2() { pkill -KILL -u "$U2" 2>/dev/null; sleep 0.1; userdel -r "$U2" 2>/dev/null; }
	tu_on_exit del_u2
	U2ID=$(id -u "$U2")
	as_u2() { (cd / && setpriv --reuid="$U2ID" --regid="$(id -g "$U2")" --init-groups --inh-caps=-all \
		env -i HOME="/home/$U2" PATH=/usr/bin:/bin "$@"); }
	as_u2 "$RS" nsenter --state-dir="$S" -- touch /tmp/rs-ns-u2-pwned > "$W/4a.err" 2>&1
	check "second user: the first user's state dir is refused (rc $?)" grep -q "rootless-setup:" "$W/4a.err"
	F2=/home/$U2/fake
	as_u2 sh -c "mkdir -p $F2 && cp '$S/child_pid' '$S/child_start' $F2/ 2>/dev/null || { echo $pid > $F2/child_pid; echo $(starttime "$pid") > $F2/child_start; }"
	as_u2 "$RS" nsenter --state-dir="$F2" -- touch /tmp/rs-ns-u2-pwned > "$W/4b.err" 2>&1
	rc=$?
	check "second user: its own state dir naming the launch is refused (rc $rc)" [ $rc -eq 125 ]
	check "second user: and told why: $(head -1 "$W/4b.err")" grep -q "not your launch" "$W/4b.err"
	check "second user: nothing ran" [ ! -e /tmp/rs-ns-u2-pwned ]
	rm -f /tmp/rs-ns-u2-pwned
else
	skip "second user" "cannot create user $U2"
fi

# 5. signals: SIGPIPE at its default, empty mask, in launch and nsenter
sigok() { # status text: SigIgn bit 13 clear, SigBlk 0
	local ign blk
	ign=$(awk '/^SigIgn:/ {print $2}' <<<"$1") blk=$(awk '/^SigBlk:/ {print $2}' <<<"$1")
	[ -n "$ign" ] && [ $(( 0x$ign & 0x1000 )) -eq 0 ] && [ $(( 0x$blk )) -eq 0 ]
}
for mode in plain pidns; do
	opt=(); [ $mode = pidns ] && opt=(--pidns)
	out=$(tu_run "$RS" launch "${opt[@]}" -- cat /proc/self/status)
	check "launch ($mode): SIGPIPE not ignored, nothing blocked" sigok "$out"
	out=$(tu_run "$RS" launch "${opt[@]}" -- sh -c 'yes | head -1' 2> "$W/5.err")
	check "launch ($mode): yes | head -1 prints y" [ "$out" = y ]
	check "launch ($mode): and no Broken pipe" [ ! -s "$W/5.err" ]
done
S5=$TU_XDG/rs-ns-pidns
start_launch "$S5" --pidns -- sleep 1000
for who in user root; do
	for s in "$S" "$S5"; do
		run=(tu_run); [ $who = root ] && run=()
		tag="$who, $(basename "$s")"
		out=$("${run[@]}" "$RS" nsenter --state-dir="$s" -- cat /proc/self/status)
		check "nsenter ($tag): SIGPIPE not ignored, nothing blocked" sigok "$out"
		out=$("${run[@]}" "$RS" nsenter --state-dir="$s" -- sh -c 'yes | head -1' 2> "$W/5n.err")
		check "nsenter ($tag): yes | head -1 prints y and no Broken pipe" \
			[ "$out" = y ] && [ ! -s "$W/5n.err" ]
	done
done
done_testing
