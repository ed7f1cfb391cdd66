#!/bin/bash
# Podman's storage.conf, merged into and out of (install and uninstall as
# root for a user): the keys a record names are taken out of the file it
# names, and that file lies in the user's tree. A record the user wrote
# naming root's TOML file, the user's storage.conf swapped for a symlink or
# a hard link to root's file after install, ~/.config/containers swapped
# for a symlink to root's directory: root's files stay as they were, and
# the tool says why. Decoys are root-owned files in a scratch directory.
#
#   RS_BIN=build/rootless-setup RS_TEST_USER=rsstor bash tests/security/t-storage-merge.sh
# test names say ~/ for the user's home:
# shellcheck disable=SC2088
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

sec_begin "storage.conf merge attacks" "root runs install and uninstall for the user: needs root"
sec_records
sec_scratch merge

# ---- the decoy: root's own containers directory, its storage.conf holding
# exactly the line install adds (what an unmerge would take out) ----
mkdir -p "$D/etc/containers"
printf '[storage]\nrunroot = "/run/containers/storage"\ndriver = "overlay"\ndriver = "vfs"\n' > "$D/etc/containers/storage.conf"
chmod 644 "$D/etc/containers/storage.conf"
DECOYS=("$D/etc")
before=$(digest "${DECOYS[@]}")
unchanged() { [ "$(digest "${DECOYS[@]}")" = "$before" ]; }
CONF=$H/.config/containers/storage.conf
REC=/var/lib/rootless-setup/users/$TU_UID/podman.json

reset_home() {
	rm -rf "${H:?}/.config" "$H/.local" "/var/lib/rootless-setup/users/$TU_UID"
	tu_run mkdir -p .config/containers .local/share
	printf '[storage]\nrunroot = "/run/user/%s/containers"\n' "$TU_UID" | tu_run sh -c "cat > '$CONF'"
}

# a record of the user's own naming root's file, with the keys to take out
plant() {
	printf '{"schema": "rootless-setup/manifest/v1", "engine": "podman", "files": [{"path": "%s", "merged": [{"table": "storage", "key": "driver", "value": "\\"overlay\\"", "header": false}]}]}\n' "$1" |
		tu_run sh -c "mkdir -p .local/state/rootless-setup && cat > .local/state/rootless-setup/podman.json"
}

# ---- 1. a planted record naming root's storage.conf ----
reset_home
plant "$D/etc/containers/storage.conf"
"$RS" --user "$U" --engine podman uninstall > "$O/1" 2>&1
check "planted record: root's storage.conf unchanged" unchanged
check "planted record: refused as outside the user's directories" \
	grep -q "$D/etc/containers/storage.conf: refused: outside the user's directories" "$O/1"
plant "$H/.config/../../..$D/etc/containers/storage.conf"
"$RS" --user "$U" --engine podman uninstall > "$O/1b" 2>&1
check "planted record with '..': root's storage.conf unchanged" unchanged
check "planted record with '..': refused" grep -q "refused: outside the user's directories" "$O/1b"

# ---- 2. after root's install, storage.conf swapped for a symlink to root's ----
reset_home
"$RS" --user "$U" --engine podman install --no-start > "$O/2i" 2>&1
check "root's install merged into the user's file (recorded in root's record)" \
	jq -e --arg p "$CONF" '.files[] | select(.path == $p) | .merged | length > 0' "$REC" > /dev/null
tu_run sh -c "rm -f '$CONF' && ln -s '$D/etc/containers/storage.conf' '$CONF'"
"$RS" --user "$U" --engine podman uninstall > "$O/2" 2>&1
check "symlinked storage.conf: root's file unchanged" unchanged
check "symlinked storage.conf: refused, and said why" \
	grep -q "refused: '$CONF' is a symbolic link" "$O/2"

# ---- 3. after root's install, ~/.config/containers swapped for a symlink ----
reset_home
"$RS" --user "$U" --engine podman install --no-start > "$O/3i" 2>&1
tu_run sh -c "mv .config/containers .config/containers.real && ln -s '$D/etc/containers' .config/containers"
"$RS" --user "$U" --engine podman uninstall > "$O/3" 2>&1
check "symlinked ~/.config/containers: root's file unchanged" unchanged
check "symlinked ~/.config/containers: refused, naming the link" \
	grep -q "refused: '$H/.config/containers' is a symbolic link" "$O/3"
# install never follows it either
"$RS" --user "$U" --engine podman install --no-start > "$O/3b" 2>&1
check "install through a symlinked ~/.config/containers: root's file unchanged" unchanged
check "install through a symlinked ~/.config/containers: refused" grep -q "symbolic link" "$O/3b"
tu_run rm .config/containers

# ---- 4. after root's install, a hard link to root's file in its place ----
# (fs.protected_hardlinks=0 simulated: root makes the link for the user)
reset_home
"$RS" --user "$U" --engine podman install --no-start > "$O/4i" 2>&1
rm -f "$CONF"
ln "$D/etc/containers/storage.conf" "$CONF"
links=$(stat -c %h "$D/etc/containers/storage.conf")
"$RS" --user "$U" --engine podman uninstall > "$O/4" 2>&1
check "hard link: root's file unchanged" unchanged
check "hard link: kept, and said why" grep -q "storage.conf: not a plain file of the user's own" "$O/4"
check "hard link: link count as before" [ "$(stat -c %h "$D/etc/containers/storage.conf")" = "$links" ]
"$RS" --user "$U" --engine podman install --no-start > "$O/4b" 2>&1
check "install: a hard-linked storage.conf is not merged into" unchanged
check "install: and said so" grep -q "hard-linked elsewhere" "$O/4b"
rm -f "$CONF"

# ---- 5. root's record decides, not the user's: the user's record cannot
# widen what root takes out of its file ----
reset_home
"$RS" --user "$U" --engine podman install --no-start > "$O/5i" 2>&1
printf '[storage]\nrunroot = "/x"\ndriver = "overlay"\nmine = "kept"\n' | tu_run sh -c "cat > '$CONF'"
printf '{"schema": "rootless-setup/manifest/v1", "engine": "podman", "files": [{"path": "%s", "merged": [{"table": "storage", "key": "mine", "value": "\\"kept\\"", "header": false}]}]}\n' "$CONF" |
	tu_run sh -c "mkdir -p .local/state/rootless-setup && cat > .local/state/rootless-setup/podman.json"
"$RS" --user "$U" --engine podman uninstall > "$O/5" 2>&1
check "root's record followed: the user's own key stays" grep -qx 'mine = "kept"' "$CONF"
check "root's record followed: our key came out" sh -c "! grep -q '^driver' '$CONF'"
"$RS" --user "$U" --engine podman uninstall > /dev/null 2>&1
done_testing
