#!/bin/bash
# Podman, as the README says: check → install → a plain `podman run` of a
# local busybox image prints its line (no extra flags, no engine variable)
# → uninstall --purge --yes leaves the user's XDG trees as before. Then
# the same with the user given /dev/net/tun (a user-mode network), and the
# truth table: the report's decisions against what Podman says it used.
set -u
. "$(dirname "$0")/lib.sh"

en_need "podman end to end" podman busybox jq
en_start "podman end to end"
en_rootfs_tar "$W/bb.tar"

# run_once LABEL: one full round; the caller sets up /dev/net/tun
run_once() {
	local label=$1 before after rep out
	before=$(en_digest)
	rep="$W/report-$label.json"
	tu_run "$RS" --engine podman --format json check > "$rep" 2>/dev/null
	check "$label: check reports decisions" jq -e '.decisions.network and .decisions.snapshotter' "$rep"
	tu_run "$RS" --engine podman install > "$W/install-$label.out" 2>&1
	check "$label: install succeeds" [ $? -eq 0 ]
	check "$label: install prints the client command" grep -q 'run a container with: podman run --rm IMAGE' "$W/install-$label.out"
	check "$label: the user's containers.conf is not written (a drop-in is)" \
		sh -c "[ ! -e '$TU_HOME/.config/containers/containers.conf' ] && [ -f '$TU_HOME/.config/containers/containers.conf.d/50-rootless-setup.conf' ]"
	tu_run podman import "$W/bb.tar" localhost/bb > /dev/null 2>&1
	out=$(tu_run podman run --rm localhost/bb echo hi 2>&1)
	check "$label: plain 'podman run --rm localhost/bb echo hi' prints hi" [ "$out" = hi ]
	[ "$out" = hi ] || echo "$out" | tail -3 | sed 's/^/# /'
	# the truth table: what Podman used, against the report
	tu_run podman info --format json > "$W/info-$label.json" 2>/dev/null
	tu_run podman run --name tt localhost/bb true > /dev/null 2>&1
	local netmode driver snap net rt
	netmode=$(tu_run podman inspect --format '{{.HostConfig.NetworkMode}}' tt 2>/dev/null)
	tu_run podman rm tt > /dev/null 2>&1
	driver=$(jq -r '.store.graphDriverName' "$W/info-$label.json")
	snap=$(jq -r '.decisions.snapshotter' "$rep")
	case $snap in overlayfs|fuse-overlayfs) snap=overlay ;; native) snap=vfs ;; esac
	en_truth podman "$label/storage" "$snap" "$driver"
	net=$(jq -r '.decisions.network' "$rep")
	case $netmode in host) ;; slirp4netns*) netmode=slirp4netns ;; pasta*) netmode=pasta ;; esac
	en_truth podman "$label/network" "$net" "$netmode"
	# crun's verdict for this host (check --engine oci) against the runtime
	rt=$(jq -r '.host.ociRuntime.name' "$W/info-$label.json")
	tu_run "$RS" --engine oci --format json check --rule cgroup.v2 > "$W/oci-$label.json" 2>/dev/null
	if jq -r '.results[0].message' "$W/oci-$label.json" | grep -q 'crun refuses'; then
		en_truth podman "$label/runtime" "runc (crun refused)" "$rt$([ "$rt" = runc ] && echo ' (crun refused)')"
	else
		check "$label: a runtime ran the container ($rt)" [ -n "$rt" ]
	fi
	en_truth podman "$label/started" yes "$([ "$out" = hi ] && echo yes || echo no)"
	# the verdict after install follows what install configured: where its
	# drop-in chose a runtime, cgroup.v2 never asks to configure it again
	if grep -q '^runtime = "runc"' "$TU_HOME/.config/containers/containers.conf.d/50-rootless-setup.conf"; then
		tu_run "$RS" --engine podman --format json check --rule cgroup.v2 > "$W/cg-$label.json" 2>/dev/null
		check "$label: after install, cgroup.v2 names the runc install configured" \
			grep -q 'podman runs runc' <<< "$(jq -r '.results[0].message' "$W/cg-$label.json")"
	fi

	tu_run "$RS" --engine podman uninstall --purge --yes > "$W/uninstall-$label.out" 2>&1
	check "$label: uninstall --purge --yes succeeds" [ $? -eq 0 ]
	check "$label: no 'stop a running launch' for podman" sh -c "! grep -q 'stop a running launch' '$W/uninstall-$label.out'"
	after=$(en_digest)
	check "$label: ~/.config, ~/.local/share, ~/.local/state as before install" [ "$before" = "$after" ]
	[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | head -10 | sed 's/^/# /'
	check "$label: the image's files of subordinate ids were removed inside the user's namespace" \
		grep -q 'removed inside its user namespace' "$W/uninstall-$label.out"
	[ "$before" = "$after" ] || sed 's/^/# /' "$W/uninstall-$label.out"
	# podman's pause process (it keeps the user namespace) is stopped
	check "$label: uninstall stopped Podman's pause process" \
		grep -q "pause process (pid [0-9]*): stopped" "$W/uninstall-$label.out"
	pkill -KILL -u "$TU_UID" 2>/dev/null
	sleep 0.3
}

# 1. /dev/net/tun as this host has it (root-only here: the host network;
#    another ACL on it may open it to the user: then a user-mode network)
run_once asis

# 2. the user may open /dev/net/tun: a user-mode network
if command -v setfacl >/dev/null && [ -c /dev/net/tun ] && command -v slirp4netns >/dev/null; then
	setfacl -m "u:$TU_UID:rw" /dev/net/tun
	tu_on_exit setfacl -x "u:$TU_UID" /dev/net/tun
	run_once tun
	setfacl -x "u:$TU_UID" /dev/net/tun
else
	skip "podman with a user-mode network" "no setfacl, /dev/net/tun or slirp4netns"
fi
done_testing
