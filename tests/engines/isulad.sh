#!/bin/bash
# iSulad, as its rootless guide has it, from ../shared/ext (no archive here
# packages it): placed as an administrator would (/opt/isulad/{bin,lib}, its
# files in /etc/isulad and /etc/default/isulad, 0640 as its RPM makes them),
# then check as the user → root's fix (copies of the files, stale state,
# the locale, the user's cgroups) → install (by root for the user, then by
# the user; with no systemd user manager, install starts the launch itself)
# → `isula load` and `isula run` of
# ext's busybox image with the client command install printed → the guide's
# "verify" (isulad and the container are the user's processes) →
# uninstall --purge, leaving the user's XDG trees as before. Everything the
# suite placed or changed on the host is put back.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/ext.sh"

SKIPNAME="iSulad end to end"
en_need "$SKIPNAME" runc jq xz
ext_need isulad || { done_testing; exit; }
E=$EXT_ISULAD/isulad
# an iSulad of the host's own is never touched
for p in /opt/isulad /etc/isulad /etc/default/isulad /usr/bin/isulad /usr/local/bin/isulad; do
	[ -e "$p" ] && { skip "$SKIPNAME" "'$p' exists: this host has an iSulad of its own"; done_testing; exit; }
done
en_start "$SKIPNAME"

# ---- iSulad placed as an administrator would, and taken away after ----
GEN_SAVE=$W/locale.gen.saved ARCH_SAVE=$W/locale-archive.saved CG_BEFORE=
[ -f /etc/locale.gen ] && cp -p /etc/locale.gen "$GEN_SAVE"
[ -f /usr/lib/locale/locale-archive ] && cp -p /usr/lib/locale/locale-archive "$ARCH_SAVE"
CG_NAME=rootless-isulad-$TU_UID
CG_BEFORE=$(ls -d /sys/fs/cgroup/*/"$CG_NAME" 2>/dev/null)
STALE=()
put_back() {
	local d
	rm -rf /opt/isulad /etc/isulad /etc/default/isulad
	[ -f "$GEN_SAVE" ] && cat "$GEN_SAVE" > /etc/locale.gen
	if [ -f "$ARCH_SAVE" ]; then cp -p "$ARCH_SAVE" /usr/lib/locale/locale-archive
	else rm -f /usr/lib/locale/locale-archive; fi
	for d in /sys/fs/cgroup/*/"$CG_NAME"; do
		[ -d "$d" ] || continue
		grep -qxF "$d" <<<"$CG_BEFORE" && continue
		find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
	for d in "${STALE[@]}"; do rm -rf "$d"; done
}
tu_on_exit put_back
install -d -m 0755 /opt/isulad && cp -a "$E/bin" "$E/lib" /opt/isulad/ && chown -R root:root /opt/isulad
install -d -m 0755 /etc/isulad /etc/default/isulad /etc/default/isulad/hooks
for f in daemon.json daemon_constants.json seccomp_default.json; do
	install -m 0640 "$E/etc/isulad/$f" /etc/isulad/
done
for f in config.json systemcontainer_config.json hooks/default.json; do
	install -m 0640 "$E/etc/default-isulad/$f" "/etc/default/isulad/$f"
done
# a root iSulad's leftovers, as the guide's "delete temporary files" expects
for d in /run/isula /run/isulad; do
	[ -e "$d" ] || { install -d -m 0700 "$d"; STALE+=("$d"); }
done
xz -dc "$EXT_ROOT/busybox-image.docker.tar.xz" > "$W/busybox.tar" && chmod 0644 "$W/busybox.tar"
check "ext's busybox image unpacked" [ -s "$W/busybox.tar" ]
IMG=busybox-fz:latest
# the user's shell, set up for iSulad under /opt (its client needs both)
UPATH=/opt/isulad/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin
U() { tu_run env PATH="$UPATH" LD_LIBRARY_PATH=/opt/isulad/lib "$@"; }
st() { jq -r --arg id "$1" '.results[] | select(.id == $id) | .status' "$2"; }
owned_by_user() { [ -n "$1" ] && [ "$(stat -c %u "/proc/$1" 2>/dev/null)" = "$TU_UID" ]; }
isulad_is_users() { [ -n "$(pgrep -u "$TU_UID" -x isulad)" ] && [ -z "$(pgrep -u 0 -x isulad)" ]; }

# ---- check, then root's fix ----
U "$RS" --engine isulad --format json check > "$W/c0.json" 2>/dev/null
check "check as the user finds /opt/isulad/bin/isulad" [ "$(st engine.programs "$W/c0.json")" = pass ]
check "check: isulad.permissions fails (0640 files)" [ "$(st isulad.permissions "$W/c0.json")" = fail ]
[ ${#STALE[@]} -gt 0 ] && check "check: isulad.stale-state fails" [ "$(st isulad.stale-state "$W/c0.json")" = fail ]
"$RS" --user "$TU_NAME" --engine isulad fix --yes > "$W/fix.out" 2>&1
check "root's fix for the user succeeds" [ $? -eq 0 ]
[ $? -eq 0 ] || sed 's/^/# /' "$W/fix.out" | tail -15
for d in "${STALE[@]}"; do check "fix removed the stale '$d'" [ ! -e "$d" ]; done
check "fix made the user's copies, not a chmod of root's files" sh -c "[ \"\$(stat -c %a /etc/isulad/daemon.json)\" = 640 ] && [ -f '$TU_HOME/.config/isulad/system/etc/isulad/daemon.json' ]"
U "$RS" --engine isulad --format json check > "$W/c1.json" 2>/dev/null
check "check after fix: nothing fails" [ "$(jq '.summary.fail' "$W/c1.json")" = 0 ]
[ "$(jq '.summary.fail' "$W/c1.json")" = 0 ] || jq -r '.results[] | select(.status == "fail") | "# \(.id): \(.message)"' "$W/c1.json"
for r in isulad.locale isulad.runtime isulad.cgroups; do
	check "check after fix: $r passes" [ "$(st $r "$W/c1.json")" = pass ]
done
before=$(en_digest)

# one round: install (by WHO: root or user), the printed launch, a
# container, the guide's verify, uninstall --purge
round() {
	local who=$1 client sock out pid left after rc
	local -a AS=(U) INST=("$RS" --engine isulad)
	[ "$who" = root ] && { AS=(); INST=("$RS" --user "$TU_NAME" --engine isulad); }
	"${AS[@]}" "${INST[@]}" install > "$W/install-$who.out" 2>&1
	rc=$?
	check "$who: install succeeds" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || sed 's/^/# /' "$W/install-$who.out" | tail -10
	client=$(en_client_cmd "$W/install-$who.out")
	check "$who: install started the launch (no systemd user manager)" grep -q 'started (no systemd user manager)' "$W/install-$who.out"
	check "$who: install prints the client command" [ -n "$client" ]
	diag "client: $client"
	check "$who: the launch runs isulad from /opt/isulad/bin by its path, with its libraries" \
		grep -q -- '-- /usr/bin/env ISULAD_TMPDIR=.* PATH=/opt/isulad/bin:.* LD_LIBRARY_PATH=/opt/isulad/lib /opt/isulad/bin/isulad -H ' \
		"$TU_HOME/.config/systemd/user/rootless-setup-isulad.service"
	sock=$TU_XDG/isulad/isulad.sock
	check "$who: isulad is up" [ -S "$sock" ]
	[ -S "$sock" ] || { tail -5 "$TU_XDG/rootless-setup/isulad/launch.log" 2>/dev/null | sed 's/^/# /'; tail -5 "$TU_HOME/.local/share/isulad/logs/isulad.log" 2>/dev/null | sed 's/^/# /'; }
	NS() { U "$RS" --engine isulad nsenter -- "$@"; }
	out=$(NS isula load -i "$W/busybox.tar" 2>&1)
	check "$who: isula load of ext's busybox image" grep -q success <<<"$out"
	out=$(U sh -c "$client $IMG /bin/echo hi-from-isulad" 2>&1)
	check "$who: the client command install printed runs a container that prints its line" [ "$out" = hi-from-isulad ]
	[ "$out" = hi-from-isulad ] || { echo "$out" | tail -3 | sed 's/^/# /'; }
	# the guide's verify: isulad and the container are the user's
	NS isula run -d -m 64m "$IMG" /bin/sleep 3173 > "$W/run-d-$who.out" 2>&1
	sleep 1
	pid=$(pgrep -f '^/bin/sleep 3173$' | head -1)
	check "$who: the container's process runs as the user (uid $TU_UID)" owned_by_user "$pid"
	check "$who: isulad runs as the user" isulad_is_users
	# truth: isulad.cgroups' pass against the limit the container got
	local lim=
	if [ -n "$pid" ]; then
		local cg; cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3} $1 == 0 && $2 == "" {v2=$3} END {if (v2 != "") print v2}' "/proc/$pid/cgroup" | head -1)
		lim=$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" 2>/dev/null || cat "/sys/fs/cgroup$cg/memory.max" 2>/dev/null)
	fi
	en_truth isulad limits "$([ "$(st isulad.cgroups "$W/c1.json")" = pass ] && echo 67108864 || echo none)" "${lim:-none}"
	en_truth isulad started yes "$([ "$out" = hi-from-isulad ] && echo yes || echo no)"
	"${AS[@]}" "${INST[@]}" uninstall --purge --yes > "$W/uninstall-$who.out" 2>&1
	check "$who: uninstall --purge --yes succeeds" [ $? -eq 0 ]
	check "$who: uninstall stopped the running launch" grep -q 'the running launch: stopped' "$W/uninstall-$who.out"
	if [ "$who" = root ]; then
		check "root: uninstall removed the copies fix made" [ ! -e "$TU_HOME/.config/isulad/system" ]
		# the user's round needs them again
		"$RS" --user "$TU_NAME" --engine isulad fix --yes --rule isulad.permissions > /dev/null 2>&1
	else
		check "user: uninstall keeps the copies it cannot compare, saying so" \
			grep -q "only root can read to compare" "$W/uninstall-$who.out"
	fi
	sleep 0.5
	left=$(pgrep -u "$TU_UID" | while read -r p; do tu_dead "$p" || echo "$p"; done)
	check "$who: no process of the user left (isulad, isulad-shim, the container)" [ -z "$left" ]
	[ -z "$left" ] || ps -o pid,args -p "$(echo $left | tr ' ' ,)" | sed 's/^/# /'
	after=$(en_digest)
	check "$who: ~/.config, ~/.local/share, ~/.local/state as before install" [ "$before" = "$after" ]
	[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | head -10 | sed 's/^/# /'
}
round root
round user
done_testing
