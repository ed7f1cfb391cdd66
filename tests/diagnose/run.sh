#!/bin/bash
# diagnose against real error messages: every message of corpus/ (copied
# from public issue threads and guides, each with its URL) is fed to
# `diagnose --format json` under a fixture host and must be recognised as
# the catalogue entry the file names, implicating the rule it names; the
# corpus covers every engine. Then the verdicts (a fault fixture makes the
# implicated rule fail now: exit 1; a healthy one: "does not apply here"),
# the command line, bounded and hostile input, --log and --unit read as the
# user, and live cases for the throwaway user (RS_TEST_USER). Run as root:
#   RS_BIN=build/rootless-setup RS_TEST_USER=rsdiag bash tests/diagnose/run.sh
# Corpus files: header lines (url, project, engine, expect, rule, note), a
# line "---", then the message verbatim. rule "-": the entry has no rule.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$HERE/../lib/tap.sh"
MK=$HERE/../fixtures/mkhost.sh
CORPUS=$HERE/corpus

if [ "$(id -u)" != 0 ]; then
	skip "diagnose" "fixture trees with owners and the throwaway user need root"
	done_testing; exit
fi
for tool in jq timeout setfacl mkfifo; do
	command -v "$tool" > /dev/null || { not_ok "'$tool' is installed"; done_testing; exit; }
done
T=$(mktemp -d /tmp/rs-diag.XXXXXX)
chmod 0755 "$T"
trap 'rm -rf "$T"' EXIT
FIXTURES="debian12-healthy helpers-nosuid subuid-missing no-tun debian10 ubuntu2404 in-container
	debian12-isulad-stale home-nfs kata-bad-kvm runtime-dir-missing"
# shellcheck disable=SC2016 # $1.. belong to the inner sh
printf '%s\n' $FIXTURES | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} \
	sh -c 'bash "$1" "$2" "$3/$2" > "$3/$2.log" 2>&1 || echo "mkhost $2 failed" >&2' sh "$MK" {} "$T"
RULE_IDS=$("$RS_BIN" rules --format json | jq -r '.[].id')
has_rule() { grep -qx "$1" <<<"$RULE_IDS"; }
body() { sed '1,/^---$/d' "$1"; }
not() { ! "$@"; }
jqe() { jq -e "$@" > /dev/null; }
# checkx NAME EXPR: passes when the shell expression EXPR (evaluated here,
# with this script's variables) is true
checkx() {
	local name=$1
	shift
	if eval "$*"; then ok "$name"; else not_ok "$name"; fi
}
hdr() { sed -n "s/^$2: //p" "$1" | head -1; }

# ---- the corpus ------------------------------------------------------------
n=0 bad=0
declare -A per_engine=()
for f in "$CORPUS"/*.txt; do
	n=$((n + 1))
	name=$(basename "$f" .txt) url=$(hdr "$f" url) eng=$(hdr "$f" engine)
	expect=$(hdr "$f" expect) rule=$(hdr "$f" rule)
	per_engine[$eng]=$((${per_engine[$eng]:-0} + 1))
	case "$url" in https://*) ;; *) not_ok "$name: has an https url ($url)"; bad=$((bad + 1)); continue ;; esac
	out=$(body "$f" | timeout 60 "$RS_BIN" --root "$T/debian12-healthy" --user alice \
		diagnose --format json - 2>/dev/null)
	rc=$?
	got=$(jq -r '.matches[0].id // "nothing"' <<<"$out" 2>/dev/null)
	rules=$(jq -r '.matches[0].rules // [] | join(" ")' <<<"$out" 2>/dev/null)
	why=""
	[ "$got" = "$expect" ] || why="first match $got, not $expect"
	if [ "$rule" = - ]; then
		[ -z "$rules" ] || why="${why:+$why; }$expect names rules ($rules)"
	elif ! grep -qw -- "$rule" <<<"$rules"; then
		why="${why:+$why; }$rule is not among its rules ($rules)"
	elif has_rule "$rule" && ! jq -e --arg r "$rule" '.results | any(.id == $r)' <<<"$out" >/dev/null; then
		why="${why:+$why; }$rule was not run"
	fi
	case $rc in 0 | 1) ;; *) why="${why:+$why; }exit $rc" ;; esac
	if [ -n "$why" ]; then
		not_ok "corpus $name ($url): $why"
		bad=$((bad + 1))
	fi
done
check "the corpus holds at least 80 messages ($n)" [ "$n" -ge 80 ]
check "every corpus message is recognised as its entry, with its rule ($bad of $n not)" [ "$bad" -eq 0 ]
for e in isulad containerd buildkit podman kata oci; do
	check "the corpus has messages of $e (${per_engine[$e]:-0})" [ "${per_engine[$e]:-0}" -ge 3 ]
done
diag "corpus by engine: $(for e in "${!per_engine[@]}"; do printf '%s=%s ' "$e" "${per_engine[$e]}"; done)"

# ---- verdicts under fixtures ------------------------------------------------
# run FIXTURE FILE [ARGS...]: diagnose the corpus message in FILE; J, RC
run() {
	local fx=$1 f=$CORPUS/$2.txt
	shift 2
	J=$(body "$f" | timeout 60 "$RS_BIN" --root "$T/$fx" "$@" diagnose --format json - 2>/dev/null)
	RC=$?
}
verdict() { jq -r '.verdict.status + " " + (.verdict.rule // "-")' <<<"$J"; }
fails_now() { # FIXTURE FILE RULE [ARGS]: the rule fails (or warns) now, exit 1
	local fx=$1 f=$2 rule=$3
	shift 3
	[ -d "$T/$fx" ] || { not_ok "fixture $fx builds"; return; }
	run "$fx" "$f" --user alice "$@"
	checkx "$fx + $f: exit 1, verdict fails-now $rule ($(verdict), exit $RC)" \
		'[ "$RC" = 1 ] && [ "$(verdict)" = "fails-now $rule" ]'
}
fails_now helpers-nosuid rootlesskit-326-selfbuilt subid.helpers
fails_now helpers-nosuid podman-23596-filecaps subid.helpers
fails_now subuid-missing podman-1182-nosubuid subid.ranges
fails_now subuid-missing moby-49810-einval subid.ranges
fails_now no-tun slirp4netns-openwrt25818-enoent network.tun --engine podman
fails_now debian10 podman-x11docker255-clone userns.clone
fails_now ubuntu2404 rootlesskit-439-apparmor userns.apparmor
fails_now in-container podman-10802-container env.container
fails_now debian12-isulad-stale isulad-guide-stalestate isulad.stale-state
fails_now home-nfs moby-docs13275-nfs storage.fs --engine containerd
fails_now kata-bad-kvm kata-distrobox1143-kvm-eacces kvm.device
fails_now runtime-dir-missing nerdctl-alpinelima34-xdg runtime.dir

run debian12-healthy podman-23596-filecaps --user alice
checkx "healthy host: newuidmap's known cause does not apply (exit $RC, $(verdict))" \
	'[ "$RC" = 0 ] && [ "$(verdict)" = "does-not-apply -" ]'
out=$(body "$CORPUS/podman-23596-filecaps.txt" | "$RS_BIN" --root "$T/debian12-healthy" --user alice diagnose - 2>&1)
check "the text says the known cause does not apply here" grep -q 'does not apply here' <<<"$out"
checkx "the text names the cause, the rule and where users reported it" \
	'grep -q "cause: " <<<"$out" && grep -q "rules: subid.helpers" <<<"$out" && grep -q "known: https://" <<<"$out"'
run debian12-healthy runc-1782-requires-userns --user alice
checkx "a runtime called without a rootless bundle: by hand, pointing at oci rootless (exit $RC)" \
	'[ "$RC" = 0 ] && [ "$(verdict)" = "by-hand -" ] && jq -r .verdict.text <<<"$J" | grep -q "oci rootless"'
check "an entry without a rule runs no check (results empty, host null)" \
	jqe '(.results | length) == 0 and .host == null' <<<"$J"
run debian12-healthy podman-1182-nosubuid
checkx "root naming nobody: the per-user rule is not checked, and it says so (exit $RC, $(verdict))" \
	'[ "$RC" = 0 ] && [ "$(verdict)" = "not-checked -" ] && jq -e ".verdict.unchecked | index(\"subid.ranges\")" <<<"$J" >/dev/null'
J=$(echo "nothing to see" | "$RS_BIN" diagnose --format json - 2>/dev/null); RC=$?
checkx "unrecognised text: exit 4, no matches, verdict unrecognised" \
	'[ "$RC" = 4 ] && jq -e "(.matches | length) == 0 and .verdict.status == \"unrecognised\"" <<<"$J" >/dev/null'
check "the diagnosis document has its schema, matches, results and verdict" \
	jqe '.schema == "rootless-setup/diagnosis/v1" and (.matches | type) == "array" and (.results | type) == "array" and (.verdict | type) == "object"' <<<"$J"
J=$(body "$CORPUS/podman-21738-nnp.txt" | "$RS_BIN" --root "$T/debian12-healthy" --user alice diagnose --format json - 2>/dev/null)
check "matches are best first, each with id, rules, cause and sources" \
	jqe '(.matches | length) >= 2 and all(.matches[]; (.id | type) == "string" and (.rules | type) == "array" and (.cause | length) > 0 and (.sources | length) > 0 and all(.sources[]; startswith("https://")))' <<<"$J"
J=$("$RS_BIN" --root "$T/debian12-healthy" --user alice --engine isulad diagnose --format json \
	'WARN[0000] The cgroupv2 manager is set to systemd but there is no systemd user session available' 2>/dev/null)
check "--engine leaves out the entries of other engines" jqe '(.matches | length) == 0' <<<"$J"

# ---- the command line --------------------------------------------------------
usage() { # NAME ARGS...: exit 2 with one line on stderr
	local name=$1 err
	shift
	# shellcheck disable=SC2034 # err is read by the check string checkx evaluates
	err=$("$RS_BIN" "$@" 2>&1 >/dev/null </dev/null)
	local rc=$?
	checkx "usage: $name (exit $rc)" '[ "$rc" = 2 ] && [ "$(grep -c . <<<"$err")" -le 2 ]'
}
usage "no text" diagnose
usage "two sources" diagnose --log /etc/hostname some text
usage "--unit without --engine" diagnose --unit
usage "--unit with two engines" --engine podman --engine containerd diagnose --unit
usage "--unit of an engine without a daemon" --engine oci diagnose --unit
usage "--unit with --root" --root "$T/debian12-healthy" --engine containerd diagnose --unit
usage "an unknown option" diagnose --bogus x
usage "an unknown user" --user no-such-user-x diagnose 'newuidmap: Could not set caps'
usage "a --log that does not exist" diagnose --log "$T/absent.log"
out=$("$RS_BIN" diagnose newuidmap: Could not set caps 2>/dev/null)
check "the words of TEXT are joined (unquoted arguments)" grep -q newuidmap-not-setuid <<<"$out"
check "diagnose --help names --log and --unit" sh -c '"$1" diagnose --help | grep -q -- --unit' _ "$RS_BIN"

# ---- bounded and hostile input ------------------------------------------------
{ head -c $((3 << 20)) /dev/zero | tr '\0' 'x'; printf '\nnewuidmap: Could not set caps\n'; } > "$T/big.log"
J=$(timeout 60 "$RS_BIN" diagnose --format json - < "$T/big.log" 2>/dev/null); RC=$?
check "3 MiB of input: the end is read (truncated), the error found (exit $RC)" \
	jqe '.input.truncated and .input.bytes <= 1048576 and .matches[0].id == "newuidmap-not-setuid"' <<<"$J"
timeout 60 sh -c 'head -c 100000000 /dev/zero | "$1" diagnose - > /dev/null 2>&1' _ "$RS_BIN"; RC=$?
check "100 MB of NUL bytes on standard input: bounded, unrecognised (exit $RC)" [ "$RC" = 4 ]
printf '\033]0;pwned\007\033[2J newuidmap: Could not set caps \377\376\n' > "$T/esc.log"
out=$("$RS_BIN" diagnose - < "$T/esc.log" 2>&1)
checkx "terminal escapes in the text are shown escaped, never sent" \
	'! grep -q "$(printf "\033")" <<<"$out" && grep -qF "\\x1b" <<<"$out"'
J=$("$RS_BIN" diagnose --format json - < "$T/esc.log" 2>/dev/null)
check "invalid UTF-8 in an excerpt still makes one JSON document" jqe '.matches[0].excerpt | length > 0' <<<"$J"
out=$(printf 'a\0b\nnewuidmap: Could not set caps\n' | "$RS_BIN" diagnose - 2>&1)
check "a NUL byte in the text ends no line early" grep -q 'line 2' <<<"$out"

# ---- the throwaway user: --log and --unit as the user, and live verdicts -----
# shellcheck source=../lib/testuser.sh
. "$HERE/../lib/testuser.sh"
if ! tu_setup; then
	not_ok "the throwaway user '$TU_NAME' can be created"
	done_testing; exit
fi
tu_run sh -c 'printf "%s\n" "newuidmap: write to uid_map failed: Invalid argument" > "$HOME/engine.log"'
J=$("$RS_BIN" --user "$TU_NAME" diagnose --format json --log "$TU_HOME/engine.log" 2>/dev/null)
check "--log: the user's log is read (as the user) and recognised" \
	jqe '.input.source == "file" and .matches[0].id == "newuidmap-einval"' <<<"$J"
tu_run ln -sf /etc/shadow "$TU_HOME/evil.log"
out=$("$RS_BIN" --user "$TU_NAME" diagnose --log "$TU_HOME/evil.log" 2>&1); RC=$?
checkx "--log: the user's symlink to /etc/shadow is not followed (exit $RC)" \
	'[ "$RC" = 2 ] && ! grep -q "root:" <<<"$out"'
tu_run mkfifo "$TU_HOME/fifo.log"
out=$(timeout 30 "$RS_BIN" --user "$TU_NAME" diagnose --log "$TU_HOME/fifo.log" 2>&1); RC=$?
checkx "--log: a FIFO the user left is refused at once, not waited on (exit $RC)" \
	'[ "$RC" = 2 ] && grep -q "not a regular file" <<<"$out"'
out=$(timeout 60 "$RS_BIN" --user "$TU_NAME" --engine containerd diagnose --unit 2>&1); RC=$?
# no systemd user manager here: its journal is empty or unreadable, never root's
checkx "--unit: rootless-setup-containerd.service's journal, read as the user (exit $RC)" \
	'{ [ "$RC" = 4 ] && grep -q rootless-setup-containerd.service <<<"$out"; } || { [ "$RC" = 3 ] && grep -q "as .$TU_NAME." <<<"$out"; }'
diag "--unit here: $(head -1 <<<"$out")"

# network.tun live: the user opens /dev/net/tun by an ACL of ours, or not
tun=/dev/net/tun
if [ -c "$tun" ]; then
	mine() { getfacl -p "$tun" 2>/dev/null | grep -q "^user:$TU_NAME:"; }
	msg='Error: /usr/bin/slirp4netns failed: "open(\"/dev/net/tun\"): No such device"'
	setfacl -m "u:$TU_NAME:rw" "$tun"
	J=$("$RS_BIN" --user "$TU_NAME" --engine podman diagnose --format json "$msg" 2>/dev/null); RC=$?
	checkx "live: with rw on $tun, network.tun passes: exit 0, the known cause does not apply ($(verdict))" \
		'[ "$RC" = 0 ] && [ "$(verdict)" = "does-not-apply -" ]'
	setfacl -x "u:$TU_NAME" "$tun"
	J=$("$RS_BIN" --user "$TU_NAME" --engine podman diagnose --format json "$msg" 2>/dev/null); RC=$?
	if tu_run sh -c "exec 3<>$tun" 2>/dev/null; then
		# the host's mode lets everyone open it: the rule passes, as it must
		checkx "live: without the ACL $TU_NAME still opens $tun: not the cause here (exit $RC, $(verdict))" \
			'[ "$RC" = 0 ] && [ "$(verdict)" = "does-not-apply -" ]'
	else
		checkx "live: without it network.tun is the cause now: exit 1 ($(verdict))" \
			'[ "$RC" = 1 ] && [ "$(verdict)" = "fails-now network.tun" ]'
	fi
	check "no ACL entry for $TU_NAME is left on $tun" not mine
else
	skip "live network.tun" "no $tun on this host"
fi
# kvm.group live: a fresh user is in no group kvm
J=$("$RS_BIN" --user "$TU_NAME" diagnose --format json \
	'qemu-kvm: -accel kvm: failed to initialize kvm: Permission denied' 2>/dev/null); RC=$?
checkx "live: /dev/kvm denied to a fresh user: exit 1, a kvm rule fails now ($(verdict))" \
	'[ "$RC" = 1 ] && grep -qE "^fails-now kvm\.(device|group)\$" <<<"$(verdict)"'
done_testing
