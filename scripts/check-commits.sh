#!/bin/sh
# Checks the commit messages of a range against CONTRIBUTING.md
# ("Commits"): a subject of at most 72 characters, then a blank line
# before any body, body lines wrapped at 72 (a longer line is accepted
# when it has no space to break at: a URL, a path, a quoted message).
#   scripts/check-commits.sh [RANGE]     default: origin/main..HEAD, or
#                                        main..HEAD without an origin
# Exit 0: all fit; 1: each that does not is named.
set -eu
range=${1:-}
if [ -z "$range" ]; then
	if git rev-parse -q --verify origin/main >/dev/null; then
		range=origin/main..HEAD
	else
		range=main..HEAD
	fi
fi
bad=0
n=0
for c in $(git rev-list --no-merges "$range"); do
	n=$((n + 1))
	subject=$(git log -1 --format=%s "$c")
	len=$(printf '%s' "$subject" | wc -m)
	if [ "$len" -gt 72 ]; then
		echo "check-commits: $(git log -1 --format=%h "$c"): subject of $len characters (at most 72): $subject"
		bad=1
	fi
	second=$(git log -1 --format=%B "$c" | sed -n 2p)
	if [ -n "$second" ]; then
		echo "check-commits: $(git log -1 --format=%h "$c"): no blank line after the subject"
		bad=1
	fi
	long=$(git log -1 --format=%b "$c" | awk 'length($0) > 72 && index($0, " ") { n++ } END { print n + 0 }')
	if [ "$long" -gt 0 ]; then
		echo "check-commits: $(git log -1 --format=%h "$c"): $long body line(s) over 72 characters"
		bad=1
	fi
done
[ $bad = 0 ] && echo "check-commits: $n commit(s) in $range fit"
exit $bad
