#!/bin/sh
# Replays the corpus of every fuzz target (tests/fuzz/corpus/TARGET/) with
# the target built against tests/fuzz/replay.c; a crash, a failed invariant
# (abort) or a sanitizer report fails, and the inputs that fail are named.
# Usage: run-replay.sh DIR   (DIR holds fuzz-*-replay, e.g. build/fuzz)
# Ends with "N passed, N failed" (one count per target); exit 1 on failure.
set -u
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 DIR-WITH-fuzz-*-replay" >&2
	exit 2
fi
dir=$1
corpus="$(dirname "$0")/corpus"
pass=0 fail=0
for bin in "$dir"/fuzz-*-replay; do
	if [ ! -x "$bin" ]; then
		echo "not ok - no fuzz-*-replay binary in $dir"
		fail=$((fail + 1))
		continue
	fi
	name=$(basename "$bin" -replay)
	if [ ! -d "$corpus/$name" ]; then
		echo "not ok - $name: no corpus in $corpus/$name"
		fail=$((fail + 1))
		continue
	fi
	if out=$("$bin" "$corpus/$name" 2>&1); then
		echo "ok - $name: $out"
		pass=$((pass + 1))
	else
		echo "not ok - $name"
		echo "$out" | tail -20 | sed 's/^/# /'
		# name the inputs that fail on their own
		find "$corpus/$name" -type f ! -name '.*' | sort | while read -r f; do
			"$bin" "$f" >/dev/null 2>&1 || echo "# failing input: $f"
		done
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
