#!/bin/bash
# Launch start-up of two (or more) builds, interleaved: is a change slower?
#
#   bash bench/launch-ab.sh OLD-BINARY NEW-BINARY [MORE...]
#
# hyperfine runs all of one command, then all of the next; on a VM whose
# process start-up drifts by a millisecond within minutes that drift lands
# on one side. Here every round runs each build once, in a shuffled order,
# so drift is shared. Each run is `BIN launch --state-dir DIR -- true` as a
# throwaway user (tests/lib/testuser.sh), its state dir in the user's
# XDG_RUNTIME_DIR, where a launch keeps it by default. Prints each build's
# median, mean and standard deviation, and the ratio of each median to the
# first build's. Nothing is asserted.
#
# Environment: RS_AB_RUNS=200 rounds.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
RUNS=${RS_AB_RUNS:-200}

# shellcheck source=tests/lib/testuser.sh
. "$TOP/tests/lib/testuser.sh"

say() { echo "launch-ab: $*" >&2; }
die() { say "$*"; exit 2; }

[ $# -ge 2 ] || die "usage: bash bench/launch-ab.sh OLD-BINARY NEW-BINARY [MORE...]"
for b in "$@"; do
	[ -x "$b" ] || die "'$b' is not an executable"
done
tu_setup || die "cannot set up the benchmark user"
W=$(mktemp -d "${TMPDIR:-/tmp}/rs-ab.XXXXXX") || exit 1
tu_on_exit rm -rf "$W"
chmod 0755 "$W"
names=()
for ((i = 1; i <= $#; i++)); do
	cp "${!i}" "$W/b$i" || die "cannot copy '${!i}'"
	chmod 0755 "$W/b$i"
	names+=("b$i")
done

# one shell as the user runs every round: the timer is bash's clock, the
# same start cost for every build
cat > "$W/rounds.sh" << 'EOF'
W=$1 runs=$2
shift 2
for b in "$@"; do mkdir -p "$XDG_RUNTIME_DIR/rs-ab-$b"; done
for ((i = 0; i < runs; i++)); do
	for b in $(printf '%s\n' "$@" | shuf); do
		t0=$EPOCHREALTIME
		"$W/$b" launch --state-dir "$XDG_RUNTIME_DIR/rs-ab-$b" -- true || exit 1
		t1=$EPOCHREALTIME
		echo "$b ${t0/./} ${t1/./}"
	done
done
for b in "$@"; do rmdir "$XDG_RUNTIME_DIR/rs-ab-$b" 2> /dev/null; done
exit 0
EOF
say "$RUNS rounds of ${names[*]} as $TU_NAME"
if ! tu_run bash "$W/rounds.sh" "$W" "$RUNS" "${names[@]}" > "$W/times"; then
	say "a launch failed as $TU_NAME"
	exit 1
fi

printf '| build | median | mean ± sd | median / first |\n|---|---:|---:|---:|\n'
first=
for ((i = 1; i <= $#; i++)); do
	stats=$(awk -v b="b$i" '$1 == b {print ($3 - $2) / 1000}' "$W/times" | sort -n |
		awk '{v[NR] = $1; s += $1; q += $1 * $1}
		     END {m = s / NR; printf "%.2f %.2f %.2f", v[int((NR + 1) / 2)], m, sqrt(q / NR - m * m)}')
	read -r med mean sd <<< "$stats"
	: "${first:=$med}"
	# shellcheck disable=SC2016 # the backquotes are markdown
	printf '| `%s` | %s ms | %s ± %s ms | %.3f× |\n' "${!i}" "$med" "$mean" "$sd" \
		"$(awk -v a="$med" -v b="$first" 'BEGIN {print a / b}')"
done
