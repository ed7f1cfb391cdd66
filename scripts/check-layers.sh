#!/bin/sh
# The include graph of src/ goes downward only (docs/architecture.md,
# "Layers"): a file may include a header of its own directory or of a
# lower layer, never of a higher one or of a peer, and a directory's
# internal.h only from inside that directory. Run by `make check-layers`
# (in `make lint` and `make check`).
#   check-layers.sh [SRC_DIR]     exit 0: no wrong-way include; 1: each named
set -eu
src=${1:-src}

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
exit $bad
