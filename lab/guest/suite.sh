#!/bin/bash
# The lab suite, inside a booted guest (systemd as PID 1, pure cgroup v2, the
# lab user's manager started by lingering). Runs as root from
# rs-lab-suite.service; TAP goes to /dev/vdb (NUL-padded) and to the console
# between "=== rs-lab tap begin/end ===" markers; then the guest powers off.
# Options from the kernel command line (run-vm.sh): rs_lab.smoke=1 runs
# scenario 1 only; rs_lab.variant=selinux adds scenario 2 (SELinux enforcing).
#
# The truth table: for every engine run, the report's verdicts (check
# --format json) against what the engine showed (started or not, podman
# info's storage driver, the network a container got, the cgroup manager);
# the suite writes no verdict of its own.
set -u
. /usr/local/lib/rs-lab/tap.sh
RS=/usr/local/bin/rootless-setup
U=labuser
UID_=1000
XDG=/run/user/$UID_
OUT=/run/rs-lab.tap
T_START=$(cut -d' ' -f1 /proc/uptime)
# the first line on the console: run-vm.sh and bench read boot-to-suite here
echo "=== rs-lab suite start uptime=$T_START ===" >/dev/ttyS0 2>/dev/null
SMOKE=0 VARIANT=
for a in $(cat /proc/cmdline); do
	case $a in
	rs_lab.smoke=1) SMOKE=1 ;;
	rs_lab.variant=*) VARIANT=${a#rs_lab.variant=} ;;
	esac
done

asu() {
	(cd / && runuser -u "$U" -- env HOME=/home/$U XDG_RUNTIME_DIR=$XDG \
		DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG/bus PATH=/usr/local/bin:/usr/bin:/bin "$@")
}
# show the last lines of OUTPUT as TAP comments
show() { tail -"${2:-8}" <<<"$1" | sed 's/^/# /'; }
# checko OUTPUT NAME CMD...: check, showing OUTPUT when it fails
checko() {
	local o=$1 n=$2; shift 2
	if "$@"; then ok "$n"; else not_ok "$n"; show "$o" 12; fi
}
not() { ! "$@"; }
# todo REASON NAME CMD...: a known bug of rootless-setup the lab found; TAP's
# TODO directive, so it does not fail the suite; says so when it passes
T_TODO=0
todo() {
	local why=$1 n=$2; shift 2
	T_N=$((T_N + 1)); T_TODO=$((T_TODO + 1))
	if "$@"; then echo "ok $T_N - $n # TODO passes now, drop the TODO: $why"
	else echo "not ok $T_N - $n # TODO $why"; fi
}
# outcheck OUTPUT NAME CMD...: checko for a container's output; under
# SELinux, an empty output that the policy denied (container_t may not
# write to the pipe of an unconfined caller: Debian's reference policy) is
# what the report must have said: selinux.state warns of it in $rep, the
# caller's podman report (truth, not a verdict written here)
outcheck() {
	local o=$1 n=$2 avc said
	avc=$(dmesg 2>/dev/null | grep 'avc: *denied' | grep 'scontext=[^ ]*:container_t' | grep fifo_file | tail -1)
	if [ "$VARIANT" = selinux ] && [ -z "$o" ] && [ -n "$avc" ]; then
		diag "${avc#*avc: }"
		said=$(jq -r '.results[] | select(.id == "selinux.state") | "\(.status) \(.message)"' \
			<<<"${rep:-}" 2>/dev/null)
		diag "truth: selinux.state report=${said%% *} run=no output (denied)"
		case $said in
		warn*pipe*) ok "$n: no output through the pipe, as selinux.state warned" ;;
		*) not_ok "$n: no output (the policy denied the pipe) and selinux.state did not say so" ;;
		esac
	else
		checko "$@"
	fi
}
absent() { local f; for f; do [ ! -e "$f" ] || return 1; done; }
# both RE1 RE2 TEXT: TEXT has a line matching each
both() { grep -q -- "$1" <<<"$3" && grep -q -- "$2" <<<"$3"; }
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	local n=$(($1 * 2)); shift
	while [ "$n" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; n=$((n - 1)); done
	return 1
}
is_report() { jq -e .results >/dev/null 2>&1 <<<"$1"; }
rule_status() { jq -r --arg id "$2" '.results[] | select(.id == $id) | .status' <<<"$1"; }
rule_line() { jq -r --arg id "$2" '.results[] | select(.id == $id) | "\(.status): \(.message)"' <<<"$1"; }
# the report's non-passing verdicts, as TAP comments
verdicts() {
	jq -r '.results[] | select(.status != "pass" and .status != "skip") | "\(.status) \(.id): \(.message)"' \
		<<<"$1" | sed 's/^/# /'
}

# truth ENGINE ASPECT PREDICTED SHOWN: one line of the truth table (the
# report's verdict against what the engine showed), and a check; the same
# shape as the host's engine suites
truth() {
	printf '# truth: %-10s %-22s report=%-14s run=%s\n' "$1" "$2" "$3" "$4"
	check "truth $1/$2: the report's '$3' is what the run showed ('$4')" [ "$3" = "$4" ]
}
# the report's prediction of a start: no failing rule
predicts_start() { jq -r 'if .summary.fail == 0 then "yes" else "no" end' <<<"$1"; }
yes_if() { if "$@" >/dev/null 2>&1; then echo yes; else echo no; fi; }
# the snapshotter decision in podman's words (overlay or vfs)
podman_driver() {
	case $(jq -r .decisions.snapshotter <<<"$1") in
	overlayfs | fuse-overlayfs) echo overlay ;; native) echo vfs ;; *) echo "?" ;;
	esac
}
# podman_truth LABEL REPORT: podman's storage, network, cgroup manager and
# whether a container started (its exit status), against REPORT
podman_truth() {
	local label=$1 rep=$2 info netmode
	info=$(asu podman info --format json 2>/dev/null)
	truth podman "$label/started" "$(predicts_start "$rep")" \
		"$(yes_if asu podman run --rm localhost/busybox:lab /bin/busybox true)"
	[ -n "$info" ] || { diag "$label: podman info printed nothing"; return 0; }
	truth podman "$label/storage" "$(podman_driver "$rep")" "$(jq -r .store.graphDriverName <<<"$info")"
	truth podman "$label/cgroup-manager" "$(jq -r .decisions.cgroup_manager <<<"$rep")" \
		"$(jq -r .host.cgroupManager <<<"$info")"
	if asu podman run --name rs-lab-tt localhost/busybox:lab /bin/busybox true >/dev/null 2>&1; then
		netmode=$(asu podman inspect --format '{{.HostConfig.NetworkMode}}' rs-lab-tt 2>/dev/null)
		asu podman rm rs-lab-tt >/dev/null 2>&1
		case $netmode in slirp4netns*) netmode=slirp4netns ;; pasta*) netmode=pasta ;; esac
		truth podman "$label/network" "$(jq -r .decisions.network <<<"$rep")" "$netmode"
	fi
	diag "$label: podman runtime $(jq -r .host.ociRuntime.name <<<"$info"), cgroup v$(jq -r .host.cgroupVersion <<<"$info" | tr -dc 0-9)"
}

scenario_systemd_v2() {
	diag "scenario 1: systemd, pure cgroup v2, a lingering user"
	check "PID 1 is systemd" [ "$(cat /proc/1/comm)" = systemd ]
	check "/sys/fs/cgroup is cgroup2 only (pure v2)" [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]
	check "user@$UID_.service is active (lingering)" systemctl is-active --quiet "user@$UID_.service"
	local st
	st=$(asu systemctl --user is-system-running --wait 2>&1)
	check "the user manager answers systemctl --user ($st)" grep -qxE 'running|degraded' <<<"$st"
	local cg=/sys/fs/cgroup/user.slice/user-$UID_.slice/user@$UID_.service
	diag "delegated controllers: $(cat "$cg/cgroup.controllers" 2>/dev/null)"

	local rep real msg
	real=$(cat "$cg/cgroup.controllers" 2>/dev/null)
	rep=$(asu "$RS" check --format json 2>/dev/null)
	check "check as the user prints a JSON report" is_report "$rep"
	check "check: cgroup.v2 passes" [ "$(rule_status "$rep" cgroup.v2)" = pass ]
	msg=$(jq -r '.results[] | select(.id == "cgroup.delegation") | "\(.status): \(.message)"' <<<"$rep")
	diag "cgroup.delegation on stock $(. /etc/os-release; echo "$ID $VERSION_ID"): $msg"
	# Debian's user@.service delegates cpu memory pids; the rule also wants io
	check "check: cgroup.delegation reads the real user@$UID_.service ($real)" \
		grep -qF "delegated: $real)" <<<"$msg"
	jq -r '.results[] | select(.status != "pass" and .status != "skip") | "\(.status) \(.id): \(.message)"' \
		<<<"$rep" | sed 's/^/# /'
	diag "decisions: $(jq -c .decisions <<<"$rep")"
}

# fix --rule cgroup.delegation, then a new user manager: the rule passes
scenario_delegation_fix() {
	local out rep st
	out=$("$RS" --user "$U" fix --rule cgroup.delegation --yes 2>&1)
	checko "$out" "fix --rule cgroup.delegation (root for the user) succeeds" [ $? -eq 0 ]
	check "fix wrote the user@.service drop-in" \
		grep -qx 'Delegate=cpu cpuset io memory pids' /etc/systemd/system/user@.service.d/rootless-setup.conf
	systemctl daemon-reload
	systemctl restart "user@$UID_.service"
	st=$(asu systemctl --user is-system-running --wait 2>&1)
	diag "delegated controllers after the fix: $(cat /sys/fs/cgroup/user.slice/user-$UID_.slice/user@$UID_.service/cgroup.controllers)"
	rep=$(asu "$RS" check --format json --rule cgroup.delegation 2>/dev/null)
	checko "$(jq -c '.results[]' <<<"$rep")" "check: cgroup.delegation passes after fix and a new user manager ($st)" \
		[ "$(rule_status "$rep" cgroup.delegation)" = pass ]
}

busybox_image() {
	local d=/tmp/rs-lab-bb
	rm -rf "$d" && mkdir -p "$d/rootfs/bin" "$d/rootfs/proc" "$d/rootfs/sys" "$d/rootfs/dev" "$d/rootfs/tmp"
	cp /bin/busybox "$d/rootfs/bin/busybox"
	ln -s busybox "$d/rootfs/bin/sh"
	chown -R "$U:" "$d"
	asu sh -c "tar -C $d/rootfs -c . | podman import - localhost/busybox:lab" >/dev/null 2>&1
}

scenario_podman() {
	diag "podman under pure v2, installed by root for the user"
	local out rep
	rep=$(asu "$RS" --engine podman check --format json 2>/dev/null)
	verdicts "$rep"
	out=$("$RS" --user "$U" --engine podman install 2>&1)
	checko "$out" "install --engine podman (root for the user) succeeds" [ $? -eq 0 ]
	local dropin=/home/$U/.config/containers/containers.conf.d/50-rootless-setup.conf
	check "the containers.conf drop-in is written for the user (containers.conf left alone)" \
		sh -c "[ -f '$dropin' ] && [ ! -e /home/$U/.config/containers/containers.conf ]"
	check "install's record is root's" [ -f /var/lib/rootless-setup/users/$UID_/podman.json ]
	check "a local busybox image is imported (no registry)" busybox_image
	out=$(asu podman run --rm localhost/busybox:lab /bin/busybox echo hello-from-podman 2>&1)
	outcheck "$out" "a plain podman run works" grep -qx hello-from-podman <<<"$out"
	podman_truth "${1:-v2}" "$rep"
	out=$(asu podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupsVersion}} {{.Host.CgroupManager}}' 2>&1)
	check "podman uses crun, cgroup v2, the systemd manager ($out)" [ "$out" = "crun v2 systemd" ]
	out=$(asu podman run --rm --memory 64m --pids-limit 50 localhost/busybox:lab \
		/bin/busybox cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>&1)
	outcheck "$out" "limits apply in the delegated cgroup (memory.max, pids.max)" \
		[ "$(echo $out)" = "67108864 50" ]
	out=$("$RS" --user "$U" --engine podman uninstall 2>&1)
	checko "$out" "uninstall --engine podman succeeds" [ $? -eq 0 ]
	check "uninstall removed the drop-in and the record" \
		absent "$dropin" /var/lib/rootless-setup/users/$UID_/podman.json
}

# containerd_run_image REPORT CLIENT: an image saved from podman, imported
# into the user's containerd, run with the client command install printed;
# then the truth table (started, snapshotter, network) against REPORT
containerd_truth() {
	local rep=$1 client=$2 tar=/tmp/rs-lab-bb-oci.tar out ref snap netns net helper launcher
	NS() { asu "$RS" --engine containerd nsenter -- "$@"; }
	rm -f "$tar"
	asu podman save --format oci-archive -o "$tar" localhost/busybox:lab >/dev/null 2>&1
	NS ctr image import --index-name localhost/busybox:lab "$tar" >/dev/null 2>&1
	ref=$(NS ctr image ls -q 2>/dev/null | head -1)
	check "ctr image import of the podman-saved busybox ($ref)" [ -n "$ref" ]
	out=$(asu sh -c "$client $ref rs-lab-c1 /bin/busybox echo hello-from-ctr" 2>&1)
	checko "$out" "the client command install printed runs an image ($client)" \
		grep -qx hello-from-ctr <<<"$out"
	truth containerd started "$(predicts_start "$rep")" "$(grep -qx hello-from-ctr <<<"$out" && echo yes || echo no)"
	snap=$(NS ctr snapshot --snapshotter overlayfs ls 2>/dev/null | tail -n +2 | grep -c .)
	truth containerd snapshotter \
		"$(jq -r '.decisions.snapshotter | if . == "overlayfs" then . else "native" end' <<<"$rep")" \
		"$([ "$snap" -gt 0 ] && echo overlayfs || echo native)"
	# the launch's network namespace against the host's, and the helper the
	# user runs for it
	netns=$(NS readlink /proc/self/ns/net 2>/dev/null)
	net=$(jq -r .decisions.network <<<"$rep")
	# the helper is the launcher's child (the parent of the state dir's
	# child_pid); bookworm's pasta runs as passt.avx2 (pasta is a link to
	# passt, which re-executes its AVX2 build), trixie's as pasta
	launcher=$(ps -o ppid= -p "$(cat "/run/user/$UID_/rootless-setup/containerd/child_pid" 2>/dev/null)" 2>/dev/null | tr -d ' ')
	helper=$([ -n "$launcher" ] && pgrep -P "$launcher" -l 2>/dev/null |
		grep -oE 'pasta|passt|slirp4netns' | head -1 | sed 's/^passt$/pasta/')
	[ -n "$helper" ] || diag "containerd's launch (launcher ${launcher:-?}): no pasta or slirp4netns among its children: $(pgrep -P "${launcher:-0}" -l 2>/dev/null | tr '\n' ' ')"
	truth containerd network "$net" \
		"$(if [ "$netns" = "$(readlink /proc/self/ns/net)" ]; then echo host; else echo "${helper:-unknown}"; fi)"
	rm -f "$tar"
}

scenario_containerd() {
	diag "containerd started by systemctl --user"
	local out rep client unit=rootless-setup-containerd.service sock=$XDG/containerd/containerd.sock
	local st=/home/$U/.local/state/rootless-setup/containerd.json
	rep=$(asu "$RS" --engine containerd check --format json 2>/dev/null)
	verdicts "$rep"
	out=$(asu "$RS" --engine containerd install 2>&1)
	checko "$out" "install --engine containerd (as the user) succeeds" [ $? -eq 0 ]
	client=$(sed -n 's/.*run a container with: \(.*\) IMAGE .*/\1/p' <<<"$out" | head -1)
	check "the unit file is the user's" [ "$(stat -c %U /home/$U/.config/systemd/user/$unit 2>/dev/null)" = "$U" ]
	wait_for 90 [ -S "$sock" ]
	checko "$(asu systemctl --user status --no-pager $unit 2>&1 | head -12)" \
		"install started $unit through systemctl --user" asu systemctl --user is-active --quiet $unit
	local cgu
	cgu=$(asu systemctl --user show -p ControlGroup --value $unit 2>/dev/null)
	diag "$unit cgroup: $cgu: $(find "/sys/fs/cgroup$cgu" -name cgroup.procs -exec cat {} + 2>/dev/null | wc -l) processes"
	check "the unit's processes sit in its own cgroup under user@$UID_.service" \
		sh -c "case '$cgu' in */user@$UID_.service/*) find '/sys/fs/cgroup$cgu' -name cgroup.procs -exec cat {} + | grep -q . ;; *) false ;; esac"
	out=$(asu "$RS" --engine containerd nsenter -- ctr version 2>&1)
	checko "$out" "ctr answers through nsenter --engine containerd" grep -q Server: <<<"$out"
	local b=/tmp/rs-lab-bundle
	rm -rf "$b" && mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys" "$b/rootfs/tmp"
	cp /bin/busybox "$b/rootfs/bin/busybox"
	chown -R "$U:" "$b"
	asu "$RS" --engine containerd nsenter -- sh -c "cd $b && runc spec --rootless" >/dev/null 2>&1
	asu sh -c "jq '.process.terminal = false | .process.args = [\"/bin/busybox\", \"echo\", \"hello-from-ctr\"] | .root.path = \"$b/rootfs\"' $b/config.json > $b/c.json && mv $b/c.json $b/config.json"
	out=$(asu "$RS" --engine containerd nsenter -- ctr run --rm --config $b/config.json bb0 2>&1)
	diag "ctr run with containerd's default cgroup: $(grep -qx hello-from-ctr <<<"$out" && echo works || tail -1 <<<"$out")"
	out=$(asu "$RS" --engine containerd nsenter -- ctr run --rm --config $b/config.json --cgroup "" bb1 2>&1)
	checko "$out" "a busybox container run by ctr prints its line" grep -qx hello-from-ctr <<<"$out"
	containerd_truth "$rep" "${client:-false}"
	out=$(asu "$RS" --engine containerd uninstall 2>&1)
	checko "$out" "uninstall --engine containerd (as the user) succeeds" [ $? -eq 0 ]
	check "uninstall stopped the unit" not asu systemctl --user is-active --quiet $unit
	check "uninstall removed the unit file, config.toml and the record" \
		absent /home/$U/.config/systemd/user/$unit /home/$U/.config/containerd/config.toml "$st"
	wait_for 10 not pgrep -u $UID_ -x containerd
	check "no containerd left running" not pgrep -u $UID_ -x containerd
}

# root installs for the user (an admin, a package hook): the unit is started
# through the user's manager, with the user's credentials
scenario_containerd_root() {
	diag "containerd installed by root for the user"
	local out unit=rootless-setup-containerd.service sock=$XDG/containerd/containerd.sock pid
	out=$("$RS" --user "$U" --engine containerd install 2>&1)
	checko "$out" "install --engine containerd (root for the user) succeeds" [ $? -eq 0 ]
	diag "$(grep -m1 'systemctl --user enable' <<<"$out")"
	wait_for 90 [ -S "$sock" ]
	checko "$(asu systemctl --user status --no-pager $unit 2>&1 | head -12)" \
		"root's install started $unit in the user's manager" asu systemctl --user is-active --quiet $unit
	pid=$(asu systemctl --user show -p MainPID --value $unit 2>/dev/null)
	check "the unit's main process is the user's ($pid)" \
		[ "$(stat -c %U "/proc/${pid:-0}" 2>/dev/null)" = "$U" ]
	out=$(asu "$RS" --engine containerd nsenter -- ctr version 2>&1)
	checko "$out" "ctr answers (root's install)" grep -q Server: <<<"$out"
	out=$("$RS" --user "$U" --engine containerd uninstall 2>&1)
	checko "$out" "uninstall --engine containerd (root for the user) succeeds" [ $? -eq 0 ]
	check "root's uninstall stopped the unit" not asu systemctl --user is-active --quiet $unit
	check "root's uninstall removed the unit file and root's record" \
		absent /home/$U/.config/systemd/user/$unit /var/lib/rootless-setup/users/$UID_/containerd.json
	wait_for 10 not pgrep -u $UID_ -x containerd
	check "no containerd left running (root's uninstall)" not pgrep -u $UID_ -x containerd
}

# BuildKit (the ext build copied into the image): the user puts buildkitd
# and buildctl in ~/.local/bin; install (as the user, then root for the
# user) starts the unit in the user's manager; a buildctl build of a
# Dockerfile with a RUN step, with the command install printed; the truth
# table (started, snapshotter, network); uninstall --purge --yes leaves the
# home as it was. Then the containerd worker: buildkitd joined to the
# user's containerd launch (Debian 13's containerd 1.7).
BK=/usr/local/lib/rs-lab/ext/buildkit
BKCTX=/tmp/rs-lab-bkctx
home_digest() {
	find /home/$U -xdev \( -type f -printf '%p f %m %U:%G %s ' -exec sh -c 'sha256sum < "$1" | cut -c1-16' _ {} \; \) \
		-o \( -type l -printf '%p l %l\n' \) -o \( -printf '%p %y %m %U:%G\n' \) 2>/dev/null | LC_ALL=C sort
}
# home_same NAME BEFORE: the home's digest is BEFORE (the difference shown)
home_same() {
	local now
	now=$(home_digest)
	if [ "$2" = "$now" ]; then ok "$1"; else not_ok "$1"; diff <(echo "$2") <(echo "$now") | head -12 | sed 's/^/# /'; fi
}
bk_ctx() {
	rm -rf "$BKCTX" && mkdir -p "$BKCTX/ctx" "$BKCTX/out" && cp /bin/busybox "$BKCTX/ctx/busybox"
	echo hello-from-ext > "$BKCTX/ctx/hello.txt"
	printf '%s\n' 'FROM scratch' 'COPY busybox /bin/busybox' 'COPY hello.txt /hello.txt' \
		'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /out && /bin/busybox id > /out/id.txt && /bin/busybox cat /hello.txt >> /out/id.txt && /bin/busybox readlink /proc/self/ns/net > /out/netns"]' \
		> "$BKCTX/ctx/Dockerfile"
	chown -R "$U:" "$BKCTX"
}
# bk_build LABEL OUTPUT: the client command in OUTPUT (install's), run as the
# user with buildctl from ~/.local/bin; the build's /out in $BKCTX/out/LABEL
bk_build() {
	local client
	client=$(sed -n 's/.*run a build with: \(.*\) --frontend .*/\1/p' <<<"$2" | head -1)
	client=${client/buildctl//home/$U/.local/bin/buildctl}
	[ -n "$client" ] || { diag "install printed no build command"; return 1; }
	asu sh -c "$client --frontend dockerfile.v0 --local context=$BKCTX/ctx --local dockerfile=$BKCTX/ctx --output type=local,dest=$BKCTX/out/$1" >/tmp/rs-lab-bk-$1.log 2>&1
	grep -qx hello-from-ext "$BKCTX/out/$1/out/id.txt" 2>/dev/null
}
bk_worker() { asu /home/$U/.local/bin/buildctl --addr "unix://$XDG/buildkit/buildkitd.sock" debug workers -v 2>/dev/null | sed -n "s/.*worker.$1:[[:space:]]*//p" | head -1; }
bk_gone() { wait_for 15 not pgrep -u $UID_ -x buildkitd; }
bk_ran() { grep -qx hello-from-ext "$BKCTX/out/$1/out/id.txt" 2>/dev/null && echo yes || echo no; }

scenario_buildkit() {
	if [ ! -x "$BK/buildkitd" ]; then
		skip "BuildKit in the lab" "the image was built without ../shared/ext (no BuildKit build to copy in)"
		return 0
	fi
	diag "BuildKit $("$BK/buildkitd" --version 2>/dev/null | awk '{print $3}') from ext, installed by the user, started by systemctl --user"
	local out rep before unit=rootless-setup-buildkit.service sock=$XDG/buildkit/buildkitd.sock netns net launcher helper pid cver
	asu sh -c "mkdir -p ~/.local/bin && cp $BK/buildkitd $BK/buildctl ~/.local/bin/"
	bk_ctx
	before=$(home_digest)
	rep=$(asu "$RS" --engine buildkit check --format json 2>/dev/null)
	verdicts "$rep"
	check "check finds buildkitd in ~/.local/bin" grep -q "/home/$U/.local/bin/buildkitd" <<<"$(rule_line "$rep" engine.programs)"
	out=$(asu "$RS" --engine buildkit install 2>&1)
	checko "$out" "install --engine buildkit (as the user) succeeds" [ $? -eq 0 ]
	wait_for 120 [ -S "$sock" ]
	checko "$(asu systemctl --user status --no-pager $unit 2>&1 | head -12)" \
		"install started $unit through systemctl --user" asu systemctl --user is-active --quiet $unit
	bk_build user "$out"
	checko "$(tail -5 /tmp/rs-lab-bk-user.log)" "buildctl build with the command install printed: the RUN step ran" \
		[ "$(bk_ran user)" = yes ]
	truth buildkit started "$(predicts_start "$rep")" "$(bk_ran user)"
	truth buildkit snapshotter "$(jq -r .decisions.snapshotter <<<"$rep")" "$(bk_worker snapshotter)"
	net=$(jq -r .decisions.network <<<"$rep")
	netns=$(cat "$BKCTX/out/user/out/netns" 2>/dev/null)
	launcher=$(ps -o ppid= -p "$(cat "$XDG/rootless-setup/buildkit/child_pid" 2>/dev/null)" 2>/dev/null | tr -d ' ')
	helper=$([ -n "$launcher" ] && pgrep -P "$launcher" -l 2>/dev/null |
		grep -oE 'pasta|passt|slirp4netns' | head -1 | sed 's/^passt$/pasta/')
	truth buildkit network "$net" \
		"$(if [ "$netns" = "$(readlink /proc/self/ns/net)" ]; then echo host; else echo "${helper:-unknown}"; fi)"
	out=$(asu "$RS" --engine buildkit uninstall --purge --yes 2>&1)
	checko "$out" "uninstall --engine buildkit --purge --yes (as the user) succeeds" [ $? -eq 0 ]
	check "uninstall stopped the unit" not asu systemctl --user is-active --quiet $unit
	check "no buildkitd left running" bk_gone
	home_same "the home as before install" "$before"

	# root installs for the user: the unit in the user's manager
	out=$("$RS" --user "$U" --engine buildkit install 2>&1)
	checko "$out" "install --engine buildkit (root for the user) succeeds" [ $? -eq 0 ]
	wait_for 120 [ -S "$sock" ]
	pid=$(asu systemctl --user show -p MainPID --value $unit 2>/dev/null)
	check "root's install started $unit in the user's manager, as the user ($pid)" \
		[ "$(stat -c %U "/proc/${pid:-0}" 2>/dev/null)" = "$U" ]
	bk_build root "$out"
	truth buildkit root/started yes "$(bk_ran root)"
	out=$("$RS" --user "$U" --engine buildkit uninstall --purge --yes 2>&1)
	checko "$out" "uninstall --engine buildkit (root for the user) succeeds" [ $? -eq 0 ]
	check "no buildkitd left running (root's uninstall)" bk_gone
	home_same "the home as before root's install" "$before"

	# the containerd worker; the data containerd kept from the scenarios
	# before (uninstalled without --purge) goes first, so that the home
	# can be compared after this purge
	asu "$RS" --engine containerd uninstall --purge --yes >/dev/null 2>&1
	before=$(home_digest)
	out=$(asu "$RS" --engine containerd install 2>&1)
	checko "$out" "install --engine containerd (for the containerd worker) succeeds" [ $? -eq 0 ]
	wait_for 90 [ -S "$XDG/containerd/containerd.sock" ]
	cver=$(asu "$RS" --engine containerd nsenter -- ctr version 2>/dev/null | awk '/^Server:/ {s = 1} s && /Version:/ {print $2; exit}')
	rep=$(asu "$RS" --engine buildkit check --format json 2>/dev/null)
	out=$(asu "$RS" --engine buildkit install --worker containerd 2>&1)
	checko "$out" "install --engine buildkit --worker containerd succeeds" [ $? -eq 0 ]
	wait_for 120 [ -S "$sock" ]
	checko "$(asu systemctl --user status --no-pager $unit 2>&1 | head -12)" \
		"the buildkit unit runs, bound to containerd's" asu systemctl --user is-active --quiet $unit
	truth buildkit containerd/executor containerd "$(bk_worker executor)"
	bk_build containerd "$out"
	checko "$(tail -5 /tmp/rs-lab-bk-containerd.log)" "the containerd worker (containerd ${cver:-?}) ran the RUN step" \
		[ "$(bk_ran containerd)" = yes ]
	truth buildkit containerd/started "$(predicts_start "$rep")" "$(bk_ran containerd)"
	out=$(asu "$RS" --engine buildkit uninstall --purge --yes 2>&1)
	checko "$out" "uninstall --engine buildkit (containerd worker) succeeds" [ $? -eq 0 ]
	out=$(asu "$RS" --engine containerd uninstall --purge --yes 2>&1)
	checko "$out" "uninstall --engine containerd --purge --yes succeeds" [ $? -eq 0 ]
	check "no buildkitd left running (containerd worker)" bk_gone
	wait_for 10 not pgrep -u $UID_ -x containerd
	home_same "the home as before (containerd and its buildkit worker)" "$before"
	asu rm -rf /home/$U/.local/bin
	rm -rf "$BKCTX" /tmp/rs-lab-bk-*.log
}

# iSulad (the ext build, linked with Debian 12's libraries): placed as an
# administrator would (/opt/isulad, its files 0640 in /etc), the user's
# shell set up for it; check → root's fix (the user's copies of the files,
# the locale) → install (by the user, then by root for it: the unit started
# in the user's manager) → isula load and isula run of ext's busybox image
# with the client command install printed → the guide's verify (isulad and
# the container are the user's) → uninstall --purge, the home as before.
IS=/usr/local/lib/rs-lab/ext/isulad
is_sh() { asu env PATH=/opt/isulad/bin:/usr/local/bin:/usr/bin:/bin LD_LIBRARY_PATH=/opt/isulad/lib "$@"; }
is_gone() { wait_for 15 not pgrep -u $UID_ -x isulad; }
is_owned() { [ -n "$1" ] && [ "$(stat -c %u "/proc/$1" 2>/dev/null)" = "$UID_" ]; }
is_users() { [ -n "$(pgrep -u $UID_ -x isulad)" ] && [ -z "$(pgrep -u 0 -x isulad)" ]; }

# is_round WHO: install by WHO (user or root), run, verify, uninstall
is_round() {
	local who=$1 out rep client pid cg lim ran=no sock=$XDG/isulad/isulad.sock
	local -a AS=(is_sh) INST=("$RS" --engine isulad)
	[ "$who" = root ] && { AS=(); INST=("$RS" --user "$U" --engine isulad); }
	rep=$(is_sh "$RS" --engine isulad check --format json 2>/dev/null)
	out=$("${AS[@]}" "${INST[@]}" install 2>&1)
	checko "$out" "isulad ($who): install succeeds" [ $? -eq 0 ]
	checko "$out" "isulad ($who): the unit runs in the user's manager" \
		asu systemctl --user is-active --quiet rootless-setup-isulad.service
	wait_for 30 test -S "$sock"
	checko "$(asu journalctl --user -u rootless-setup-isulad.service -n 8 --no-pager 2>&1)" \
		"isulad ($who): isulad is up" test -S "$sock"
	client=$(sed -n 's/.*run a container with: \(.*\) IMAGE .*/\1/p' <<<"$out" | head -1)
	out=$(is_sh "$RS" --engine isulad nsenter -- isula load -i $IS/busybox.tar 2>&1)
	checko "$out" "isulad ($who): isula load of ext's busybox image" grep -q success <<<"$out"
	out=$(is_sh sh -c "$client busybox-fz:latest /bin/echo hi-from-isulad" 2>&1)
	checko "$out" "isulad ($who): the client command install printed runs a container that prints its line" \
		[ "$out" = hi-from-isulad ]
	[ "$out" = hi-from-isulad ] && ran=yes
	is_sh "$RS" --engine isulad nsenter -- isula run -d -m 64m busybox-fz:latest /bin/sleep 3173 >/dev/null 2>&1
	sleep 1
	pid=$(pgrep -f '^/bin/sleep 3173$' | head -1)
	check "isulad ($who): the container's process runs as the user" is_owned "$pid"
	check "isulad ($who): isulad runs as the user" is_users
	cg=$(awk -F: '$1 == 0 && $2 == "" {print $3}' "/proc/$pid/cgroup" 2>/dev/null)
	lim=$(cat "/sys/fs/cgroup$cg/memory.max" 2>/dev/null)
	diag "isulad ($who): the container's cgroup $cg"
	truth isulad $who/started "$(predicts_start "$rep")" "$ran"
	truth isulad $who/limits "$([ "$(rule_status "$rep" isulad.cgroups)" = pass ] && echo 67108864 || echo none)" "${lim:-none}"
	out=$("${AS[@]}" "${INST[@]}" uninstall --purge --yes 2>&1)
	checko "$out" "isulad ($who): uninstall --purge --yes succeeds" [ $? -eq 0 ]
	check "isulad ($who): no isulad left running" is_gone
	check "isulad ($who): no process of the container left" wait_for 10 not pgrep -f '^/bin/sleep 3173$'
}

scenario_isulad() {
	local missing out rep before before_fix
	if [ ! -x "$IS/bin/isulad" ]; then
		skip "iSulad in the lab" "the image was built without ../shared/ext (no iSulad build to copy in)"
		return 0
	fi
	missing=$(LD_LIBRARY_PATH=$IS/lib ldd "$IS/bin/isulad" 2>&1 | awk '/not found/ {print $1}' | tr '\n' ' ')
	if [ -n "$missing" ]; then
		skip "iSulad in the lab" "ext's iSulad was built on Debian 12; $(. /etc/os-release; echo "$PRETTY_NAME") lacks ${missing% } (boot LAB_SUITE=bookworm)"
		return 0
	fi
	diag "iSulad from ext, placed in /opt/isulad"
	install -d -m 0755 /opt/isulad /etc/isulad /etc/default/isulad /etc/default/isulad/hooks
	cp -a "$IS/bin" "$IS/lib" /opt/isulad/
	for f in daemon.json daemon_constants.json seccomp_default.json; do install -m 0640 "$IS/etc/isulad/$f" /etc/isulad/; done
	for f in config.json systemcontainer_config.json hooks/default.json; do
		install -m 0640 "$IS/etc/default-isulad/$f" "/etc/default/isulad/$f"
	done
	rep=$(is_sh "$RS" --engine isulad check --format json 2>/dev/null)
	verdicts "$rep"
	check "check finds /opt/isulad/bin/isulad" grep -q /opt/isulad/bin/isulad <<<"$(rule_line "$rep" engine.programs)"
	check "check: cgroup.v2 passes (pure v2)" [ "$(rule_status "$rep" cgroup.v2)" = pass ]
	check "check: isulad.permissions fails (0640 files)" [ "$(rule_status "$rep" isulad.permissions)" = fail ]
	before_fix=$(home_digest)
	out=$("$RS" --user "$U" --engine isulad fix --yes 2>&1)
	checko "$out" "fix --engine isulad (root for the user) succeeds" [ $? -eq 0 ]
	diag "$(is_sh isulad --version 2>&1 | head -1) (its en_US.UTF-8 locale made by fix)"
	rep=$(is_sh "$RS" --engine isulad check --format json 2>/dev/null)
	checko "$(jq -r '.results[] | select(.status == "fail") | "\(.id): \(.message)"' <<<"$rep")" \
		"check --engine isulad after fix: nothing fails" [ "$(jq .summary.fail <<<"$rep")" = 0 ]
	for r in isulad.locale isulad.runtime isulad.cgroups isulad.permissions; do
		check "check after fix: $r passes ($(rule_line "$rep" $r | cut -c1-70))" [ "$(rule_status "$rep" $r)" = pass ]
	done
	before=$(home_digest)
	is_round user
	home_same "isulad (user): the home as before install (fix's copies kept: the user cannot read root's files to compare)" "$before"
	is_round root
	# root's uninstall also removes the copies fix made while they still
	# hold root's files (rootless-setup(8), uninstall): as before fix
	home_same "isulad (root): the home as before fix (its copies removed by root's uninstall)" "$before_fix"
	rm -rf /opt/isulad /etc/isulad /etc/default/isulad
}

# the user's podman pause process keeps a user namespace alive, which would
# hide a sysctl that forbids new ones
podman_reset() {
	asu podman system migrate >/dev/null 2>&1
	pkill -KILL -u $UID_ -x catatonit 2>/dev/null
	wait_for 5 not pgrep -u $UID_ -x catatonit
}

# a unit that does not come up (user namespaces off): root's install --force
# starts it anyway, waits, and names the cause from the unit's journal read
# as the user; diagnose --unit reads the same journal and runs the rule
scenario_diagnose_unit() {
	diag "diagnose: containerd's unit with user namespaces off"
	local out rc j unit=rootless-setup-containerd.service
	out=$("$RS" --user "$U" --engine containerd install --force 2>&1)
	rc=$?
	checko "$out" "install --force with user namespaces off fails: the unit did not come up (exit $rc)" \
		[ "$rc" -ne 0 ]
	checko "$out" "install names the command that shows the unit's journal" \
		grep -qF "journalctl _UID=$UID_ --user-unit=$unit" <<<"$out"
	# the kernel's answer: Debian's kernel.unprivileged_userns_clone = 0
	# refuses with EPERM before user.max_user_namespaces = 0 is counted
	# (ENOSPC); which one the launch met decides the entry and the rule
	local match=launch-userns-enospc rule=userns.max
	if [ "$(sysctl -n kernel.unprivileged_userns_clone 2>/dev/null)" = 0 ]; then
		match=launch-userns-eperm rule=userns.clone
	fi
	checko "$out" "install's diagnosis of the journal names $match and $rule" \
		both "diagnose: $match" "$rule.*fails now" "$out"
	j=$("$RS" --user "$U" --engine containerd diagnose --unit --format json 2>/dev/null)
	rc=$?
	checko "$j" "diagnose --unit (root for the user): the journal, read as the user, and $rule failing now (exit $rc)" \
		jq -e --arg r "$rule" '.input.source == "unit" and .verdict.status == "fails-now" and .verdict.rule == $r' <<<"$j"
	j=$(asu "$RS" --engine containerd diagnose --unit --format json 2>/dev/null)
	checko "$j" "diagnose --unit as the user gives the same verdict" \
		jq -e --arg r "$rule" '.verdict.rule == $r' <<<"$j"
	"$RS" --user "$U" --engine containerd uninstall >/dev/null 2>&1
	check "the failed unit is gone after uninstall" not asu systemctl --user is-active --quiet $unit
}

# scenario 3: user namespaces turned off by sysctl; check fails, fix (root
# for the user) persists and applies the value, check and podman work again
scenario_userns_off() {
	diag "scenario 3: unprivileged user namespaces turned off by sysctl"
	local old_max old_clone='' rep out f
	old_max=$(sysctl -n user.max_user_namespaces)
	podman_reset
	sysctl -qw user.max_user_namespaces=0
	if [ -e /proc/sys/kernel/unprivileged_userns_clone ]; then
		old_clone=$(sysctl -n kernel.unprivileged_userns_clone)
		sysctl -qw kernel.unprivileged_userns_clone=0
	else
		skip "kernel.unprivileged_userns_clone=0" "kernel $(uname -r) has no kernel.unprivileged_userns_clone (a Debian patch that 6.x kernels dropped)"
	fi
	rep=$(asu "$RS" --engine podman check --format json 2>/dev/null)
	check "check (user namespaces off) exits non-zero" [ $? -ne 0 ]
	verdicts "$rep"
	check "check: userns.max fails ($(rule_line "$rep" userns.max | cut -c1-80))" \
		[ "$(rule_status "$rep" userns.max)" = fail ]
	[ -z "$old_clone" ] || check "check: userns.clone fails" [ "$(rule_status "$rep" userns.clone)" = fail ]
	check "check: the live probe (userns.probe) fails ($(rule_line "$rep" userns.probe | cut -c1-80))" \
		[ "$(rule_status "$rep" userns.probe)" = fail ]
	out=$(asu podman run --rm localhost/busybox:lab /bin/busybox echo hello-from-podman 2>&1)
	podman_truth "userns-off" "$rep"
	scenario_diagnose_unit
	out=$("$RS" --user "$U" --engine podman fix --yes 2>&1)
	checko "$out" "fix (root for the user) succeeds" [ $? -eq 0 ]
	f=$(grep -l '^user.max_user_namespaces = ' /etc/sysctl.d/*rootless-setup* 2>/dev/null | head -1)
	check "fix wrote the sysctl.d drop-in (${f:-none})" [ -n "$f" ]
	check "the live user.max_user_namespaces changed ($(sysctl -n user.max_user_namespaces))" \
		[ "$(sysctl -n user.max_user_namespaces)" -gt 0 ]
	[ -z "$old_clone" ] || check "the live kernel.unprivileged_userns_clone is 1" \
		[ "$(sysctl -n kernel.unprivileged_userns_clone)" = 1 ]
	rep=$(asu "$RS" --engine podman check --format json 2>/dev/null)
	verdicts "$rep"
	check "check after fix: the probe passes" [ "$(rule_status "$rep" userns.probe)" = pass ]
	check "check after fix: userns.max passes" [ "$(rule_status "$rep" userns.max)" = pass ]
	out=$(asu podman run --rm localhost/busybox:lab /bin/busybox echo hello-from-podman 2>&1)
	outcheck "$out" "podman run works again after fix" grep -qx hello-from-podman <<<"$out"
	podman_truth "userns-fixed" "$rep"
	# restore: the values of the boot, and no drop-in of ours
	grep -l '^# rootless-setup fix --rule userns' /etc/sysctl.d/* 2>/dev/null | xargs -r rm -f
	sysctl -qw user.max_user_namespaces="$old_max"
	[ -z "$old_clone" ] || sysctl -qw kernel.unprivileged_userns_clone="$old_clone"
}

# scenario 2: SELinux enforcing (the selinux image)
scenario_selinux() {
	diag "scenario 2: SELinux enforcing; the suite runs as $(id -Z 2>/dev/null), labuser's manager as $(ps -o label= -p "$(pgrep -u $UID_ -x systemd | head -1)" 2>/dev/null)"
	local rep
	check "the kernel enforces SELinux" [ "$(cat /sys/fs/selinux/enforce 2>/dev/null)" = 1 ]
	rep=$(asu "$RS" --engine podman check --format json 2>/dev/null)
	check "check: selinux.state reports enforcing ($(rule_line "$rep" selinux.state))" \
		grep -q 'enforcing' <<<"$(rule_line "$rep" selinux.state)"
	check "check: the probe runs under enforcing ($(rule_line "$rep" userns.probe | cut -c1-80))" \
		[ "$(rule_status "$rep" userns.probe)" = pass ]
	rep=$(asu "$RS" --engine kata check --format json 2>/dev/null)
	check "check --engine kata exits non-zero" [ $? -ne 0 ]
	check "check --engine kata: selinux.state fails as the Kata guide says ($(rule_line "$rep" selinux.state))" \
		[ "$(rule_status "$rep" selinux.state)" = fail ]
	verdicts "$rep"
}

scenario_apparmor_knob() {
	if [ -e /proc/sys/kernel/apparmor_restrict_unprivileged_userns ]; then
		diag "kernel.apparmor_restrict_unprivileged_userns exists on this kernel"
	else
		skip "the Ubuntu-only apparmor userns knob" "Debian's kernel has no kernel.apparmor_restrict_unprivileged_userns"
	fi
}

# 4. RootlessKit parity (tests/launch/rk-*.sh, run by the host's
# check-launch too): our versions of RootlessKit's integration tests and the
# newest scripts' flag sets with this Debian's pasta and slirp4netns, as a
# throwaway user of their own; then the integration scenarios against this
# Debian's RootlessKit, the reference (reported, not judged: where it
# differs, the lines say how).
scenario_rk_parity() {
	local d=/usr/local/lib/rs-lab/tests/launch t out sum
	for t in rk-integration rk-scripts; do
		out=$(RS_TEST_USER=rslabrk RS_BIN=$RS timeout 2400 bash "$d/$t.sh" 2>&1)
		sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
		grep -E '^not ok' <<<"$out" | sed 's/^/# /'
		checko "$out" "rk parity, $t: ${sum:-no summary}" grep -qE '^[0-9]+ passed, 0 failed' <<<"$sum"
	done
	if [ -x /usr/bin/rootlesskit ]; then
		out=$(RS_TEST_USER=rslabrk RS_BIN=$RS RS_RK_REFERENCE=/usr/bin/rootlesskit timeout 2400 \
			bash "$d/rk-integration.sh" 2>&1)
		grep -E '^# reference|^not ok|# SKIP|passed, ' <<<"$out" | sed 's/^/# reference: /'
	fi
}

main() {
	diag "rs-lab: $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), $("$RS" --version 2>&1 | head -1)${VARIANT:+, variant $VARIANT}$([ "$SMOKE" = 1 ] && echo ", smoke: scenario 1 only")"
	# qemu's user network (restrict=on): a default route for pasta/slirp4netns
	ip link set eth0 up 2>/dev/null && ip addr add 10.0.2.15/24 dev eth0 2>/dev/null &&
		ip route add default via 10.0.2.2 2>/dev/null
	scenario_systemd_v2
	local t_ready
	t_ready=$(cut -d' ' -f1 /proc/uptime)
	[ "$VARIANT" = selinux ] && scenario_selinux
	scenario_podman "${VARIANT:-v2}"
	scenario_delegation_fix
	scenario_containerd
	if [ "$SMOKE" != 1 ]; then
		scenario_containerd_root
		scenario_buildkit
		scenario_isulad
		scenario_userns_off
		scenario_apparmor_knob
		scenario_rk_parity
	fi
	local t_end
	t_end=$(cut -d' ' -f1 /proc/uptime)
	[ "$T_TODO" -eq 0 ] || diag "$T_TODO TODO tests: known gaps the lab found (see their lines)"
	diag "lab-time boot_to_suite_s=$T_START user_manager_ready_s=$t_ready suite_s=$(awk -v a="$T_START" -v b="$t_end" 'BEGIN{printf "%.1f", b-a}')"
	done_testing
}

# the TAP goes to the console as it is written (a run cut short by a timeout
# still shows how far it got), then whole to the second disk
echo "=== rs-lab tap begin ===" >/dev/ttyS0 2>/dev/null
main 2>&1 | tee "$OUT" >/dev/ttyS0 2>/dev/null
echo "=== rs-lab tap end ===" >/dev/ttyS0 2>/dev/null
if [ -b /dev/vdb ]; then
	cat "$OUT" >/dev/vdb && sync
fi
systemctl poweroff --no-block
