#!/bin/bash
# containerd, as the README says: check → install (as the user: no systemd
# user manager here, so install starts the launch detached, as the unit
# would run it) → `ctr image import` and a container run with exactly the
# client command install printed → uninstall --purge --yes stops the launch
# and leaves the user's XDG trees as before. The truth table: the report's
# decisions against what containerd used.
set -u
. "$(dirname "$0")/lib.sh"

en_need "containerd end to end" containerd ctr runc busybox jq podman
en_start "containerd end to end"
en_oci_busybox "$W/bb-oci.tar" || { skip "containerd end to end" "cannot build an OCI archive"; done_testing; exit; }

before=$(en_digest)
tu_run "$RS" --engine containerd --format json check > "$W/report.json" 2>/dev/null
tu_run "$RS" --engine containerd install > "$W/install.out" 2>&1
check "install succeeds" [ $? -eq 0 ]
launch=$(sed -n 's/.*started (no systemd user manager): \(.*\) (pid [0-9]*, as .*/\1/p' "$W/install.out" | head -1)
client=$(en_client_cmd "$W/install.out")
check "install started the launch (no systemd user manager)" [ -n "$launch" ]
check "install prints the client command" [ -n "$client" ]
echo "# launch: $launch"; echo "# client: $client"
flags=${client#*-- ctr run --rm}
check "nsenter --engine containerd --help shows the same client flags" \
	sh -c "'$RS' nsenter --engine containerd --help | grep -qF -- 'ctr run --rm$flags'"
SOCK="$TU_XDG/containerd/containerd.sock"
check "containerd is up when install returns" [ -S "$SOCK" ]
check "its output is in the state dir's launch.log" [ -s "$TU_XDG/rootless-setup/containerd/launch.log" ]
NS() { tu_run "$RS" --engine containerd nsenter -- "$@"; }
out=$(NS ctr image import "$W/bb-oci.tar" 2>&1)
ref=$(NS ctr image ls -q 2>/dev/null | head -1)
check "ctr image import: an image ($ref)" [ -n "$ref" ]
[ -n "$ref" ] || echo "$out" | tail -3 | sed 's/^/# /'
out=$(tu_run sh -c "$client $ref c1 /bin/echo hi" 2>&1)
check "the client command install printed runs a container that prints hi" [ "$out" = hi ]
[ "$out" = hi ] || echo "$out" | tail -3 | sed 's/^/# /'
# truth: the snapshotter containerd used for the image, the network the
# launch has, and whether the container started
snap=$(NS ctr snapshot --snapshotter overlayfs ls 2>/dev/null | tail -n +2 | grep -c .)
used=$([ "$snap" -gt 0 ] && echo overlayfs || echo native)
en_truth containerd snapshotter "$(jq -r '.decisions.snapshotter | if . == "overlayfs" then . else "native" end' "$W/report.json")" "$used"
# /proc/net/dev is the reader's network namespace (/sys is the host's)
netns=$(NS sh -c 'grep -o "^ *tap0:" /proc/net/dev | tr -d " :"')
net=$(jq -r '.decisions.network' "$W/report.json")
en_truth containerd network "$net" "$(case $netns in tap0) echo "$net" ;; *) echo host ;; esac)"
en_truth containerd started yes "$([ "$out" = hi ] && echo yes || echo no)"
plain=$(NS ctr run --rm "$ref" c2 /bin/echo hi 2>&1)
check "and a plain 'ctr run' needs those flags here (cgroups: $(jq -r .decisions.cgroup_manager "$W/report.json"))" \
	sh -c "[ '$(jq -r .decisions.cgroup_manager "$W/report.json")' = none ] && [ '$plain' != hi ] || [ '$plain' = hi ]"

tu_run "$RS" --engine containerd uninstall --purge --yes > "$W/uninstall.out" 2>&1
check "uninstall --purge --yes succeeds" [ $? -eq 0 ]
check "uninstall stopped the running launch" grep -q 'the running launch: stopped' "$W/uninstall.out"
left=$(pgrep -u "$TU_UID" -f containerd | while read -r p; do tu_dead "$p" || echo "$p"; done)
check "no containerd process left" [ -z "$left" ]
after=$(en_digest)
# shellcheck disable=SC2088 # a test's name, not a path
check "~/.config, ~/.local/share, ~/.local/state as before install" [ "$before" = "$after" ]
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") | head -10; sed 's/^/# /' "$W/uninstall.out"; } | sed 's/^/# /'
tu_run "$RS" --engine containerd uninstall > "$W/again.out" 2>&1
check "uninstall with nothing running says nothing of stopping" sh -c "! grep -q 'stop' '$W/again.out'"

# A containerd that does not come up: install's detached start (no user
# manager) reads the launch's log as the user and diagnoses it. The user
# left a file where containerd makes its socket's directory.
[ -n "$TU_XDG" ] && tu_run rm -rf "$TU_XDG/containerd" && tu_run touch "$TU_XDG/containerd"
tu_run "$RS" --engine containerd install > "$W/fail.out" 2>&1
rc=$?
check "a containerd that exits at once: install fails (rc $rc)" [ "$rc" = 1 ]
check "and quotes the launch's log" grep -q "before .* appeared; its log .*launch.log' ends: " "$W/fail.out"
check "and diagnoses the log, read as the user" grep -q "install .*note .*diagnose: " "$W/fail.out"
grep -q "diagnose:" "$W/fail.out" || sed 's/^/# /' "$W/fail.out"
grep "diagnose:" "$W/fail.out" | head -2 | sed 's/^/# /'
tu_run "$RS" --engine containerd uninstall --purge --yes > /dev/null 2>&1
tu_run rm -f "$TU_XDG/containerd"
done_testing
