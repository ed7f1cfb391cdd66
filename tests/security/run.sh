#!/bin/bash
# The attacks of a hostile user on root-run rootless-setup (docs/security.md),
# one script per family (t-*.sh), each TAP-like with a closing
# "N passed, N failed, N skipped" line; this runner sums them.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0 skip=0
for t in "$HERE"/t-*.sh; do
	[ -e "$t" ] || continue
	echo "# ---- $(basename "$t")"
	out=$(bash "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n 1)
	if [ -z "$last" ]; then
		echo "# $(basename "$t"): no summary line (exit $rc)"
		fail=$((fail + 1))
		continue
	fi
	set -- $last
	pass=$((pass + $1)) fail=$((fail + $3)) skip=$((skip + $5))
	if [ "$rc" -ne 0 ] && [ "$3" -eq 0 ]; then
		echo "# $(basename "$t"): exited $rc"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
