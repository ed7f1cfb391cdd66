#!/bin/bash
# Every engine suite of tests/engines, summed ("N passed, N failed, N skipped").
set -u
here=$(dirname "$0")
p=0 f=0 s=0
for t in podman podman-storage containerd buildkit isulad kata oci first-hour; do
	echo "# ---- engines/$t"
	out=$(bash "$here/$t.sh" 2>&1)
	echo "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' <<<"$out" | tail -1)
	[ -n "$line" ] || { f=$((f + 1)); echo "not ok - engines/$t ended without a summary"; continue; }
	read -r a _ b _ c _ <<<"$line"
	p=$((p + a)); f=$((f + b)); s=$((s + c))
done
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
