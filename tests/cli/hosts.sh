#!/bin/bash
# The built binary against fixture host trees (tests/fixtures/mkhost.sh):
# per-distro verdicts, decisions, exit codes, the JSON contract, and bad
# input (odd /etc/subuid files, /proc/sys knobs, os-release, mountinfo,
# cgroup layouts, user names, login.defs, a package manager's environment,
# closed output): never a crash, always exactly one JSON document.
set -u
. "$(dirname "$0")/../lib/tap.sh"
MK="$(dirname "$0")/../fixtures/mkhost.sh"
T=$(mktemp -d /tmp/rs-hosts.XXXXXX)
trap 'rm -rf "$T"' EXIT
if [ "$(id -u)" != 0 ]; then
	skip "fixture hosts" "building trees with owners and device nodes needs root"
	done_testing; exit
fi

# run SCENARIO ENGINES... : check as alice, JSON in $T/SCENARIO-ENGINES.json, exit code in RC
run() {
	local s=$1; shift
	local key args=()
	key="$s-$(echo "$*" | tr ' ' '_')"
	[ -d "$T/$s" ] || { mkdir "$T/$s"; bash "$MK" "$s" "$T/$s"; }
	for e in "$@"; do args+=(--engine "$e"); done
	"$RS_BIN" --root "$T/$s" --user alice check "${args[@]}" --format json > "$T/$key.json" 2> "$T/$key.err"
	RC=$?
	J="$T/$key.json"
}
st() { jq -r --arg id "$1" '.results[] | select(.id == $id) | .status' "$J"; }
msg() { jq -r --arg id "$1" '.results[] | select(.id == $id) | .message + " " + (.hint // "")' "$J"; }
is() { # NAME RULE STATUS
	local got; got=$(st "$2")
	if [ "$got" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$got')"; fi
}
one_doc() { [ "$(jq -s length "$J" 2>/dev/null)" = 1 ]; }

NRULES=$("$RS_BIN" rules --format json | jq length)

# healthy Debian 12
run debian12-healthy all
check "debian12: exactly one JSON document" one_doc
check "debian12: schema" [ "$(jq -r .schema "$J")" = rootless-setup/report/v1 ]
check "debian12: every rule appears exactly once ($NRULES)" [ "$(jq '[.results[].id] | unique | length' "$J")" = "$NRULES" -a "$(jq '.results | length' "$J")" = "$NRULES" ]
run debian12-healthy containerd
check "debian12: nothing fails for containerd" [ "$(jq '.summary.fail' "$J")" = 0 ]
check "debian12: exit 0" [ $RC -eq 0 ]
check "debian12: snapshotter overlayfs" [ "$(jq -r .decisions.snapshotter "$J")" = overlayfs ]
check "debian12: network slirp4netns" [ "$(jq -r .decisions.network "$J")" = slirp4netns ]
check "debian12: cgroup manager systemd" [ "$(jq -r .decisions.cgroup_manager "$J")" = systemd ]
is "debian12: the probe is skipped under --root" userns.probe skip
check "debian12: summary counts match the results" [ "$(jq '[.results[].status] | map(select(. == "pass")) | length' "$J")" = "$(jq .summary.pass "$J")" ]
check "debian12: distro detected" [ "$(jq -r .host.distro.profile "$J")" = debian ]
check "debian12: default engines from the installed daemons" [ "$("$RS_BIN" --root "$T/debian12-healthy" --user alice check --format json | jq -c .engines)" = '["containerd","oci"]' ]

run debian10 containerd
is "debian10: userns.clone fails" userns.clone fail
check "debian10: exit 1" [ $RC -eq 1 ]
is "debian10: no overlay in userns on 4.19" kernel.overlay-userns warn
check "debian10: snapshotter fuse-overlayfs" [ "$(jq -r .decisions.snapshotter "$J")" = fuse-overlayfs ]

run centos7 containerd
is "centos7: userns.max fails" userns.max fail
check "centos7: the hint names 28633" grep -q 28633 <<<"$(msg userns.max)"
is "centos7: cgroup.v2 warns for containerd" cgroup.v2 warn
is "centos7: userns.clone skip (absent)" userns.clone skip
check "centos7: snapshotter native on 3.10" [ "$(jq -r .decisions.snapshotter "$J")" = native ]
run centos7 isulad; is "centos7: cgroup.v2 warns for isulad (per-user v1 groups)" cgroup.v2 warn
run centos7 kata; is "centos7: kernel 3.10 is below kata's 4.14" kernel.version fail
is "centos7: kata fails with SELinux enforcing" selinux.state fail

run ubuntu2404 containerd
is "ubuntu2404: userns.apparmor fails" userns.apparmor fail
check "ubuntu2404: the hint gives a profile" grep -q "apparmor.d" <<<"$(msg userns.apparmor)"
mkdir -p "$T/ubuntu2404/etc/apparmor.d" "$T/ubuntu2404/usr/bin"; : > "$T/ubuntu2404/usr/bin/rootless-setup"
printf 'profile rootless-setup /usr/bin/rootless-setup flags=(unconfined) {\n  userns,\n}\n' > "$T/ubuntu2404/etc/apparmor.d/rootless-setup"
run ubuntu2404 containerd; is "ubuntu2404: passes with a profile for the launcher" userns.apparmor pass

run fedora-5.10-selinux containerd
is "fedora 5.10 SELinux: selinux.state warns" selinux.state warn
is "fedora 5.10: no overlay in userns" kernel.overlay-userns warn

run openeuler2203 isulad
check "openEuler: mixed-case ID matched" [ "$(jq -r .host.distro.profile "$J")" = openeuler ]
is "openEuler: isulad.permissions fails (0600 files)" isulad.permissions fail
is "openEuler: isulad.stale-state fails (root-owned /var/run/isulad)" isulad.stale-state fail
check "openEuler: the iSulad-specific overlay hint" grep -q "fuse-overlayfs" <<<"$(msg kernel.overlay-userns)"

run cos containerd
is "COS: storage.fs fails (/home nosuid,nodev,noexec)" storage.fs fail
check "COS: the message names nosuid" grep -q nosuid <<<"$(msg storage.fs)"

run bottlerocket containerd
is "Bottlerocket: userns.max fails" userns.max fail
check "Bottlerocket: the hint names the settings API" grep -q apiclient <<<"$(msg userns.max)"

run home-nfs containerd; is "home on NFS: storage.fs fails" storage.fs fail
run subuid-missing containerd; is "subuid missing: fails" subid.ranges fail
echo "subid: sss" > "$T/subuid-missing/etc/nsswitch.conf"
run subuid-missing containerd; is "subuid from SSSD (nsswitch): a warning, not a false failure" subid.ranges warn
rm "$T/subuid-missing/etc/nsswitch.conf"
run subuid-overlap containerd; is "subuid overlapping bob: warns" subid.ranges warn
check "subuid overlap: both owners named" grep -q bob <<<"$(msg subid.ranges)"
run subuid-small containerd; is "subuid of 1000 ids: fails" subid.ranges fail
run no-newuidmap containerd; is "newuidmap missing: fails" subid.helpers fail
check "newuidmap missing: the Debian package named" grep -q uidmap <<<"$(msg subid.helpers)"

run kata-bad-kvm kata
is "kata bad: kvm.device fails (root 0600)" kvm.device fail
is "kata bad: kvm.group fails" kvm.group fail
is "kata bad: vhost-net not disabled warns" kata.config warn
run kata-good-kvm kata
is "kata good: kvm.device passes" kvm.device pass
is "kata good: kvm.group passes" kvm.group pass
is "kata good: kata.config passes" kata.config pass
is "kata good: kata.image passes" kata.image pass

# usage and host errors
"$RS_BIN" --root "$T/nonexistent" check > /dev/null 2>&1; check "missing --root: exit 3" [ $? -eq 3 ]
"$RS_BIN" --root "$T/debian12-healthy" check --engine nope > /dev/null 2>&1; check "unknown engine: exit 2" [ $? -eq 2 ]
"$RS_BIN" --root "$T/debian12-healthy" check --rule nope > /dev/null 2>&1; check "unknown rule: exit 2" [ $? -eq 2 ]
"$RS_BIN" --root "$T/debian12-healthy" --user nobody-here check > /dev/null 2>&1; check "unknown user: exit 2" [ $? -eq 2 ]
"$RS_BIN" --root "$T/debian12-healthy" --distro nope check > /dev/null 2>&1; check "unknown distro: exit 2" [ $? -eq 2 ]
out=$("$RS_BIN" --root "$T/debian10" --user alice check --postinstall 2> "$T/pi.err"); rc=$?
check "--postinstall: exit 0 although a rule fails" [ $rc -eq 0 ]
check "--postinstall: nothing on stdout" [ -z "$out" ]
check "--postinstall: a summary on stderr" grep -q "preflight:.*fail" "$T/pi.err"
"$RS_BIN" --root "$T/debian10" check --postinstall > "$T/pi.out" 2>&1
check "--postinstall as root without a user: exit 0" [ $? -eq 0 ]
"$RS_BIN" --root "$T/debian10" check --postinstall --format json 2>/dev/null > "$T/pij.json"
check "--postinstall as root without a user: user rules skip 'no target user'" grep -q "^no target user" <<<"$(jq -r '.results[] | select(.id == "subid.ranges") | .message' "$T/pij.json")"
"$RS_BIN" --root "$T/debian12-healthy" --user alice check --engine containerd --strict > /dev/null; rc=$?
check "--strict: a host without warnings exits 0" [ $rc -eq 0 ]
"$RS_BIN" --root "$T/subuid-overlap" --user alice check --engine containerd --strict > /dev/null; rc=$?
check "--strict: a warning exits 1" [ $rc -eq 1 ]
out=$(NO_COLOR="" "$RS_BIN" --root "$T/debian10" --user alice check --engine containerd --color never)
check "text: PASS/FAIL lines" grep -q "^FAIL  userns.clone" <<<"$out"
check "text: no colour when not a terminal" [ -z "$(printf '%s' "$out" | grep -c $'\033' | grep -v '^0$')" ]
out=$("$RS_BIN" --root "$T/debian10" --user alice check --engine containerd --color always)
check "text: --color always colours" grep -q $'\033' <<<"$out"
out=$(NO_COLOR=1 script -qc "'$RS_BIN' --root '$T/debian10' --user alice check --engine containerd" /dev/null 2>/dev/null)
check "text: NO_COLOR on a terminal" [ -z "$(grep $'\033\[3' <<<"$out")" ]

# bad input: never a crash, one JSON document, exit 0 or 1 (a verdict, not an error)
BAD="h2-subuid-fifo h2-subuid-dir h3-subuid-malformed h14-mixed h14-absent h16-usrlib-only h16-none
	h16-dangling h16-crlf h16-escaped h16-huge h17-escapes h17-many h17-fuse h17-noexec h18-v1 h18-hybrid
	h18-no-user-manager h18-memory-pids h18-no-systemd h22-identities h23-contradictory"
for s in $BAD; do
	run "$s" all
	check "$s: exit 0 or 1 ($RC), one JSON document" sh -c "[ $RC -le 1 ] && [ \"\$(jq -s length '$J')\" = 1 ]"
	check "$s: no sanitizer report" [ -z "$(grep -E 'Sanitizer|runtime error' "$T/$s-all.err")" ]
done
run h2-subuid-fifo containerd; is "subuid is a FIFO: fails, no hang" subid.ranges fail
run h2-subuid-dir containerd; is "subuid is a directory: fails" subid.ranges fail
run h3-subuid-malformed containerd; is "subuid malformed: the CRLF range is not counted (newuidmap ignores it)" subid.ranges fail
run h14-mixed containerd
is "userns knobs: ' 1 ' parses" userns.clone pass
is "userns knobs: 'abc' cannot be parsed: warn" userns.max warn
is "userns knobs: an overflow cannot be parsed: warn" userns.apparmor warn
run h14-absent containerd; is "userns knobs: an absent knob skips" userns.clone skip
# os-release: the ID the tree holds, wherever the tool should find it
osr_id() { sed -n 's/^ID=//p' "$1" | tr -d '"'; }
run h16-usrlib-only containerd
check "os-release only in /usr/lib: used" [ "$(jq -r .host.distro.id "$J")" = "$(osr_id "$T/h16-usrlib-only/usr/lib/os-release")" ]
run h16-none containerd; check "no os-release: generic" [ "$(jq -r .host.distro.profile "$J")" = generic ]
run h16-dangling containerd
check "a dangling /etc/os-release: /usr/lib/os-release used, no crash" [ "$(jq -r .host.distro.id "$J")" = "$(osr_id "$T/h16-dangling/usr/lib/os-release")" ]
run h16-crlf containerd
check "os-release with CRLF line ends: the values without CR" [ "$(jq -r '.host.distro | "\(.profile) \(.version_id)"' "$J")" = "fedora 40" ]
run h16-escaped containerd
check "os-release with escapes and a commented ID: the real ID" [ "$(jq -r '.host.distro | "\(.profile) \(.version_id)"' "$J")" = "fedora 39" ]
run h16-huge containerd; check "a 1 MiB os-release: generic with a note" grep -q "os-release" "$T/h16-huge-containerd.err"
check "a 1 MiB os-release: generic" [ "$(jq -r .host.distro.profile "$J")" = generic ]
run h17-escapes containerd; is "mountinfo escapes: a home on '/home/alice\\040smith' NFS is found" storage.fs fail
run h17-fuse containerd; is "an sshfs home fails" storage.fs fail
run h17-noexec containerd; is "a noexec home fails" storage.fs fail
run h18-v1 containerd; check "cgroup v1: cgroup manager none" [ "$(jq -r .decisions.cgroup_manager "$J")" = none ]
run h18-hybrid isulad; is "cgroup hybrid: isulad warns" cgroup.v2 warn
is "cgroup hybrid: isulad.cgroups fails without the user's groups" isulad.cgroups fail
run h18-no-user-manager containerd; is "no user manager: delegation warns" cgroup.delegation warn
run h18-memory-pids containerd; is "only memory pids delegated: warns" cgroup.delegation warn
run h18-no-systemd containerd; is "no systemd (OpenRC): delegation warns" cgroup.delegation warn
check "no systemd (OpenRC): cgroupfs" [ "$(jq -r .decisions.cgroup_manager "$J")" = cgroupfs ]
"$RS_BIN" --root "$T/h22-identities" --user svc check --format json > "$T/h22.json" 2>/dev/null
check "a system user: subid fails with the system-user hint" grep -q "system user" <<<"$(jq -r '.results[] | select(.id == "subid.ranges") | .hint' "$T/h22.json")"
for u in 'bad:name' "$(printf 'x%.0s' $(seq 40))" 'dom\\user'; do
	"$RS_BIN" --root "$T/debian12-healthy" --user "$u" check > /dev/null 2>&1
	check "user '$u' is a usage error" [ $? -eq 2 ]
done
"$RS_BIN" --root "$T/debian12-healthy" --user 0 check --format json > "$T/h22r.json" 2> "$T/h22r.err"
check "uid 0: a warning that rootless is for non-root users" grep -q "non-root" "$T/h22r.err"
run h23-contradictory containerd; check "a contradictory login.defs: no crash" one_doc
# a package manager's context
(umask 000; env -i PATH=/usr/bin:/bin LANG=xx_XX.UTF-8 "$RS_BIN" --root "$T/debian10" --user alice check --postinstall < /dev/null > "$T/h25.out" 2> "$T/h25.err")
check "package manager context: stdin closed, no TERM, bad locale: exit 0" [ $? -eq 0 ]
check "package manager context: nothing written into the tree" [ -z "$(find "$T/debian10" -newer "$T/h25.err" 2>/dev/null)" ]
# output robustness
"$RS_BIN" --root "$T/debian12-healthy" --user alice check --engine all | head -1 > /dev/null
check "a closed pipe is no crash" [ "${PIPESTATUS[0]}" -lt 128 ]
"$RS_BIN" --root "$T/debian12-healthy" --user alice check --engine all >&- 2>/dev/null
check "closed stdout is no crash" [ $? -lt 128 ]
done_testing
