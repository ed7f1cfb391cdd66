#!/bin/bash
# Kata after Podman: podman install, then `generate --engine kata` adds its
# own drop-in beside Podman's (install rightly refuses without hardware
# virtualisation), and `podman run --runtime kata` reaches our kata entry:
# kata-runtime is a stub on the user's PATH that logs its arguments and
# execs runc. That proves the configuration, not Kata: no Kata guest runs
# here, and the truth table says so (kvm.virtualization against what
# kata-runtime check reads: the CPU's flags and the kvm modules).
set -u
. "$(dirname "$0")/lib.sh"

en_need "kata after podman" podman runc busybox jq
en_start "kata after podman"
en_rootfs_tar "$W/bb.tar"

before=$(en_digest)
tu_run "$RS" --engine podman install > "$W/podman.out" 2>&1
check "podman install succeeds" [ $? -eq 0 ]
tu_run "$RS" --engine kata --format json check > "$W/kata.json" 2>/dev/null
tu_run "$RS" --engine kata install > "$W/kata-install.out" 2>&1
krc=$?
# what kata-runtime check reads, read here by other means: a CPU flag or
# the vendor module, and the vhost-vsock device
hw=no
grep -qwE 'vmx|svm' /proc/cpuinfo && hw=yes
[ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ] && hw=yes
virt=$(jq -r '.results[] | select(.id == "kvm.virtualization") | .status' "$W/kata.json")
en_truth kata virtualisation "$virt" "$([ $hw = yes ] && [ -c /dev/vhost-vsock ] && tu_run test -r /dev/vhost-vsock -a -w /dev/vhost-vsock && echo pass || echo fail)"
if [ $hw = no ]; then
	check "kvm.virtualization says Kata cannot run on this host" \
		grep -q 'Kata cannot run on this host' <<<"$(jq -r '.results[] | select(.id == "kvm.virtualization") | .message' "$W/kata.json")"
	[ -d /sys/module/kvm_pvm ] && check "and names the paravirtual KVM (kvm_pvm) behind /dev/kvm" \
		grep -q 'kvm_pvm' <<<"$(jq -r '.results[] | select(.id == "kvm.virtualization") | .message' "$W/kata.json")"
fi
if [ "$(jq -r .summary.fail "$W/kata.json")" = 0 ]; then
	check "kata install where no rule fails (rc $krc)" [ $krc -eq 0 ]
else
	check "kata install refuses past the failing rules ($(jq -r '[.results[] | select(.status == "fail") | .id] | join(", ")' "$W/kata.json"))" \
		sh -c "[ $krc -ne 0 ] && grep -q 'refusing to install past failing rules' '$W/kata-install.out'"
fi
tu_run "$RS" --engine kata generate > "$W/kata.out" 2>&1
check "generate --engine kata after podman install succeeds" [ $? -eq 0 ]
check "no 'exists and differs'" sh -c "! grep -q 'exists and differs' '$W/kata.out'"
D="$TU_HOME/.config/containers/containers.conf.d"
check "kata's own drop-in beside podman's" sh -c "[ -f '$D/60-rootless-setup-kata.conf' ] && [ -f '$D/50-rootless-setup.conf' ]"
check "kata is not the default runtime without --default-runtime" sh -c "! grep -q '^runtime' '$D/60-rootless-setup-kata.conf'"

# the stub: logs and execs runc; shown at /usr/local/bin (one of our kata
# entry's paths) only inside a mount namespace of this test, so no other
# process on the host sees a kata-runtime. Podman's pause process is made
# in there too (the first podman command), so podman finds it again.
mkdir -p "$W/bin"
cat > "$W/bin/kata-runtime" <<STUB
#!/bin/sh
echo "\$*" >> "$W/kata.log"
exec runc "\$@"
STUB
chmod 755 "$W/bin/kata-runtime"; : > "$W/kata.log"; chmod 666 "$W/kata.log"
KR() {
	local -a envv
	mapfile -t envv < <(tu_env)
	(cd "$TU_HOME" && exec unshare -m --propagation private sh -c 'mount --bind "$0" /usr/local/bin && exec "$@"' \
		"$W/bin" setpriv --reuid="$TU_UID" --regid="$TU_GID" --init-groups --inh-caps=-all env -i "${envv[@]}" "$@")
}
pkill -KILL -u "$TU_UID" 2>/dev/null
out=$(KR sh -c 'podman import "$0" localhost/bb > /dev/null 2>&1; podman run --rm --runtime kata localhost/bb echo hi' "$W/bb.tar" 2>&1)
check "podman run --runtime kata prints hi" [ "$out" = hi ]
[ "$out" = hi ] || echo "$out" | tail -3 | sed 's/^/# /'
check "through our kata entry (the stub logged its arguments)" grep -q 'create\|run' "$W/kata.log"
# the configuration reached the runtime entry; no Kata guest ran (a stub
# that execs runc is not Kata)
en_truth kata runtime-entry yes "$([ "$out" = hi ] && grep -q . "$W/kata.log" && echo yes || echo no)"
diag "kata: no Kata sandbox ran here (stub runtime); Kata cannot run on hosts without hardware virtualisation"

# the generated kata file is not install's: remove it as the user would
rm -f "$D/60-rootless-setup-kata.conf"
tu_run "$RS" --engine podman uninstall --purge --yes > "$W/un.out" 2>&1
check "podman uninstall --purge --yes succeeds" [ $? -eq 0 ]
pkill -KILL -u "$TU_UID" 2>/dev/null
after=$(en_digest)
# shellcheck disable=SC2088 # a test's name, not a path
check "~/.config, ~/.local/share, ~/.local/state as before" [ "$before" = "$after" ]
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") | head; sed 's/^/# /' "$W/un.out"; } | sed 's/^/# /'
done_testing
