#!/bin/bash
# The built binary against fixture host trees (tests/fixtures/mkhost.sh):
# rule verdicts and decisions per distro and fault, the JSON report, exit
# codes and --postinstall, the command line, and bad input (odd /etc/subuid
# files, /proc/sys knobs, os-release, mountinfo, cgroup layouts, user names,
# login.defs, a package manager's environment, output errors): never a
# crash, never a hang, always exactly one JSON document. Run as root (the
# trees need owners and device nodes):
#   RS_BIN=build/rootless-setup bash tests/cli/run.sh
#   RS_BIN=build-san/rootless-setup bash tests/cli/run.sh    # no sanitizer report allowed
# Messages are free text: mostly statuses and exit codes are asserted.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$HERE/../lib/tap.sh"
MK=$HERE/../fixtures/mkhost.sh

if [ "$(id -u)" != 0 ]; then
	skip "fixture hosts" "building trees with owners, setuid files and device nodes needs root"
	done_testing; exit
fi
if [ ! -x "$RS_BIN" ]; then
	not_ok "the binary '$RS_BIN' exists (run make first)"
	done_testing; exit
fi
for tool in jq timeout script setsid; do
	command -v "$tool" > /dev/null || { not_ok "'$tool' is installed (tests/cli needs it)"; done_testing; exit; }
done

T=$(mktemp -d /tmp/rs-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$T/h" "$T/o"
SAN_RE='ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|UndefinedBehaviorSanitizer|SUMMARY: .*Sanitizer'

# Every rule id the binary has, in its order (tests/man/run.sh checks that
# the man page and the completion name each of them).
mapfile -t IDS < <("$RS_BIN" rules --format json 2> /dev/null | jq -r '.[].id' 2> /dev/null)
if [ ${#IDS[@]} -eq 0 ]; then
	not_ok "rules --format json gives the rule ids"
	done_testing; exit
fi
RULE_IDS=$(printf '%s\n' "${IDS[@]}" | jq -R . | jq -sc .)

# ---- the trees: all built at once, in parallel ---------------------------
mapfile -t SCENARIOS < <(bash "$MK" --list)
# shellcheck disable=SC2016 # $1.. belong to the inner sh
printf '%s\n' "${SCENARIOS[@]}" | xargs -P "$(nproc 2>/dev/null || echo 4)" -I{} \
	sh -c 'bash "$1" "$2" "$3/h/$2" > "$3/h/$2.log" 2>&1 || touch "$3/h/$2.failed"' sh "$MK" {} "$T"
nbad=0
for s in "${SCENARIOS[@]}"; do
	if [ -e "$T/h/$s.failed" ]; then
		nbad=$((nbad + 1)); diag "mkhost $s: $(tr '\n' ' ' < "$T/h/$s.log")"
	fi
done
case " ${SCENARIOS[*]} " in
*" debian12-healthy "*" h23-garbage "*) ok "mkhost.sh lists ${#SCENARIOS[@]} scenarios" ;;
*) not_ok "mkhost.sh --list names the scenarios (got: ${SCENARIOS[*]})" ;;
esac
# the ACL and file-capability trees need filesystem support: skipped, not failed, without it
for s in kata-kvm-acl helpers-fcaps helpers-fcaps-swapped helpers-fcaps-noeff; do
	[ -e "$T/h/$s.failed" ] && nbad=$((nbad - 1))
done
check "every scenario builds ($nbad failed)" [ "$nbad" -eq 0 ]
have() { [ -d "$T/h/$1" ] && [ ! -e "$T/h/$1.failed" ]; }
# shape DIR: names, types, modes, owners and contents of a tree (not times)
shape() {
	(cd "$1" && find . -printf '%p %y %m %U %G %s %l\n' | LC_ALL=C sort && find . -type f -exec md5sum {} + | LC_ALL=C sort) | md5sum
}
bash "$MK" kata-good-kvm "$T/again" > /dev/null 2>&1 && bash "$MK" kata-good-kvm "$T/again" > /dev/null 2>&1
check "mkhost.sh is idempotent: a rebuild in place gives the same tree" [ "$(shape "$T/again")" = "$(shape "$T/h/kata-good-kvm")" ]
mkdir "$T/notatree"; : > "$T/notatree/precious"
bash "$MK" debian10 "$T/notatree" > /dev/null 2>&1; rc=$?
kept() { [ "$rc" -ne 0 ] && [ -f "$T/notatree/precious" ]; }
check "mkhost.sh leaves a non-empty directory it did not build alone (exit $rc)" kept
bash "$MK" no-such-scenario "$T/x" > /dev/null 2>&1; rc=$?
check "mkhost.sh: an unknown scenario is an error (exit $rc)" [ $rc -eq 2 ]

# ---- running the binary ---------------------------------------------------
K=0 J='' E='' RC=0
# rs SCENARIO ARG...: RS_BIN --root TREE ARG..., stdout in $J, stderr in $E, status in $RC
rs() {
	local s=$1; shift
	K=$((K + 1)); J=$T/o/$K.out; E=$T/o/$K.err
	timeout -k 5 "${RS_TIMEOUT:-20}" "$RS_BIN" --root "$T/h/$s" "$@" > "$J" 2> "$E" < /dev/null
	RC=$?
}
# chk SCENARIO ENGINES [ARG...]: check --format json as alice for ENGINES ("" = default)
chk() {
	local s=$1 e args=(); shift
	for e in $1; do args+=(--engine "$e"); done; shift
	rs "$s" --user alice check --format json "${args[@]}" "$@"
}

one_doc() { [ "$(jq -s length < "$1" 2>/dev/null)" = 1 ]; }
no_san() { ! grep -qE "$SAN_RE" "$@"; }
not() { ! "$@"; }
# survived RC ERRFILE: no signal, no hang, no sanitizer report
survived() { [ "$1" -lt 124 ] && no_san "$2"; }
no_esc() { ! grep -q $'\033' "$@"; }
has_csi() { grep -q $'\033\\[' "$@"; }
# rc_text RC FILE: exit RC and FILE is not empty
rc_text() { [ "$1" -eq 0 ] && [ -s "$2" ]; }
lines_le() { [ "$(wc -l < "$1")" -le "$2" ]; }
contains() { case $1 in *"$2"*) true ;; *) false ;; esac; }

# The report's own contract, checked on every run: exactly one JSON
# document, the schema, every rule of `rules` exactly once, statuses from
# the four, summary counts that match, a message on every result, userns.probe
# skipped (--root), an exit code that matches the verdicts ($mode: normal,
# strict, postinstall); and, as a test of its own, a hint on every warn and
# fail (text shows an indented hint under each warn and fail).
# Its output also gives the facts the tests look at, as KEY=VALUE lines:
# rule id=status, decisions.X, profile, distro.id, version_id, kernel,
# user (name:uid:gid), engines (a,b), root, warn, fail.
# shellcheck disable=SC2016 # jq variables
ANALYSE_JQ='
def n(s): [.results[] | select(.status == s)] | length;
def verdict:
	([.results[]? | select((.message | type) != "string" or .message == "") | .id]) as $nomsg |
	if .schema != "rootless-setup/report/v1" then "schema is \(.schema)"
	elif (.results | type) != "array" then "no results array"
	elif ([.results[].id] | sort) != ($ids | sort) then
		"rule ids differ from `rules`: extra \([.results[].id] - $ids), missing \($ids - [.results[].id]), \(.results | length) results for \($ids | length) rules"
	elif ([.results[].status] - ["pass", "warn", "fail", "skip"]) != [] then "unknown status \([.results[].status] - ["pass", "warn", "fail", "skip"])"
	elif .summary != {pass: n("pass"), warn: n("warn"), fail: n("fail"), skip: n("skip")} then "summary \(.summary | tojson) does not count the results"
	elif $nomsg != [] then "no message: \($nomsg)"
	elif ($mode == "postinstall" and $rc != 0) then "--postinstall exit \($rc)"
	elif ($mode == "normal" and $rc != (if n("fail") > 0 then 1 else 0 end)) then "exit \($rc) with \(n("fail")) failing rules"
	elif ($mode == "strict" and $rc != (if n("fail") + n("warn") > 0 then 1 else 0 end)) then "--strict: exit \($rc) with \(n("fail")) fail, \(n("warn")) warn"
	elif ([.results[] | select(.id == "userns.probe" and .status != "skip")] != []) then "userns.probe is not skip under --root"
	else "OK" end;
def hints:
	[.results[]? | select(.status == "warn" or .status == "fail") | select((.hint | type) != "string" or .hint == "") | .id];
def facts:
	(.results[]? | "\(.id)=\(.status)"),
	((.decisions // {}) | to_entries[] | "decisions.\(.key)=\(.value)"),
	"profile=\(.host.distro.profile)", "distro.id=\(.host.distro.id)", "version_id=\(.host.distro.version_id)",
	"kernel=\(.host.kernel)", "user=\(.host.user.name):\(.host.user.uid):\(.host.user.gid)",
	"engines=\(.engines | join(","))", "root=\(.host.root)", "warn=\(.summary.warn)", "fail=\(.summary.fail)";
if length != 1 then "__valid=stdout holds \(length) JSON documents, not one"
else .[0] | ("__valid=" + (try verdict catch "malformed report: \(.)")), "__nohint=\(try hints catch [] | join(" "))",
	(try facts catch empty) end'
declare -A F
# analyse [MODE]: F[...] from the run in $J/$RC
analyse() {
	local k v
	F=()
	while IFS='=' read -r k v; do F[$k]=$v; done < <(jq -rs --argjson ids "$RULE_IDS" --argjson rc "$RC" \
		--arg mode "${1:-normal}" "$ANALYSE_JQ" "$J" 2> /dev/null)
}
facts() { analyse; }
# valid LABEL [MODE]: the run of $J/$E/$RC is a well-formed report (and F is set)
valid() {
	local why
	analyse "${2:-normal}"
	if [ "$RC" -ge 128 ]; then why="killed by signal $((RC - 128))"
	elif [ "$RC" -eq 124 ]; then why="timed out (hang)"
	elif ! no_san "$E"; then why="sanitizer report: $(grep -m1 -E "$SAN_RE" "$E")"
	elif [ -z "${F[__valid]-}" ]; then why="stdout is not JSON (exit $RC, $(wc -c < "$J") bytes; stderr: $(head -c 200 "$E"))"
	elif [ "${F[__valid]-}" != OK ]; then why=${F[__valid]-}
	else why=
	fi
	if [ -z "$why" ]; then ok "$1: well-formed report"; else not_ok "$1: $why"; fi
	if [ -n "${F[__valid]-}" ]; then
		if [ -z "${F[__nohint]-}" ]; then ok "$1: a hint on every warn and fail"; else not_ok "$1: warn/fail without a hint: ${F[__nohint]-}"; fi
	fi
}
# want LABEL KEY=V1|V2 or KEY!=V1|V2 (KEY rc is the exit code)
want() {
	local k v neg=0 got
	case $2 in *'!='*) k=${2%%!=*}; v=${2#*!=}; neg=1 ;; *) k=${2%%=*}; v=${2#*=} ;; esac
	if [ "$k" = rc ]; then got=$RC; else got=${F[$k]-<absent>}; fi
	if [[ "|$v|" == *"|$got|"* ]]; then
		if [ $neg = 0 ]; then ok "$1: $k = $got"; else not_ok "$1: $k is not $v (got $got)"; fi
	else
		if [ $neg = 1 ]; then ok "$1: $k = $got (not $v)"; else not_ok "$1: $k is $v (got $got)"; fi
	fi
}
# expect SCENARIO ENGINES TOKEN...: check as alice, a well-formed report, then each TOKEN
expect() {
	local s=$1 e=$2 tok; shift 2
	if ! have "$s"; then skip "$s [$e]" "the tree could not be built here"; return; fi
	chk "$s" "$e"; valid "$s [$e]"
	for tok in "$@"; do want "$s [$e]" "$tok"; done
}
# field JQ-FILTER: one value from $J
field() { jq -r "$1" "$J" 2> /dev/null; }
rule_text() { jq -r --arg id "$1" '.results[] | select(.id == $id) | "\(.message) \(.hint // "") \(.fixer // "")"' "$J" 2> /dev/null; }
# fingerprint DIR: names, modes, owners, sizes, times and contents of every file
fingerprint() {
	(cd "$1" && find . -printf '%p %y %m %U %G %s %T@\n' | LC_ALL=C sort && find . -type f -exec md5sum {} + | LC_ALL=C sort) | md5sum
}

# ---- the command line ----------------------------------------------------
out=$("$RS_BIN" rules 2> /dev/null | awk '{print $1}' | tr '\n' ' ')
check "rules lists the ids of rules --format json, in order" [ "$out" = "${IDS[*]} " ]
ids_ok() { # unique, each family.name in lower case
	[ "$(printf '%s\n' "${IDS[@]}" | sort -u | wc -l)" -eq ${#IDS[@]} ] &&
		! printf '%s\n' "${IDS[@]}" | grep -qvE '^[a-z0-9]+\.[a-z0-9-]+$'
}
check "rules --format json: ${#IDS[@]} ids, unique, each family.name" ids_ok
"$RS_BIN" --help > "$T/help" 2>&1; rc=$?
check "--help exits 0 with text" rc_text "$rc" "$T/help"
"$RS_BIN" check --help > "$T/help" 2>&1; rc=$?
check "check --help exits 0 with text" rc_text "$rc" "$T/help"
version=$("$RS_BIN" --version 2> /dev/null)
check "--version exits 0" [ -n "$version" ]

D=$T/h/debian12-healthy
usage() { # LABEL ARG...: exit 2 and something on stderr
	"$RS_BIN" "${@:2}" > "$T/u.out" 2> "$T/u.err" < /dev/null; local rc=$?
	if [ $rc -eq 2 ] && [ -s "$T/u.err" ]; then ok "usage error: $1 (exit 2)"; else not_ok "usage error: $1: exit 2 and a message on stderr (got exit $rc)"; fi
}
usage "unknown engine" --root "$D" --user alice check --engine nope
usage "unknown rule" --root "$D" --user alice check --rule no.such-rule
usage "unknown option" --root "$D" --user alice check --no-such-option
usage "unknown command" --root "$D" --user alice frobnicate
usage "--format yaml" --root "$D" --user alice check --format yaml
usage "--color sometimes" --root "$D" --user alice check --color sometimes
usage "--root without its argument" check --root
usage "--engine without its argument" --root "$D" --user alice check --engine
usage "--rule without its argument" --root "$D" --user alice check --rule
usage "unknown distro id" --root "$D" --user alice --distro no-such-distro check
usage "unknown user" --root "$D" --user ghost check
usage "--postinstall with an unknown engine" --root "$D" --user alice check --postinstall --engine nope

for args in "--root $T/no-such-dir" "--root $T/h/debian12-healthy.log"; do
	# shellcheck disable=SC2086 # two words on purpose
	"$RS_BIN" $args --user alice check --format json > "$T/x.out" 2> "$T/x.err" < /dev/null; rc=$?
	check "host not inspectable ($args): exit 3" [ $rc -eq 3 ]
	check "host not inspectable: a message on stderr" [ -s "$T/x.err" ]
	check "host not inspectable: no sanitizer report" no_san "$T/x.err"
done
mkdir "$T/empty"
"$RS_BIN" --root "$T/empty" check --format json > "$T/x.out" 2> "$T/x.err" < /dev/null; rc=$?
empty_ok() { case $rc in 0|1) one_doc "$T/x.out" ;; 3) true ;; *) false ;; esac && no_san "$T/x.err"; }
check "an empty --root: exit 0, 1 or 3 (got $rc), and a report unless 3" empty_ok

# ---- healthy Debian 12 ----------------------------------------------------
expect debian12-healthy all userns.probe=skip
check "debian12 [all]: the engines are every engine" [ "$(field '.engines | sort | join(",")')" = buildkit,containerd,devkit,isulad,kata,oci,podman ]
check "debian12 [all]: version is --version's" contains "$version" "$(field .version)"
# installed SCENARIO: the engines whose programs the tree holds (check's
# default selection, which reads the same engine table as engine.programs)
installed() { chk "$1" ""; analyse; printf '%s' "${F[engines]-}"; }
# expect_engine SCENARIO ENGINE TOKEN...: expect, and engine.programs passes
# (exit 0 as far as it decides) exactly when the tree holds the engine's program
expect_engine() {
	local s=$1 e=$2 inst name; shift 2
	inst=$(installed "$s")
	chk "$s" "$e"; analyse; name=${F[engines]-}
	if grep -qw -- "$name" <<< "${inst//,/ }"; then
		expect "$s" "$e" rc=0 engine.programs=pass "$@"
	else
		expect "$s" "$e" rc=1 engine.programs=fail "$@"
		check "$s [$e]: engine.programs says what is missing and how to install it" \
			grep -q "is installed (the $name engine's program).*install" <<< "$(rule_text engine.programs)"
	fi
}
for e in containerd isulad buildkit podman oci; do
	expect_engine debian12-healthy $e userns.probe=skip kernel.version=pass userns.max=pass subid.ranges=pass \
		subid.helpers=pass cgroup.v2=pass runtime.dir=pass
done
expect debian12-healthy containerd warn=0 \
	decisions.snapshotter=overlayfs decisions.network=slirp4netns decisions.cgroup_manager=systemd \
	kernel.overlay-userns=pass kernel.fuse-overlayfs=skip userns.clone=pass userns.apparmor=skip \
	cgroup.delegation=pass selinux.state=pass storage.fs=pass network.tun=pass network.slirp4netns=pass env.container=pass \
	kvm.device=skip kvm.group=skip isulad.permissions=skip isulad.stale-state=skip isulad.locale=skip isulad.runtime=skip isulad.cgroups=skip kata.config=skip kata.image=skip podman.config=skip \
	profile=debian distro.id=debian version_id=12 kernel=6.1.0-18-amd64 user=alice:1000:1000 engines=containerd root="$D"
check "debian12: summary counts 0 warn, 0 fail" [ "$(field '"\(.summary.warn) \(.summary.fail)"')" = "0 0" ]
check "debian12: each result names its engines" [ "$(field '[.results[] | select((.engines | type) != "array")] | length')" = 0 ]
check "debian12: hint and fixer are null on passing rules" [ "$(field '[.results[] | select(.status == "pass" and (.hint != null or .fixer != null))] | length')" = 0 ]
expect debian12-healthy "" userns.probe=skip
check "debian12: default engines include containerd (its daemon is installed)" grep -qw containerd <<< "${F[engines]-}"
check "debian12: default engines leave out what is not installed (${F[engines]-})" not grep -qwE "isulad|kata|podman|buildkit|devkit" <<< "${F[engines]-}"
"$RS_BIN" check --root "$D" --engine containerd --user alice --format json < /dev/null > "$T/after.json" 2> /dev/null
chk debian12-healthy containerd
check "global options after the command give the same report" [ "$(jq -S . "$T/after.json")" = "$(jq -S . "$J")" ]
(cd "$T/h" && "$RS_BIN" --root debian12-healthy --user alice check --engine containerd --format json < /dev/null > "$T/rel.json" 2> /dev/null)
check "a relative --root reads the same tree" [ "$(jq -S 'del(.host.root)' "$T/rel.json")" = "$(jq -S 'del(.host.root)' "$J")" ]
expect_engine debian12-healthy devkit storage.fs=pass
chk debian12-healthy containerd --strict; valid "debian12 --strict" strict
check "debian12 --strict: no warning, exit 0" [ "$RC" -eq 0 ]
rs debian10 --user alice check --rule userns.clone --format json; facts
want "check --rule userns.clone on debian10: exit 1" rc=1
want "check --rule userns.clone on debian10" userns.clone=fail
rs debian10 --user alice check --rule kernel.version --rule userns.max --format json; facts
want "check --rule kernel.version --rule userns.max on debian10: the failing rule is not run, exit 0" rc=0
want "check --rule kernel.version --rule userns.max on debian10" kernel.version=pass
want "check --rule kernel.version --rule userns.max on debian10" userns.max=pass
check "check --rule kernel.version --rule userns.max: userns.clone is not failed" [ "${F[userns.clone]-absent}" != fail ]
rs debian12-healthy --user 1000 check --engine containerd --format json; facts
want "--user 1000" user=alice:1000:1000
rs debian12-healthy --distro fedora --user alice check --engine containerd --format json; facts
want "--distro fedora overrides detection" profile=fedora

# ---- distros --------------------------------------------------------------
expect debian10 containerd rc=1 userns.clone=fail kernel.overlay-userns=warn kernel.fuse-overlayfs=pass \
	decisions.snapshotter=fuse-overlayfs cgroup.v2=warn kernel=4.19.0-21-amd64 profile=debian version_id=10
expect debian10 isulad cgroup.v2=warn userns.clone=fail isulad.cgroups=fail
expect debian10-permit containerd kernel.overlay-userns=pass decisions.snapshotter=overlayfs kernel.fuse-overlayfs=skip userns.clone=pass
expect centos7 containerd rc=1 userns.max=fail userns.clone=skip userns.apparmor=skip cgroup.v2=warn cgroup.delegation=skip \
	kernel.overlay-userns=warn kernel.fuse-overlayfs=warn "decisions.snapshotter=native|vfs" decisions.cgroup_manager!=systemd \
	selinux.state=pass profile=centos kernel=3.10.0-1160.el7.x86_64
expect centos7 isulad cgroup.v2=warn userns.max=fail
expect centos7 kata kernel.version=fail selinux.state=fail cgroup.v2=fail userns.max=fail
expect centos7 "isulad kata" cgroup.v2=fail
check "centos7 [isulad kata]: cgroup.v2's message names kata, the engine that failed it" grep -q '^kata: ' <<< "$(field '.results[] | select(.id == "cgroup.v2") | .message')"
check "centos7 [isulad kata]: engines are both" [ "$(field '.engines | sort | join(",")')" = isulad,kata ]
expect ubuntu2004 containerd kernel.overlay-userns=pass decisions.snapshotter=overlayfs kernel.fuse-overlayfs=skip cgroup.v2=warn profile=ubuntu
expect ubuntu2404 containerd rc=1 userns.apparmor=fail userns.clone=pass kernel.overlay-userns=pass profile=ubuntu version_id=24.04 kernel=6.8.0-31-generic
expect ubuntu2404-profile containerd userns.apparmor=pass
expect fedora-5.10-selinux containerd selinux.state=warn kernel.overlay-userns=warn decisions.snapshotter=fuse-overlayfs userns.clone=skip profile=fedora
expect fedora-5.10-selinux kata selinux.state=fail
# Debian's reference policy: podman's containers (container_t) may not write
# to the caller's pipe (the lab's enforcing trixie); podman is warned, the
# daemons are not, Kata fails as everywhere
expect debian12-selinux podman selinux.state=warn profile=debian
expect debian12-selinux containerd selinux.state=pass
expect debian12-selinux kata selinux.state=fail
check "debian12-selinux [kata]: the message says why SELinux stands in the way" grep -q 'needs it disabled' <<< "$(field '.results[] | select(.id == "selinux.state") | .message')"
expect openeuler2203 isulad rc=1 profile=openeuler isulad.permissions=fail isulad.stale-state=fail \
	kernel.overlay-userns=warn decisions.snapshotter=fuse-overlayfs cgroup.v2=warn version_id=22.03
expect openeuler2203 "" isulad.permissions=fail
check "openeuler2203: isulad is a default engine (its daemon is installed)" grep -qw isulad <<< "${F[engines]-}"
expect openeuler2203-fixed isulad isulad.permissions=pass isulad.stale-state=pass
expect openeuler2203-isula-group isulad isulad.permissions=pass isulad.stale-state=pass
expect debian12-isulad-stale isulad rc=1 isulad.stale-state=fail isulad.permissions=pass
expect debian12-isulad-stale containerd isulad.stale-state=skip isulad.permissions=skip
# what iSulad needs beyond its guide: a locale, modprobe (its exec helper
# bug), runc, and on cgroup v1 the user's own groups
expect debian12-isulad-ready isulad rc=0 isulad.locale=pass isulad.runtime=pass isulad.cgroups=pass cgroup.v2=warn
expect debian12-isulad-bare isulad rc=1 isulad.locale=fail isulad.runtime=fail isulad.cgroups=fail cgroup.v2=warn
check "debian12-isulad-bare: isulad.locale's fixer is offered (locale.gen)" grep -q 'locale-gen' <<< "$(rule_text isulad.locale)"
check "debian12-isulad-bare: isulad.runtime names modprobe and the exit-fifo fault" grep -q 'no modprobe.*exit fifo' <<< "$(rule_text isulad.runtime)"
check "debian12-isulad-bare: isulad.cgroups names the hierarchies" grep -q 'memory' <<< "$(rule_text isulad.cgroups)"
expect debian12-isulad-nocpus isulad isulad.cgroups=fail
check "debian12-isulad-nocpus: only cpuset is named" grep -q '1 of 11 .*(cpuset)' <<< "$(rule_text isulad.cgroups)"
expect debian12-isulad-nomemory isulad isulad.cgroups=fail
expect debian12-healthy isulad isulad.cgroups=pass isulad.locale=fail
expect h18-no-user-manager isulad isulad.cgroups=fail
expect debian12-isulad-ready containerd isulad.locale=skip isulad.runtime=skip isulad.cgroups=skip
expect cos containerd rc=1 storage.fs=fail profile=cos kernel=5.15.133+
expect cos buildkit storage.fs=fail
expect bottlerocket containerd rc=1 userns.max=fail selinux.state=pass profile=bottlerocket
check "bottlerocket: userns.max's hint points to the settings API" grep -qiE 'settings|apiclient' <<< "$(field '.results[] | select(.id == "userns.max") | .hint')"
expect home-nfs containerd rc=1 storage.fs=fail
expect home-nfs oci storage.fs=skip
expect no-slirp containerd network.slirp4netns=warn decisions.network=host
expect no-tun containerd network.tun=warn decisions.network!=slirp4netns
expect subuid-missing containerd rc=1 subid.ranges=fail
expect subuid-overlap containerd rc=0 subid.ranges=warn
chk subuid-overlap containerd --strict; valid "subuid-overlap --strict" strict
check "subuid-overlap --strict: the warning fails (exit 1)" [ "$RC" -eq 1 ]
expect subuid-small containerd rc=1 subid.ranges=fail
expect subuid-by-uid containerd subid.ranges=pass
expect subuid-split containerd subid.ranges=pass
expect subgid-missing containerd rc=1 subid.ranges=fail
expect no-newuidmap containerd rc=1 subid.helpers=fail
expect no-newuidmap kata subid.helpers=fail
expect helpers-nosuid containerd rc=1 subid.helpers=fail
expect helpers-fcaps containerd subid.helpers=pass
# ---- the keys of /etc/subuid, the helpers' capabilities ---------------------
expect subuid-by-uid containerd subid.keys=pass
expect subuid-by-uid podman subid.keys=pass
expect subuid-alias containerd rc=1 subid.keys=fail subid.ranges=fail
check "subuid-alias: subid.keys names the other name of uid 1000" grep -q "'alice2', another name of uid 1000" <<< "$(rule_text subid.keys)"
expect subuid-by-uid-podman41 podman rc=1 subid.keys=fail
check "subuid-by-uid-podman41: podman 4.1 with libsubid looks names up only" grep -q "podman 4.1.1 (with libsubid).*containers/storage#1264" <<< "$(rule_text subid.keys)"
expect subuid-by-uid-podman41 containerd subid.keys=pass
expect subuid-by-uid-shadow42 containerd rc=1 subid.keys=fail
check "subuid-by-uid-shadow42: newuidmap of shadow 4.2 takes names only" grep -q "newuidmap of shadow 4.2 finds 0" <<< "$(rule_text subid.keys)"
expect subuid-mixed-keys podman rc=0 subid.keys=warn
check "subuid-mixed-keys: what podman sees is named (65536 of 131072)" grep -q "finds 65536 of the 131072" <<< "$(rule_text subid.keys)"
expect subuid-mixed-keys containerd subid.keys=pass
expect subuid-missing containerd subid.keys=skip
expect helpers-fcaps-swapped containerd rc=1 subid.helpers=fail
check "helpers-fcaps-swapped: names the capability newuidmap lacks" grep -q "without cap_setuid (it has cap_setgid" <<< "$(rule_text subid.helpers)"
check "helpers-fcaps-swapped: the hint is the right setcap" grep -q "setcap cap_setuid=ep /usr/bin/newuidmap" <<< "$(rule_text subid.helpers)"
expect helpers-fcaps-noeff containerd rc=1 subid.helpers=fail
check "helpers-fcaps-noeff: the missing effective bit is named" grep -q "not effective" <<< "$(rule_text subid.helpers)"

# ---- no_new_privs, nested user namespaces ------------------------------------
expect nnp-user-manager containerd rc=1 userns.nnp=fail
check "nnp-user-manager: the drop-in is named" grep -q "NoNewPrivileges=yes in '/etc/systemd/system/user@.service.d/50-harden.conf'" <<< "$(rule_text userns.nnp)"
expect nnp-user-manager podman userns.nnp=fail
expect nnp-engine-unit containerd rc=1 userns.nnp=fail
check "nnp-engine-unit: an option that implies it in a user unit" grep -q "RestrictNamespaces=yes in '/home/alice/.config/systemd/user/rootless-setup-containerd.service'" <<< "$(rule_text userns.nnp)"
expect nnp-engine-unit podman userns.nnp=pass
expect nnp-reset containerd userns.nnp=pass
expect nnp-manager containerd rc=1 userns.nnp=fail
check "nnp-manager: the user's manager is named with its pid" grep -q "user manager of 'alice' (pid 4242)" <<< "$(rule_text userns.nnp)"
expect nested-small containerd rc=1 userns.nested=fail
check "nested-small: the unmapped range is named" grep -q "subordinate uids 100000-165535" <<< "$(rule_text userns.nested)"
expect nested-big containerd userns.nested=pass
expect debian12-healthy containerd userns.nested=pass userns.nnp=pass

# ---- Podman's pause process, the user bus -------------------------------------
expect migrate-stale podman rc=1 podman.migrate=fail
check "migrate-stale: says to run podman system migrate" grep -q "podman system migrate" <<< "$(rule_text podman.migrate)"
check "migrate-stale: a fix is offered" [ "$(field '.results[] | select(.id == "podman.migrate") | .fixer')" = "rootless-setup fix --rule podman.migrate" ]
expect migrate-current podman podman.migrate=pass
expect migrate-stale containerd podman.migrate=skip
expect debian12-healthy podman cgroup.dbus=pass decisions.cgroup_manager=systemd
expect dbus-missing podman cgroup.dbus=warn decisions.cgroup_manager=cgroupfs
check "dbus-missing: the hint installs dbus-user-session" grep -q "apt-get install -y dbus-user-session" <<< "$(rule_text cgroup.dbus)"
expect dbus-missing containerd cgroup.dbus=skip decisions.cgroup_manager=systemd
expect h18-no-systemd podman cgroup.dbus=skip

# ---- another setup on the engine's socket ---------------------------------------
expect conflict-nerdctl-unit containerd engine.conflict=warn
check "conflict-nerdctl-unit: nerdctl's unit is named" grep -q "containerd.service' is installed (nerdctl's" <<< "$(rule_text engine.conflict)"
expect conflict-nerdctl-unit isulad engine.conflict=pass
expect conflict-stale-socket containerd engine.conflict=pass
check "conflict-stale-socket: a socket nobody listens on is no conflict" grep -q "nobody listens on" <<< "$(rule_text engine.conflict)"
if have conflict-stale-socket; then
	# a listener at the tree's sockets: the user's (as alice) and the rootful one
	X=$T/held; cp -a "$T/h/conflict-stale-socket" "$X"
	S=$X/run/user/1000/containerd/containerd.sock; rm -f "$S"; chown 1000:1000 "${S%/*}"
	listen() { # UID DIR NAME: DIR/NAME listened on by UID until killed; its pid in $T/listen.pid
		# from DIR as the cwd: $T is root's 0700, the tree's path not the user's to walk
		rm -f "$T/listen.pid"
		(cd "$2" && exec 3> "$T/listen.pid" && exec setpriv --reuid="$1" --regid="$1" --clear-groups /usr/bin/python3 -c 'import os,socket,sys,time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); os.write(3, str(os.getpid()).encode()); os.close(3); time.sleep(60)' "$3") &
		for _ in $(seq 100); do [ -s "$T/listen.pid" ] && break; sleep 0.1; done
	}
	listen 1000 "${S%/*}" containerd.sock; lp=$(cat "$T/listen.pid" 2> /dev/null)
	"$RS_BIN" --root "$X" --user alice check --engine containerd --format json > "$T/held.json" 2> /dev/null < /dev/null
	check "a process listening at the user's socket: engine.conflict warns, naming pid $lp" \
		grep -q "^warn .*held by pid $lp.*uid 1000" <(jq -r '.results[] | select(.id == "engine.conflict") | "\(.status) \(.message)"' "$T/held.json")
	[ -n "$lp" ] && kill "$lp"
	rm -f "$S"; mkdir -p "$X/run/containerd"; listen 0 "$X/run/containerd" containerd.sock; lp=$(cat "$T/listen.pid" 2> /dev/null)
	"$RS_BIN" --root "$X" --user alice check --engine containerd --format json > "$T/held.json" 2> /dev/null < /dev/null
	check "a rootful containerd's socket answers: engine.conflict warns" \
		grep -q "^warn a rootful containerd runs at '/run/containerd/containerd.sock'" <(jq -r '.results[] | select(.id == "engine.conflict") | "\(.status) \(.message)"' "$T/held.json")
	[ -n "$lp" ] && kill "$lp"
	wait 2> /dev/null
fi

# ---- devices that exist and do not open ---------------------------------------
expect tun-unloaded containerd network.tun=warn decisions.network=host
check "tun-unloaded: ENODEV, and why" grep -q "sys/class/misc/tun is absent.*ENODEV" <<< "$(rule_text network.tun)"
expect tun-loadable containerd network.tun=pass decisions.network=slirp4netns
expect tun-modules-disabled containerd network.tun=warn
check "tun-modules-disabled: kernel.modules_disabled is named" grep -q "kernel.modules_disabled is 1" <<< "$(rule_text network.tun)"
expect debian10 containerd storage.fuse=pass decisions.snapshotter=fuse-overlayfs
expect fuse-unloaded containerd storage.fuse=warn decisions.snapshotter=native
expect debian12-healthy containerd storage.fuse=skip
expect runtime-dir-missing containerd rc=1 runtime.dir=fail
expect runtime-dir-bad containerd rc=1 runtime.dir=fail
expect in-container containerd env.container=warn
check "in-container [containerd]: the hint is not BuildKit's" bash -c '! grep -q "oci-worker-no-process-sandbox" <<< "$1"' _ "$(rule_text env.container)"
expect in-container buildkit env.container=warn
check "in-container [buildkit]: BuildKit's hint" grep -q "buildkit then needs --oci-worker-no-process-sandbox" <<< "$(rule_text env.container)"
expect kata-bad-kvm kata rc=1 kvm.device=fail kvm.group=fail kata.config=warn kata.image=warn podman.config=warn
expect kata-good-kvm kata rc=0 kvm.device=pass kvm.group=pass kata.config=pass kata.image=pass podman.config=pass \
	selinux.state=pass kernel.version=pass storage.fs=skip network.tun=skip
expect kata-good-kvm containerd kvm.device=skip kvm.group=skip kata.config=skip kata.image=skip
expect kata-good-kvm "" kvm.device=pass
check "kata-good-kvm: kata is a default engine (its runtime is installed)" grep -qw kata <<< "${F[engines]-}"
toml_ok() { python3 -c 'import sys, tomllib; [tomllib.load(open(f, "rb")) for f in sys.argv[1:]]' "$@" 2> /dev/null; }
if python3 -c 'import tomllib' 2> /dev/null; then
	check "the fixtures' Kata configuration.toml files are valid TOML" toml_ok "$T"/h/kata-*/usr/share/defaults/kata-containers/configuration.toml
else
	skip "the fixtures' Kata configuration.toml files are valid TOML" "python3 without tomllib"
fi
expect kata-kvm-0666 kata kvm.device=warn kvm.group=fail
expect kata-kvm-acl kata kvm.device=pass kvm.group=fail
expect kata-kvm-notchar kata kvm.device=fail
expect kata-etc-override kata kata.config=warn
expect kata-no-config kata rc=1 kata.config=fail
expect kata-config-unreadable kata rc=1 kata.config=fail
# what kata-runtime check asks: the CPU's virtualisation, the vhost devices
expect kata-good-kvm kata kvm.virtualization=pass
check "kata-good-kvm: vmx named" grep -q 'hardware virtualisation (vmx)' <<< "$(rule_text kvm.virtualization)"
expect kata-pvm kata rc=1 kvm.device=pass kvm.virtualization=fail
check "kata-pvm: the reason is the CPU, and kvm_pvm is named" \
	grep -q 'neither vmx nor svm.*kvm_pvm.*Kata cannot run on this host' <<< "$(rule_text kvm.virtualization)"
check "kata-pvm: no fix command (hardware)" [ "$(field '.results[] | select(.id == "kvm.virtualization") | .fixer')" = null ]
expect kata-amd kata kvm.virtualization=pass
check "kata-amd: svm named" grep -q '(svm)' <<< "$(rule_text kvm.virtualization)"
expect kata-no-vsock kata rc=1 kvm.virtualization=fail
check "kata-no-vsock: vhost-vsock named" grep -q "'/dev/vhost-vsock' is missing" <<< "$(rule_text kvm.virtualization)"
expect kata-vsock-closed kata rc=1 kvm.virtualization=fail
check "kata-vsock-closed: the user cannot open it" grep -q "cannot be opened read-write by 'alice'" <<< "$(rule_text kvm.virtualization)"
expect kata-no-cpuinfo kata kvm.virtualization=skip
check "kata-no-cpuinfo: no verdict from files the tree lacks" grep -q 'cannot tell' <<< "$(rule_text kvm.virtualization)"
expect kata-module-only kata kvm.virtualization=pass
check "kata-module-only: the vendor module counts without cpuinfo" grep -q '(kvm_intel)' <<< "$(rule_text kvm.virtualization)"
expect kata-good-kvm containerd kvm.virtualization=skip
# programs where a user would put them: /opt/ENGINE/bin, the user's
# ~/.local/bin (walked without a symlink, the user's or root's, not writable
# by others)
expect engines-elsewhere buildkit engine.programs=pass
check "engines-elsewhere [buildkit]: found in /opt/buildkit/bin" grep -q "'/opt/buildkit/bin/buildkitd'" <<< "$(rule_text engine.programs)"
expect engines-elsewhere containerd engine.programs=pass
check "engines-elsewhere [containerd]: the user's ~/.local/bin comes first" grep -q "'/home/alice/.local/bin/containerd'" <<< "$(rule_text engine.programs)"
expect engines-elsewhere kata engine.programs=pass
check "engines-elsewhere [kata]: kata-deploy's /opt/kata/bin" grep -q "'/opt/kata/bin/kata-runtime'" <<< "$(rule_text engine.programs)"
expect engines-elsewhere devkit engine.programs=fail
check "engines-elsewhere [devkit]: a program others may write is not used, and named" grep -q "devkitd' is not used: writable by other users" <<< "$(rule_text engine.programs)"
expect engines-elsewhere isulad engine.programs=fail
check "engines-elsewhere [isulad]: a symlink in the home is not followed, and named" grep -q "isulad' is not used: a symbolic link" <<< "$(rule_text engine.programs)"
expect engines-elsewhere ""
check "engines-elsewhere: the default engines are those found (${F[engines]-})" [ "${F[engines]-}" = "containerd,buildkit,kata,oci" ]

# ---- each engine's programs: installed, versions from dpkg only ------------
expect engines-missing containerd rc=1 engine.programs=fail
check "engines-missing: the hint is the distro's install command" grep -q "apt-get install -y containerd" <<< "$(rule_text engine.programs)"
expect engines-missing "" engine.programs=skip
check "engines-missing: no engine is selected by default (none is installed)" [ -z "${F[engines]-}" ]
expect engines-missing oci rc=1 engine.programs=fail
expect programs-dpkg containerd rc=0 engine.programs=pass
# dpkg_ver TREE PACKAGE: the upstream version the tree's dpkg status records
dpkg_ver() { awk -v p="$2" '$1 == "Package:" { in_p = ($2 == p) } in_p && $1 == "Version:" { v = $2; sub(/^[0-9]+:/, "", v); sub(/[-+~].*/, "", v); print v; exit }' "$1/var/lib/dpkg/status"; }
check "programs-dpkg: the version is dpkg's ($(dpkg_ver "$T/h/programs-dpkg" containerd))" \
	grep -qF "'/usr/bin/containerd' $(dpkg_ver "$T/h/programs-dpkg" containerd) " <<< "$(rule_text engine.programs)"
expect programs-dpkg podman rc=0 engine.programs=pass
expect programs-old podman rc=1 engine.programs=fail
check "programs-old: podman $(dpkg_ver "$T/h/programs-old" podman) named as too old, with the documented minimum" \
	grep -q "'/usr/bin/podman' $(dpkg_ver "$T/h/programs-old" podman) is older than" <<< "$(rule_text engine.programs)"
check "programs-old: slirp4netns $(dpkg_ver "$T/h/programs-old" slirp4netns) too" \
	grep -q "slirp4netns' $(dpkg_ver "$T/h/programs-old" slirp4netns) is older than" <<< "$(rule_text engine.programs)"
expect programs-old containerd rc=1 engine.programs=fail
check "programs-old: a package that does not own /usr/bin/containerd gives no version" \
	not grep -q "'/usr/bin/containerd' [0-9]" <<< "$(rule_text engine.programs)"
expect programs-old oci engine.programs=pass
check "programs-old: runc without a package database: present, version unknown" \
	grep -q "runc' (version unknown" <<< "$(rule_text engine.programs)"
if have programs-old; then
	# no program of the tree is ever run: each one records a run in the tree
	X=$T/norun; cp -a "$T/h/programs-old" "$X"
	for b in usr/bin/podman usr/bin/containerd usr/bin/runc usr/bin/slirp4netns; do
		printf '#!/bin/sh\ntouch "%s.ran"\n' "$X/$b" > "$X/$b"
	done
	"$RS_BIN" --root "$X" --user alice check --engine all --format json > /dev/null 2>&1 < /dev/null
	check "engine.programs runs no program of the tree" [ -z "$(find "$X" -name '*.ran')" ]
fi

# ---- cgroup.v2 per engine on a hybrid host with controllers in its v2 part --
expect hybrid-crun-only oci rc=1 cgroup.v2=fail
expect hybrid-crun-only podman rc=1 cgroup.v2=fail
check "hybrid-crun-only: the reason is crun's" grep -q crun <<< "$(rule_text cgroup.v2)"
expect hybrid-crun-only containerd cgroup.v2=warn
expect hybrid-crun-runc podman cgroup.v2=warn
check "hybrid-crun-runc: podman is told to configure runc" grep -q "configure runc" <<< "$(rule_text cgroup.v2)"
expect hybrid-crun-runc oci cgroup.v2=warn
# what install's drop-in (or anyone's containers.conf) configured is the
# verdict: no request to configure runc when it is configured
expect hybrid-crun-runc-conf podman cgroup.v2=warn
check "hybrid-crun-runc-conf: podman runs runc, as the user's drop-in says" \
	grep -q "podman runs runc ('/home/alice/.config/containers/containers.conf.d/50-rootless-setup.conf'" <<< "$(rule_text cgroup.v2)"
check "hybrid-crun-runc-conf: no request to configure runc" bash -c '! grep -q "configure runc" <<< "$1"' _ "$(rule_text cgroup.v2)"
expect hybrid-crun-runc-link podman cgroup.v2=warn
check "hybrid-crun-runc-link: a symlinked drop-in is not read" grep -q "configure runc" <<< "$(rule_text cgroup.v2)"
expect h18-hybrid oci cgroup.v2=warn

# ---- the network decision: pasta, else slirp4netns, else libslirp, else host
if have debian12-healthy && have no-tun; then
	for s in debian12-healthy no-tun; do
		cp -a "$T/h/$s" "$T/pasta-$s"; mkdir -p "$T/pasta-$s/usr/bin"
		printf '#!/bin/sh\nexit 0\n' > "$T/pasta-$s/usr/bin/pasta"; chmod 0755 "$T/pasta-$s/usr/bin/pasta"
		"$RS_BIN" --root "$T/pasta-$s" --user alice check --engine containerd --format json > "$T/pasta-$s.json" 2> /dev/null < /dev/null
	done
	check "pasta installed, /dev/net/tun usable: the network decision is pasta" \
		[ "$(jq -r .decisions.network "$T/pasta-debian12-healthy.json")" = pasta ]
	check "pasta installed, no /dev/net/tun: host" [ "$(jq -r .decisions.network "$T/pasta-no-tun.json")" = host ]
	rm "$T/pasta-debian12-healthy/usr/bin/slirp4netns"
	"$RS_BIN" --root "$T/pasta-debian12-healthy" --user alice check --engine containerd --format json > "$T/pasta-only.json" 2> /dev/null < /dev/null
	check "pasta without slirp4netns: network.slirp4netns passes (pasta serves)" \
		[ "$(jq -r '.results[] | select(.id == "network.slirp4netns") | .status' "$T/pasta-only.json")" = pass ]
	# neither program, but libslirp: the launcher's embedded network
	rm "$T/pasta-debian12-healthy/usr/bin/pasta"
	mkdir -p "$T/pasta-debian12-healthy/usr/lib/x86_64-linux-gnu"
	: > "$T/pasta-debian12-healthy/usr/lib/x86_64-linux-gnu/libslirp.so.0"
	for e in containerd podman; do
		"$RS_BIN" --root "$T/pasta-debian12-healthy" --user alice check --engine $e --format json \
			> "$T/libslirp-$e.json" 2> /dev/null < /dev/null
	done
	st() { jq -r '.results[] | select(.id == "network.slirp4netns") | .status' "$1"; }
	check "neither pasta nor slirp4netns, libslirp there: the network decision is libslirp" \
		[ "$(jq -r .decisions.network "$T/libslirp-containerd.json")" = libslirp ]
	check "and network.slirp4netns passes (the embedded network serves)" [ "$(st "$T/libslirp-containerd.json")" = pass ]
	check "with podman: it warns (podman has no network of its own then)" [ "$(st "$T/libslirp-podman.json")" = warn ]
	check "with podman alone the decision is host (nothing of ours runs)" \
		[ "$(jq -r .decisions.network "$T/libslirp-podman.json")" = host ]
	"$RS_BIN" --root "$T/pasta-debian12-healthy" --user alice --engine containerd generate --output "$T/libslirp-gen" > /dev/null 2>&1
	check "generate: containerd launches with --net=libslirp --port-driver=builtin" \
		grep -q -- "--net=libslirp --port-driver=builtin" "$T/libslirp-gen/rootless-setup-containerd.service"
	"$RS_BIN" --root "$T/pasta-debian12-healthy" --user alice --engine podman generate --output "$T/libslirp-genp" > /dev/null 2>&1
	check "generate: podman's containers.conf keeps netns = host (it cannot use ours)" \
		grep -qx 'netns = "host"' "$T/libslirp-genp/50-rootless-setup.conf"
	rm "$T/pasta-debian12-healthy/usr/lib/x86_64-linux-gnu/libslirp.so.0"
	"$RS_BIN" --root "$T/pasta-debian12-healthy" --user alice check --engine containerd --format json \
		> "$T/nothing.json" 2> /dev/null < /dev/null
	check "none of the three: host, and network.slirp4netns warns" \
		[ "$(jq -r .decisions.network "$T/nothing.json") $(st "$T/nothing.json")" = "host warn" ]
fi
expect no-tun podman network.tun=warn
check "no-tun [podman]: says what podman's containers then get" grep -q "network host" <<< "$(rule_text network.tun)"
expect no-tun containerd network.tun=warn decisions.network=host
check "no-tun [containerd]: says containerd uses the host network" grep -q "host network" <<< "$(rule_text network.tun)"

# ---- a fix line only where the fixer can act --------------------------------
expect kata-kvm-notchar kata kvm.device=fail
check "kata-kvm-notchar: no fix command offered (nothing for the fixer to chmod)" [ "$(field '.results[] | select(.id == "kvm.device") | .fixer')" = null ]
check "kata-kvm-notchar: the hint says what to do by hand" grep -q "by hand" <<< "$(rule_text kvm.device)"
expect kata-no-config kata kata.config=fail
check "kata-no-config: no fix command offered (no configuration to copy)" [ "$(field '.results[] | select(.id == "kata.config") | .fixer')" = null ]
expect kata-bad-kvm kata kvm.device=fail
check "kata-bad-kvm: a fix command for a real device node" [ "$(field '.results[] | select(.id == "kvm.device") | .fixer')" = "rootless-setup fix --rule kvm.device" ]
if have kata-kvm-notchar; then
	"$RS_BIN" --root "$T/h/kata-kvm-notchar" --user alice check --engine kata > "$T/nc.txt" 2> /dev/null < /dev/null
	check "kata-kvm-notchar text: no 'fix:' line under kvm.device" \
		not grep -q "fix: .*kvm.device" "$T/nc.txt"
fi

# ---- trees with no kernel behind them (debootstrap): no verdict from absence --
# Against the same tree with its running-system parts (debian12-healthy):
# every rule whose verdict changes when proc/, sys/, run/ and the device
# nodes are gone is skip or warn, saying why; the rules reading proc/ or
# sys/ are never pass or fail.
PROCSYS="userns.nested cgroup.dbus podman.migrate kernel.version kernel.overlay-userns kernel.fuse-overlayfs userns.max userns.clone userns.apparmor cgroup.v2 cgroup.delegation selinux.state kvm.device kvm.virtualization storage.fs network.tun env.container runtime.dir isulad.stale-state"
for s in debootstrap-noproc debootstrap-empty; do
	have "$s" || { skip "$s" "no tree"; continue; }
	chk debian12-healthy all; cp "$J" "$T/online.json"
	expect "$s" all kernel=null
	offline_ok() {
		local id st m on n=0
		for id in "${IDS[@]}"; do
			st=$(field ".results[] | select(.id == \"$id\") | .status")
			on=$(jq -r --arg id "$id" '.results[] | select(.id == $id) | .status' "$T/online.json")
			m=$(rule_text "$id")
			case " $PROCSYS " in *" $id "*) ;; *) [ "$st" = "$on" ] && continue ;; esac
			if [ "$st" = pass ] || [ "$st" = fail ] || ! grep -qE "no /proc|no /sys|cannot check" <<< "$m"; then
				[ "$st" = skip ] && [ "$on" = skip ] && continue
				diag "$id: $on -> $st: $m"; n=$((n + 1))
			fi
		done
		[ $n -eq 0 ]
	}
	check "$s: each rule that depends on proc/ or sys/ is skip or warn with the reason" offline_ok
	want "$s: no cgroup manager is concluded" decisions.cgroup_manager=none
done
if command -v unshare > /dev/null && [ -d "$T/h/debootstrap-empty" ] &&
	unshare -m sh -c 'mount -t tmpfs none "$1"' sh "$T/h/debootstrap-empty/sys" 2> /dev/null; then
	# a real procfs at the tree's proc/ (a node's / at /host) is read as a running system
	unshare -m sh -c 'mount -t proc proc "$1/proc" && exec "$2" --root "$1" --user alice check --engine containerd --rule kernel.version --format json' \
		sh "$T/h/debootstrap-empty" "$RS_BIN" > "$T/procfs.json" 2> /dev/null < /dev/null
	check "a procfs at the tree's proc/: kernel.version reads it ($(jq -r .host.kernel "$T/procfs.json" 2> /dev/null))" \
		[ "$(jq -r .host.kernel "$T/procfs.json" 2> /dev/null)" = "$(uname -r)" ]
else
	skip "a procfs at the tree's proc/" "mounting procfs in a mount namespace is not allowed here"
fi

# ---- text output and colour ----------------------------------------------
TX=$T/text
"$RS_BIN" --root "$T/h/debian10" --user alice check --engine containerd > "$TX" 2> "$TX.err" < /dev/null; rc=$?
check "text: exit 1 as with JSON" [ $rc -eq 1 ]
nl=0
for id in "${IDS[@]}"; do
	[ "$(grep -cE "^(PASS|WARN|FAIL|SKIP) +${id//./\\.}( |$)" "$TX")" = 1 ] || { nl=$((nl + 1)); diag "no single line for $id"; }
done
check "text: one PASS/WARN/FAIL/SKIP line per rule" [ $nl -eq 0 ]
check "text: FAIL userns.clone" grep -qE '^FAIL +userns\.clone' "$TX"
for w in PASS SKIP WARN; do check "text: $w lines too" grep -q "^$w " "$TX"; done
check "text: an indented hint under the FAIL line" grep -qE "^[[:space:]]+[^[:space:]]" <<< "$(grep -A1 -E "^FAIL +userns\.clone" "$TX" | tail -n1)"
check "text: the decisions are printed" grep -q "snapshotter.*fuse-overlayfs" "$TX"
check "text: no colour when stdout is not a terminal" no_esc "$TX"
"$RS_BIN" --root "$T/h/debian10" --user alice check --engine containerd --color always > "$TX.always" 2> /dev/null < /dev/null
check "text: --color always colours a pipe" has_csi "$TX.always"
"$RS_BIN" --root "$T/h/debian10" --user alice check --engine containerd -q > "$TX.q" 2> /dev/null < /dev/null
"$RS_BIN" --root "$T/h/debian10" --user alice check --engine containerd -v > "$TX.v" 2> /dev/null < /dev/null
check "text: -q prints no more lines than the default" lines_le "$TX.q" "$(wc -l < "$TX")"
check "text: -v prints no fewer lines than the default" lines_le "$TX" "$(wc -l < "$TX.v")"
check "text: -q still prints the FAIL line" grep -qE '^FAIL +userns\.clone' "$TX.q"
pty() { # run a command line on a terminal (script(1)); output in $T/pty
	TERM=xterm script -qec "$1" /dev/null > "$T/pty" 2>&1 < /dev/null
}
RSQ=$(printf '%q' "$RS_BIN")
pty "env -u NO_COLOR $RSQ --root $T/h/debian10 --user alice check --engine containerd"
check "text on a terminal: colour (auto)" has_csi "$T/pty"
pty "NO_COLOR=1 $RSQ --root $T/h/debian10 --user alice check --engine containerd"
check "text on a terminal with NO_COLOR: the report" grep -q userns.clone "$T/pty"
check "text on a terminal with NO_COLOR: no colour" not has_csi "$T/pty"
pty "env -u NO_COLOR $RSQ --root $T/h/debian10 --user alice check --engine containerd --postinstall"
check "--postinstall on a terminal: no colour" not has_csi "$T/pty"
pty "env -u NO_COLOR $RSQ --root $T/h/debian10 --user alice check --engine containerd --format json"
check "JSON on a terminal: no colour codes" no_esc "$T/pty"

# ---- --postinstall --------------------------------------------------------
rs debian10 --user alice check --postinstall
check "--postinstall: exit 0 although userns.clone fails" [ "$RC" -eq 0 ]
check "--postinstall: a summary on stderr" [ -s "$E" ]
check "--postinstall: a short one (at most 20 lines)" lines_le "$E" 20
check "--postinstall: no sanitizer report" no_san "$E"
rs debian10 --user alice check --postinstall --format json; valid "--postinstall --format json" postinstall
want "--postinstall --format json" userns.clone=fail
rs centos7 --user alice check --postinstall --engine all --format json; valid "--postinstall on centos7, all engines" postinstall
env -u SUDO_USER -u PKEXEC_UID "$RS_BIN" --root "$T/h/debian10" check --postinstall --format json > "$T/pi.json" 2> "$T/pi.err" < /dev/null; RC=$?; J=$T/pi.json; E=$T/pi.err
valid "--postinstall as root without a target user" postinstall
want "--postinstall without a user: host rules still run" userns.clone=fail
for id in subid.ranges runtime.dir; do
	want "--postinstall without a user" "$id=skip"
	check "--postinstall without a user: $id says \"no target user\"" grep -q "no target user" <<< "$(rule_text "$id")"
done
rs runtime-dir-missing --user alice check --postinstall --engine containerd --format json; valid "runtime-dir-missing --postinstall" postinstall
want "runtime-dir-missing --postinstall (the user may not be logged in)" runtime.dir=warn
mkfifo "$T/stdin"; exec 7<> "$T/stdin"
timeout -k 2 10 "$RS_BIN" --root "$T/h/debian10" --user alice check --postinstall > /dev/null 2>&1 <&7; rc=$?
exec 7>&-
check "--postinstall never waits for stdin (an open, empty pipe): exit 0 (got $rc)" [ $rc -eq 0 ]
"$RS_BIN" --root "$T/no-such-dir" --user alice check --postinstall > /dev/null 2> "$T/pi.err" < /dev/null; rc=$?
check "--postinstall on an uninspectable host: exit 0, only usage errors give non-zero (got $rc)" [ $rc -eq 0 ]

# ---- bad input: /etc/subuid's type and lines, the user-namespace knobs ------
RS_TIMEOUT=10
expect h2-subuid-fifo containerd rc=1 subid.ranges=fail
expect h2-subuid-dir containerd rc=1 subid.ranges=fail
expect h2-subuid-socket containerd rc=1 subid.ranges=fail
RS_TIMEOUT=20
expect h3-subuid-malformed containerd
expect h3-subuid-malformed all
expect h3-subuid-mixed containerd "subid.ranges=pass|warn"
expect h14-newline containerd "userns.max=pass|warn" userns.clone=pass userns.apparmor=fail
expect h14-spaces containerd "userns.max=pass|warn" userns.clone=pass userns.apparmor=fail
expect h14-abc containerd userns.max!=pass userns.clone!=pass userns.apparmor!=pass
expect h14-negative containerd
expect h14-overflow containerd userns.max!=fail
expect h14-mixed containerd userns.clone=pass userns.max=warn userns.apparmor=warn
expect h14-absent containerd userns.clone=skip userns.apparmor=skip

# ---- bad input: os-release -------------------------------------------------
expect h16-usrlib-only containerd distro.id=arch profile=arch
expect h16-none containerd profile=generic
expect h16-id-like containerd distro.id=rocky profile=rhel
expect h16-no-version containerd profile=debian
expect h16-escaped containerd distro.id=fedora profile=fedora version_id=39
expect h16-crlf containerd distro.id=fedora profile=fedora version_id=40
expect h16-huge containerd "profile=debian|generic"
expect h16-dangling containerd "profile=alpine|generic"
expect h16-abs-symlink containerd profile=alpine
expect openeuler2203 containerd profile=openeuler

# ---- bad input: mountinfo --------------------------------------------------
expect h17-escapes containerd rc=1 storage.fs=fail
expect h17-deleted containerd "storage.fs=pass|warn"
start=$(date +%s%N)
expect h17-many containerd rc=1 storage.fs=fail
ms=$((($(date +%s%N) - start) / 1000000))
check "h17-many: 10,000 mounts take under 5 s (${ms} ms)" [ "$ms" -lt 5000 ]
expect h17-longline containerd rc=1 storage.fs=fail
expect h17-fuse containerd rc=1 storage.fs=fail
expect h17-noexec containerd rc=1 storage.fs=fail

# ---- bad input: cgroup layouts ---------------------------------------------
expect h18-v1 containerd cgroup.v2=warn cgroup.delegation=skip
expect h18-v1 isulad cgroup.v2=warn isulad.cgroups=fail
expect h18-v1 kata cgroup.v2=fail
expect h18-hybrid containerd cgroup.v2=warn
expect h18-hybrid isulad cgroup.v2=warn isulad.cgroups=fail
expect h18-no-user-manager containerd cgroup.v2=pass cgroup.delegation=warn
expect h18-memory-pids containerd cgroup.v2=pass cgroup.delegation=warn
expect h18-no-systemd containerd decisions.cgroup_manager!=systemd profile=alpine

# ---- bad input: who the user is --------------------------------------------
rs h22-identities --user svc check --engine containerd --format json; valid "a system user (uid 999)"
want "a system user (uid 999)" user=svc:999:999
want "a system user (uid 999): no subordinate ids" subid.ranges=fail
for u in 'EXAMPLE\dave' aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd; do
	rs h22-identities --user "$u" check --engine containerd --format json
	if [ "$RC" -eq 2 ]; then
		check "user '$u': rejected as a usage error with a message" [ -s "$E" ]
	else
		valid "user '$u'"
		want "user '$u' is handled" "user=$u:$(grep -F "$u:x:" "$T/h/h22-identities/etc/passwd" | cut -d: -f3,4)"
		want "user '$u' is handled: its range is found" subid.ranges=pass
	fi
done
for u in 'alice:x' 'alice:x:1000' ghost ''; do
	rs h22-identities --user "$u" check --format json
	check "user '$u' does not exist: exit 2 (got $RC)" [ "$RC" -eq 2 ]
done
rs h22-identities --user root check --engine containerd --format json; valid "--user root"
want "--user root" user=root:0:0
env -u SUDO_USER -u PKEXEC_UID "$RS_BIN" --root "$T/h/debian12-healthy" check --engine containerd --format json > "$T/r.json" 2> "$T/r.err" < /dev/null
RC=$?; J=$T/r.json; E=$T/r.err; valid "root, no --user, no SUDO_USER"
check "root, no --user, no SUDO_USER: no target user in the report" [ "$(field .host.user)" = null ]
nouser_ok() { # every per-user rule skips, naming --user; the host rules still give verdicts
	local id s m n=0
	for id in subid.ranges runtime.dir storage.fs network.tun cgroup.delegation; do
		s=$(field ".results[] | select(.id == \"$id\") | .status"); m=$(rule_text "$id")
		[ "$s" = skip ] && grep -q "no target user.*--user" <<< "$m" || { diag "$id: $s $m"; n=$((n + 1)); }
	done
	[ $n -eq 0 ] && [ "$(field '[.results[] | select(.status != "skip")] | length')" -gt 0 ]
}
check "root, no --user: the per-user rules skip ('no target user: name one with --user')" nouser_ok
check "root, no --user: a note on stderr names --user" grep -q -- "--user" "$E"
check "root, no --user: no advice to give root subordinate ids" not grep -q "root:100000\|usermod.*root" "$J"
rs debian12-healthy --user root check --engine containerd --format json; valid "explicit --user root"
want "explicit --user root is root as the target" user=root:0:0
check "explicit --user root: a warning that rootless mode is for non-root users" grep -q "non-root" "$E"
SUDO_USER=alice "$RS_BIN" --root "$T/h/debian12-healthy" check --engine containerd --format json > "$T/r.json" 2> /dev/null < /dev/null; J=$T/r.json; facts
want "root with SUDO_USER=alice" user=alice:1000:1000
env -u SUDO_USER PKEXEC_UID=1001 "$RS_BIN" --root "$T/h/debian12-healthy" check --engine containerd --format json > "$T/r.json" 2> /dev/null < /dev/null; J=$T/r.json; facts
want "root with PKEXEC_UID=1001" user=bob:1001:1001

# ---- bad input: login.defs (check, and the subid fixer's dry run) ----------
for s in h23-missing h23-min-gt-max h23-count0 h23-hex-octal h23-garbage h23-contradictory; do
	expect $s containerd "subid.ranges=pass|warn"
	have $s || continue
	before=$(fingerprint "$T/h/$s")
	rs $s --user carol fix --dry-run --rule subid.ranges --format json
	check "$s: fix --dry-run for carol: exit 0 or 1 (got $RC)" [ "$RC" -le 1 ]
	check "$s: fix --dry-run: no sanitizer report" no_san "$E"
	check "$s: fix --dry-run: one actions/v1 document" [ "$(jq -s -r 'if length == 1 then .[0].schema else "" end' "$J" 2> /dev/null)" = rootless-setup/actions/v1 ]
	check "$s: fix --dry-run changes nothing" [ "$(fingerprint "$T/h/$s")" = "$before" ]
	range=$(grep -oE 'carol:[0-9]+:[0-9]+' "$J" | head -n1)
	if [ -n "$range" ]; then
		IFS=: read -r _ st cn <<< "$range"
		range_ok() { [ "$cn" -gt 0 ] && [ "$st" -gt 0 ] && { [ "$st" -ge 231072 ] || [ $((st + cn)) -le 100000 ]; } && [ $((st + cn)) -le 4294967296 ]; }
		check "$s: the proposed range $st+$cn is not empty, overlaps alice's and bob's (100000-231071) not, ends below 2^32" range_ok
	fi
done

# ---- fixers that must not act where they cannot (no systemd, a fake /dev/kvm)
nofix() { # LABEL SCENARIO RULE JQ-SELECT-OF-A-FORBIDDEN-ACTION
	local before
	have "$2" || { skip "$1" "no tree"; return; }
	before=$(fingerprint "$T/h/$2")
	rs "$2" --user alice fix --dry-run --rule "$3" --format json
	check "$1: fix --dry-run --rule $3 says it cannot: exit 1 (got $RC)" [ "$RC" -eq 1 ]
	check "$1: one actions/v1 document" [ "$(jq -s -r 'if length == 1 then .[0].schema else "" end' "$J" 2> /dev/null)" = rootless-setup/actions/v1 ]
	check "$1: no such action is planned" [ "$(jq "[.actions[] | select(.changed and ($4))] | length" "$J" 2> /dev/null)" = 0 ]
	check "$1: the dry run changes nothing" [ "$(fingerprint "$T/h/$2")" = "$before" ]
}
nofix "no systemd: no user@.service delegation drop-in" h18-no-systemd cgroup.delegation '(.path // "") | test("user@")'
nofix "/dev/kvm not a char device: never chmod/chown it" kata-kvm-notchar kvm.device '.path == "/dev/kvm"'

# ---- a package manager's environment ---------------------------------------
D10=$T/h/debian10
before=$(fingerprint "$D10")
"$RS_BIN" --root "$D10" --user alice check --engine containerd --format json > "$T/base.json" 2> /dev/null < /dev/null; base_rc=$?
env25() { # LABEL CMD...: same exit code and report as a plain run
	local label=$1 rc; shift
	"$@" > "$T/e.json" 2> "$T/e.err"; rc=$?
	if [ $rc -eq $base_rc ] && one_doc "$T/e.json" && [ "$(jq -S . "$T/e.json")" = "$(jq -S . "$T/base.json")" ] && no_san "$T/e.err"; then
		ok "$label: same exit code and report"
	else
		not_ok "$label: exit $rc (want $base_rc), report $(one_doc "$T/e.json" && echo differs || echo 'not one JSON document'); stderr: $(head -c 200 "$T/e.err")"
	fi
}
RSC=("$RS_BIN" --root "$D10" --user alice check --engine containerd --format json)
env25 "stdin closed" "${RSC[@]}" <&-
env25 "no TTY (setsid), TERM unset" env -u TERM setsid -w "${RSC[@]}" < /dev/null
env25 "empty environment, minimal PATH" env -i PATH=/usr/bin:/bin "${RSC[@]}" < /dev/null
env25 "PATH of a directory that does not exist" env -i PATH=/nonexistent "${RSC[@]}" < /dev/null
env25 "LANG=C" env LANG=C LC_ALL=C "${RSC[@]}" < /dev/null
env25 "an invalid locale" env LANG=xx_XX.UTF-8 LC_ALL=xx_XX.UTF-8 LANGUAGE=xx "${RSC[@]}" < /dev/null
env25 "umask 000" sh -c 'umask 000; exec "$@"' sh "${RSC[@]}" < /dev/null
env25 "umask 077" sh -c 'umask 077; exec "$@"' sh "${RSC[@]}" < /dev/null
env -i PATH=/usr/bin:/bin LANG=xx_XX.UTF-8 sh -c 'umask 000; exec "$@"' sh "$RS_BIN" --root "$D10" --user alice check --postinstall <&- > "$T/e.out" 2> "$T/e.err"; rc=$?
check "--postinstall with stdin closed, no TERM, a bad locale and umask 000: exit 0 (got $rc)" [ $rc -eq 0 ]
check "text with TERM unset and no terminal: no colour" no_esc "$T/e.out" "$T/e.err"
check "check wrote nothing into the host tree (all the runs above)" [ "$(fingerprint "$D10")" = "$before" ]

# ---- hostile strings and --root containment -----------------------------------------
# A home directory named with a terminal title sequence, BEL, a clear-screen
# CSI and bytes that are not UTF-8 reaches findings and action paths: text
# shows it escaped (\x1b), JSON keeps every entry (escaped where not UTF-8).
if have debian12-healthy; then
	X=$T/hostile; cp -a "$T/h/debian12-healthy" "$X"
	HH=$'/home/al\e]0;pwned\a\e[2J\xff\xfe'
	mv "$X/home/alice" "$X$HH"
	sed -i "s|:/home/alice:|:$HH:|" "$X/etc/passwd"
	"$RS_BIN" --root "$X" --user alice check --engine containerd > "$T/hx.out" 2> "$T/hx.err" < /dev/null; rc=$?
	check "hostile home: check text exits 0 (got $rc)" [ $rc -eq 0 ]
	check "hostile home: no raw ESC or BEL in check's text output" not grep -qa $'[\e\a]' "$T/hx.out" "$T/hx.err"
	check "hostile home: the path is shown escaped" grep -qaF 'al\x1b]0;pwned\x07\x1b[2J\xff\xfe/' "$T/hx.out"
	"$RS_BIN" --root "$X" --user alice check --engine containerd --format json > "$T/hx.json" 2> "$T/hx.err" < /dev/null
	check "hostile home: the JSON report parses and has every rule" [ "$(jq '.results | length' "$T/hx.json" 2> /dev/null)" = "${#IDS[@]}" ]
	check "hostile home: storage.fs message present, escaped" \
		grep -qF 'al\x1b]0;pwned\x07' <(jq -r '.results[] | select(.id == "storage.fs") | .message' "$T/hx.json")
	"$RS_BIN" --root "$X" --user alice install --engine containerd --dry-run > "$T/hi.out" 2> "$T/hi.err" < /dev/null
	check "hostile home: no raw ESC or BEL in install's actions" not grep -qa $'[\e\a]' "$T/hi.out" "$T/hi.err"
	"$RS_BIN" --root "$X" --user alice install --engine containerd --dry-run --format json > "$T/hi.json" 2> /dev/null < /dev/null
	ntext=$(grep -c '^would change\|^unchanged\|^changed\|^FAILED' "$T/hi.out")
	njson=$(jq '.actions | length' "$T/hi.json" 2> /dev/null)
	nchanged=$(jq '[.actions[] | select(.changed)] | length' "$T/hi.json" 2> /dev/null)
	check "hostile home: every action in JSON ($njson) as in text ($ntext)" [ "$njson" = "$ntext" ]
	check "hostile home: summary.changed counts the actions listed" [ "$(jq .summary.changed "$T/hi.json")" = "$nchanged" ]
	check "hostile home: every written path present in JSON" \
		[ "$(jq '[.actions[] | select(.kind == "write") | .path | select(startswith("/home/al\\x1b"))] | length' "$T/hi.json")" -ge 1 ]

	# proc/self/mountinfo -> an absolute path outside the tree that holds a
	# distinct mountinfo (/ on fuseblk): the report must not reflect it
	Y=$T/escape; cp -a "$T/h/debian12-healthy" "$Y"
	DEC=$(mktemp -d /tmp/rs-decoy.XXXXXX)
	sed 's/ - ext4 / - fuseblk /' "$Y/proc/self/mountinfo" > "$DEC/mountinfo"
	rm "$Y/proc/self/mountinfo"; ln -s "$DEC/mountinfo" "$Y/proc/self/mountinfo"
	"$RS_BIN" --root "$Y" --user alice check --engine containerd --format json > "$T/hy.json" 2> /dev/null < /dev/null
	check "mountinfo -> /outside: the decoy's fuseblk is not in the report" not grep -q fuseblk "$T/hy.json"
	check "mountinfo -> /outside: read inside the tree (absent there: storage.fs warns unknown)" \
		[ "$(jq -r '.results[] | select(.id == "storage.fs") | .status' "$T/hy.json")" = warn ]
	# the same link target inside the tree is what is read
	mkdir -p "$Y$DEC"; cp "$DEC/mountinfo" "$Y$DEC/mountinfo"
	"$RS_BIN" --root "$Y" --user alice check --engine containerd --format json > "$T/hy.json" 2> /dev/null < /dev/null
	check "mountinfo -> /outside: the tree's own copy at that path is followed" grep -q fuseblk "$T/hy.json"
	rm -rf "$DEC"
fi

# Under --root the host's mounts are its init's (proc/1/mountinfo: a node's /
# at /host read by a pod with hostPID), not the reader's proc/self: a tree
# whose two differ (/ on fuseblk for init, ext4 for "self") is judged by init's
if have debian12-healthy; then
	Z=$T/initview; cp -a "$T/h/debian12-healthy" "$Z"
	sed 's/ - ext4 / - fuseblk /' "$Z/proc/self/mountinfo" > "$Z/proc/1/mountinfo"
	"$RS_BIN" --root "$Z" --user alice check --engine containerd --format json > "$T/hz.json" 2> /dev/null < /dev/null
	check "proc/1/mountinfo and proc/self/mountinfo differ: init's view decides (fuseblk)" \
		grep -q fuseblk <(jq -r '.results[] | select(.id == "storage.fs") | .message' "$T/hz.json")
	rm "$Z/proc/1/mountinfo"
	"$RS_BIN" --root "$Z" --user alice check --engine containerd --format json > "$T/hz.json" 2> /dev/null < /dev/null
	check "no proc/1/mountinfo in the tree: proc/self/mountinfo is read (ext4)" \
		grep -q ext4 <(jq -r '.results[] | select(.id == "storage.fs") | .message' "$T/hz.json")
fi

# ---- output errors (on a host where check exits 0) -------------------------
D10=$D
for fmt in text json; do
	"$RS_BIN" --root "$D10" --user alice check --engine containerd --format $fmt 2> "$T/p.err" < /dev/null | head -n1 > /dev/null
	rc=${PIPESTATUS[0]}
	check "$fmt | head -1: no crash (exit $rc), no sanitizer report" survived "$rc" "$T/p.err"
	{ sleep 0.3; exec "$RS_BIN" --root "$D10" --user alice check --engine containerd --format $fmt 2> "$T/p.err" < /dev/null; } | true
	rc=${PIPESTATUS[0]}
	check "$fmt into a pipe already closed: no crash (exit $rc), no sanitizer report" survived "$rc" "$T/p.err"
	"$RS_BIN" --root "$D10" --user alice check --engine containerd --format $fmt >&- 2> "$T/p.err" < /dev/null; rc=$?
	check "$fmt with stdout closed: no crash (exit $rc), no sanitizer report" survived "$rc" "$T/p.err"
	if [ -w /dev/full ]; then
		"$RS_BIN" --root "$D10" --user alice check --engine containerd --format $fmt > /dev/full 2> "$T/p.err" < /dev/null; rc=$?
		check "$fmt into a full disk (/dev/full): no crash (exit $rc), no sanitizer report" survived "$rc" "$T/p.err"
		check "$fmt into a full disk: the lost report is an error, not exit 0 (3 is an internal error)" [ "$rc" -ne 0 ]
	fi
done

done_testing
