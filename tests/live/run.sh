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

# engines_need_v2 FILE: an engine in the report needs pure cgroup v2
engines_need_v2() {
	jq -e '.engines | any(. == "isulad" or . == "kata")' "$1" >/dev/null
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
