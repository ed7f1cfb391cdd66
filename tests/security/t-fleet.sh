#!/bin/bash
# The fleet check's writes: root runs `check --all-users --report-file P
# --ready-file R` (a DaemonSet, a cron job) where an admin put P and R in a
# directory users can write (a sticky, world-writable one). The user plants
# a symlink, a hard link and a FIFO there, aimed at root-owned decoys; root
# must write neither through them nor block, and must say why.
#   RS_TEST_USER=rsfleet RS_BIN=build/rootless-setup bash tests/security/t-fleet.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "fleet report writes" "needs root (a throwaway user)"
	done_testing; exit
fi
tu_setup || { not_ok "throwaway user"; done_testing; exit; }
DECOY=$(mktemp -d /tmp/rs-fleet-decoy.XXXXXX)
SHARED=$(mktemp -d /tmp/rs-fleet-shared.XXXXXX)
PRIV=$(mktemp -d /tmp/rs-fleet-priv.XXXXXX)
tu_on_exit rm -rf "$DECOY" "$SHARED" "$PRIV"
echo precious > "$DECOY/file"; chmod 0644 "$DECOY/file"
chmod 1777 "$SHARED"
H=$(mktemp -d /tmp/rs-fleet-host.XXXXXX); tu_on_exit rm -rf "$H"
bash "$HERE/../fixtures/mkhost.sh" debian12-healthy "$H"
run() { timeout 20 "$RS_BIN" --root "$H" check --all-users=alice --format json "$@" > /dev/null 2> "$PRIV/err"; }

before=$(digest "$DECOY")
tu_run ln -s "$DECOY/file" "$SHARED/report.json"
run --report-file "$SHARED/report.json"; rc=$?
check "a symlink planted at the report path: the decoy is untouched" [ "$(digest "$DECOY")" = "$before" ]
check "and root refused, saying why (exit $rc)" sh -c "[ $rc = 3 ] && grep -q 'report.json' '$PRIV/err'"
tu_run rm -f "$SHARED/report.json"

# a hard link needs the user to own the target or fs.protected_hardlinks=0;
# the user links its own file, which root must not rewrite either
tu_run sh -c "echo mine > '$SHARED/own'; ln '$SHARED/own' '$SHARED/ready'"
own=$(digest "$SHARED/own")
run --ready-file "$SHARED/ready"; rc=$?
check "a hard link planted at the ready path is not written through (exit $rc)" [ "$(digest "$SHARED/own")" = "$own" ]
tu_run rm -f "$SHARED/ready" "$SHARED/own"

tu_run mkfifo "$SHARED/report.json"
t0=$(date +%s)
run --report-file "$SHARED/report.json"; rc=$?
check "a FIFO at the report path neither blocks nor is written (exit $rc)" [ $(( $(date +%s) - t0 )) -lt 15 -a -p "$SHARED/report.json" ]
tu_run rm -f "$SHARED/report.json"

tu_run ln -s "$DECOY/file" "$SHARED/ready"
run --ready-file "$SHARED/ready" --rule kernel.version
check "a symlink at the ready path: the decoy is untouched whether ready or not" [ "$(digest "$DECOY")" = "$before" ]
done_testing
