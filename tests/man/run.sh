#!/bin/sh
# The man page documents every rule id and every long option the program
# accepts: a missing one fails this test.
set -u
. "$(dirname "$0")/../lib/tap.sh"
MAN="$(dirname "$0")/../../man/rootless-setup.8.scd"

for id in $("$RS_BIN" rules --format json | jq -r '.[].id'); do
	check "man documents rule $id" grep -q "\*$id\*" "$MAN"
done
[ "$("$RS_BIN" rules --format json | jq length)" -ge 24 ]; check "rules lists 24 rules" [ $? -eq 0 ]
opts=$( { "$RS_BIN" --help; for v in check rules explain launch nsenter oci fix; do "$RS_BIN" "$v" --help; done; } |
	grep -o -- '--[a-z][a-z-]*' | sort -u)
for o in $opts; do
	check "man documents option $o" grep -q -- "\*$o\*" "$MAN"
done
if command -v scdoc >/dev/null 2>&1; then
	out=$(mktemp)
	check "man page builds with scdoc" sh -c "scdoc < '$MAN' > '$out'"
	if command -v groff >/dev/null 2>&1; then
		check "groff finds nothing to warn about" sh -c "[ -z \"\$(groff -man -ww -z '$out' 2>&1)\" ]"
	else
		skip "man page lint" "groff not installed"
	fi
	rm -f "$out"
else
	skip "man page builds with scdoc" "scdoc not installed"
fi
done_testing
