#!/bin/sh
# Replays the corpus of every fuzz target (tests/fuzz/corpus/TARGET/) with
# the target built against tests/fuzz/replay.c; a crash or a sanitizer
# report fails. Usage: run-replay.sh BUILD_FUZZ_DIR
set -u
dir=$1
corpus="$(dirname "$0")/corpus"
pass=0 fail=0
for bin in "$dir"/fuzz-*-replay; do
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
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
