#!/bin/bash
# Issue 23's "Done when": a user on a host without systemd goes from
# nothing (no subordinate ids, no /run/user/UID, no XDG_RUNTIME_DIR: a
# shell after `su`) to a running Podman container and a running containerd
# container using only what check, fix and install print. Root's part is
# what fix tells the user to rerun with sudo; the user's part is the
# commands install's --format json lists under "next", run as printed.
# Only a registry is out of reach here: where a printed pull cannot reach
# one, the image is imported locally under the very name the printed run
# command uses (said in the output), and the run command is still the one
# printed.
set -u
. "$(dirname "$0")/lib.sh"

en_need "the first hour" podman containerd ctr runc busybox jq
en_start "the first hour"
en_oci_busybox "$W/bb-oci.tar"

# from nothing: the throwaway user without its subordinate ids and without
# a runtime dir (tu_setup gives it both; a new account has neither)
for f in /etc/subuid /etc/subgid; do
	while IFS=: read -r _ s c; do
		[ "$f" = /etc/subuid ] && usermod --del-subuids "$s-$((s + c - 1))" "$TU_NAME"
		[ "$f" = /etc/subgid ] && usermod --del-subgids "$s-$((s + c - 1))" "$TU_NAME"
	done < <(grep "^$TU_NAME:" "$f")
done
[ -n "$TU_UID" ] && [ -d "/run/user/$TU_UID" ] && rm -rf "/run/user/${TU_UID:?}"
check "a fresh user: no subordinate ids, no /run/user/UID" \
	sh -c "! grep -q '^$TU_NAME:' /etc/subuid && [ ! -e /run/user/$TU_UID ]"

# the user's shell after `su - USER` where no logind runs: no XDG_RUNTIME_DIR
me() {
	(cd "$TU_HOME" && exec setpriv --reuid="$TU_UID" --regid="$TU_GID" --init-groups --inh-caps=-all \
		env -i HOME="$TU_HOME" USER="$TU_NAME" LOGNAME="$TU_NAME" SHELL=/bin/sh LANG=C.UTF-8 \
		PATH="$W:/usr/local/bin:/usr/bin:/bin" "$@")
}
# the binary as the user finds it: on its PATH ($W), by name

# 1. check: what fails, and what to do
me rootless-setup --engine podman --engine containerd check > "$W/check1" 2>&1
check "check as the new user fails" [ $? -ne 0 ]
check "check: runtime.dir fails and names its fix" grep -q 'fix:  rootless-setup fix --rule runtime.dir' "$W/check1"
check "check: subid.ranges fails and names its fix" grep -q 'fix:  rootless-setup fix --rule subid.ranges' "$W/check1"

# 2. fix as the user: it needs root, and says how
me rootless-setup --engine podman --engine containerd fix --yes > "$W/fix1" 2>&1
check "fix as the user: needs root, rerun with sudo" grep -q 'needs root: rerun with sudo' "$W/fix1"
# ... which the admin does (sudo sets SUDO_USER; the rest of root's
# environment as sudo leaves it)
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SUDO_USER="$TU_NAME" HOME=/root \
	"$RS" --engine podman --engine containerd fix --yes > "$W/fix2" 2>&1
check "sudo fix: applied (rc $?)" grep -q '^summary: [1-9][0-9]* changed, 0 failed' "$W/fix2"
grep -E '^(changed|FAILED)' "$W/fix2" | sed 's/^/# /'
check "sudo fix: /run/user/UID made, the user's, 0700" \
	[ "$(stat -c %U:%a "/run/user/$TU_UID" 2>/dev/null)" = "$TU_NAME:700" ]
me rootless-setup --engine podman --engine containerd check > "$W/check2" 2>&1
check "check after fix: no rule fails (rc $?)" sh -c "! grep -q '^FAIL' '$W/check2'"
grep '^FAIL' "$W/check2" | sed 's/^/# /'

# a printed pull that cannot reach a registry: the image, imported
# locally, takes the name the printed commands use
offline_image() { # ENGINE IMAGE
	case $1 in
	podman) me podman import "$W/bb.tar" "$2" > /dev/null 2>&1 ;;
	containerd)
		me rootless-setup --engine containerd nsenter -- ctr image import "$W/bb-oci.tar" > /dev/null 2>&1
		local ref
		ref=$(me rootless-setup --engine containerd nsenter -- ctr image ls -q 2>/dev/null | grep -v "^$2\$" | head -1)
		me rootless-setup --engine containerd nsenter -- ctr image tag "$ref" "$2" > /dev/null 2>&1 ;;
	esac
}

# 3. install, then exactly the next commands it printed
first_hour() { # ENGINE
	local e=$1 j n i step cmd done_ out img
	j="$W/install-$e.json"
	me rootless-setup --engine "$e" --format json install > "$j" 2> "$W/install-$e.err"
	check "$e: install succeeds (rc $?)" jq -e '.summary.failed == 0' "$j" > /dev/null
	jq -r '.actions[] | select(.failed) | .detail' "$j" 2>/dev/null | sed 's/^/# /'
	n=$(jq '.next | length' "$j" 2>/dev/null || echo 0)
	check "$e: install prints next commands ($n)" [ "$n" -gt 0 ]
	for ((i = 0; i < n; i++)); do
		step=$(jq -r ".next[$i].step" "$j") cmd=$(jq -r ".next[$i].command" "$j")
		done_=$(jq -r ".next[$i].done" "$j")
		echo "# $e next $step$([ "$done_" = true ] && echo " (done)"): $cmd"
		if [ "$done_" = true ]; then
			check "$e: $step: install did it (no systemd here: a detached launch)" \
				grep -q 'started (no systemd user manager)' <<<"$(jq -r '.actions[].detail' "$j")"
			continue
		fi
		img=$(grep -o 'docker\.io/[^ ]*' <<<"$cmd" | head -1)
		case $step in
		pull)
			if out=$(me timeout 60 sh -c "$cmd" 2>&1); then
				check "$e: pull: as printed" true
			else
				echo "# $e: no registry reachable here ($(tail -1 <<<"$out")): $img imported locally"
				offline_image "$e" "$img"
			fi ;;
		run)
			if [ "$e" = podman ] && ! me podman image exists "$img" 2>/dev/null &&
				! me timeout 60 podman pull -q "$img" > /dev/null 2>&1; then
				echo "# $e: no registry reachable here: $img imported locally"
				offline_image "$e" "$img"
			fi
			out=$(me timeout 120 sh -c "$cmd" 2>&1 < /dev/null)
			check "$e: the first container, as printed, runs and says hello" [ "$out" = hello ]
			[ "$out" = hello ] || tail -5 <<<"$out" | sed 's/^/# /' ;;
		*)
			out=$(me timeout 120 sh -c "$cmd" 2>&1 < /dev/null)
			check "$e: $step, as printed (rc $?)" [ $? -eq 0 ] ;;
		esac
	done
	me rootless-setup --engine "$e" uninstall --purge --yes > "$W/uninstall-$e" 2>&1
	check "$e: uninstall --purge --yes (rc $?)" [ $? -eq 0 ]
}
first_hour podman
first_hour containerd
# nothing of the user's keeps running: the launch, containerd, and
# Podman's pause process are all stopped by uninstall
sleep 0.5
left=$(pgrep -u "$TU_UID" | while read -r p; do tu_dead "$p" || echo "$p $(cat /proc/$p/comm 2>/dev/null)"; done)
check "after both uninstalls nothing of the user's runs (${left:-nothing})" [ -z "$left" ]
check "podman's uninstall said it stopped the pause process" grep -q "pause process (pid [0-9]*): stopped" "$W/uninstall-podman"
pkill -KILL -u "$TU_UID" 2>/dev/null
done_testing
