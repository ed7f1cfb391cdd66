#!/bin/bash
# Root never lends a user its terminal, its environment or a file it
# opened, and never waits on a user's process without bound (issue 19;
# docs/security.md, "Terminals, environments and waits"). Root's commands
# run here on a pty of their own (CI has no terminal), the way an admin
# types them; the attacks are the user's:
#  1. a fake user manager on $XDG_RUNTIME_DIR/systemd/private that, when
#     root's systemctl connects, looks for root's terminal in its fds and
#     pushes keystrokes into its stdin with TIOCSTI (through gdb);
#  2. the same manager SIGSTOPs root's systemctl;
#  3. a binary bind-mounted over /usr/bin/id inside the launch, run by
#     root's nsenter: it records its environment and fds and tries TIOCSTI
#     on every terminal it holds (with dev.tty.legacy_tiocsti on and off
#     where this kernel lets us set it);
#  4. a state dir symlinked from one user's tree into another's launch;
#  5. STATE/snapshotter a symlink to /etc/shadow, and a FIFO;
#  6. a data dir symlinked into a root-only directory (the probe's argv).
# Meanwhile root walks /proc/*/fd of every process of the user during
# install, uninstall --purge, nsenter, fix and check: none may ever hold
# root's terminal, or have it as its controlling terminal.
#
#   RS_TEST_USER=name bash tests/security/t-terminal.sh   (as root)
# shellcheck disable=SC2016
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$HERE/../lib/tap.sh"
# shellcheck source=tests/lib/testuser.sh
. "$HERE/../lib/testuser.sh"
# shellcheck source=tests/security/lib.sh
. "$HERE/lib.sh"

sec_begin "terminal, environment and wait attacks" "root acts for the user: needs root"
sec_records
for t in python3 setpriv; do
	command -v "$t" > /dev/null || { not_ok "$t is missing (make deps)"; done_testing; exit; }
done
W=$TU_WORK
OUT=$W/out
install -d -m 0755 -o "$TU_UID" -g "$TU_GID" "$OUT"
SECRET="rs-secret-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# ---- tools: a pty for root's command, and root's walk of the user's fds

# ptyrun.py OUT TTYFILE TIMEOUT [on TEXT send KEYS | on TEXT resize R C]... -- CMD...
# CMD runs as the session leader of a new pty (33x111) whose slave it has
# as controlling terminal; TTYFILE gets the slave's path; OUT what the
# terminal showed. Each event fires once, in order, when TEXT has shown
# (after the previous event's). Exit: CMD's status, 124 past TIMEOUT.
cat > "$W/ptyrun.py" <<'EOF'
import fcntl, os, pty, select, signal, struct, sys, termios, time
out, ttyfile, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
args = sys.argv[4:]
events = []
while args and args[0] == "on":
    if args[2] == "send":
        keys = args[3].encode().decode("unicode_escape").encode("latin1")
        events.append((args[1].encode(), "send", keys))
        args = args[4:]
    else:
        events.append((args[1].encode(), "resize", (int(args[3]), int(args[4]))))
        args = args[5:]
assert args[0] == "--"
cmd = args[1:]
pid, fd = pty.fork()
if pid == 0:
    with open(ttyfile, "w") as f:
        f.write(os.ttyname(0) + "\n")
    os.execvp(cmd[0], cmd)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
t0 = time.time()
buf = b""
mark = 0
status = None
while True:
    if events and buf.find(events[0][0], mark) >= 0:
        text, kind, arg = events.pop(0)
        mark = buf.find(text, mark) + len(text)
        if kind == "send":
            os.write(fd, arg)
        else:
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", arg[0], arg[1], 0, 0))
    if time.time() - t0 > timeout:
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        status = 124
        break
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            d = os.read(fd, 65536)
        except OSError:
            d = b""
        if not d:
            _, st = os.waitpid(pid, 0)
            status = os.waitstatus_to_exitcode(st)
            break
        buf += d
with open(out, "wb") as f:
    f.write(buf)
sys.exit(status if status >= 0 else 128 - status)
EOF

# fdwalk.py TTY UID LOG STOP: until STOP exists, every process of UID (any
# of its uids) is looked at: an fd on TTY, or TTY as its controlling
# terminal, is a "hold" line; every process seen once is a "seen" line.
cat > "$W/fdwalk.py" <<'EOF'
import os, sys
tty, uid, log, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
st = os.stat(tty)
maj, mnr = os.major(st.st_rdev), os.minor(st.st_rdev)
tty_nr = (mnr & 0xff) | (maj << 8) | ((mnr & ~0xff) << 12)
seen = set()
out = open(log, "a", buffering=1)
out.write("tty %s %d\n" % (tty, tty_nr))
open(stop + ".ready", "w").close()
def rd(p):
    try:
        with open(p, "rb") as f:
            return f.read()
    except OSError:
        return b""
while not os.path.exists(stop):
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        d = "/proc/" + name
        status = rd(d + "/status")
        line = [l for l in status.split(b"\n") if l.startswith(b"Uid:")]
        if not line or str(uid).encode() not in line[0].split()[1:]:
            continue
        comm = rd(d + "/comm").strip().decode("ascii", "replace")
        if name not in seen:
            seen.add(name)
            out.write("seen %s %s\n" % (name, comm))
        stat = rd(d + "/stat")
        try:
            fields = stat[stat.rindex(b")") + 2:].split()
            if int(fields[4]) == tty_nr:
                out.write("hold %s %s ctty\n" % (name, comm))
        except (ValueError, IndexError):
            pass
        try:
            fds = os.listdir(d + "/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                s = os.stat(d + "/fd/" + fd)
                link = os.readlink(d + "/fd/" + fd)
            except OSError:
                continue
            if link == tty or (s.st_rdev == st.st_rdev and (s.st_mode & 0o170000) == 0o020000):
                out.write("hold %s %s fd %s %s\n" % (name, comm, fd, link))
EOF

ROOT_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
	TERM=xterm-256color LANG=C.UTF-8 VAULT_TOKEN="$SECRET" SSH_AUTH_SOCK="/tmp/$SECRET.sock"
	ASAN_OPTIONS=detect_leaks=0)
# on_pty NAME TIMEOUT [events...] -- SCRIPT: root runs SCRIPT (sh) on a new
# pty with its environment of secrets, while root's walker watches the
# user's processes; $W/NAME.out is what the terminal showed, $W/NAME.walk
# what the walk found; the exit status is the script's
on_pty() {
	local name=$1 timeout=$2 rc
	shift 2
	local ev=()
	while [ "$1" != -- ]; do ev+=("$1"); shift; done
	shift
	rm -f "$W/$name.tty" "$W/$name.walk" "$W/$name.stop" "$W/$name.stop.ready" "$W/$name.go"
	: > "$W/$name.walk"
	"${ROOT_ENV[@]}" RS="$RS" U="$TU_NAME" python3 "$W/ptyrun.py" "$W/$name.out" "$W/$name.tty" \
		"$timeout" "${ev[@]}" -- sh -c "while [ ! -s '$W/$name.go' ]; do sleep 0.02; done; $1" &
	local p=$!
	for _ in $(seq 200); do [ -s "$W/$name.tty" ] && break; sleep 0.02; done
	python3 "$W/fdwalk.py" "$(cat "$W/$name.tty")" "$TU_UID" "$W/$name.walk" "$W/$name.stop" &
	local wp=$!
	for _ in $(seq 500); do [ -e "$W/$name.stop.ready" ] && break; sleep 0.02; done
	echo go > "$W/$name.go"
	wait "$p"
	rc=$?
	touch "$W/$name.stop"
	wait "$wp"
	return "$rc"
}
# walk_clean NAME WHAT: no process of the user held root's terminal
walk_clean() {
	local n
	n=$(grep -c '^seen ' "$W/$1.walk")
	diag "$2: the walk saw $n processes of $TU_NAME: $(awk '/^seen/ {print $3}' "$W/$1.walk" | sort | uniq -c | tr -s ' \n' ' ')"
	check "$2: no process of $TU_NAME held root's terminal (fd or controlling tty)" \
		sh -c '! grep -q "^hold " "$1"' _ "$W/$1.walk"
	grep '^hold ' "$W/$1.walk" | head -5 | sed 's/^/#   /'
}

# ---- 1 and 2: the fake user manager -----------------------------------
# fakemgr.py LOG MODE SOCKET...: MODE look (record the peer's fds and
# terminal), inject (also TIOCSTI "PWNED\n" into its fds 0-2 through gdb)
# or stop (SIGSTOP it and leave it so)
cat > "$W/fakemgr.py" <<'EOF'
import os, signal, socket, struct, subprocess, sys, threading
log = open(sys.argv[1], "a", buffering=1)
mode = sys.argv[2]
def rd(p):
    try:
        with open(p, "rb") as f:
            return f.read()
    except OSError as e:
        return ("(%s)" % e.strerror).encode()
def look(pid):
    d = "/proc/%d" % pid
    stat = rd(d + "/stat")
    try:
        f = stat[stat.rindex(b")") + 2:].split()
        log.write("peer %d sid %s tty_nr %s\n" % (pid, f[3].decode(), f[4].decode()))
    except ValueError:
        log.write("peer %d stat unreadable\n" % pid)
    try:
        for fd in sorted(os.listdir(d + "/fd"), key=int):
            log.write("peer %d fd %s %s\n" % (pid, fd, os.readlink(d + "/fd/" + fd)))
    except OSError as e:
        log.write("peer %d fds unreadable: %s\n" % (pid, e.strerror))
def inject(pid):
    ex = []
    for fd in (0, 1, 2):
        for ch in "PWNED\\n":
            ex += ["-ex", "print (int)ioctl(%d, 0x5412, \"%s\")" % (fd, ch)]
    try:
        r = subprocess.run(["gdb", "-nx", "-batch", "-p", str(pid)] + ex + ["-ex", "detach"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        vals = [l.split("=", 1)[1].strip() for l in r.stdout.decode("ascii", "replace").splitlines()
                if l.startswith("$")]
        log.write("inject %d %s\n" % (pid, " ".join(vals) or "(no call made)"))
    except Exception as e:
        log.write("inject %d failed: %s\n" % (pid, e))
def serve(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)
    while True:
        c, _ = s.accept()
        pid, uid, gid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        log.write("connect %d uid=%d\n" % (pid, uid))
        look(pid)
        if mode == "inject":
            inject(pid)
        elif mode == "stop":
            os.kill(pid, signal.SIGSTOP)
            log.write("stopped %d\n" % pid)
            continue
        c.close()
for p in sys.argv[3:]:
    threading.Thread(target=serve, args=(p,), daemon=True).start()
open(sys.argv[1] + ".ready", "w").close()
threading.Event().wait()
EOF
chmod 0644 "$W/fakemgr.py"
tu_run mkdir -p "$TU_XDG/systemd"
fake_start() { # MODE
	rm -f "$TU_XDG/systemd/private" "$TU_XDG/bus" "$OUT/mgr.log" "$OUT/mgr.log.ready"
	tu_run python3 "$W/fakemgr.py" "$OUT/mgr.log" "$1" "$TU_XDG/systemd/private" "$TU_XDG/bus" &
	for _ in $(seq 100); do [ -e "$OUT/mgr.log.ready" ] && break; sleep 0.05; done
}
fake_stop() { pkill -u "$TU_UID" -f fakemgr.py; sleep 0.2; }
tu_on_exit fake_stop

fake_start inject
on_pty install 120 -- '"$RS" --user "$U" --engine containerd install --force > '"$W"'/install.log 2>&1
	echo "INSTALL-RC=$?"; read -t 2 line; echo "AFTER=[$line]"'
fake_stop
diag "the fake manager saw: $(grep -v '^peer .* fd ' "$OUT/mgr.log" | tr '\n' ';' | head -c 600)"
grep '^peer .* fd ' "$OUT/mgr.log" | sed 's/^/#   /' | head -12
check "1: root's systemctl reached the user's fake manager" grep -q '^connect ' "$OUT/mgr.log"
check "1: only with the user's uid" sh -c '! grep "^connect " "$1" | grep -qv " uid=$2\$"' _ "$OUT/mgr.log" "$TU_UID"
rtty=$(cat "$W/install.tty")
check "1: no fd of root's systemctl is root's terminal ($rtty)" sh -c '! grep -q "^peer .* fd [0-9]* $1\$" "$2"' _ "$rtty" "$OUT/mgr.log"
check "1: root's systemctl has no controlling terminal" sh -c '! grep "^peer .* tty_nr " "$1" | grep -qv " tty_nr 0$"' _ "$OUT/mgr.log"
check "1: it is a session of its own (sid = its pid)" sh -c 'grep "^peer .* sid " "$1" | awk "\$2 != \$4 { bad = 1 } END { exit bad }"' _ "$OUT/mgr.log"
if grep -q '^inject .* failed\|(no call made)' "$OUT/mgr.log"; then
	not_ok "1: the user's TIOCSTI through gdb was tried: $(grep '^inject' "$OUT/mgr.log" | head -1)"
else
	diag "TIOCSTI into root's systemctl, per fd and character: $(grep '^inject' "$OUT/mgr.log" | head -2 | tr '\n' ' ')"
	check "1: every TIOCSTI into root's systemctl failed" sh -c '! grep "^inject" "$1" | grep -qw 0' _ "$OUT/mgr.log"
fi
check "1: nothing arrived on root's terminal (AFTER=[])" grep -q 'AFTER=\[\]' "$W/install.out"
walk_clean install "1: install"

# 2. SIGSTOP of root's systemctl: root's install still ends, killing it
fake_start stop
on_pty stopped 150 -- '"$RS" --user "$U" --engine containerd install --force > '"$W"'/stopped.log 2>&1; echo "INSTALL-RC=$?"'
rc=$?
spid=$(awk '/^stopped/ {print $2; exit}' "$OUT/mgr.log")
fake_stop
check "2: the user stopped root's systemctl (pid ${spid:-none})" test -n "$spid"
check "2: root's install ended by itself (rc $rc)" test "$rc" = 0
check "2: and names the program that missed its deadline" \
	grep -q "'/usr/bin/systemctl' did not finish within [0-9]* s" "$W/stopped.log"
check "2: the stopped systemctl is gone (killed with its group)" \
	sh -c '[ -n "$1" ] && { [ ! -e "/proc/$1" ] || grep -q "^State:.*Z" "/proc/$1/status"; }' _ "$spid"
grep "did not finish" "$W/stopped.log" | head -2 | sed 's/^/#   /'

# ---- 3. nsenter into the user's launch, with a hostile /usr/bin/id -----
cat > "$W/evil-id" <<EOF
#!/usr/bin/python3
import fcntl, json, os, termios
rep = {"env": dict(os.environ), "pid": os.getpid(), "sid": os.getsid(0), "fds": {}, "sti": {}}
for fd in os.listdir("/proc/self/fd"):
    try:
        rep["fds"][fd] = os.readlink("/proc/self/fd/" + fd)
    except OSError:
        pass
stat = open("/proc/self/stat", "rb").read()
rep["tty_nr"] = int(stat[stat.rindex(b")") + 2:].split()[4])
def sti(fd):
    try:
        for ch in b"PWNED\n":
            fcntl.ioctl(fd, termios.TIOCSTI, bytes([ch]))
        return "ok"
    except OSError as e:
        return e.strerror
for fd in (0, 1, 2):
    rep["sti"][str(fd)] = sti(fd)
try:
    t = os.open("/dev/tty", os.O_RDWR)
    rep["sti"]["/dev/tty"] = sti(t)
except OSError as e:
    rep["sti"]["/dev/tty"] = "open: " + e.strerror
with open("$OUT/evil.json", "w") as f:
    json.dump(rep, f)
print("evil-ran")
EOF
chown "$TU_UID:$TU_GID" "$W/evil-id"
chmod 0755 "$W/evil-id"
S=$TU_XDG/rs-term
start_launch() { # DIR ARGS...
	local s=$1
	shift
	rm -rf "$s"
	tu_run "$RS" launch --state-dir="$s" "$@" &
	for _ in $(seq 200); do [ -s "$s/child_pid" ] && break; sleep 0.05; done
	[ -s "$s/child_pid" ]
}
stop_launches() { # the launchers, and what outlived them (a launch without
	# --pidns leaves its command's children running, as RootlessKit does)
	pkill -u "$TU_UID" -f "rootless-setup launch --state-dir=" 2>/dev/null
	sleep 0.3
	pkill -u "$TU_UID" -x sleep 2>/dev/null
}
tu_on_exit stop_launches
check "3: the user's launch with its binary over /usr/bin/id" \
	start_launch "$S" -- sh -c "mount --bind $W/evil-id /usr/bin/id && sleep 1000"
sleep 0.3

STI=/proc/sys/dev/tty/legacy_tiocsti
sti_modes=
if [ -r "$STI" ]; then
	sti_orig=$(cat "$STI")
	sti_modes=$sti_orig
	other=$((1 - sti_orig))
	if echo "$other" > "$STI" 2> /dev/null && [ "$(cat "$STI")" = "$other" ]; then
		echo "$sti_orig" > "$STI"
		sti_modes="$sti_orig $other"
		tu_on_exit sh -c "echo $sti_orig > $STI"
	else
		diag "dev.tty.legacy_tiocsti cannot be set here: testing with it at $sti_orig only"
	fi
else
	diag "no dev.tty.legacy_tiocsti on this kernel (TIOCSTI is always there)"
	sti_modes=always
fi
for m in $sti_modes; do
	[ "$m" != always ] && echo "$m" > "$STI"
	rm -f "$OUT/evil.json"
	on_pty "ns$m" 60 -- 'a=$(stty -g); "$RS" nsenter --state-dir='"$S"' -- id; echo "NSENTER-RC=$?"
		b=$(stty -g); [ "$a" = "$b" ] && echo TTY-RESTORED; read -t 2 line; echo "AFTER=[$line]"'
	rtty=$(cat "$W/ns$m.tty")
	t="3 (legacy_tiocsti=$m)"
	check "$t: root's nsenter ran the user's id (rc 0)" grep -q 'NSENTER-RC=0' "$W/ns$m.out"
	[ "$m" = 1 ] && check "$t: the user's TIOCSTI into its own pty worked (its echo shows)" grep -q PWNED "$W/ns$m.out"
	if [ ! -s "$OUT/evil.json" ]; then
		not_ok "$t: the user's id left its report"
		continue
	fi
	J=$OUT/evil.json
	diag "$t: TIOCSTI by the user's id: $(jq -c .sti "$J"); its fds: $(jq -c .fds "$J")"
	check "$t: none of root's environment reached it (VAULT_TOKEN, SSH_AUTH_SOCK)" \
		sh -c '! grep -q "$1" "$2" && ! jq -e ".env | has(\"VAULT_TOKEN\") or has(\"SSH_AUTH_SOCK\")" "$2" > /dev/null' _ "$SECRET" "$J"
	check "$t: its environment is the allow-list" test "$(jq -r '.env | keys - ["PWD", "SHLVL", "_"] | join(" ")' "$J")" = \
		"HOME LANG LOGNAME PATH TERM USER XDG_RUNTIME_DIR"
	check "$t: with the user's values" test "$(jq -r '[.env.HOME, .env.USER, .env.LOGNAME, .env.PATH, .env.XDG_RUNTIME_DIR] | join(" ")' "$J")" = \
		"$TU_HOME $TU_NAME $TU_NAME /usr/local/bin:/usr/bin:/bin $TU_XDG"
	check "$t: TERM and LANG are the admin's terminal's" test "$(jq -r '.env.TERM + " " + .env.LANG' "$J")" = "xterm-256color C.UTF-8"
	check "$t: no fd of it is root's terminal ($rtty)" sh -c '! jq -r ".fds[]" "$2" | grep -qx "$1"' _ "$rtty" "$J"
	check "$t: its stdin, stdout and stderr are a pty of its own" \
		sh -c 'a=$(jq -r ".fds[\"0\"], .fds[\"1\"], .fds[\"2\"]" "$2" | sort -u); [ "$(printf "%s\n" "$a" | wc -l)" = 1 ] && case $a in /dev/pts/*) [ "$a" != "$1" ] ;; *) false ;; esac' _ "$rtty" "$J"
	rnr=$(awk '$1 == "tty" { print $3; exit }' "$W/ns$m.walk")
	check "$t: its controlling terminal is a pty, not root's (tty_nr $(jq -r .tty_nr "$J"), root's ${rnr:-?})" \
		sh -c 'n=$(jq -r .tty_nr "$2"); [ -n "$1" ] && [ "$n" != 0 ] && [ "$n" != "$1" ]' _ "$rnr" "$J"
	check "$t: it leads a session of its own" test "$(jq -r '.pid == .sid' "$J")" = true
	check "$t: nothing it pushed arrived on root's terminal (AFTER=[])" grep -q 'AFTER=\[\]' "$W/ns$m.out"
	check "$t: root's terminal settings are restored" grep -q TTY-RESTORED "$W/ns$m.out"
	walk_clean "ns$m" "$t: nsenter"
done
[ -n "${sti_orig:-}" ] && echo "$sti_orig" > "$STI"

# ---- 3b. what nsenter keeps working -----------------------------------
head -c 4096 /dev/urandom > "$W/bin"
printf '\0\377\r\n\033[2J' >> "$W/bin"
"$RS" nsenter --state-dir="$S" -- cat < "$W/bin" > "$W/bin.out"
check "3b: binary data through pipes arrives byte for byte" cmp -s "$W/bin" "$W/bin.out"
mkdir -p "$W/tarsrc/d" && echo one > "$W/tarsrc/d/a" && tar -C "$W/tarsrc" -cf "$W/t.tar" d
tu_run mkdir -p "$OUT/x"
"$RS" nsenter --state-dir="$S" -- tar -C "$OUT/x" -xf - < "$W/t.tar"
check "3b: nsenter -- tar x < file works (rc $?)" cmp -s "$OUT/x/d/a" "$W/tarsrc/d/a"
check "3b: and what it made is the user's" test "$(stat -c %u "$OUT/x/d/a")" = "$TU_UID"
"$RS" nsenter --state-dir="$S" -- sh -c 'exit 7' < /dev/null
check "3b: the exit status comes back through pipes ($?)" test $? = 7
on_pty status 30 -- '"$RS" nsenter --state-dir='"$S"' -- sh -c "exit 7"; echo "RC=$?"'
check "3b: and through the pty" grep -q 'RC=7' "$W/status.out"
on_pty size 60 on 'SIZE 33 111' resize 40 120 -- '"$RS" nsenter --state-dir='"$S"' -- sh -c '"'"'trap "echo NEW \$(stty size); exit 0" WINCH; echo SIZE $(stty size); i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done'"'"
check "3b: the window size is root's terminal's (33 111)" grep -q 'SIZE 33 111' "$W/size.out"
check "3b: and follows it on SIGWINCH (40 120)" grep -q 'NEW 40 120' "$W/size.out"
on_pty eof 60 on READY send 'hello\n\x04' -- '"$RS" nsenter --state-dir='"$S"' -- sh -c "echo READY; exec cat"; echo "RC=$?"'
check "3b: keys reach the command, and ^D ends it (rc 0)" sh -c 'grep -q hello "$1" && grep -q RC=0 "$1"' _ "$W/eof.out"
# a launch with its own pid namespace: the child forks once more inside
SP=$TU_XDG/rs-term-pid
check "3b: a launch with --pidns" start_launch "$SP" --pidns -- sleep 1000
on_pty pidns 30 -- '"$RS" nsenter --state-dir='"$SP"' -- sh -c "tty; echo \$\$; exit 3"; echo "RC=$?"'
check "3b: --pidns: a pty, a pid of the launch's namespace, the status (3)" \
	sh -c 'grep -q "^/dev/pts/" "$1" && grep -qx "[0-9]\{1,3\}.\?" "$1" && grep -q RC=3 "$1"' _ "$W/pidns.out"
"$RS" nsenter --state-dir="$SP" -- no-such-command-here 2> "$W/nf.err"
rc=$?
check "3b: a missing command is 127 and named ($rc)" sh -c '[ "$1" = 127 ] && grep -q "cannot run .no-such-command-here." "$2"' _ "$rc" "$W/nf.err"

# ---- 4. a state dir symlinked from one user into another's launch ------
U2=${RS_TEST_USER:-rstest}t2
U2MARK="rootless-setup test user (throwaway)"
if getent passwd "$U2" > /dev/null && [ "$(getent passwd "$U2" | cut -d: -f5)" = "$U2MARK" ]; then
	pkill -KILL -u "$U2" 2>/dev/null; userdel -r "$U2" 2>/dev/null
fi
if ! getent passwd "$U2" > /dev/null && useradd -m -U -s /bin/sh -c "$U2MARK" "$U2"; then
	del_u2() { pkill -KILL -u "$U2" 2>/dev/null; sleep 0.1; userdel -r "$U2" 2>/dev/null; }
	tu_on_exit del_u2
	H2=$(getent passwd "$U2" | cut -d: -f6)
	as_u2() { (cd / && setpriv --reuid="$(id -u "$U2")" --regid="$(id -g "$U2")" --init-groups \
		--inh-caps=-all env -i HOME="$H2" PATH=/usr/bin:/bin "$@"); }
	as_u2 ln -s "$S" "$H2/state"
	as_u2 mkdir -p "$H2/run/rootless-setup"
	as_u2 ln -s "$S" "$H2/run/rootless-setup/containerd"
	rm -f "$OUT/x4"
	"$RS" nsenter --state-dir="$H2/state" -- touch "$OUT/x4" 2> "$W/4a.err"
	rc=$?
	check "4: user 2's symlink to user 1's state dir: refused (rc $rc)" test "$rc" = 125
	check "4: and told why: $(head -c 200 "$W/4a.err")" grep -q "'$H2/state' is a symlink a user could have made" "$W/4a.err"
	env XDG_RUNTIME_DIR="$H2/run" "$RS" --engine containerd nsenter -- touch "$OUT/x4" 2> "$W/4b.err"
	rc=$?
	check "4: --engine with user 2's runtime dir linking there: refused (rc $rc)" test "$rc" = 125
	check "4: nothing ran" test ! -e "$OUT/x4"
	# a link only root could have made (the admin's) is followed
	RO=$(mktemp -d /tmp/rs-term-ro.XXXXXX)
	tu_on_exit rm -rf "$RO"
	chmod 0755 "$RO"
	ln -s "$S" "$RO/link"
	"$RS" nsenter --state-dir="$RO/link" -- touch "$OUT/x4" 2> "$W/4c.err"
	check "4: a symlink in a root-only directory is the admin's: followed, as the user" \
		test "$(stat -c %u "$OUT/x4" 2>/dev/null)" = "$TU_UID"
else
	not_ok "4: cannot create a second user '$U2'"
fi

# ---- 5. STATE/snapshotter a symlink to /etc/shadow, and a FIFO ---------
SE=$TU_XDG/rootless-setup/containerd
check "5: a launch in the engine's state dir" start_launch "$SE" -- sleep 1000
engine_env() { env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$TU_XDG" ASAN_OPTIONS=detect_leaks=0 \
	timeout 20 "$RS" --engine containerd nsenter -- env; }
tu_run ln -sf /etc/shadow "$SE/snapshotter"
engine_env > "$W/5a.out" 2> "$W/5a.err"
rc=$?
check "5: snapshotter -> /etc/shadow: refused (rc $rc)" test "$rc" = 125
check "5: and named: $(head -c 160 "$W/5a.err")" grep -q "refusing '.*/snapshotter'" "$W/5a.err"
check "5: no line of /etc/shadow reached anyone" \
	sh -c '! grep -qF "$(head -n 1 /etc/shadow)" "$1" "$2"' _ "$W/5a.out" "$W/5a.err"
tu_run rm -f "$SE/snapshotter"
tu_run mkfifo "$SE/snapshotter"
engine_env > "$W/5b.out" 2> "$W/5b.err"
rc=$?
check "5: snapshotter a FIFO: refused, root not blocked (rc $rc)" test "$rc" = 125
tu_run rm -f "$SE/snapshotter"
tu_run sh -c "echo overlayfs > '$SE/snapshotter'"
engine_env > "$W/5c.out" 2> "$W/5c.err"
check "5: a plain snapshotter file reaches the command" grep -qx CONTAINERD_SNAPSHOTTER=overlayfs "$W/5c.out"
check "5: with the engine's socket of the user's runtime dir" grep -q "^CONTAINERD_ADDRESS=$TU_XDG/" "$W/5c.out"
stop_launches

# ---- 6. the probe's data dir, resolved as the user ----------------------
RO6=$(mktemp -d /tmp/rs-term-probe.XXXXXX)
tu_on_exit rm -rf "$RO6"
chmod 0700 "$RO6"
HIDDEN="hidden-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$RO6/$HIDDEN/share"
tu_run mkdir -p "$TU_HOME/.local"
tu_run rm -rf "$TU_HOME/.local/share"
tu_run ln -s "$RO6/$HIDDEN/share" "$TU_HOME/.local/share"
if command -v strace > /dev/null; then
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -s 4096 -e trace=execve,execveat -o "$W/6.trace" \
		"$RS" --user "$TU_NAME" --engine containerd check --rule userns.probe --format json > "$W/6.json" 2>&1
	check "6: root started the probe child" grep -q '__probe-child' "$W/6.trace"
	check "6: its argv names the data dir as a path, not where the user's link points" \
		sh -c '! grep "__probe-child" "$1" | grep -q "$2" && grep "__probe-child" "$1" | grep -q "$3/.local/share/containerd"' _ "$W/6.trace" "$HIDDEN" "$TU_HOME"
else
	not_ok "6: strace is missing (make deps)"
fi
on_pty check 120 -- 'i=0; while [ $i -lt 5 ]; do "$RS" --user "$U" check --rule userns.probe > /dev/null 2>&1; i=$((i+1)); done'
walk_clean check "6: check"
tu_run rm -f "$TU_HOME/.local/share"

# ---- the other verbs on the pty: uninstall --purge, fix ------------------
# data of a subordinate id: the purge retries it inside the user's namespace
SUB=$(awk -F: -v u="$TU_NAME" '$1 == u { print $2; exit }' /etc/subuid)
tu_run mkdir -p "$TU_HOME/.local/share/containers/storage"
install -d -o "$((SUB + 1000))" -g "$((SUB + 1000))" "$TU_HOME/.local/share/containers/storage/layer"
install -o "$((SUB + 1000))" -g "$((SUB + 1000))" /dev/null "$TU_HOME/.local/share/containers/storage/layer/f"
on_pty purge 300 -- '"$RS" --user "$U" --engine podman uninstall --purge --yes > '"$W"'/purge.log 2>&1; echo "RC=$?"'
check "purge: the data of the user's subordinate ids is gone (inside its namespace)" \
	sh -c '[ ! -e "$1" ] && grep -q "removed inside its user namespace" "$2"' _ "$TU_HOME/.local/share/containers/storage/layer" "$W/purge.log"
sed 's/^/#   /' "$W/purge.log" | head -5
walk_clean purge "uninstall --purge"
R=$W/fixroot
mkdir -p "$R/etc/isulad" "$R/home/$TU_NAME" "$R/proc/sys/kernel"
printf 'ID=openEuler\nVERSION_ID="22.03"\n' > "$R/etc/os-release"
echo 6.8.0 > "$R/proc/sys/kernel/osrelease"
printf 'root:x:0:0::/root:/bin/sh\n%s:x:%s:%s::/home/%s:/bin/sh\n' "$TU_NAME" "$TU_UID" "$TU_GID" "$TU_NAME" > "$R/etc/passwd"
printf 'root:x:0:\n%s:x:%s:\n' "$TU_NAME" "$TU_GID" > "$R/etc/group"
echo '{}' > "$R/etc/isulad/daemon.json"
chmod 0600 "$R/etc/isulad/daemon.json"
chmod 0755 "$R" "$R/home"
chown "$TU_UID:$TU_GID" "$R/home/$TU_NAME"
on_pty fix 120 -- 'i=0; while [ $i -lt 10 ]; do "$RS" --root '"$R"' --user "$U" --engine isulad fix --yes --rule isulad.permissions > '"$W"'/fix.log 2>&1; i=$((i+1)); done'
check "fix: the user's copy was written (as the user)" \
	test "$(stat -c %u "$R/home/$TU_NAME/.config/isulad/system/etc/isulad/daemon.json" 2>/dev/null)" = "$TU_UID"
walk_clean fix "fix"

done_testing
