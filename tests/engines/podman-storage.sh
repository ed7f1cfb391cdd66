#!/bin/bash
# Podman's storage.conf has no drop-in directory: a user's own file gets
# only our missing keys (the driver the check decided), Podman then uses
# that driver and the user's own settings, and uninstall takes out exactly
# what install added: the file is byte for byte what it was. Once as root
# for the user (root's record), once as the user for itself.
set -u
. "$(dirname "$0")/lib.sh"

en_need "podman storage.conf merge" podman jq
en_start "podman storage.conf merge"
[ -d /var/lib/rootless-setup ] || tu_on_exit rmdir /var/lib/rootless-setup
[ -d /var/lib/rootless-setup/users ] || tu_on_exit rmdir /var/lib/rootless-setup/users
tu_on_exit rm -rf "/var/lib/rootless-setup/users/$TU_UID"

CONF=$TU_HOME/.config/containers/storage.conf
RR=$W/runroot
mkdir -p "$RR" && chown "$TU_UID:$TU_GID" "$RR" && chmod 700 "$RR"

# plant: the user's own storage.conf, a comment and a runroot, no driver
plant() {
	tu_run mkdir -p "$TU_HOME/.config/containers"
	printf '# mine: podman state on its own directory\n[storage]\nrunroot = "%s"\n' "$RR" |
		tu_run sh -c "cat > '$CONF'"
	cp "$CONF" "$W/orig.conf"
}

# the driver the check decides, in Podman's words
tu_run "$RS" --engine podman --format json check > "$W/report.json" 2>/dev/null
snap=$(jq -r '.decisions.snapshotter' "$W/report.json")
case $snap in overlayfs|fuse-overlayfs) want=overlay ;; native) want=vfs ;; *) want=$snap ;; esac

# round LABEL CMD...: install and uninstall run by CMD (root for the user, or the user)
round() {
	local label=$1 before after got rec
	shift
	plant
	before=$(en_digest)
	"$@" "$RS" --engine podman install --no-start > "$W/install-$label.out" 2>&1
	check "$label: install succeeds" [ $? -eq 0 ]
	[ $? -eq 0 ] || sed 's/^/# /' "$W/install-$label.out"
	check "$label: install says it kept the user's file and added our keys" \
		grep -q "storage.conf: yours, with our keys: storage.driver" "$W/install-$label.out"
	check "$label: the user's bytes stay, ours follow them" \
		sh -c "head -c $(stat -c %s "$W/orig.conf") '$CONF' | cmp -s - '$W/orig.conf'"
	check "$label: our driver line is in the user's [storage] table" grep -qx "driver = \"$want\"" "$CONF"
	check "$label: the file is still the user's (owner, mode)" \
		[ "$(stat -c '%u %a' "$CONF")" = "$TU_UID 644" ]
	if [ "$label" = root ]; then rec=/var/lib/rootless-setup/users/$TU_UID/podman.json
	else rec=$TU_HOME/.local/state/rootless-setup/podman.json; fi
	check "$label: the record lists the keys added, not a hash of the file" \
		jq -e --arg p "$CONF" --arg v "\"$want\"" '.files[] | select(.path == $p) |
			(.hash == null) and any(.merged[]; .table == "storage" and .key == "driver" and .value == $v)' "$rec" > /dev/null
	got=$(tu_run podman info --format '{{.Store.GraphDriverName}} {{.Store.RunRoot}}' 2>"$W/info-$label.err")
	en_truth podman "$label/storage.conf" "$want $RR" "$got"
	[ -n "$got" ] || sed 's/^/# /' "$W/info-$label.err" | tail -3
	# a second install changes nothing and keeps the record of our keys
	cp "$CONF" "$W/merged.conf"
	"$@" "$RS" --engine podman install --no-start > "$W/install2-$label.out" 2>&1
	check "$label: a second install leaves the merged file as it is" cmp -s "$CONF" "$W/merged.conf"
	check "$label: ... and still records the driver it added" \
		jq -e --arg p "$CONF" '.files[] | select(.path == $p) | any(.merged[]; .key == "driver")' "$rec" > /dev/null
	tu_run podman system migrate > /dev/null 2>&1
	pkill -KILL -u "$TU_UID" 2>/dev/null
	sleep 0.3
	"$@" "$RS" --engine podman uninstall --purge --yes > "$W/uninstall-$label.out" 2>&1
	check "$label: uninstall --purge --yes succeeds" [ $? -eq 0 ]
	check "$label: uninstall names the key it took out" grep -q "our keys taken out: storage.driver" "$W/uninstall-$label.out"
	check "$label: the user's storage.conf is byte for byte as before install" cmp -s "$CONF" "$W/orig.conf"
	after=$(en_digest)
	check "$label: ~/.config, ~/.local/share, ~/.local/state as before install" [ "$before" = "$after" ]
	[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | head -10 | sed 's/^/# /'
	[ "$before" = "$after" ] || sed 's/^/# /' "$W/uninstall-$label.out"
	rm -rf "${RR:?}"/*
}

as_root() { "$1" --user "$TU_NAME" "${@:2}"; }
round root as_root
round user tu_run

# a key the user changed after install is theirs: uninstall keeps it, says so
plant
tu_run "$RS" --engine podman install --no-start > "$W/install-c.out" 2>&1
tu_run sed -i "s/^driver = .*/driver = \"vfs\" # mine now/" "$CONF"
cp "$CONF" "$W/changed.conf"
tu_run "$RS" --engine podman uninstall --purge --yes > "$W/uninstall-c.out" 2>&1
check "changed driver: uninstall keeps it and says so" \
	grep -q "changed since install, kept: storage.driver" "$W/uninstall-c.out"
check "changed driver: the file is left as the user has it" cmp -s "$CONF" "$W/changed.conf"

# a file this reader cannot follow is left alone, with a one-line note
printf '[storage\nrunroot = "x"\n' | tu_run sh -c "cat > '$CONF'"
cp "$CONF" "$W/bad.conf"
tu_run "$RS" --engine podman install --no-start > "$W/install-bad.out" 2>&1
check "unreadable storage.conf: install says so" grep -q "not TOML this tool can follow (line 1: an unterminated table header): left alone" "$W/install-bad.out"
check "unreadable storage.conf: never rewritten" cmp -s "$CONF" "$W/bad.conf"
tu_run "$RS" --engine podman uninstall > /dev/null 2>&1
done_testing
