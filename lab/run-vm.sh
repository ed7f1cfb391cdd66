#!/bin/bash
# Boot the lab image with qemu (KVM when /dev/kvm opens, else software
# emulation), let the guest's rs-lab-suite.service run the suite and power
# off, then print the TAP it left on the second disk. `make check-vm` runs it.
# qemu is always killed on exit; every file stays under build/lab/.
#
#   bash lab/run-vm.sh [SUITE]            SUITE: trixie (default) or bookworm
#
# Environment: RS_LAB_TIMEOUT (seconds; a full boot 3600 under emulation, 900
# with KVM; the smoke run 900 and 300), RS_LAB_MEM (MiB, default 2048), RS_LAB_ACCEL (kvm or tcg: force one),
# RS_LAB_VARIANT (selinux: that image, booted enforcing), RS_LAB_SMOKE=1
# (the guest runs scenario 1 only; rs_lab.smoke=1 on the kernel command line).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
SUITE=${1:-trixie}
VARIANT=${RS_LAB_VARIANT:-}
NAME=$SUITE${VARIANT:+-$VARIANT}
DIR=$TOP/build/lab/$NAME
RUN=$TOP/build/lab/run-$NAME
QEMU=qemu-system-x86_64

say() { echo "lab: $*" >&2; }
die() { say "$*"; exit 1; }

command -v $QEMU >/dev/null || die "$QEMU is missing (make deps)"
[ -f "$DIR/image.ext4" ] || die "no image in $DIR (make vm${VARIANT:+ LAB_VARIANT=$VARIANT})"
# the guest suite reads its options from the kernel command line
APPEND="root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.firstboot=off systemd.unified_cgroup_hierarchy=1 panic=-1"
case $VARIANT in
'') ;;
selinux) APPEND="$APPEND security=selinux selinux=1 enforcing=1 rs_lab.variant=selinux" ;;
*) die "unknown variant '$VARIANT' (selinux)" ;;
esac
[ "${RS_LAB_SMOKE:-0}" = 1 ] && APPEND="$APPEND rs_lab.smoke=1"

# qemu 7.2 under a nested KVM whose host hides IA32_ARCH_CAPABILITIES aborts
# setting MSR 0x10a with -cpu host or max: ask for the host CPU without it
KVM_CPU=host,-arch-capabilities
accel=${RS_LAB_ACCEL:-}
if [ -z "$accel" ]; then
	# /dev/kvm may exist without working (no nested virtualisation): a
	# stopped qemu that is still alive after 2 s (timeout's 124) has KVM
	accel=tcg
	if [ -c /dev/kvm ]; then
		timeout 2 $QEMU -accel kvm -machine q35 -cpu "$KVM_CPU" -nodefaults -display none -S \
			-monitor none </dev/null >/dev/null 2>&1
		[ $? = 124 ] && accel=kvm
	fi
fi
# A full boot under emulation runs every scenario, the parity suites and a
# reference run against the guest's RootlessKit: Debian 13's took 17 min on
# an idle 2-core VM; Debian 12's (with iSulad) passed 40 min on a loaded one
# and was cut off inside the parity suite. 900 s is enough for the smoke.
if [ "${RS_LAB_SMOKE:-0}" = 1 ]; then
	tcg_timeout=${RS_LAB_TIMEOUT:-900} kvm_timeout=${RS_LAB_TIMEOUT:-300}
else
	tcg_timeout=${RS_LAB_TIMEOUT:-3600} kvm_timeout=${RS_LAB_TIMEOUT:-900}
fi
if [ "$accel" = kvm ]; then
	timeout=$kvm_timeout; cpu=$KVM_CPU
else
	timeout=$tcg_timeout; cpu=max
fi

rm -rf "$RUN" && mkdir -p "$RUN"
LOG=$RUN/console.log
QPID=
cleanup() {
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		say "stopping qemu (pid $QPID)"
		kill -TERM "$QPID" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || break; sleep 0.5; done
		kill -KILL "$QPID" 2>/dev/null
		wait "$QPID" 2>/dev/null
	fi
	QPID=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# boot ACCEL CPU TIMEOUT: run qemu until it powers off or TIMEOUT; returns 2
# when KVM fails on this host (a nested KVM can accept the CPU model and then
# stop the guest with "KVM internal error" on an instruction it lacks)
boot() {
	local accel=$1 cpu=$2 timeout=$3 deadline
	truncate -s 0 "$RUN/out.img" && truncate -s 8M "$RUN/out.img"
	say "booting $NAME with $accel (timeout ${timeout}s), console: $LOG"
	# -snapshot: the image stays pristine; its scratch file goes to TMPDIR=$RUN.
	# It covers every drive: the TAP disk needs snapshot=off, or the guest's
	# writes land in the scratch file and only the console copy is left
	TMPDIR=$RUN $QEMU -accel "$accel" -machine q35 -cpu "$cpu" -smp 2 -m "${RS_LAB_MEM:-2048}" \
		-nographic -no-reboot -snapshot \
		-kernel "$DIR/vmlinuz" -initrd "$DIR/initrd.img" \
		-append "$APPEND" \
		-drive "file=$DIR/image.ext4,if=virtio,format=raw" \
		-drive "file=$RUN/out.img,if=virtio,format=raw,snapshot=off" \
		-nic user,model=virtio-net-pci,restrict=on \
		</dev/null >"$LOG" 2>&1 &
	QPID=$!
	deadline=$(($(date +%s) + timeout))
	local kvm_first_line=$(($(date +%s) + 60))
	while kill -0 "$QPID" 2>/dev/null; do
		# or stop it silently before the kernel prints its first line
		if [ "$accel" = kvm ] && { grep -aq 'KVM internal error' "$LOG" ||
			{ [ "$(date +%s)" -ge "$kvm_first_line" ] && ! grep -aq 'Linux version' "$LOG"; }; }; then
			cleanup
			cp "$LOG" "$RUN/console-kvm.log" # why KVM gave up, for a look later
			return 2
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			say "timeout after ${timeout}s; last console lines:"
			tail -20 "$LOG" | sed 's/^/  | /' >&2
			break
		fi
		sleep 1
	done
	cleanup
	return 0
}

t0=$(date +%s.%N)
if [ "$accel" = kvm ]; then
	boot kvm "$cpu" "$timeout"
	if [ $? = 2 ]; then
		say "KVM cannot run this guest here (KVM internal error, or no kernel line in 60 s): software emulation"
		accel=tcg cpu=max timeout=$tcg_timeout
		t0=$(date +%s.%N)
		boot tcg "$cpu" "$timeout"
	fi
else
	boot tcg "$cpu" "$timeout"
fi
t1=$(date +%s.%N)

tr -d '\0' <"$RUN/out.img" >"$RUN/tap"
if [ ! -s "$RUN/tap" ]; then
	# fall back to the console copy between the markers
	sed -n '/=== rs-lab tap begin ===/,/=== rs-lab tap end ===/p' "$LOG" | tr -d '\r' |
		sed '1d;$d' >"$RUN/tap"
fi
cat "$RUN/tap"
total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
# the guest's uptime when the suite started, from its console line
start=$(tr -d '\r' <"$LOG" | sed -n 's/^=== rs-lab suite start uptime=\([0-9.]*\) ===$/\1/p' | head -1)
echo "boot_and_suite_s $total accel $accel boot_to_suite_s ${start:-none}" >"$RUN/times"
say "qemu ran ${total}s ($accel); TAP in $RUN/tap"
[ -s "$RUN/tap" ] || die "no TAP from the guest (console: $LOG)"
tail -1 "$RUN/tap" | grep -qE '^[0-9]+ passed, 0 failed, [0-9]+ skipped$' ||
	die "the lab suite failed or did not finish"
