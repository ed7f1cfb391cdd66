#!/bin/bash
# Live tests of `rootless-setup check` on this machine (no --root).
#
# As root (the CI case) the checks run as a throwaway unprivileged user made by
# tests/lib/testuser.sh, then as root with --user, then as root with no target
# user. As an ordinary user, the root-only parts are skipped (with a reason).
#
# What is expected is worked out from the host itself with independent tools
# (util-linux unshare for the user namespace and the overlay mount, stat for the
# cgroup layout, open(2) for /dev/net/tun), so the assertions are this machine's
# facts, not a copy of the program's own logic. The expectations are printed as
# "# expect" lines first.
#
#   RS_BIN=build/rootless-setup bash tests/live/run.sh
#   RS_TESTS_MUST_WORK=1 ...   every skip becomes a failure
# jq filters and sh -c scripts are single-quoted on purpose:
# shellcheck disable=SC2016
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$HERE/../lib/tap.sh"
# shellcheck source=tests/lib/testuser.sh
. "$HERE/../lib/testuser.sh"

if [ ! -x "$RS_BIN" ]; then
	echo "Bail out! $RS_BIN is not built (make)"
	exit 1
fi
if ! command -v jq >/dev/null; then
	echo "Bail out! jq is needed (scripts/deps.sh installs it)"
	exit 1
fi

tu_setup || { echo "Bail out! cannot set up the test user"; exit 1; }
AS_ROOT=0
[ "$(id -u)" = 0 ] && AS_ROOT=1

W=$(mktemp -d "${TMPDIR:-/tmp}/rs-live.XXXXXX") || exit 1
chmod 0755 "$W"
tu_on_exit rm -rf "$W"
ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# the program's real location must be reachable by the test user
if ! tu_run test -x "$RS_BIN"; then
	echo "Bail out! $TU_NAME cannot execute $RS_BIN (a parent directory is not searchable)"
	exit 1
fi

RULES=$("$RS_BIN" rules | awk '{print $1}' | sort)
NRULES=$(printf '%s\n' "$RULES" | grep -c .)
VERSION=$("$RS_BIN" --version | awk '{print $NF}')

# ---------------------------------------------------------------- expectations

kver=$(uname -r)
kmaj=${kver%%.*}
kmin=${kver#*.}
kmin=${kmin%%[!0-9]*}
if [ "$kmaj" -gt 5 ] || { [ "$kmaj" -eq 5 ] && [ "$kmin" -ge 11 ]; }; then
	EXP_OVL_USERNS=pass
else
	EXP_OVL_USERNS=warn-or-pass
fi

# the user's subordinate ids, by name or uid: the probe maps 1 + this many
subid_total() {
	awk -F: -v n="$TU_NAME" -v u="$TU_UID" '($1 == n || $1 == u) && $3 ~ /^[0-9]+$/ { t += $3 } END { print t + 0 }' "$1"
}
SUBUIDS=$(subid_total /etc/subuid)
SUBGIDS=$(subid_total /etc/subgid)
EXP_MAPPED_UIDS=$((SUBUIDS + 1))
EXP_MAPPED_GIDS=$((SUBGIDS + 1))

# a user namespace with the real ranges, made by util-linux through newuidmap
if tu_run unshare --map-auto --map-root-user true 2>"$W/oracle-userns.err"; then
	EXP_PROBE=pass
else
	EXP_PROBE=fail
	diag "unshare --map-auto failed: $(cat "$W/oracle-userns.err")"
fi

# overlayfs with userxattr inside that namespace, on the home's filesystem
# (the probe tries it beside the data dir, ~/.local/share/ENGINE)
# shellcheck disable=SC2016
if [ "$EXP_PROBE" = pass ] && tu_run unshare --map-auto --map-root-user --mount sh -c '
	d=$(mktemp -d "$HOME/.rs-live-oracle.XXXXXX") || exit 1
	mkdir "$d/l" "$d/u" "$d/w" "$d/m"
	mount -t overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w,userxattr" none "$d/m"
	r=$?
	umount "$d/m" 2>/dev/null
	rm -rf "$d"
	exit $r' 2>"$W/oracle-ovl.err"; then
	EXP_SNAPSHOTTER=overlayfs
else
	EXP_SNAPSHOTTER=not-overlayfs
	diag "overlay in a user namespace failed: $(cat "$W/oracle-ovl.err")"
fi

if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
	CGROUP=v2
elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	CGROUP=hybrid
else
	CGROUP=v1
fi

# shellcheck disable=SC2016
if tu_run sh -c 'exec 3<>/dev/net/tun' 2>/dev/null; then
	EXP_TUN=pass
else
	EXP_TUN=warn
fi
# have_prog NAME: installed where check looks for programs
have_prog() {
	local d
	for d in /usr/bin /usr/sbin /usr/local/bin /usr/local/sbin /bin /sbin; do
		[ -e "$d/$1" ] && return 0
	done
	return 1
}
# pasta first, then slirp4netns; both need /dev/net/tun
if [ "$EXP_TUN" = pass ] && have_prog pasta; then
	EXP_NETWORK=pasta
elif [ "$EXP_TUN" = pass ] && have_prog slirp4netns; then
	EXP_NETWORK=slirp4netns
else
	EXP_NETWORK=host
fi

diag "expect: user $TU_NAME uid $TU_UID, $SUBUIDS subuids ($EXP_MAPPED_UIDS mapped), kernel $kver"
diag "expect: userns.probe $EXP_PROBE, kernel.overlay-userns $EXP_OVL_USERNS, snapshotter $EXP_SNAPSHOTTER"
diag "expect: cgroup $CGROUP, network.tun $EXP_TUN, network decision $EXP_NETWORK"

# ---------------------------------------------------------------- helpers

# jqe ARGS...: jq -e, quietly (for check)
jqe() { jq -e "$@" >/dev/null 2>&1; }

# jq on a report; prints the raw value
jv() { jq -r "$2" "$1" 2>/dev/null; }
status_of() { jv "$1" ".results[] | select(.id == \"$2\") | .status"; }
message_of() { jv "$1" ".results[] | select(.id == \"$2\") | .message"; }

# expect_status LABEL FILE ID STATUS...: the rule's status is one of STATUS
expect_status() {
	local label=$1 f=$2 id=$3 s
	shift 3
	s=$(status_of "$f" "$id")
	for want in "$@"; do
		if [ "$s" = "$want" ]; then
			ok "$label: $id is $s"
			return
		fi
	done
	not_ok "$label: $id is '$s', expected $*"
	diag "  message: $(message_of "$f" "$id")"
}

# one_json FILE: stdout holds exactly one JSON document (an object)
one_json() {
	local n
	n=$(jq -s 'length' "$1" 2>/dev/null) || return 1
	[ "$n" = 1 ] && [ "$(jq -r 'type' "$1")" = object ]
}

# rules_complete FILE: every rule appears exactly once, nothing else appears,
# statuses are valid, the summary adds up
rules_complete() {
	local f=$1 ids
	ids=$(jq -r '.results[].id' "$f" | sort)
	[ "$ids" = "$RULES" ] || { diag "  rules differ: $(diff <(echo "$RULES") <(echo "$ids") | grep '^[<>]' | tr '\n' ' ')"; return 1; }
	jq -e '[.results[].status] | all(. == "pass" or . == "warn" or . == "fail" or . == "skip")' "$f" >/dev/null || return 1
	jq -e '.summary as $s | ($s.pass + $s.warn + $s.fail + $s.skip) == (.results | length)
		and ([.results[] | select(.status == "pass")] | length) == $s.pass
		and ([.results[] | select(.status == "warn")] | length) == $s.warn
		and ([.results[] | select(.status == "fail")] | length) == $s.fail
		and ([.results[] | select(.status == "skip")] | length) == $s.skip' "$f" >/dev/null
}

# rc_matches RC FILE: exit 1 exactly when a rule failed, else 0
rc_matches() {
	local fails
	fails=$(jv "$2" '.summary.fail')
	if [ "$fails" = 0 ]; then [ "$1" = 0 ]; else [ "$1" = 1 ]; fi
}

# engines_need_v2 FILE: an engine in the report needs pure cgroup v2 (Kata;
# iSulad runs with runc in the v1 groups isulad.cgroups makes: a warning)
engines_need_v2() {
	jq -e '.engines | any(. == "kata")' "$1" >/dev/null
}

# assert_report LABEL BASE RC: the common assertions on a check of the test user
# (BASE.out = stdout, BASE.err = stderr)
assert_report() {
	local label=$1 f=$2.out rc=$3 m exp_cg
	if ! one_json "$f"; then
		not_ok "$label: exactly one JSON document on stdout (rc $rc)"
		diag "  stdout: $(head -c 300 "$f")"
		diag "  stderr: $(head -c 300 "$2.err")"
		return
	fi
	ok "$label: exactly one JSON document on stdout"
	check "$label: schema and version" jqe --arg v "$VERSION" \
		'.schema == "rootless-setup/report/v1" and .version == $v and .host.root == "/"' "$f"
	check "$label: target user is $TU_NAME ($TU_UID:$TU_GID)" jqe \
		--arg n "$TU_NAME" --argjson u "$TU_UID" --argjson g "$TU_GID" \
		'.host.user == {"name": $n, "uid": $u, "gid": $g}' "$f"
	check "$label: kernel is uname's" jqe --arg k "$kver" '.host.kernel == $k' "$f"
	check "$label: all $NRULES rules, once each, summary adds up" rules_complete "$f"
	check "$label: exit $rc matches the summary" rc_matches "$rc" "$f"

	expect_status "$label" "$f" userns.probe "$EXP_PROBE"
	if [ "$EXP_PROBE" = pass ]; then
		m=$(message_of "$f" userns.probe)
		if printf '%s' "$m" | grep -Eq "(^|[^0-9])$EXP_MAPPED_UIDS uids.*(^|[^0-9])$EXP_MAPPED_GIDS gids"; then
			ok "$label: the probe mapped the real ranges ($EXP_MAPPED_UIDS uids, $EXP_MAPPED_GIDS gids)"
		else
			not_ok "$label: the probe mapped the real ranges ($EXP_MAPPED_UIDS uids, $EXP_MAPPED_GIDS gids)"
			diag "  message: $m"
		fi
	fi
	expect_status "$label" "$f" subid.ranges pass
	expect_status "$label" "$f" subid.helpers pass
	if jqe '.engines == ["containerd"]' "$f"; then
		# containerd's daemon: pass exactly when this machine has it
		if have_prog containerd; then exp_cg=pass; else exp_cg=fail; fi
		expect_status "$label" "$f" engine.programs "$exp_cg"
	fi
	expect_status "$label" "$f" runtime.dir pass
	if [ "$EXP_OVL_USERNS" = pass ]; then
		expect_status "$label" "$f" kernel.overlay-userns pass
	fi
	if [ "$CGROUP" = v2 ]; then
		exp_cg=pass
	elif engines_need_v2 "$f"; then
		exp_cg=fail
	else
		exp_cg=warn
	fi
	expect_status "$label" "$f" cgroup.v2 "$exp_cg"
	if [ "$CGROUP" = hybrid ]; then
		m=$(message_of "$f" cgroup.v2)
		if printf '%s' "$m" | grep -qi hybrid; then
			ok "$label: cgroup.v2 names the hybrid layout"
		else
			not_ok "$label: cgroup.v2 names the hybrid layout"
			diag "  message: $m"
		fi
	fi
	if jq -e '.engines | any(. == "isulad" or . == "containerd" or . == "buildkit" or . == "podman")' "$f" >/dev/null; then
		expect_status "$label" "$f" network.tun "$EXP_TUN"
	fi
	if [ "$EXP_SNAPSHOTTER" = overlayfs ]; then
		check "$label: decisions.snapshotter is overlayfs" jqe '.decisions.snapshotter == "overlayfs"' "$f"
	else
		check "$label: decisions.snapshotter is not overlayfs" jqe '.decisions.snapshotter != "overlayfs"' "$f"
	fi
	# pasta only where every selected engine can use it: Podman (and Kata,
	# which runs under it) before 4.4 knows only slirp4netns
	local net=$EXP_NETWORK pv
	pv=$(dpkg-query -W -f='${Version}' podman 2>/dev/null)
	if [ "$net" = pasta ] && jqe '.engines | any(. == "podman" or . == "kata")' "$f" &&
		! { [ -n "$pv" ] && dpkg --compare-versions "$pv" ge 4.4; }; then
		if have_prog slirp4netns; then net=slirp4netns; else net=host; fi
	fi
	check "$label: decisions.network is $net" jqe --arg n "$net" '.decisions.network == $n' "$f"
	[ -s "$2.err" ] && diag "  stderr: $(head -c 300 "$2.err" | tr '\n' ' ')"
	return 0
}

# as the test user
urun() {
	local base=$1
	shift
	tu_run "$RS_BIN" "$@" >"$W/$base.out" 2>"$W/$base.err"
}

# as root, clean environment: no SUDO_USER, PKEXEC_UID, XDG_RUNTIME_DIR
rrun() {
	local base=$1
	shift
	env -i PATH="$ROOT_PATH" HOME=/root LANG=C.UTF-8 "$RS_BIN" "$@" >"$W/$base.out" 2>"$W/$base.err"
}

# listing of a tree: files with size and mtime, directories without mtime
# (creating and removing a scratch dir changes its parent's mtime, nothing else)
snap_tree() {
	[ -d "$1" ] || return 0
	find "$1" -xdev -mindepth 1 \( -type d -printf '%P|d|%m|%u|%g\n' \) \
		-o -printf '%P|%y|%m|%u|%g|%s|%T@\n' 2>/dev/null | sort
}

# shared directories: only what the throwaway user owns, which no other
# process on the machine makes (other runs of this program, other suites and
# the rest of the machine use /tmp at the same time)
snap_shared() {
	[ -d "$1" ] || return 0
	find "$1" -xdev -mindepth 1 -maxdepth 3 -uid "$TU_UID" \
		-printf '%p|%y|%m|%u\n' 2>/dev/null | grep -v "^$W" | sort
}

snapshot() {
	snap_tree "$TU_HOME" >"$W/snap-$1.home"
	snap_tree "$TU_XDG" >"$W/snap-$1.xdg"
	{ snap_shared /tmp; snap_shared /var/tmp; snap_shared /dev/shm; [ "$AS_ROOT" = 1 ] && snap_shared /root; } >"$W/snap-$1.shared"
	grep -c -F "$TU_HOME" /proc/self/mountinfo >"$W/snap-$1.mounts"
}

compare_snapshots() {
	local a=$1 b=$2 what d
	for what in home xdg shared mounts; do
		if d=$(diff "$W/snap-$a.$what" "$W/snap-$b.$what"); then
			ok "check leaves nothing behind: $what ($a -> $b)"
		else
			not_ok "check leaves nothing behind: $what ($a -> $b)"
			printf '%s\n' "$d" | head -20 | sed 's/^/#   /'
		fi
	done
}

# as root: nothing at all runs as the throwaway user; otherwise (the tests
# themselves run as the user): no rootless-setup or id-map helper
no_processes_left() {
	if [ "$AS_ROOT" = 1 ]; then
		[ -z "$(ps -u "$TU_UID" -o pid= 2>/dev/null)" ]
	else
		for n in rootless-setup newuidmap newgidmap; do
			pgrep -u "$TU_UID" -x "$n" >/dev/null && return 1
		done
	fi
	return 0
}

# ---------------------------------------------------------------- as the test user

snapshot before

urun u-default check --format json
assert_report "user, default engines" "$W/u-default" $?

urun u-containerd check --engine containerd --format json
rc=$?
assert_report "user, --engine containerd" "$W/u-containerd" $rc
check "user, --engine containerd: engines is [containerd]" \
	jqe '.engines == ["containerd"]' "$W/u-containerd.out"

# Kata's virtualisation, against what kata-runtime check reads (the CPU's
# flags, the vendor kvm module, /dev/vhost-vsock), read here by other means
urun u-kata check --engine kata --format json
hw=no
grep -qwE 'vmx|svm' /proc/cpuinfo && hw=yes
{ [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && hw=yes
s=$(status_of "$W/u-kata.out" kvm.virtualization)
m=$(message_of "$W/u-kata.out" kvm.virtualization)
if [ $hw = no ]; then
	check "kata, no vmx/svm and no kvm_intel/kvm_amd here: kvm.virtualization fails, saying Kata cannot run ($s)" \
		sh -c '[ "$1" = fail ] && printf %s "$2" | grep -q "neither vmx nor svm.*Kata cannot run on this host"' _ "$s" "$m"
	if [ -d /sys/module/kvm_pvm ]; then
		check "kata: the paravirtual KVM (kvm_pvm) behind /dev/kvm is named" grep -q kvm_pvm <<<"$m"
	fi
elif [ -c /dev/vhost-vsock ] && tu_run test -r /dev/vhost-vsock -a -w /dev/vhost-vsock; then
	check "kata, hardware virtualisation and a usable vhost-vsock: kvm.virtualization is not fail ($s)" \
		test "$s" != fail
else
	check "kata, no usable /dev/vhost-vsock: kvm.virtualization fails ($s)" test "$s" = fail
fi

urun u-isulad check --engine isulad --format json
rc=$?
assert_report "user, --engine isulad" "$W/u-isulad" $rc
if [ "$CGROUP" != v2 ]; then
	check "user, --engine isulad: exit 1 ($CGROUP cgroups fail)" test "$rc" = 1
fi

urun u-all check --engine all --format json
rc=$?
assert_report "user, --engine all" "$W/u-all" $rc
check "user, --engine all: every engine is in the report" jqe \
	'[.engines[]] | (index("isulad") and index("containerd") and index("buildkit") and index("podman") and index("kata") and index("oci")) != null' \
	"$W/u-all.out"

urun u-text check --engine containerd
rc=$?
if [ "$rc" -le 1 ] && grep -Eq "^PASS +userns\.probe" "$W/u-text.out" &&
	grep -q "^decisions: snapshotter=" "$W/u-text.out" && grep -q "^summary: " "$W/u-text.out"; then
	ok "user, text: a line per rule, decisions and summary"
else
	not_ok "user, text: a line per rule, decisions and summary (rc $rc)"
	head -c 400 "$W/u-text.out" | sed 's/^/#   /'
fi
check "user, text: $NRULES rule lines" test "$(grep -Ec '^(PASS|WARN|FAIL|SKIP) ' "$W/u-text.out")" = "$NRULES"

check "user: no process of $TU_NAME is left" no_processes_left
snapshot after-user
compare_snapshots before after-user

# live, XDG_RUNTIME_DIR names the runtime dir: one of mode 0755 fails
mkdir -m 0755 "$W/xdg-0755"
[ "$AS_ROOT" = 1 ] && chown "$TU_UID:$TU_GID" "$W/xdg-0755"
tu_run env XDG_RUNTIME_DIR="$W/xdg-0755" "$RS_BIN" check --rule runtime.dir --format json \
	>"$W/u-xdg.out" 2>"$W/u-xdg.err"
rc=$?
expect_status "user, XDG_RUNTIME_DIR of mode 0755" "$W/u-xdg.out" runtime.dir fail
check "user, XDG_RUNTIME_DIR of mode 0755: exit 1 (rc $rc)" test "$rc" = 1

# ---------------------------------------------------------------- as root, --user

if [ "$AS_ROOT" = 1 ]; then
	rrun r-default --user "$TU_NAME" check --format json
	assert_report "root --user $TU_NAME, default engines" "$W/r-default" $?

	rrun r-containerd check --engine containerd --format json --user "$TU_NAME"
	rc=$?
	assert_report "root --user $TU_NAME, --engine containerd" "$W/r-containerd" $rc
	check "root --user: no root warning on stderr" \
		sh -c '! grep -qi "rootless mode is for non-root" "$1"' _ "$W/r-containerd.err"

	rrun r-uid --user "$TU_UID" check --engine containerd --format json
	assert_report "root --user $TU_UID (a uid)" "$W/r-uid" $?

	rrun r-isulad --user "$TU_NAME" check --engine isulad --format json
	rc=$?
	assert_report "root --user $TU_NAME, --engine isulad" "$W/r-isulad" $rc
	if [ "$CGROUP" != v2 ]; then
		check "root --user, --engine isulad: exit 1 ($CGROUP cgroups fail)" test "$rc" = 1
	fi

	# the probe drops to the user's credentials: newuidmap runs with the user's
	# real uid and maps the user's own range
	if command -v strace >/dev/null; then
		strace -f -qq -o "$W/strace" -e trace=execve,getuid,setresuid,setresgid \
			env -i PATH="$ROOT_PATH" HOME=/root ASAN_OPTIONS=detect_leaks=0 "$RS_BIN" --user "$TU_NAME" check \
			--rule userns.probe --format json >"$W/r-strace.out" 2>"$W/r-strace.err"
		rc=$?
		if [ "$rc" = 0 ] && [ "$(status_of "$W/r-strace.out" userns.probe)" = "$EXP_PROBE" ]; then
			ok "root --user, --rule userns.probe under strace: $EXP_PROBE"
		else
			not_ok "root --user, --rule userns.probe under strace: rc $rc, $(status_of "$W/r-strace.out" userns.probe)"
		fi
		check "root --user: the prober sets uid and gid to $TU_UID:$TU_GID" sh -c \
			'grep -q "setresgid($2, $2, $2) *= 0" "$1" && grep -q "setresuid($3, $3, $3) *= 0" "$1"' \
			_ "$W/strace" "$TU_GID" "$TU_UID"
		if [ "$EXP_PROBE" = pass ]; then
			# newuidmap and newgidmap run at the same time, so their lines
			# interleave ("<unfinished ...>"): match each helper's pid by
			# its execve and look at that pid's own getuid lines
			upid=$(awk '/execve\("\/usr\/bin\/newuidmap"/ { print $1; exit }' "$W/strace")
			gpid=$(awk '/execve\("\/usr\/bin\/newgidmap"/ { print $1; exit }' "$W/strace")
			if [ -n "$upid" ] && [ -n "$gpid" ] &&
				grep -Eq "^$upid +(getuid\(\)|<\.\.\. getuid resumed>\)) += $TU_UID$" "$W/strace" &&
				grep -Eq "^$gpid +(getuid\(\)|<\.\.\. getuid resumed>\)) += $TU_UID$" "$W/strace"; then
				ok "root --user: newuidmap and newgidmap run with real uid $TU_UID"
			else
				not_ok "root --user: newuidmap and newgidmap run with real uid $TU_UID"
				grep -E 'new[ug]idmap|getuid' "$W/strace" | head -8 | sed 's/^/#   /'
			fi
			urange=$(awk -F: -v n="$TU_NAME" '$1 == n { printf "\"%s\", \"%s\"", $2, $3; exit }' /etc/subuid)
			grange=$(awk -F: -v n="$TU_NAME" '$1 == n { printf "\"%s\", \"%s\"", $2, $3; exit }' /etc/subgid)
			check "root --user: newuidmap maps $TU_UID and the user's subuid range" \
				grep -qF "\"0\", \"$TU_UID\", \"1\", \"1\", $urange]" "$W/strace"
			check "root --user: newgidmap maps $TU_GID and the user's subgid range" \
				grep -qF "\"0\", \"$TU_GID\", \"1\", \"1\", $grange]" "$W/strace"
		fi
	elif ! grep -qE '^(root|0):' /etc/subuid /etc/subgid 2>/dev/null; then
		# without strace: root owns no subordinate ids, and newuidmap only maps
		# ranges of its caller's real uid, so a full map proves the drop
		m=$(message_of "$W/r-containerd.out" userns.probe)
		if [ "$EXP_PROBE" = pass ] && printf '%s' "$m" | grep -Eq "(^|[^0-9])$EXP_MAPPED_UIDS uids"; then
			ok "root --user: the probe dropped to $TU_NAME (its ranges mapped; root has none; no strace)"
		else
			not_ok "root --user: the probe dropped to $TU_NAME (its ranges mapped; root has none; no strace)"
			diag "  message: $m"
		fi
	else
		skip "root --user: the probe drops to the user's credentials" "no strace, and root has subordinate ids"
	fi

	# SUDO_USER and PKEXEC_UID name the target when root runs it
	env -i PATH="$ROOT_PATH" HOME=/root SUDO_USER="$TU_NAME" "$RS_BIN" check --engine containerd \
		--format json >"$W/r-sudo.out" 2>"$W/r-sudo.err"
	assert_report "root, SUDO_USER=$TU_NAME" "$W/r-sudo" $?
	env -i PATH="$ROOT_PATH" HOME=/root PKEXEC_UID="$TU_UID" "$RS_BIN" check --engine containerd \
		--format json >"$W/r-pkexec.out" 2>"$W/r-pkexec.err"
	rc=$?
	check "root, PKEXEC_UID=$TU_UID: target is $TU_NAME (rc $rc)" jqe --arg n "$TU_NAME" \
		'.host.user.name == $n' "$W/r-pkexec.out"

	check "root --user: no process of $TU_NAME is left" no_processes_left
	snapshot after-root
	compare_snapshots after-user after-root
else
	skip "root --user $TU_NAME" "not running as root"
fi

# ---------------------------------------------------------------- as root, no target user

if [ "$AS_ROOT" = 1 ]; then
	# the libraries a check opens with dlopen are the ones the binary's
	# .note.dlopen names (what packagers and the image's stage.sh read)
	rm -rf "$W/ld" && mkdir "$W/ld"
	env -i PATH="$ROOT_PATH" LD_DEBUG=files LD_DEBUG_OUTPUT="$W/ld/out" "$RS_BIN" check --engine all --user "$TU_NAME" >/dev/null 2>&1
	opened=$(sed -n 's/.*file=\([^ ]*\) \[0\]; *dynamically loaded by.*/\1/p' "$W"/ld/out.* | sort -u | paste -sd' ')
	noted=$(objcopy -O binary --only-section=.note.dlopen "$RS_BIN" /dev/stdout | strings -n 8 |
		jq -r '.[].soname[]' | sort -u | paste -sd' ')
	unnoted=$(for so in $opened; do case " $noted " in *" $so "*) ;; *) printf '%s ' "$so" ;; esac; done)
	check "root: check opens libraries with dlopen ($opened), each named in .note.dlopen ($noted)" \
		[ -n "$opened" ] && [ -z "$unnoted" ]
	rrun r-self check --engine containerd --format json
	rc=$?
	if one_json "$W/r-self.out"; then
		ok "root, no --user: exactly one JSON document on stdout"
	else
		not_ok "root, no --user: exactly one JSON document on stdout"
	fi
	check "root, no --user: no target user" jqe '.host.user == null' "$W/r-self.out"
	check "root, no --user: all rules, summary adds up" rules_complete "$W/r-self.out"
	check "root, no --user: exit $rc matches the summary (the host's verdict)" rc_matches "$rc" "$W/r-self.out"
	for id in subid.ranges runtime.dir cgroup.delegation network.tun storage.fs userns.probe; do
		s=$(status_of "$W/r-self.out" "$id")
		m=$(message_of "$W/r-self.out" "$id")
		if [ "$s" = skip ] && printf '%s' "$m" | grep -q "no target user: name one with --user"; then
			ok "root, no --user: $id is skip, no target user"
		else
			not_ok "root, no --user: $id is skip, no target user (got $s: $m)"
		fi
	done
	for id in kernel.version userns.max subid.helpers; do
		expect_status "root, no --user (host rules run)" "$W/r-self.out" "$id" pass
	done
	if grep -q -- "--user" "$W/r-self.err" && ! grep -qi 'non-root' "$W/r-self.err"; then
		ok "root, no --user: a note on stderr names --user (no root warning)"
	else
		not_ok "root, no --user: a note on stderr names --user (no root warning)"
		diag "  stderr: $(head -c 300 "$W/r-self.err")"
	fi
	# the README's quick start as root: the host's verdict, no advice to give root ids
	rrun r-quick check
	rc=$?
	check "quick start as root (check, no options): exit $rc is the host's verdict" \
		sh -c '[ "$1" -le 1 ] && ! grep -q "^FAIL.*\(subid\.ranges\|runtime\.dir\)" "$2"' _ "$rc" "$W/r-quick.out"
	rrun r-root --user root check --engine containerd --format json
	check "root, --user root: root is the target, with the rootless warning" sh -c \
		'jq -e ".host.user.uid == 0" "$1" >/dev/null && grep -qi "non-root" "$2"' _ "$W/r-root.out" "$W/r-root.err"

	rrun r-post check --postinstall
	rc=$?
	check "root --postinstall, no target: exit 0" test "$rc" = 0
	check "root --postinstall, no target: nothing on stdout" test ! -s "$W/r-post.out"
	if grep -Eq '[0-9]+ pass.*[0-9]+ warn.*[0-9]+ fail.*[0-9]+ skip' "$W/r-post.err"; then
		ok "root --postinstall, no target: summary on stderr"
	else
		not_ok "root --postinstall, no target: summary on stderr"
		diag "  stderr: $(head -c 300 "$W/r-post.err")"
	fi
	check "root --postinstall: no colour" sh -c '! grep -q "$(printf "\033")" "$1"' _ "$W/r-post.err"
	check "root --postinstall: no root warning (checks the host only)" \
		sh -c '! grep -qi "rootless mode is for non-root" "$1"' _ "$W/r-post.err"

	# rules that fail still exit 0 (isulad on a non-v2 host, kata without /dev/kvm …)
	rrun r-post-all check --postinstall --engine all --format json
	rc=$?
	check "root --postinstall --engine all: exit 0" test "$rc" = 0
	if one_json "$W/r-post-all.out"; then
		ok "root --postinstall --engine all --format json: one JSON document"
		if [ "$CGROUP" != v2 ]; then
			expect_status "root --postinstall --engine all" "$W/r-post-all.out" cgroup.v2 fail
		fi
		check "root --postinstall: target user is absent or not root" jqe \
			'.host.user == null or .host.user.name != "root"' "$W/r-post-all.out"
		for id in subid.ranges cgroup.delegation runtime.dir storage.fs userns.probe \
			network.tun kvm.device kvm.group isulad.permissions isulad.stale-state \
			kata.config kata.image; do
			s=$(status_of "$W/r-post-all.out" "$id")
			m=$(message_of "$W/r-post-all.out" "$id")
			if [ "$s" = skip ] && printf '%s' "$m" | grep -q "no target user"; then
				ok "root --postinstall: $id is skip, no target user"
			else
				not_ok "root --postinstall: $id is skip, no target user (got $s: $m)"
			fi
		done
		for id in kernel.version userns.max subid.helpers; do
			expect_status "root --postinstall (host rules still run)" "$W/r-post-all.out" "$id" pass
		done
	else
		not_ok "root --postinstall --engine all --format json: one JSON document"
	fi

	rrun r-post-usage check --postinstall --engine no-such-engine
	check "root --postinstall, unknown engine: exit 2" test "$?" = 2

	snapshot after-self
	compare_snapshots after-root after-self
else
	skip "root without a target user" "not running as root"
fi

# ---------------------------------------------------------------- issue 21's rules on this machine
# Each verdict next to what a program nobody here wrote does in the same
# state: newuidmap (through util-linux unshare --map-auto), slirp4netns,
# podman, a setcap'd copy of the real newuidmap.

# rule_of FILE ID: "status message" of rule ID
rule_of() { jv "$1" ".results[] | select(.id == \"$2\") | \"\(.status) \(.message)\""; }
# is_rule FILE ID STATUS REGEX: the rule has STATUS and its message matches REGEX
is_rule() { local r; r=$(rule_of "$1" "$2"); [[ "$r" == "$3 "* ]] && grep -qE -- "$4" <<<"$r"; }

# userns.nnp: no_new_privs on the caller. newuidmap (setuid) then fails for real.
tu_run setpriv --no-new-privs unshare --map-auto --map-root-user true >/dev/null 2>"$W/nnp-oracle.err"
nnp_rc=$?
if [ "$EXP_PROBE" = pass ] && [ "$nnp_rc" != 0 ] && grep -q "write to uid_map failed" "$W/nnp-oracle.err"; then
	ok "oracle: under setpriv --no-new-privs, newuidmap fails ($(head -c 80 "$W/nnp-oracle.err"))"
	tu_run setpriv --no-new-privs "$RS_BIN" check --rule userns.nnp --format json >"$W/nnp.out" 2>/dev/null
	check "user under no_new_privs: userns.nnp fails, naming NoNewPrivs" is_rule "$W/nnp.out" userns.nnp fail "NoNewPrivs: 1"
	urun nnp-off check --rule userns.nnp --format json
	check "user without it: userns.nnp passes" is_rule "$W/nnp-off.out" userns.nnp pass .
	if have_prog podman; then
		tu_run setpriv --no-new-privs timeout 60 podman unshare true >/dev/null 2>"$W/nnp-podman.err"
		check "oracle: podman under no_new_privs fails the same way" grep -q "newuidmap" "$W/nnp-podman.err"
	fi
else
	skip "userns.nnp under setpriv --no-new-privs" "newuidmap does not map here (rc $nnp_rc): $(head -c 120 "$W/nnp-oracle.err")"
fi

if [ "$AS_ROOT" = 1 ]; then
	# userns.nested: root's own user namespace with a map that ends at the
	# user's last subordinate uid (it holds them), then 10 ids short
	end=$(awk -F: -v n="$TU_NAME" '$1 == n { e = $2 + $3 } END { print e + 0 }' /etc/subuid)
	# in_userns N CMD...: CMD as root of a new user namespace mapping 0..N-1 to itself
	in_userns() {
		local n=$1 p i; shift
		rm -f "$W/go"; mkfifo "$W/go"
		unshare --user sh -c 'read _ < "$1"; shift; exec "$@"' sh "$W/go" "$@" &
		p=$!
		for i in $(seq 100); do [ "$(readlink "/proc/$p/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break; sleep 0.05; done
		echo "0 0 $n" >"/proc/$p/uid_map"; echo "0 0 $n" >"/proc/$p/gid_map"
		echo go >"$W/go"; wait "$p"
	}
	for n in "$end" $((end - 10)); do
		in_userns "$n" setpriv --reuid="$TU_UID" --regid="$TU_GID" --clear-groups unshare --map-auto --map-root-user true \
			>/dev/null 2>"$W/nested-oracle.err"
		orc=$?
		in_userns "$n" "$RS_BIN" --user "$TU_NAME" check --format json >"$W/nested.out" 2>/dev/null
		if [ "$orc" = 0 ]; then
			check "nested namespace 0..$((n - 1)): newuidmap maps the user there, userns.nested passes" \
				is_rule "$W/nested.out" userns.nested pass "inside a user namespace"
		else
			check "nested namespace 0..$((n - 1)): newuidmap fails there ($(head -c 60 "$W/nested-oracle.err")), userns.nested fails" \
				is_rule "$W/nested.out" userns.nested fail "subordinate uids"
		fi
	done

	# network.tun: a /dev/net/tun whose driver is not there (a node of an
	# unused misc minor bound over it, in a mount namespace of our own)
	unshare -m sh -c '
		mknod "$1/tun" c 10 250 && chmod 0666 "$1/tun" && mount --bind "$1/tun" /dev/net/tun || exit 9
		"$2" --user "$3" check --engine containerd --format json > "$1/tun.out" 2> /dev/null
		setpriv --reuid="$4" --regid="$5" --clear-groups sh -c "
			unshare --user --map-root-user --net sleep 20 & p=\$!; sleep 0.5
			timeout 10 slirp4netns --configure \$p tap0; kill \$p; wait \$p" > "$1/slirp.out" 2>&1
		' sh "$W" "$RS_BIN" "$TU_NAME" "$TU_UID" "$TU_GID"
	if grep -q 'open("/dev/net/tun"): No such device' "$W/slirp.out"; then
		ok "oracle: slirp4netns fails 'open(\"/dev/net/tun\"): No such device' there"
		check "network.tun warns with ENODEV, told apart from EACCES" is_rule "$W/tun.out" network.tun warn "No such device"
		check "then the network decision is host" jqe '.decisions.network == "host"' "$W/tun.out"
	else
		skip "network.tun with a driverless node" "slirp4netns did not show ENODEV: $(head -c 120 "$W/slirp.out")"
	fi

	# engine.conflict: a process of the user's listening at the engine's socket
	listen() { # UID DIR NAME: DIR/NAME listened on by UID until killed; its pid in $W/listen.pid
		rm -f "$W/listen.pid"
		(cd "$2" && exec 3>"$W/listen.pid" && exec setpriv --reuid="$1" --regid="$1" --clear-groups /usr/bin/python3 -c 'import os,socket,sys,time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); os.write(3, str(os.getpid()).encode()); os.close(3); time.sleep(120)' "$3") &
		for _ in $(seq 100); do [ -s "$W/listen.pid" ] && break; sleep 0.1; done
	}
	sd=$TU_XDG/containerd; had_sd=0; [ -d "$sd" ] && had_sd=1
	install -d -m 0700 -o "$TU_UID" -g "$TU_GID" "$sd"
	listen "$TU_UID" "$sd" containerd.sock; lp=$(cat "$W/listen.pid" 2>/dev/null)
	rrun conflict --user "$TU_NAME" check --engine containerd --format json
	check "engine.conflict: the user's socket held by another process: a warning naming python3 (pid $lp)" \
		is_rule "$W/conflict.out" engine.conflict warn "held by python3 \\(pid $lp"
	urun conflict-u check --engine containerd --format json
	check "engine.conflict as the user: the same" is_rule "$W/conflict-u.out" engine.conflict warn "held by python3 \\(pid $lp"
	[ -n "$lp" ] && kill "$lp" && wait "$lp" 2>/dev/null
	rrun conflict-stale --user "$TU_NAME" check --engine containerd --format json
	check "engine.conflict: the socket file left behind is no conflict" is_rule "$W/conflict-stale.out" engine.conflict pass "nobody listens"
	rm -f "$sd/containerd.sock"; [ "$had_sd" = 1 ] || rmdir "$sd"
	# a rootful containerd: /run a tmpfs of our own (the user's runtime dir moved in again)
	unshare -m sh -c '
		mkdir -p "$1/ru" && mount --bind /run/user "$1/ru" && mount -t tmpfs none /run &&
			mkdir -p /run/user /run/containerd && mount --move "$1/ru" /run/user || exit 9
		/usr/bin/python3 -c "import socket,time; s = socket.socket(socket.AF_UNIX); s.bind(\"/run/containerd/containerd.sock\"); s.listen(); time.sleep(30)" & p=$!
		for i in $(seq 100); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.1; done
		"$2" --user "$3" check --engine containerd --format json > "$1/rootful.out" 2> /dev/null
		kill $p; wait $p' sh "$W" "$RS_BIN" "$TU_NAME" 2>/dev/null
	check "engine.conflict: a rootful containerd socket that answers is named" \
		is_rule "$W/rootful.out" engine.conflict warn "rootful containerd runs at '/run/containerd/containerd.sock'"

	# subid.helpers: copies of the real newuidmap with file capabilities in a
	# tree, each also run as the user to map its subordinate uids
	T2=$W/fcaps; bash "$HERE/../fixtures/mkhost.sh" debian12-healthy "$T2" >/dev/null 2>&1
	start=$(awk -F: -v n="$TU_NAME" '$1 == n { print $2; exit }' /etc/subuid)
	for caps in cap_setuid=ep cap_setgid=ep cap_setuid=p; do
		cp /usr/bin/newuidmap "$T2/usr/bin/newuidmap"; chmod 0755 "$T2/usr/bin/newuidmap"
		if ! setcap "$caps" "$T2/usr/bin/newuidmap" 2>/dev/null; then
			skip "subid.helpers with $caps" "setcap is not possible here"; continue
		fi
		tu_run sh -c 'unshare --user sleep 20 & p=$!; sleep 0.3; "$1" $p 0 "$2" 1 1 "$3" 10; r=$?; kill $p; exit $r' \
			sh "$T2/usr/bin/newuidmap" "$TU_UID" "$start" >/dev/null 2>"$W/caps.err"
		orc=$?
		"$RS_BIN" --root "$T2" --user alice check --rule subid.helpers --format json >"$W/caps.out" 2>/dev/null
		if [ "$orc" = 0 ]; then
			check "newuidmap with $caps maps the user's range, and subid.helpers passes" is_rule "$W/caps.out" subid.helpers pass .
		else
			check "newuidmap with $caps fails ($(head -c 60 "$W/caps.err")), and subid.helpers fails" is_rule "$W/caps.out" subid.helpers fail .
		fi
	done

	# podman.migrate: a real pause process, then a range added to the user
	if have_prog podman; then
		tu_run timeout 60 podman unshare true >/dev/null 2>&1
		pp=$(cat "$TU_XDG/libpod/tmp/pause.pid" 2>/dev/null)
		rrun mig0 --user "$TU_NAME" check --engine podman --format json
		check "podman.migrate: the pause process (pid $pp) maps the current ranges" is_rule "$W/mig0.out" podman.migrate pass "pid $pp"
		add=$(tu_free_start /etc/subuid /etc/subgid)
		usermod --add-subuids "$add-$((add + 999))" --add-subgids "$add-$((add + 999))" "$TU_NAME"
		rrun mig1 --user "$TU_NAME" check --engine podman --format json
		check "podman.migrate: after a range is added, it fails" is_rule "$W/mig1.out" podman.migrate fail "pid $pp"
		check "oracle: podman itself still maps only the old ranges" \
			[ "$(tu_run timeout 60 podman unshare cat /proc/self/uid_map 2>/dev/null | awk '{ n += $3 } END { print n }')" = "$EXP_MAPPED_UIDS" ]
		tu_run timeout 60 podman system migrate >/dev/null 2>&1
		for _ in $(seq 50); do tu_dead "$pp" && break; sleep 0.1; done
		check "podman system migrate ends the pause process" tu_dead "$pp"
		rrun mig2 --user "$TU_NAME" check --engine podman --format json
		check "podman.migrate: passes once it is gone" is_rule "$W/mig2.out" podman.migrate pass .
		pp=$(cat "$TU_XDG/libpod/tmp/pause.pid" 2>/dev/null); [ -n "$pp" ] && kill "$pp"
		usermod --del-subuids "$add-$((add + 999))" --del-subgids "$add-$((add + 999))" "$TU_NAME"
	else
		skip "podman.migrate" "podman is not installed"
	fi
else
	skip "userns.nested, network.tun, engine.conflict, subid.helpers, podman.migrate live" "not running as root"
fi

# the rules whose premise this machine lacks say so
urun premise check --engine all --format json
if [ ! -d /run/systemd/system ]; then
	check "cgroup.dbus: no systemd here, no user bus needed (skip)" is_rule "$W/premise.out" cgroup.dbus skip "not systemd"
fi
if ! jqe '.decisions.snapshotter == "fuse-overlayfs"' "$W/premise.out"; then
	check "storage.fuse: fuse-overlayfs is not the decision (skip)" is_rule "$W/premise.out" storage.fuse skip "not the snapshotter decision"
fi

# A rule that cannot read what it needs says "cannot check" (a warning), not
# a verdict: the user checks a tree whose etc/subuid only root may read.
if [ "$AS_ROOT" = 1 ]; then
	RT="$W/unreadable-root"
	mkdir -p "$RT/etc"
	printf 'root:x:0:0::/root:/bin/sh\n%s:x:%s:%s::/home/%s:/bin/sh\n' "$TU_NAME" "$TU_UID" "$TU_GID" "$TU_NAME" > "$RT/etc/passwd"
	printf '%s:100000:65536\n' "$TU_NAME" > "$RT/etc/subuid"
	cp "$RT/etc/subuid" "$RT/etc/subgid"
	chmod 0600 "$RT/etc/subuid"
	tu_run "$RS_BIN" --root "$RT" --user "$TU_NAME" check --rule subid.ranges --format json > "$W/unreadable.out" 2>/dev/null
	s=$(status_of "$W/unreadable.out" subid.ranges)
	m=$(message_of "$W/unreadable.out" subid.ranges)
	check "an unreadable etc/subuid is 'cannot check' (got $s: $m)" \
		sh -c '[ "$1" = warn ] && printf %s "$2" | grep -q "cannot check: .*Permission denied"' _ "$s" "$m"
else
	skip "unreadable etc/subuid" "not running as root"
fi

done_testing
