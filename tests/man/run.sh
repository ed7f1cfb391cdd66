#!/bin/bash
# The man pages document every rule and every long option the program
# accepts: a missing one fails this test. Rules are documented by
# rootless-setup-rules(7), which mkrules.sh writes from the binary's own
# rule table (id, summary, engines, explain text, fixer), so a new rule is
# documented by its descriptor; rootless-setup(8)'s RULES section is an
# overview whose every rule name must still exist.
set -u
. "$(dirname "$0")/../lib/tap.sh"
MAN="$(dirname "$0")/../../man/rootless-setup.8.scd"
IDS=$("$RS_BIN" rules --format json | jq -r '.[].id')

[ "$(printf '%s\n' $IDS | grep -c .)" -ge 24 ]; check "rules lists at least 24 rules" [ $? -eq 0 ]
# the overview in rootless-setup(8) names no rule the program lacks
for id in $(sed -n '/^# RULES/,/^# DECISIONS/p' "$MAN" | grep -oE '^\*[a-z0-9]+\.[a-z0-9-]+\*' | tr -d '*'); do
	check "rootless-setup(8) names rule $id, which the program has" sh -c 'printf "%s\n" $2 | grep -qx "$1"' _ "$id" "$IDS"
done
opts=$( { "$RS_BIN" --help; for v in $("$RS_BIN" --help | sed -n "/^Commands:/,/^$/p" | awk 'NF > 1 && $1 ~ /^[a-z]+$/ { print $1 }'); do "$RS_BIN" "$v" --help; done; } |
	grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
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
# the RULES overview says "Fixer" for exactly the rules that have one (it
# once claimed a fixer for subid.helpers, which explain said it lacks)
sed -n '/^# RULES/,/^# DECISIONS/p' "$MAN" | awk '
	/^\*[a-z0-9]+\.[a-z0-9-]+\* \(/ { if (id != "") print id, has; id = $1; gsub(/\*/, "", id); has = 0; next }
	/^$/ { if (id != "") print id, has; id = ""; next }
	id != "" && /(^|[^a-z])(Fixer|[Tt]he fixer)([^a-z]|$)/ && !/No fixer/ { has = 1 }
	END { if (id != "") print id, has }' > "${TMPDIR:-/tmp}/rs-man-fixers.$$"
while read -r id has; do
	want=$("$RS_BIN" rules --format json | jq -r --arg id "$id" '.[] | select(.id == $id) | if .fixer then 1 else 0 end')
	[ -n "$want" ] || continue
	check "rootless-setup(8) says rule $id has a fixer only if it has one ($has, program $want)" [ "$has" = "$want" ]
done < "${TMPDIR:-/tmp}/rs-man-fixers.$$"
rm -f "${TMPDIR:-/tmp}/rs-man-fixers.$$"

# the verbs are the ones --help lists, each documented once, and no section
# heading stands twice (two merged copies of a section once contradicted
# each other and this test passed)
VERBS=$("$RS_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && $1 ~ /^[a-z]+$/ { print $1 }')
[ "$(printf '%s\n' $VERBS | grep -c .)" -ge 10 ]; check "--help lists at least 10 commands" [ $? -eq 0 ]
for v in $VERBS; do
	check "man documents the command $v once" [ "$(grep -cE "^\*$v( rootless)?\*( [[_].*)?$" "$MAN")" = 1 ]
done
dups=$(grep -E '^#+ ' "$MAN" | sort | uniq -d)
check "no section heading stands twice${dups:+ ($dups)}" [ -z "$dups" ]

# rules(7), written from the rule table, builds and lints clean
if command -v scdoc >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
	r7=$(mktemp)
	check "rootless-setup-rules(7) builds" sh -c "sh '$(dirname "$0")/../../man/mkrules.sh' '$RS_BIN' | scdoc > '$r7'"
	check "rootless-setup-rules(7) lints clean" sh -c "[ -z \"\$(groff -man -ww -z '$r7' 2>&1)\" ]"
	n=$(grep -c '^\.SS' "$r7")
	check "rootless-setup-rules(7) has one section per rule ($n)" [ "$n" = "$("$RS_BIN" rules --format json | jq length)" ]
	for id in $IDS; do
		check "rootless-setup-rules(7) documents rule $id" grep -q "^\.SS $id\b" "$r7"
	done
	rm -f "$r7"
fi

# bash completion offers every command, every long option the help texts
# name, and every rule id
COMP="$(dirname "$0")/../../completions/rootless-setup.bash"
if command -v bash >/dev/null 2>&1; then
	words=$(PATH="$(dirname "$RS_BIN"):$PATH" bash -c '. "$1"; all=""
		for line in "rootless-setup " "rootless-setup check " "rootless-setup fix " \
			"rootless-setup launch " "rootless-setup nsenter " "rootless-setup oci " \
			"rootless-setup explain " "rootless-setup rules " "rootless-setup generate " \
			"rootless-setup install " "rootless-setup uninstall " "rootless-setup diagnose "; do
			read -r -a COMP_WORDS <<<"$line"; COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			_rootless_setup; all="$all ${COMPREPLY[*]}"
		done; echo "$all"' _ "$COMP" | tr ' ' '\n' | sort -u)
	for v in check fix generate install uninstall launch nsenter oci rules explain diagnose; do
		check "completion offers the command $v" grep -qx "$v" <<<"$words"
	done
	for o in $opts; do
		check "completion offers $o" grep -qx -- "$o" <<<"$words"
	done
	for id in $("$RS_BIN" rules --format json | jq -r '.[].id'); do
		check "completion offers rule $id" grep -qx "$id" <<<"$words"
	done
fi
done_testing
