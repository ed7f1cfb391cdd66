#!/bin/bash
# Root installing or uninstalling a daemon engine for a user starts and stops
# its unit through the user's systemd manager: systemctl --user, with the
# user's XDG_RUNTIME_DIR and session bus. Both sockets are in the user's
# runtime directory, so the "manager" may be anything the user runs. The
# attack: the user listens on $XDG_RUNTIME_DIR/systemd/private and bus as a
# fake manager and records who connects (SO_PEERCRED). Root's systemctl must
# reach it only with the user's credentials (never uid 0), root's files stay
# as they were, and the tool names the user it acted as.
#
#   RS_BIN=build/rootless-setup RS_TEST_USER=rsmgr bash tests/security/t-user-manager.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

sec_begin "user manager attacks" "root runs install for the user: needs root"
sec_records
PY=/usr/bin/python3
[ -x "$PY" ] || { not_ok "python3 is missing (make deps)"; done_testing; exit; }
[ -x /usr/bin/systemctl ] || { not_ok "systemctl is missing (make deps)"; done_testing; exit; }

# the fake manager, as the user: every peer's uid on a line of its log
cat > "$TU_WORK/fake.py" <<'EOF'
import os, socket, struct, sys, threading
log = open(sys.argv[1], "a", buffering=1)
def serve(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)
    while True:
        c, _ = s.accept()
        pid, uid, gid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        log.write("%s uid=%d gid=%d\n" % (os.path.basename(path), uid, gid))
        c.close()
for p in sys.argv[2:]:
    threading.Thread(target=serve, args=(p,), daemon=True).start()
open(sys.argv[1] + ".ready", "w").close()
threading.Event().wait()
EOF
chmod 0644 "$TU_WORK/fake.py"
LOG=$TU_HOME/peers.log
tu_run mkdir -p "$TU_XDG/systemd"

tu_run "$PY" "$TU_WORK/fake.py" "$LOG" "$TU_XDG/systemd/private" "$TU_XDG/bus" &
fake=$!
tu_on_exit sh -c "pkill -u $TU_UID -f fake.py; true"
for _ in $(seq 50); do [ -e "$LOG.ready" ] && break; sleep 0.1; done
check "the user's fake manager listens" [ -S "$TU_XDG/systemd/private" ]

# decoys: root's unit directories and a root-owned directory of ours
D=$(mktemp -d /tmp/rs-mgr.XXXXXX); tu_on_exit rm -rf "$D"
echo keep > "$D/f"
before=$(digest "$D" /etc/systemd/user /etc/systemd/system /root/.config/systemd)

"$RS" --user "$TU_NAME" --engine containerd install --force > "$TU_WORK/install.out" 2>&1
sleep 0.3
check "root's install reached the user's manager socket (systemctl ran)" grep -q . "$LOG"
check "every connection to the user's manager came with the user's uid, none with root's" \
	sh -c "grep -q . '$LOG' && ! grep -v ' uid=$TU_UID ' '$LOG' | grep -q ."
check "install says it ran systemctl as the user" \
	grep -q "systemctl --user daemon-reload (as $TU_NAME)" "$TU_WORK/install.out"
check "a fake manager: install reports the failed systemctl" grep -q 'failed (status' "$TU_WORK/install.out"
: > "$LOG"
"$RS" --user "$TU_NAME" --engine containerd uninstall > "$TU_WORK/uninstall.out" 2>&1
sleep 0.3
check "root's uninstall: systemctl --user disable reached the manager as the user only" \
	sh -c "grep -q . '$LOG' && ! grep -v ' uid=$TU_UID ' '$LOG' | grep -q ."
check "root's files are unchanged" [ "$before" = "$(digest "$D" /etc/systemd/user /etc/systemd/system /root/.config/systemd)" ]
grep -v " uid=$TU_UID " "$LOG" | sed 's/^/# not the user: /'
kill "$fake" 2>/dev/null
done_testing
