#!/bin/bash
# The userns.probe child as the user sees it. Root's `check --user U` starts a
# probe child that runs with U's credentials and must be dumpable (newuidmap
# wants /proc/PID to be U's), so U can ptrace it, read its environ and fds, and
# SIGSTOP it. The child must hold nothing of root's (a fresh image: a minimal
# environment, fds 0 and 2 on /dev/null and the result pipe on 1, cwd /), and
# root's wait for it must be bounded.
#
#   RS_TEST_USER=name bash tests/security/t-probe.sh   (as root)
# shellcheck disable=SC2016
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$HERE/../lib/tap.sh"
# shellcheck source=tests/lib/testuser.sh
. "$HERE/../lib/testuser.sh"
# shellcheck source=tests/security/lib.sh
. "$HERE/lib.sh"

DEADLINE=20 # RS_PROBE_DEADLINE_S in src/checks/probe.h
RUNS=${RS_PROBE_RUNS:-20}
MAX_RUNS=${RS_PROBE_MAX_RUNS:-100}

if [ "$(id -u)" != 0 ]; then
	skip "probe child attacks" "needs root (root runs check --user for the throwaway user)"
	done_testing
	exit
fi
if [ ! -x "$RS_BIN" ]; then
	echo "Bail out! $RS_BIN is not built (make)"
	exit 1
fi
command -v jq >/dev/null || { echo "Bail out! jq is needed"; exit 1; }
tu_setup || { echo "Bail out! cannot set up the test user"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/rs-sec-probe.XXXXXX") || exit 1
chmod 0755 "$W"
tu_on_exit rm -rf "$W"
# what the user's watcher writes
OUT=$W/out
install -d -m 0700 -o "$TU_UID" -g "$TU_GID" "$OUT"
# root's own things the child must not carry: a secret file open on fd 7 and
# a cwd the user cannot enter
PRIV=$W/root-only
install -d -m 0700 "$PRIV"
SECRET="rs-secret-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$SECRET" >"$PRIV/secret"
chmod 0600 "$PRIV/secret"
ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The watcher, as the user (python3: a bash loop that forks readlink is too
# slow for a child that lives a few milliseconds). Every process of its uid
# named rootless-setup is counted once (its status read); in read mode it is
# SIGSTOPped, its environ, cwd and fds recorded, and continued (the attack
# at leisure); in stop mode the first one is SIGSTOPped and left so. Root's
# own processes of that name are tried too: their environ must stay closed.
cat >"$W/watch.py" <<'EOF'
import os, re, signal, subprocess, sys
out, mode, stop, verb = sys.argv[1:5]
verb = verb.encode()
me = os.getuid()
seen = set()
tried = set()
def rd(p):
    try:
        with open(p, "rb") as f:
            return f.read()
    except OSError:
        return None
def rl(p):
    try:
        return os.readlink(p)
    except OSError as e:
        return "(%s)" % e.strerror
def add(name, text):
    with open(os.path.join(out, name), "a") as f:
        f.write(text)
while not os.path.exists(stop):
    for name in os.listdir("/proc"):
        if not name.isdigit() or name in seen:
            continue
        d = "/proc/" + name
        if rd(d + "/comm") != b"rootless-setup\n":
            continue
        pid = int(name)
        try:
            owner = os.stat(d).st_uid
        except OSError:
            continue
        if owner != me:
            if name not in tried:
                tried.add(name)
                add("roottried", "%d\n" % pid)
            env = rd(d + "/environ")
            try:
                # the probe child is root's until its drop and dumpable
                # flag: read in between, it is already the user's own
                owner_after = os.stat(d).st_uid
            except OSError:
                owner_after = owner
            if env and owner_after != me:
                add("rootread", env.replace(b"\0", b"\n").decode("ascii", "replace"))
            continue
        # the probe child is an exec of our binary with its verb; root's
        # other children acting as the user (lib/spawn forks reading the
        # user's files) are no probe, and stopping one proves nothing here
        # (looked at again: a fork not yet exec'd shows root's cmdline)
        if verb not in (rd(d + "/cmdline") or b"").split(b"\0")[1:2]:
            continue
        seen.add(name)
        try:
            os.kill(pid, signal.SIGSTOP)
        except OSError:
            continue
        if mode == "stop":
            add("stopped", "%d\n" % pid)
            sys.exit(0)
        if mode == "inject":
            # the result pipe is root's inode (mode 0600): reopening it
            # through /proc is refused; writing through the child is not
            try:
                os.close(os.open(d + "/fd/1", os.O_WRONLY | os.O_NONBLOCK))
                add("reopen", "opened\n")
            except OSError as e:
                add("reopen", e.strerror + "\n")
            r = subprocess.run(["gdb", "-nx", "-batch", "-p", str(pid),
                                "-ex", "handle SIGSTOP nostop noprint nopass", "-ex",
                                'call (long)write(1, "rs-probe 1\\nstage 0\\033[2J\\nINJECTED-BY-USER\\007\\n", 41)',
                                "-ex", "detach"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=15)
            add("gdb.log", r.stdout.decode("ascii", "replace"))
            ok = b"= 41" in r.stdout
            add("injected", "%d%s\n" % (pid, "" if ok else " failed"))
            os.kill(pid, signal.SIGCONT)
            sys.exit(0)
        status = rd(d + "/status") or b""
        rec = ["pid %d" % pid]
        env = rd(d + "/environ")
        rec += ["env " + e.decode("ascii", "replace") for e in (env or b"").split(b"\0") if e]
        rec.append("cwd " + rl(d + "/cwd"))
        try:
            fds = sorted(os.listdir(d + "/fd"), key=int)
        except OSError as e:
            fds = []
            rec.append("fds (%s)" % e.strerror)
        for fd in fds:
            t = rl(d + "/fd/" + fd)
            # an fd on a /proc/PID dir: whose process is PID? (a sanitizer
            # build's leak checker, a clone sharing the fd table, lists
            # the probe child's own /proc/PID/task at exit)
            m = re.match(r"/proc/([0-9]+)(/|$)", t)
            if m:
                own = ("Uid:\t%d\t" % me).encode() in (rd("/proc/%s/status" % m.group(1)) or b"")
                t += " user's" if own else " other's"
            rec.append("fd %s %s" % (fd, t))
        # still the same process image, still the user's? a process caught
        # in the middle of exec (posix_spawn's child becoming the setuid
        # newuidmap: credentials change before the name does) is no
        # probe child, and what it shows then is the exec's, not ours
        still = rd(d + "/comm") == b"rootless-setup\n" and \
            ("Uid:\t%d\t" % me).encode() in (rd(d + "/status") or b"")
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            continue  # gone meanwhile (root's deadline killed it)
        if ("Uid:\t%d\t" % me).encode() not in status or env is None or not still:
            continue
        if any(r.endswith(")") and "(" in r and r.startswith("cwd (") for r in rec):
            continue
        add("seen.%d" % pid, "\n".join(rec) + "\n")
        add("seen", "%d\n" % pid)
EOF

watch_start() { # MODE
	rm -f "$W/stop"
	tu_run python3 "$W/watch.py" "$OUT" "$1" "$W/stop" __probe-child &
	WATCHER=$!
	sleep 0.3
}
watch_stop() {
	touch "$W/stop"
	wait "$WATCHER" 2>/dev/null
}

# root runs the check the way an admin would, with its secret around it
root_check() { # OUTFILE
	(cd "$PRIV" && exec 7<"$PRIV/secret" &&
		exec timeout -k 5 $((DEADLINE + 15)) env -i PATH="$ROOT_PATH" HOME=/root \
			RS_ROOT_SECRET="$SECRET" ASAN_OPTIONS=detect_leaks=0 \
			"$RS_BIN" --user "$TU_NAME" check --format json --rule userns.probe) \
		>"$1" 2>"$1.err"
}

status_of() { jq -r --arg id "$2" '.results[] | select(.id == $id) | .status' "$1" 2>/dev/null; }
message_of() { jq -r --arg id "$2" '.results[] | select(.id == $id) | .message' "$1" 2>/dev/null; }

# what the probe says when nobody interferes: every undisturbed run must agree
root_check "$W/r0.json"
BASE_ST=$(status_of "$W/r0.json" userns.probe)
diag "userns.probe undisturbed: $BASE_ST: $(message_of "$W/r0.json" userns.probe)"
case $BASE_ST in
pass | warn | fail) ;;
*) echo "Bail out! root's check gave no userns.probe verdict: $(head -c 300 "$W/r0.json.err")"; exit 1 ;;
esac

# ------------------------------------------------ 1. reading the child's memory
watch_start read
runs=0 statuses=
while :; do
	runs=$((runs + 1))
	root_check "$W/r1.$runs.json"
	statuses+="$(status_of "$W/r1.$runs.json" userns.probe) "
	if [ "$runs" -ge "$RUNS" ] && { [ -s "$OUT/seen" ] || [ "$runs" -ge "$MAX_RUNS" ]; }; then
		break
	fi
done
watch_stop
nseen=$(sort -u "$OUT/seen" 2>/dev/null | grep -c .)
diag "$runs checks run by root, $nseen probe processes of $TU_NAME observed"
check "the user's watcher observed the probe child ($nseen processes in $runs runs)" \
	test "$nseen" -gt 0
# shellcheck disable=SC2086
nsame=$(printf '%s\n' $statuses | grep -cx "$BASE_ST")
check "userns.probe is $BASE_ST in every watched run too ($nsame of $runs)" test "$nsame" = "$runs"
if [ "$nseen" -gt 0 ]; then
	cat "$OUT"/seen.* >"$W/seen-all"
	if grep -qF "$SECRET" "$W/seen-all" || grep -q RS_ROOT_SECRET "$W/seen-all"; then
		not_ok "root's environment never reaches the probe child"
	else
		ok "root's environment never reaches the probe child"
	fi
	# exactly the minimal environment, in every observation
	bad_env=$(grep '^env ' "$W/seen-all" | sort -u |
		grep -v -e '^env PATH=/usr/sbin:/usr/bin:/sbin:/bin$' -e '^env LANG=C$')
	check "the probe child's environment is PATH and LANG only" test -z "$bad_env"
	[ -n "$bad_env" ] && diag "  seen: $(printf '%s' "$bad_env" | head -5 | tr '\n' ' ')"
	# fds: /dev/null, pipes, "/" (its own rs_host handle, opened as the user),
	# the pidfds of the id map helpers it starts (lib/spawn), and, caught in
	# the instant its spawned child execs them, the public
	# newuidmap/newgidmap binaries
	# and the user's own tree; never root's secret file or the program
	fds=$(grep '^fd ' "$W/seen-all" | awk '{ print "fd " $2 " -> " $3 }' |
		sed 's/pipe:\[[0-9]*\]/pipe/' | sort | uniq -c)
	diag "fds seen in the probe processes (count, fd -> target):"
	printf '%s\n' "$fds" | sed 's/^/#   /'
	# (an fd on the /proc dir of one of the user's own processes holds
	# nothing of root's: a sanitizer build's leak checker lists the probe
	# child's threads there at exit)
	bad_fd=$(awk '/^fd / && $4 != "user'"'"'s" { print $3 }' "$W/seen-all" | sort -u | grep -v -E \
		-e '^/dev/null$' -e '^pipe:\[[0-9]+\]$' -e '^anon_inode:\[pidfd\]$' -e '^/$' -e "^$TU_HOME(/|\$)" \
		-e '^/usr/s?bin/new[ug]idmap$')
	check "the probe child holds no fd but /dev/null, pipes, its helpers' pidfds, / and the user's own files" \
		test -z "$bad_fd"
	[ -n "$bad_fd" ] && diag "  not allowed: $(printf '%s' "$bad_fd" | tr '\n' ' ')"
	check "the probe child does not hold root's secret file" \
		sh -c '! grep -qF "$1" "$2"' _ "$PRIV/secret" "$W/seen-all"
	cwds=$(grep '^cwd ' "$W/seen-all" | sort -u)
	check "the probe child's cwd is / (not root's)" test "$cwds" = "cwd /"
	[ "$cwds" != "cwd /" ] && diag "  cwds: $(printf '%s' "$cwds" | tr '\n' ' ')"
	# fd 0 and 2 on /dev/null, the result pipe on 1, nothing else of
	# root's (fd 2 of the instant between lib/spawn's fd set-up and the
	# exec of newuidmap is the pipe that collects newuidmap's message)
	check "the probe child's fd 0 is /dev/null, fds 1-2 /dev/null or pipes" \
		sh -c '! grep -E "^fd [012] " "$1" | grep -v -E "^fd [12] pipe:\[[0-9]+\]$" | grep -qv " /dev/null$"' _ "$W/seen-all"
else
	for t in "root's environment never reaches the probe child" "fds of the probe child"; do
		not_ok "$t (no probe child observed: proves nothing)"
	done
fi
# root's own process: the user cannot read its environ (not dumpable to it)
ntried=$(grep -c . "$OUT/roottried" 2>/dev/null)
check "root's own check process: the user tried its environ (${ntried:-0} processes) and read nothing" \
	sh -c '[ "${2:-0}" -gt 0 ] && [ ! -s "$1/rootread" ]' _ "$OUT" "$ntried"
[ -s "$OUT/rootread" ] && sed "s/^/#   read: /" "$OUT/rootread" | head -20

# ------------------------------------------------ 2. SIGSTOP the probe child
stopped=0
for try in 1 2 3 4 5 6 7 8 9 10; do
	rm -f "$OUT/stopped"
	watch_start stop
	t0=$(date +%s.%N)
	root_check "$W/r2.json"
	rc=$?
	t1=$(date +%s.%N)
	watch_stop
	if [ -s "$OUT/stopped" ]; then
		stopped=1
		break
	fi
done
if [ "$stopped" = 1 ]; then
	spid=$(cat "$OUT/stopped")
	took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	diag "the user stopped pid $spid (try $try); root's check took $took s, exit $rc"
	check "root's check ends within the deadline + 5 s ($took s, rc $rc)" \
		awk -v t="$took" -v d="$DEADLINE" 'BEGIN { exit !(t < d + 5) }'
	check "root's check was not killed by timeout(1) (rc $rc)" test "$rc" -lt 124
	st=$(status_of "$W/r2.json" userns.probe)
	msg=$(message_of "$W/r2.json" userns.probe)
	diag "userns.probe: $st: $msg"
	check "a stopped probe is a warning, not a pass or fail ($st)" test "$st" = warn
	check "the message says it cannot check" sh -c 'case $1 in "cannot check: "*) ;; *) exit 1 ;; esac' _ "$msg"
	sleep 0.5
	left=$(ps -u "$TU_UID" -o pid=,comm= 2>/dev/null | awk '$2 != "bash"')
	check "no process of $TU_NAME is left behind (the stopped child and its descendants)" \
		test -z "$left"
	[ -n "$left" ] && diag "  left: $(printf '%s' "$left" | tr '\n' ' ')"
	zombies=$(ps -eo stat=,ppid=,pid= | awk '$1 ~ /^Z/')
	check "no zombie is left" sh -c '! printf "%s\n" "$1" | grep -qw "$2"' _ "$zombies" "$spid"
else
	not_ok "the user's watcher stopped a probe child (10 tries): proves nothing"
fi
# ------------------------------------------------ 3. the user writes the result
injected=0
if ! command -v gdb >/dev/null; then
	skip "the user writes into the result pipe" "no gdb"
	try=11
else
	try=0
fi
while [ "$try" -lt 10 ]; do
	try=$((try + 1))
	rm -f "$OUT/injected"
	watch_start inject
	root_check "$W/r3.json"
	rc=$?
	watch_stop
	if grep -qv failed "$OUT/injected" 2>/dev/null; then
		injected=1
		break
	fi
done
if [ "$injected" = 1 ]; then
	st=$(status_of "$W/r3.json" userns.probe)
	msg=$(message_of "$W/r3.json" userns.probe)
	diag "the user wrote into the result pipe of pid $(cat "$OUT/injected") with gdb (try $try); reopening it through /proc: $(cat "$OUT/reopen" 2>/dev/null)"
	diag "userns.probe: $st: $msg"
	check "a result the user wrote into is a warning ($st)" test "$st" = warn
	check "the message says the result is malformed" test "$msg" = "cannot check: malformed probe result"
	check "nothing the user wrote reaches root's report" \
		sh -c '! grep -q -e INJECTED -e AAAAAAAA "$1" && ! LC_ALL=C grep -q "$(printf "\033")" "$1"' _ "$W/r3.json"
	check "root's report is still one JSON document (rc $rc)" sh -c 'jq -e . "$1" >/dev/null' _ "$W/r3.json"
elif [ "$try" -le 10 ]; then
	not_ok "the user's watcher wrote into a probe child's result pipe with gdb (10 tries)"
	tail -5 "$OUT/gdb.log" 2>/dev/null | sed 's/^/#   /'
fi

ps -u "$TU_UID" -o pid= 2>/dev/null | xargs -r kill -KILL 2>/dev/null

# ------------------------------------------------ 4. the normal run after all this
root_check "$W/r4.json"
check "a probe nobody interferes with is $BASE_ST again ($(status_of "$W/r4.json" userns.probe))" \
	test "$(status_of "$W/r4.json" userns.probe)" = "$BASE_ST"

done_testing
