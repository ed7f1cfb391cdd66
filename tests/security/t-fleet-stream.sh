#!/bin/bash
# The fleet run at scale (issue 25), on fixture fleets made by
# bench/fleet-tree.sh (200 users and 20 range owners without a passwd
# line): the streamed format (--format jsonl) is one JSON object a line,
# a host line, a line per user, a summary line, with the same verdicts as
# the one-document format; etc/passwd, etc/group and the subordinate-id
# files are opened once per run, however many users; a passwd the run
# cannot read is one line of error and exit status 3, not an error per
# user; odd passwd content (a 5 MiB line, NUL bytes) is no crash.
# Behaviour only: the timing is bench/'s (make bench).
#   RS_BIN=build/rootless-setup bash tests/security/t-fleet-stream.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib/tap.sh"
RS=${RS_BIN:-$TOP/build/rootless-setup}
jqs() { jq -se "$@" > /dev/null; }

if [ "$(id -u)" != 0 ]; then
	skip "fleet fixtures" "needs root (bench/fleet-tree.sh chowns the homes)"
	done_testing; exit
fi
for t in jq strace; do
	command -v "$t" > /dev/null || { not_ok "$t is missing (make deps)"; done_testing; exit; }
done
D=$(mktemp -d /tmp/rs-fleet-stream.XXXXXX) || exit 1
trap 'rm -rf "$D"' EXIT
T=$D/tree
bash "$TOP/bench/fleet-tree.sh" 200 "$T" > /dev/null 2>&1 || { not_ok "fleet-tree.sh 200"; done_testing; exit; }
owners=$(cut -d: -f1 "$T/etc/subuid" "$T/etc/subgid" | awk '!s[$0]++' | wc -l)

# 1. the streamed format's schema
"$RS" --root "$T" check --all-users --engine all --format jsonl > "$D/l" 2> "$D/l.err"; rcl=$?
n=$(wc -l < "$D/l")
bad=0
while IFS= read -r line; do jq -e 'type == "object" and (.type | type == "string")' <<< "$line" > /dev/null 2>&1 || bad=$((bad + 1)); done < "$D/l"
check "every line is one JSON object with a type ($n lines, $bad not)" [ "$n" -gt 2 -a "$bad" = 0 ]
check "the first line is the host: schema fleet-report/v2, no user" \
	sh -c "head -1 '$D/l' | jq -e '.type == \"host\" and .schema == \"rootless-setup/fleet-report/v2\" and .host.user == null and (.results | length) > 0' > /dev/null"
check "then one line per owner in etc/subuid and etc/subgid ($owners)" \
	[ "$(jq -c 'select(.type == "user")' "$D/l" | wc -l)" = "$owners" -a "$n" = $((owners + 2)) ]
check "each user line has results, decisions and a summary, or an error" \
	jqs '[.[] | select(.type == "user")] | all(.user.name != null and ((.results | type == "array") and .decisions != null and .summary != null) or (.error | type == "string"))' "$D/l"
check "the last line is the summary, counting $owners users" \
	sh -c "tail -1 '$D/l' | jq -e '.type == \"summary\" and .summary.users == $owners' > /dev/null"
check "range owners without a passwd line are errors (20 of them)" \
	jqs '[.[] | select(.type == "user" and .error != null)] | length == 20 and (.[0].error | test("x000001"))' "$D/l"

# 2. the same verdicts as the one-document format
"$RS" --root "$T" check --all-users --engine all --format json > "$D/j" 2> /dev/null; rcj=$?
check "the same exit status ($rcl, $rcj)" [ "$rcl" = "$rcj" ]
check "the same host results" [ "$(head -1 "$D/l" | jq -c .results)" = "$(jq -c .results "$D/j")" ]
check "the same users, in the same order, with the same entries" \
	[ "$(jq -c 'select(.type == "user") | del(.type)' "$D/l" | md5sum)" = "$(jq -c '.users[]' "$D/j" | md5sum)" ]
check "the same summary" [ "$(tail -1 "$D/l" | jq -c .summary)" = "$(jq -c .summary "$D/j")" ]
mkdir -m 0700 "$D/rep"
"$RS" --root "$T" check --all-users --engine all --format jsonl --report-file "$D/rep/r.jsonl" > "$D/l2" 2> /dev/null
check "--report-file receives the lines stdout gets" cmp -s "$D/l2" "$D/rep/r.jsonl"

# 3. each shared host file opened once per run, for 220 users
strace -f -e trace=openat,openat2,open -o "$D/st" "$RS" --root "$T" check --all-users --engine all \
	--format jsonl > /dev/null 2>&1
for f in etc/passwd etc/group etc/subuid etc/subgid; do
	c=$(grep -c "\"$f\"" "$D/st")
	check "$f is opened once in the run ($c)" [ "$c" = 1 ]
done

# 4. bad input: one line and exit 3 for a passwd that cannot be read;
# content that is odd but readable is no crash and no error per user
B=$D/bad
cp -a "$T" "$B"
head -c $((33 << 20)) /dev/zero | tr '\0' A | sed 's/^/huge:x:30000:30000:/; s/$/:\/home\/huge:\/bin\/sh/' >> "$B/etc/passwd"
"$RS" --root "$B" check --all-users --format jsonl > "$D/b.out" 2> "$D/b.err"; rc=$?
check "a passwd over 32 MiB: exit 3 ($rc)" [ "$rc" = 3 ]
check "with one line of error naming the file" \
	sh -c "[ \"\$(wc -l < '$D/b.err')\" = 1 ] && grep -q \"cannot read '/etc/passwd'\" '$D/b.err'"
check "and no partial report on stdout" [ ! -s "$D/b.out" ]
cp "$T/etc/passwd" "$B/etc/passwd"
{ printf 'long:x:30001:30001:'; head -c $((5 << 20)) /dev/zero | tr '\0' B; printf ':/home/long:/bin/sh\n'; } >> "$B/etc/passwd"
printf 'nul\0byte:x:30002:30002::/home/nul:/bin/sh\n' >> "$B/etc/passwd"
printf 'nul\0byte:1000000000:65536\n' >> "$B/etc/subuid"
"$RS" --root "$B" check --all-users --format jsonl > "$D/c.out" 2> "$D/c.err"; rc=$?
check "a 5 MiB passwd line and NUL bytes: a report (exit $rc, not a crash)" [ "$rc" -lt 2 ]
check "whose lines are all JSON, summary last" jqs '.[-1].type == "summary"' "$D/c.out"
check "with the same users checked as before the odd lines" \
	[ "$(jq -c 'select(.type == "user" and .error == null) | .user.name' "$D/c.out" | md5sum)" = \
	  "$(jq -c 'select(.type == "user" and .error == null) | .user.name' "$D/l" | md5sum)" ]

done_testing
