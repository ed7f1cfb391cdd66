#!/bin/sh
# Runs the cmocka unit test binaries given as arguments, prints their output,
# and ends with one line "N passed, N failed" summed over all of them.
# A binary that crashes, is killed, cannot be run, or exits non-zero without
# cmocka's summary counts as one failure; the exit status is non-zero when
# anything failed.
set -u
pass=0
fail=0
# cmocka's plain-text summary is what is parsed below
CMOCKA_MESSAGE_OUTPUT=STDOUT
export CMOCKA_MESSAGE_OUTPUT
unset CMOCKA_TEST_ABORT 2>/dev/null || true

for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	# "[  PASSED  ] 12 test(s)." and "[  FAILED  ] 1 test(s), listed below:"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		if [ "$rc" -gt 128 ]; then
			echo "# $bin: killed by signal $((rc - 128))"
		else
			echo "# $bin: exited $rc without a failed test in its summary"
		fi
		fail=$((fail + 1))
	elif ! printf '%s\n' "$out" | grep -q '^\[==========\] [0-9][0-9]* test(s) run\.'; then
		echo "# $bin: no cmocka summary"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
