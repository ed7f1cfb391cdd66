#!/bin/bash
# The fleet run over hostile users (issue 19, item 11), on this live host:
# one user makes its runtime dir 0755, another cannot be checked at all;
# neither changes the fleet's exit status or its ready file, which follow
# the host-wide rules alone (rootless-setup(8), check --all-users). A user
# who pre-created the report file in a shared (sticky) directory gets a new
# root-owned file in its place, never its own inode back; a directory that
# others may write without the sticky bit is refused for the report.
#   RS_TEST_USER=rsfleet RS_BIN=build/rootless-setup bash tests/security/t-fleet-users.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

sec_begin "fleet over hostile users" "needs root (a throwaway user)"
sec_scratch fleet
R=$D/ready
fleet() { # USERS...: one fleet run; rc in $rc, the report in $O/fleet.json
	timeout 120 "$RS" check --all-users="$1" --format json --ready-file "$R" > "$O/fleet.json" 2> "$O/fleet.err"
	rc=$?
}
jqe() { jq -e "$@" > /dev/null; }
ready() { "$RS" check --ready-test "$R" && echo yes || echo no; }

# the reference: the host and a well-behaved user (its own failures, if
# any, are its own lines too)
fleet "$U"; rc0=$rc; ready0=$(ready)
check "a fleet run (exit $rc0, ready $ready0) gives a fleet report" jqe '.schema == "rootless-setup/fleet-report/v1"' "$O/fleet.json"
hostfail=$(jq '[.results[] | select(.status == "fail")] | length' "$O/fleet.json")
check "the exit status is the host's verdict ($hostfail host rules failing, exit $rc0)" \
	[ "$rc0" = "$([ "$hostfail" -gt 0 ] && echo 1 || echo 0)" ]
check "and the ready file says the same" [ "$ready0" = "$([ "$rc0" = 0 ] && echo yes || echo no)" ]

# 1. the user opens its runtime dir to everyone
tu_run chmod 0755 "$TU_XDG"
fleet "$U"
check "a runtime dir of 0755: that user's runtime.dir fails" \
	jqe --arg u "$U" '.users[] | select(.user.name == $u) | .results[] | select(.id == "runtime.dir") | .status == "fail"' "$O/fleet.json"
check "and the summary counts a failing user" jqe '.summary.failing >= 1' "$O/fleet.json"
check "the fleet's exit status is unchanged ($rc0 -> $rc)" [ "$rc" = "$rc0" ]
check "and so is the ready file ($ready0 -> $(ready))" [ "$(ready)" = "$ready0" ]
tu_run chmod 0700 "$TU_XDG"

# 2. a user that cannot be checked (gone from passwd meanwhile)
fleet "$U,rs-no-such-user-$$"
check "a user that cannot be checked is its own line with the error" \
	jqe '.users[1].error != null and .summary.errors == 1' "$O/fleet.json"
check "the fleet's exit status is unchanged ($rc0 -> $rc)" [ "$rc" = "$rc0" ]
check "and so is the ready file ($ready0 -> $(ready))" [ "$(ready)" = "$ready0" ]

# 3. the report file pre-created by the user in a shared, sticky directory
SH=$D/shared; mkdir "$SH"; chmod 1777 "$SH"
tu_run sh -c "echo mine > '$SH/report.json'; chmod 0666 '$SH/report.json'"
ino=$(stat -c %i "$SH/report.json")
timeout 120 "$RS" check --all-users="$U" --format json --report-file "$SH/report.json" > /dev/null 2> "$O/rep.err"; rc=$?
check "a report where the user made a file first is written (exit $rc)" [ "$rc" = "$rc0" ]
check "as a new file ($ino -> $(stat -c %i "$SH/report.json"))" [ "$(stat -c %i "$SH/report.json")" != "$ino" ]
check "owned by root, mode 0644 ($(stat -c '%u %a' "$SH/report.json"))" [ "$(stat -c '%u %a' "$SH/report.json")" = "0 644" ]
check "holding the fleet report" jqe '.schema == "rootless-setup/fleet-report/v1"' "$SH/report.json"
if tu_run sh -c "echo x >> '$SH/report.json'" 2>/dev/null; then
	not_ok "which the user cannot change"
else
	ok "which the user cannot change"
fi

# 4. a directory others can write without the sticky bit: no report there
OPEN=$D/open; mkdir "$OPEN"; chmod 0777 "$OPEN"
tu_run sh -c "echo mine > '$OPEN/report.json'"
mine=$(digest "$OPEN")
timeout 120 "$RS" check --all-users="$U" --format json --report-file "$OPEN/report.json" > /dev/null 2> "$O/open.err"; rc=$?
check "a world-writable directory without the sticky bit: refused (exit $rc): $(cat "$O/open.err")" \
	sh -c "[ $rc = 3 ] && grep -q 'may be changed by another user' '$O/open.err'"
check "and the user's file there is untouched" [ "$(digest "$OPEN")" = "$mine" ]
OWN=$H/reports; tu_run mkdir -p "$OWN"
timeout 120 "$RS" check --all-users="$U" --format json --report-file "$OWN/report.json" > /dev/null 2> "$O/own.err"; rc=$?
check "a directory of the user's: refused too (exit $rc)" sh -c "[ $rc = 3 ] && [ ! -e '$OWN/report.json' ]"
done_testing
