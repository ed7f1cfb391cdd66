# shellcheck shell=bash
# Shared test helpers for the shell test suites (sourced, POSIX sh + bash).
# Output is TAP-like; the last line is "N passed, N failed, N skipped".
# RS_TESTS_MUST_WORK=1 (set by .ci/run) turns every skip into a failure:
# a test that needs something this machine can do must never skip in CI.

: "${RS_BIN:=$(cd "$(dirname "$0")/../.." && pwd)/build/rootless-setup}"
T_PASS=0
T_FAIL=0
T_SKIP=0
T_N=0

ok() {
	T_N=$((T_N + 1)); T_PASS=$((T_PASS + 1))
	echo "ok $T_N - $*"
}

not_ok() {
	T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $*"
}

# check NAME CMD...: passes when CMD exits 0
check() {
	name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

skip() {
	if [ "${RS_TESTS_MUST_WORK:-0}" = 1 ]; then
		not_ok "$1 # skip not allowed (RS_TESTS_MUST_WORK=1): ${2:-}"
	else
		T_N=$((T_N + 1)); T_SKIP=$((T_SKIP + 1))
		echo "ok $T_N - $1 # SKIP ${2:-}"
	fi
}

diag() { echo "# $*"; }

done_testing() {
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}
