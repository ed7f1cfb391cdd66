#!/bin/bash
# The fleet side: check --all-users/--interval/--report-file/--ready-file
# against fixture trees; the DaemonSet's manifest and its exact command;
# the Ansible role with the real ansible-playbook in check, apply and
# partly failing modes (and ansible-lint); the FROM scratch image built
# with podman and run the way the DaemonSet runs it, compared with a live
# check of this host.
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/security/lib.sh"
TOP="$(cd "$(dirname "$0")/.." && pwd)"
T=$(mktemp -d /tmp/rs-deploy.XXXXXX)
CTR=""
trap '[ -n "$CTR" ] && podman rm -f "$CTR" >/dev/null 2>&1; rm -rf "$T"' EXIT
ds="$TOP/deploy/kubernetes/daemonset.yaml"
pb="$TOP/deploy/ansible/rootless-setup.yml"
now() { date +%s.%N; }
jqe() { jq -e "$@" > /dev/null; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- the manifest -----------------------------------------------------------
if python3 -c 'import yaml' 2>/dev/null; then
	py() { python3 -c "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); s = d['spec']['template']['spec']; c = s['containers'][0]; $1" "$ds"; }
	check "the DaemonSet parses" py 'assert d["kind"] == "DaemonSet"'
	check "hostPID (proc/1 under /host is the node's)" py 'assert s["hostPID"] is True'
	check "no service-account token" py 'assert s["automountServiceAccountToken"] is False'
	check "not privileged, no privilege escalation" py 'x = c["securityContext"]; assert not x.get("privileged") and x["allowPrivilegeEscalation"] is False'
	check "read-only root file system, capabilities dropped" py 'x = c["securityContext"]; assert x["readOnlyRootFilesystem"] is True and x["capabilities"]["drop"] == ["ALL"]'
	check "the node's / read-only at /host" py 'm = [m for m in c["volumeMounts"] if m["mountPath"] == "/host"][0]; assert m["readOnly"] is True and [v for v in s["volumes"] if v["name"] == m["name"]][0]["hostPath"]["path"] == "/"'
	check "no hard-coded user; --all-users, --interval, a report file, a ready file" \
		py 'a = c["args"]; assert "--user" not in a and "--all-users" in a and "--interval" in a and "--report-file" in a and "--ready-file" in a'
	check "the readiness probe runs the binary's --ready-test on the ready file" \
		py 'p = c["readinessProbe"]["exec"]["command"]; a = c["args"]; assert p[1:3] == ["check", "--ready-test"] and p[3] == a[a.index("--ready-file") + 1]'
	check "the playbook uses the role" python3 -c 'import sys, yaml; p = yaml.safe_load(open(sys.argv[1])); assert p[0]["roles"][0]["role"] == "rootless_setup"' "$pb"
	DS_ARGS=$(py 'print(" ".join(c["args"]))')
else
	skip "the manifests" "python3-yaml missing"
	DS_ARGS=""
fi

if [ "$(id -u)" != 0 ]; then
	skip "fixture trees, Ansible and the image" "need root"
	done_testing; exit
fi

# --- check --all-users on a fixture tree -------------------------------------
H="$T/host"; mkdir -p "$H"; bash "$TOP/tests/fixtures/mkhost.sh" debian10 "$H"
users_in_subuid=$(cut -d: -f1 "$H/etc/subuid" | awk '!s[$0]++' | paste -sd,)
"$RS_BIN" --root "$H" check --all-users --format json > "$T/fleet.json"; rc=$?
check "check --all-users gives a fleet-report/v1 ($rc)" jqe '.schema == "rootless-setup/fleet-report/v1" and .host.user == null' "$T/fleet.json"
check "its users are the owners in etc/subuid ($users_in_subuid)" [ "$(jq -r '[.users[].user.name] | join(",")' "$T/fleet.json")" = "$users_in_subuid" ]
all_ids=$("$RS_BIN" rules --format json | jq -r '.[].id' | sort)
check "host and per-user results split the rules: each rule once, in one place" jqe --arg all "$all_ids" \
	'. as $d | all($d.users[]; ([.results[].id] + [$d.results[].id] | sort | join("\n")) == $all)' "$T/fleet.json"
"$RS_BIN" --root "$H" check --postinstall --format json 2>/dev/null |
	jq -r '.results[] | select(.status == "skip" and .message == "no target user") | .id' | sort > "$T/needs-user"
jq -r '.results[].id' "$T/fleet.json" | sort > "$T/host-ids"
check "no rule that says \"no target user\" without one is among the host results" [ -z "$(comm -12 "$T/host-ids" "$T/needs-user")" ]
# the fleet's verdict is the host's: a user's failure is that user's line
fails=$(jq '[.results[] | select(.status == "fail")] | length' "$T/fleet.json")
rc_host=$rc
check "the exit status follows the failing host-wide rules ($rc, $fails failing)" [ "$rc" = "$([ "$fails" -gt 0 ] && echo 1 || echo 0)" ]
for u in $(echo "$users_in_subuid" | tr , ' '); do
	"$RS_BIN" --root "$H" check --user "$u" --format json 2>/dev/null > "$T/u.json"
	check "user $u: the same per-user statuses as check --user $u" \
		[ "$(jq -c --arg u "$u" '.users[] | select(.user.name == $u) | [.results[] | [.id, .status]]' "$T/fleet.json")" = \
		  "$(jq -c --argjson h "$(jq -c '[.results[].id]' "$T/fleet.json")" '[.results[] | select(.id as $i | $h | index($i) | not) | [.id, .status]]' "$T/u.json")" ]
done
"$RS_BIN" --root "$H" check --all-users=alice,nosuch --format json > "$T/named.json" 2> "$T/named.err"; rc=$?
check "--all-users=alice,nosuch: the host's exit status, the unknown user reported with its error ($rc)" \
	sh -c "[ $rc = $rc_host ] && jq -e '[.users[].user.name] == [\"alice\", \"nosuch\"] and (.users[1].error | test(\"nosuch\")) and .summary.errors == 1' '$T/named.json' >/dev/null && grep -q nosuch '$T/named.err'"
"$RS_BIN" --root "$H" --user alice check --all-users > /dev/null 2>&1
check "--all-users with --user is a usage error" [ $? = 2 ]
"$RS_BIN" --root "$H" check --all-users=alice --format text > "$T/fleet.txt"
check "the text form has a host section and a user section" sh -c "grep -q '^host: ' '$T/fleet.txt' && grep -q '^user: alice' '$T/fleet.txt' && grep -q '^fleet: 1 users' '$T/fleet.txt'"

# --interval, --report-file, --ready-file (relative paths: this machine's)
mkdir -p "$T/out"
(cd "$T/out" && exec timeout -s TERM 3.5 "$RS_BIN" --root "$H" check --all-users=alice --format json \
	--interval 1 --report-file report.json --ready-file ready > runs.jsonl 2>/dev/null)
n=$(wc -l < "$T/out/runs.jsonl")
check "--interval: one JSON document per line, one per run ($n runs in 3.5 s)" \
	sh -c "[ $n -ge 3 ] && jq -se 'all(.schema == \"rootless-setup/fleet-report/v1\")' '$T/out/runs.jsonl' >/dev/null"
check "--report-file holds the last run's document" sh -c "[ \"\$(jq -c .summary '$T/out/report.json')\" = \"\$(tail -1 '$T/out/runs.jsonl' | jq -c .summary)\" ]"
ready_want=$(jq -r 'if ([.results[] | select(.status == "fail")] | length) == 0 then "yes" else "no" end' "$T/out/report.json")
"$RS_BIN" check --ready-test "$T/out/ready"; got=$([ $? = 0 ] && echo yes || echo no)
check "--ready-file is present iff the last run had no failing host-wide rule (want $ready_want)" [ "$got" = "$ready_want" ]
"$RS_BIN" --root "$H" check --all-users=bob --ready-file "$T/out/ready" > /dev/null 2>&1; rc=$?
"$RS_BIN" check --ready-test "$T/out/ready"; rt=$?
check "a run with a failing host-wide rule removes the ready file (exit $rc, ready-test $rt)" [ "$rc" = 1 -a "$rt" = 1 ]
G="$T/healthy"; mkdir -p "$G"; bash "$TOP/tests/fixtures/mkhost.sh" debian12-healthy "$G"
"$RS_BIN" --root "$G" check --all-users --format json --ready-file "$T/out/ready" > "$T/healthy.json" 2>/dev/null; rc=$?
"$RS_BIN" check --ready-test "$T/out/ready"; rt=$?
check "a healthy host with a failing user: exit 0 and ready (exit $rc, ready-test $rt)" \
	sh -c "[ $rc = 0 -a $rt = 0 ] && jq -e '.summary.failing >= 1 and ([.results[] | select(.status == \"fail\")] | length) == 0' '$T/healthy.json' >/dev/null"
ln -s "$T/decoy-ready" "$T/out/ready"
before=$(digest "$T/decoy-ready")
"$RS_BIN" --root "$H" check --all-users=alice --ready-file "$T/out/ready" --report-file "$T/out/ready" > "$T/sym.out" 2>&1
check "the report file is never written through a symlink" [ "$(digest "$T/decoy-ready")" = "$before" ]

# --- the DaemonSet's command against the tree at its /host ---------------------
if [ -n "$DS_ARGS" ]; then
	mkdir -p "$T/report" "$T/run"
	run=${DS_ARGS//\/host/$H}; run=${run//\/report/$T/report}; run=${run//\/run\/rootless-setup/$T/run}
	timeout -s TERM 2 "$RS_BIN" $run > "$T/ds.jsonl" 2>/dev/null
	check "the DaemonSet's command: fleet-report/v2 lines per run on stdout (host, users, summary)" \
		sh -c "jq -se --arg r '$H' '(.[0].type == \"host\" and .[0].host.root == \$r) and ([.[] | select(.type == \"user\")] | length) > 0 and .[-1].type == \"summary\"' '$T/ds.jsonl' >/dev/null"
	check "and the same lines in the hostPath file, summary last" \
		sh -c "jq -se '.[0].schema == \"rootless-setup/fleet-report/v2\" and .[-1].type == \"summary\"' '$T/report/fleet-report.jsonl' >/dev/null"
fi

# --- Ansible --------------------------------------------------------------------
if command -v ansible-lint >/dev/null; then
	out=$(cd "$TOP/deploy/ansible" && ANSIBLE_NOCOLOR=1 ansible-lint --nocolor -q rootless-setup.yml roles 2>&1); rc=$?
	check "ansible-lint: no findings ($rc)" [ $rc = 0 ]
	[ $rc = 0 ] || echo "$out" | tail -5 | sed 's/^/# /'
else
	skip "ansible-lint" "not installed"
fi
if command -v ansible-playbook >/dev/null; then
	export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_RETRY_FILES_ENABLED=false
	A="$T/ans"; mkdir -p "$A/host" "$A/decoy"
	bash "$TOP/tests/fixtures/mkhost.sh" debian10 "$A/host"
	printf '[hosts]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ansible_become=false rootless_setup_bin=%s rootless_setup_root=%s\n' \
		"$RS_BIN" "$A/host" > "$A/inv"
	play() { ansible-playbook -i "$A/inv" "$pb" "$@" > "$A/log" 2>&1; grep -Eo 'changed=[0-9]+ .*failed=[0-9]+' "$A/log" | sed -E 's/ +unreachable=[0-9]+ +/ /'; }
	t0=$(now); tree=$(digest "$A/host")
	r=$(play --check -e rootless_setup_fix=true)
	check "check mode: fix --dry-run says what would change, the failing rule fails the host ($r)" [ "$r" = "changed=1 failed=1" ]
	check "check mode: the message names the failing rule" grep -q 'failing rules: userns.clone' "$A/log"
	check "check mode changed nothing in the tree" [ "$(digest "$A/host")" = "$tree" ]
	r=$(play --check -e rootless_setup_fail_on_rules=false)
	check "check mode, rules allowed to fail, no fix: ($r)" [ "$r" = "changed=0 failed=0" ]
	r=$(play -e rootless_setup_fix=true -e rootless_setup_fail_on_rules=false)
	check "apply: changed ($r)" [ "$r" = "changed=1 failed=0" ]
	check "apply wrote the sysctl drop-in" test -f "$A/host/etc/sysctl.d/50-rootless-setup-userns-clone.conf"
	r=$(play -e rootless_setup_fix=true -e rootless_setup_fail_on_rules=false)
	check "apply again: idempotent ($r)" [ "$r" = "changed=0 failed=0" ]
	# a fix that partly fails: alice's ranges can be added, the sysctl
	# drop-in cannot (etc/sysctl.d is a symlink out of the tree)
	rm -rf "$A/host"; mkdir -p "$A/host"; bash "$TOP/tests/fixtures/mkhost.sh" debian10 "$A/host"
	sed -i '/^alice:/d' "$A/host/etc/subuid" "$A/host/etc/subgid"
	ln -s "$A/decoy" "$A/host/etc/sysctl.d"; decoy=$(digest "$A/decoy")
	r=$(play -e rootless_setup_fix=true -e '{"rootless_setup_users": ["alice", "bob"]}')
	check "a partly failed fix counts what it changed and fails ($r)" [ "$r" = "changed=1 failed=1" ]
	check "its message names the rule whose fix failed" grep -q 'fix failed: userns.clone' "$A/log"
	check "alice got her ranges" grep -q '^alice:' "$A/host/etc/subuid"
	check "nothing written through the symlink" [ "$(digest "$A/decoy")" = "$decoy" ]
	diag "ansible-playbook: 6 runs in $(took "$t0") s"
else
	skip "ansible-playbook" "not installed"
fi

# --- the image ------------------------------------------------------------------
if command -v podman >/dev/null; then
	IMG=localhost/rootless-setup:check-deploy
	t0=$(now)
	(cd "$TOP" && ${RS_IMAGE_CMD:-make -s image} IMAGE=$IMG) > "$T/image.log" 2>&1; rc=$?
	check "make image builds the FROM scratch image offline ($rc, $(took "$t0") s)" [ $rc = 0 ]
	[ $rc = 0 ] || tail -5 "$T/image.log" | sed 's/^/# /'
	# podman's default rlimits (nofile 1048576) need CAP_SYS_RESOURCE, which
	# root here lacks: lower ones, as a kubelet's would be
	P="podman --runtime ${PODMAN_RUNTIME:-runc}"
	RUN="--network=none --pid=host --read-only --cap-drop=all --cap-add=DAC_READ_SEARCH --security-opt=no-new-privileges --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -v /:/host:ro"
	t0=$(now)
	$P run --rm $RUN "$IMG" --root /host check --all-users --format json > "$T/img.json" 2> "$T/img.err"; rc=$?
	check "the image runs as the DaemonSet does ($rc, $(took "$t0") s)" jqe '.schema == "rootless-setup/fleet-report/v1" and .host.root == "/host"' "$T/img.json"
	[ -s "$T/img.json" ] || tail -3 "$T/img.err" | sed 's/^/# /'
	"$RS_BIN" --root / check --postinstall --format json 2>/dev/null > "$T/live.json"
	img=$(jq -c '[.results[] | [.id, .status]]' "$T/img.json")
	live=$(jq -c --argjson h "$(jq -c '[.results[].id]' "$T/img.json" 2>/dev/null || echo '[]')" \
		'[.results[] | select(.id as $i | $h | index($i)) | [.id, .status]]' "$T/live.json")
	check "the image's host-wide results are a live --root / check's (same ids and statuses)" [ "$img" != "[]" -a "$img" = "$live" ]
	[ "$img" = "$live" ] || { diag "image: $img"; diag "live:  $live"; }
	mkdir -p "$T/ireport"
	CTR=$($P run -d $RUN --tmpfs /run/rootless-setup -v "$T/ireport:/report" "$IMG" $DS_ARGS 2>"$T/ctr.err")
	for _ in $(seq 50); do [ -s "$T/ireport/fleet-report.jsonl" ] && break; sleep 0.2; done
	check "the DaemonSet's command in the image writes the hostPath report" \
		sh -c "head -1 '$T/ireport/fleet-report.jsonl' | jq -e '.schema == \"rootless-setup/fleet-report/v2\"' >/dev/null"
	want=$(head -1 "$T/ireport/fleet-report.jsonl" | jq -r 'if ([.results[] | select(.status == "fail")] | length) == 0 then 0 else 1 end')
	$P exec "$CTR" /usr/bin/rootless-setup check --ready-test /run/rootless-setup/ready; got=$?
	check "the readiness probe (exec of the binary) reflects the failing host-wide rules (want $want, got $got)" [ "$got" = "$want" ]
	# conmon writes the log a moment after the process does
	for _ in $(seq 25); do $P logs "$CTR" 2>/dev/null | grep -q . && break; sleep 0.2; done
	# (podman 4.3's logs --tail counts the 8 KiB pieces conmon splits a long
	# line into, so the whole log is read and its last line taken)
	check "the log's last line is the run's summary" sh -c "$P logs '$CTR' 2>/dev/null | tail -1 | jq -e '.type == \"summary\"' >/dev/null"
	t0=$(now); $P stop -t 10 "$CTR" > /dev/null 2>&1
	check "SIGTERM ends the loop at once ($(took "$t0") s)" [ "$($P inspect -f '{{.State.ExitCode}}' "$CTR")" != 137 ]
	$P rm -f "$CTR" > /dev/null 2>&1; CTR=""
else
	skip "the image" "podman is not installed"
fi

# --- a root without the libraries opened on first use -------------------------
# The binary and what ldd lists, nothing else (an image staged by ldd
# alone): the rules that need libmount say they cannot check, naming it,
# and never guess the cgroup layout from what is left.
R="$T/nolibs"
mkdir -p "$R/usr/bin" "$R/proc" "$R/sys" "$R/etc"
cp "$RS_BIN" "$R/usr/bin/rootless-setup"
ldd "$RS_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r l; do
	mkdir -p "$R$(dirname "$l")" && cp -L "$l" "$R$l"
done
out=$(unshare -m sh -c 'mount --bind /proc "$1/proc" && mount --rbind /sys "$1/sys" &&
	chroot "$1" /usr/bin/rootless-setup check --engine containerd --rule cgroup.v2' sh "$R" 2>&1)
check "without libmount: cgroup.v2 cannot check, naming the library" \
	grep -q "cgroup.v2 .*cannot check: cannot tell the cgroup layout: cannot load 'libmount.so.1'" <<<"$out"
[ $? = 0 ] || diag "$out"
done_testing
