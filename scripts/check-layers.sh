#!/bin/sh
# The include graph of src/ goes downward only (docs/architecture.md,
# "Layers"): a file may include a header of its own directory or of a
# lower layer, never of a higher one or of a peer, and a directory's
# internal.h only from inside that directory. With OBJ_DIR (the build's
# src/ objects), the same order holds for symbols: an object may use a
# symbol defined in its own directory or a lower layer, so an extern
# declared low for a definition high (an edge no include shows) fails too.
# Run by `make check-layers` (in `make lint` and `make check`).
#   check-layers.sh [SRC_DIR [OBJ_DIR]]   exit 0: all downward; 1: each named
set -eu
src=${1:-src}
obj=${2:-}

# rank of a layer: higher ranks may include lower ones
rank() {
	case $1 in
	lib) echo 0 ;;
	host) echo 1 ;;
	core | oci) echo 2 ;;
	checks) echo 3 ;;
	fixers) echo 4 ;;
	install | ports) echo 5 ;;
	launch) echo 6 ;;
	top) echo 7 ;; # main.c, cmd-*.c, cli.h, cmd-*.h
	*) echo unknown ;;
	esac
}

layer_of() { # a path below src/, or an include's "dir/name.h"
	case $1 in
	*/*) echo "${1%%/*}" ;;
	*) echo top ;;
	esac
}

bad=0
n=0
for f in $(cd "$src" && find . -name '*.[ch]' | sed 's#^\./##' | sort); do
	from=$(layer_of "$f")
	rf=$(rank "$from")
	if [ "$rf" = unknown ]; then
		echo "check-layers: src/$f: directory '$from' has no layer (add it to scripts/check-layers.sh and docs/architecture.md)"
		bad=1
		continue
	fi
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$src/$f"); do
		n=$((n + 1))
		to=$(layer_of "$inc")
		rt=$(rank "$to")
		case $inc in
		*/internal.h)
			if [ "$to" != "$from" ]; then
				echo "check-layers: src/$f includes $inc: internal to src/$to/"
				bad=1
			fi
			continue
			;;
		esac
		[ "$to" = "$from" ] && continue
		if [ "$rt" = unknown ] || [ "$rt" -ge "$rf" ]; then
			echo "check-layers: src/$f ($from) includes $inc ($to): against the layer order"
			bad=1
		fi
	done
done
[ $bad = 0 ] && echo "check-layers: $n includes, all downward"

# Symbols: "OBJ SYMBOL" lines of what each object defines and uses.
# The one edge allowed up: a rule's descriptor names its fixer
# (checks/*.c: .fixer = &rs_fixer_NAME, data the core hands to fixers/
# through struct rs_rule; checks never call into fixers).
if [ -n "$obj" ]; then
	# objects of sources that exist: a build dir may keep stale ones of
	# files since moved (src/templates/ became src/install/)
	srcabs=$(cd "$src" && pwd)
	objs=$(cd "$obj" && find . -name '*.o' | sed 's#^\./##' | sort |
		while read -r o; do [ ! -f "$srcabs/${o%.o}.c" ] || echo "$o"; done)
	if [ -z "$objs" ]; then
		echo "check-layers: no objects in $obj: build first"
		exit 1
	fi
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	for l in lib host core oci checks fixers install ports launch top; do
		echo "$l $(rank "$l")"
	done >"$tmp/rank"
	for o in $objs; do
		nm -g --defined-only "$obj/$o" | awk -v o="$o" 'NF == 3 { print o, $3 }' >>"$tmp/def"
		nm -u "$obj/$o" | awk -v o="$o" '{ print o, $NF }' >>"$tmp/use"
	done
	out=$(awk '
	function layer(p) { return index(p, "/") ? substr(p, 1, index(p, "/") - 1) : "top" }
	FNR == NR && FILENAME == ARGV[1] { rank[$1] = $2; next }
	FILENAME == ARGV[2] { def[$2] = $1; next }
	($2 in def) {
		n++
		from = layer($1); to = layer(def[$2])
		if (from == to || rank[to] < rank[from]) next
		if (from == "checks" && to == "fixers" && $2 ~ /^rs_fixer_/) next
		printf "check-layers: src/%s uses %s of src/%s: against the layer order\n", \
			substr($1, 1, length($1) - 2) ".c", $2, substr(def[$2], 1, length(def[$2]) - 2) ".c"
	}
	END { printf "%d\n", n }' "$tmp/rank" "$tmp/def" "$tmp/use")
	if [ "$(printf '%s\n' "$out" | wc -l)" -gt 1 ]; then
		printf '%s\n' "$out" | sed '$d'
		bad=1
	else
		echo "check-layers: $out symbol uses between objects, all downward"
	fi
fi
exit $bad
