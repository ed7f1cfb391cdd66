#!/bin/bash
# uninstall as root for a user (issue items 1, 2): a record the user wrote,
# symlinked parents at every depth, hard links to root's files, and a race
# that swaps a directory for a symlink during --purge. Decoys are root-owned
# trees in a scratch directory; nothing outside it and the throwaway user's
# home is aimed at.
#
#   RS_BIN=build/rootless-setup RS_TEST_USER=rsuninst bash tests/security/t-uninstall.sh
# test names say ~/ for the user's home:
# shellcheck disable=SC2088
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

sec_begin "uninstall attacks" "root runs uninstall for the user: needs root"
# root's records: what this run adds to /var/lib/rootless-setup goes again
sec_records
sec_scratch unin

# ---- decoys: root's files an attack aims at ----
mkdir -p "$D/etc/pam.d" "$D/root-only"
printf 'auth sufficient pam_rootok.so\n' > "$D/etc/pam.d/su"
chmod 644 "$D/etc/pam.d/su"
printf 'secret\n' > "$D/root-only/key"
chmod 700 "$D/root-only"
chmod 600 "$D/root-only/key"
# a /var/lib-like tree with the layout the user's data dir has
mkdir -p "$D/lib/share/containers/storage/overlay/l1/diff" "$D/lib/share/containers/storage/volumes"
echo layer > "$D/lib/share/containers/storage/overlay/l1/diff/f"
echo vol > "$D/lib/share/containers/storage/volumes/v"
DECOYS=("$D/etc" "$D/root-only" "$D/lib")
before=$(digest "${DECOYS[@]}")
unchanged() { [ "$(digest "${DECOYS[@]}")" = "$before" ]; }

# FNV-1a 64 of a file's bytes, as install records it
fnv() {
	python3 -c 'import sys
h = 1469598103934665603
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
print("%016x" % h)' "$1"
}
HASH=$(fnv "$D/etc/pam.d/su")

# plant ENGINE.json as the user: one "path" per argument (path=hash)
plant() {
	local engine=$1 json='' p
	shift
	for p in "$@"; do
		json="$json${json:+,}{\"path\": \"${p%=*}\", \"hash\": \"${p##*=}\"}"
	done
	printf '{"schema": "rootless-setup/manifest/v1", "engine": "%s", "files": [%s]}\n' \
		"$engine" "$json" |
		tu_run sh -c "mkdir -p .local/state/rootless-setup && cat > .local/state/rootless-setup/$engine.json"
}
reset_home() {
	rm -rf "${H:?}/.config" "$H/.local"
	tu_run mkdir -p .config .local/share
}

# ---- 1. a planted record naming root's files ----
reset_home
DOTDOT="$H/.config/../../..$D/etc/pam.d/su"
plant podman "$D/etc/pam.d/su=$HASH" "$DOTDOT=$HASH" "$D/root-only/key=0000000000000000" \
	"$D/root-only/absent=0000000000000000"
"$RS" --user "$U" --engine podman uninstall > "$O/1a" 2>&1
check "planted record, --user: root's file left alone" unchanged
check "planted record, --user: refused as outside the user's directories" \
	grep -q "$D/etc/pam.d/su: refused: outside the user's directories" "$O/1a"
check "planted record: a '..' path is refused as outside" \
	grep -qF "$DOTDOT: refused: outside" "$O/1a"
check "planted record: no 'changed since install' for a root-only file" \
	sh -c "! grep -q 'changed since install' '$O/1a'"
check "planted record: a root-only file that exists reads as one that does not" \
	[ "$(grep -c "root-only/key: refused: outside the user's directories" "$O/1a")" = 1 -a \
	  "$(grep -c "root-only/absent: refused: outside the user's directories" "$O/1a")" = 1 ]
plant containerd "$D/etc/pam.d/su=$HASH"
SUDO_USER=$U "$RS" --engine containerd uninstall > "$O/1b" 2>&1
check "planted record, SUDO_USER: root's file left alone" unchanged
check "planted record, SUDO_USER: refused" grep -q "$D/etc/pam.d/su: refused: outside" "$O/1b"
# inside the user's tree by name, in root's by a symlink
reset_home
rmdir "$H/.config"
tu_run ln -s "$D/etc" .config
plant podman "$H/.config/pam.d/su=$HASH"
"$RS" --user "$U" --engine podman uninstall > "$O/1c" 2>&1
check "~/.config -> root's dir: root's file left alone" unchanged
check "~/.config -> root's dir: the symlink is named" \
	grep -q "refused: '$H/.config' is a symbolic link" "$O/1c"
check "~/.config -> root's dir: no 'changed since install'" sh -c "! grep -q 'changed since' '$O/1c'"
rm -f "$H/.config"
# a record the user keeps, reached through a symlink, is not followed
reset_home
mkdir -p "$D/fake-state/rootless-setup"
printf '{"files": [{"path": "%s", "hash": "%s"}]}\n' "$H/.config/x" "$HASH" \
	> "$D/fake-state/rootless-setup/podman.json"
tu_run ln -s "$D/fake-state" .local/state
"$RS" --user "$U" --engine podman uninstall > "$O/1d" 2>&1
check "record behind ~/.local/state -> elsewhere: refused, named" \
	grep -q "refused: '$H/.local/state' is a symbolic link" "$O/1d"
rm -f "$H/.local/state"

# ---- 2. --purge through a symlinked parent, at every depth ----
for depth in .local .local/share .local/share/containers .local/share/containers/storage; do
	reset_home
	target=$D/lib/${depth#.local}
	target=${target%/}
	[ "$depth" = .local ] && target=$D/lib
	tu_run mkdir -p "$(dirname "$depth")"
	rm -rf "${H:?}/$depth"
	tu_run ln -s "$target" "$depth"
	"$RS" --user "$U" --engine podman uninstall --purge --yes > "$O/2" 2>&1
	check "purge, ~/$depth -> decoy: decoy unchanged" unchanged
	check "purge, ~/$depth -> decoy: the symlink is named" \
		grep -q "refused: '$H/$depth' is a symbolic link" "$O/2"
	[ -L "$H/$depth" ] || diag "the symlink ~/$depth is gone"
	rm -f "${H:?}/$depth"
done

# ---- 3. a hard link to root's file in the user's tree ----
reset_home
tu_run mkdir -p .config/containers
links=$(stat -c %h "$D/etc/pam.d/su")
ln "$D/etc/pam.d/su" "$H/.config/containers/su"  # fs.protected_hardlinks=0 simulated
plant podman "$H/.config/containers/su=$HASH"
"$RS" --user "$U" --engine podman uninstall > "$O/3" 2>&1
check "hard link: root's file unchanged" unchanged
check "hard link: kept, and said why" grep -q "containers/su: not a plain file of the user's own" "$O/3"
check "hard link: link count as before plus the planted link" \
	[ "$(stat -c %h "$D/etc/pam.d/su")" = $((links + 1)) ]
# install never writes through one either
# (podman's file is a drop-in: containers.conf.d/50-rootless-setup.conf)
tu_run mkdir -p "$H/.config/containers/containers.conf.d"
ln "$D/etc/pam.d/su" "$H/.config/containers/containers.conf.d/50-rootless-setup.conf"
"$RS" --user "$U" --engine podman install --no-start --force > "$O/3b" 2>&1
check "install: a hard-linked target is not written through" unchanged
check "install: and said so" grep -q "hard-linked elsewhere" "$O/3b"
rm -f "$H/.config/containers/su" "$H/.config/containers/containers.conf.d/50-rootless-setup.conf"
"$RS" --user "$U" --engine podman uninstall > /dev/null 2>&1

# ---- 4. a race: the data dir swapped for a symlink during purge ----
reset_home
tu_run mkdir -p .local/share/containers
tu_run touch .swapping
tu_run sh -c 'cd .local/share && while [ -e ../../.swapping ]; do
	mv containers containers.real 2>/dev/null; ln -s '"$D/lib/share/containers"' containers
	rm -f containers; mv containers.real containers 2>/dev/null; done' > /dev/null 2>&1 &
swapper=$!
refused=0 removed=0
for _ in $(seq 20); do
	tu_run sh -c 'd=.local/share/containers/storage/overlay/a
		mkdir -p $d 2>/dev/null && echo x 2>/dev/null > $d/f; true' 2>/dev/null
	"$RS" --user "$U" --engine podman uninstall --purge --yes > "$O/4" 2>&1
	grep -q "refused: .* is a symbolic link" "$O/4" && refused=$((refused + 1))
	grep -q "^changed .*remove .*the engine's data" "$O/4" && removed=$((removed + 1))
done
rm -f "$H/.swapping"
wait "$swapper" 2>/dev/null
diag "race: $refused purges refused a symlink, $removed removed data"
check "race: 20 purges while ~/.local/share/containers flips to a symlink: decoy unchanged" unchanged

# ---- 5. the legitimate path: install and uninstall as root for the user ----
reset_home
rm -rf "${H:?}/.local/state"
REC=/var/lib/rootless-setup/users/$TU_UID/containerd.json
"$RS" --user "$U" --engine containerd install --no-start --force > "$O/5a" 2>&1
check "root's install for the user: record root-owned, where the user cannot write" \
	[ "$(stat -c %U "$REC" 2>/dev/null)" = root ]
check "root's install: its directory is 0700" \
	[ "$(stat -c %a "$(dirname "$REC")" 2>/dev/null)" = 700 ]
check "root's install: no record in the user's home" [ ! -e "$H/.local/state/rootless-setup/containerd.json" ]
installed=$(jq -r '.files[].path' "$REC" 2>/dev/null)
check "root's install: files recorded" [ -n "$installed" ]
all_there=1
for f in $installed; do [ "$(stat -c %U "$f" 2>/dev/null)" = "$U" ] || all_there=0; done
check "root's install: the files are the user's" [ "$all_there" = 1 ]
echo '# kept' | tu_run sh -c 'cat > .config/mine'
plant containerd "$D/etc/pam.d/su=$HASH"
"$RS" --user "$U" --engine containerd uninstall > "$O/5b" 2>&1
check "root's uninstall exits 0" [ $? -eq 0 ]
gone=1
for f in $installed; do [ ! -e "$f" ] || gone=0; done
check "root's uninstall: every installed file removed" [ "$gone" = 1 ]
check "root's uninstall: the record and its directory removed" [ ! -e "$(dirname "$REC")" ]
check "root's uninstall: the directories install made are gone" [ ! -e "$H/.config/containerd" ]
check "root's uninstall: the user's other files stay" [ -e "$H/.config/mine" ]
check "root's uninstall: nothing outside" unchanged
check "root's uninstall: root's record followed, not the one the user planted" \
	sh -c "! grep -q '$D/etc' '$O/5b'"
check "root's uninstall: the planted record removed as the user" \
	[ ! -e "$H/.local/state/rootless-setup/containerd.json" ]

# ---- 6. Podman's pause process: uninstall stops it as the user, deciding
# on the process, never on pause.pid (a file the user writes) ----
PP=$TU_XDG/libpod/tmp/pause.pid
tu_run mkdir -p "$TU_XDG/libpod/tmp"
# a process of the user's that is not a pause process
tu_run setsid sleep 1000 < /dev/null > /dev/null 2>&1 &
sleep 0.3
victim=$(pgrep -u "$TU_UID" -x sleep | head -1)
echo "$victim" | tu_run sh -c "cat > '$PP'"
"$RS" --user "$U" --engine podman uninstall > "$O/6a" 2>&1
check "pause.pid naming another process of the user's: it still runs" \
	[ -n "$victim" ] && kill -0 "$victim" 2>/dev/null
check "and uninstall says it left it alone" grep -q "not Podman's pause process.*left alone" "$O/6a"
# a process of root's: never signalled
setsid sleep 1000 < /dev/null > /dev/null 2>&1 &
rootp=$!
echo "$rootp" | tu_run sh -c "cat > '$PP'"
"$RS" --user "$U" --engine podman uninstall > "$O/6b" 2>&1
check "pause.pid naming a process of root's: left alone" \
	sh -c "grep -q 'pid $rootp named by pause.pid is not' '$O/6b' && kill -0 $rootp"
kill "$rootp" 2>/dev/null
# a symlink in place of pause.pid: not followed
tu_run rm -f "$PP"; tu_run ln -s /proc/self/stat "$PP"
"$RS" --user "$U" --engine podman uninstall > "$O/6c" 2>&1
check "a symlinked pause.pid: refused (rc $?)" grep -q "pause.pid' is a symbolic link" "$O/6c"
# the real thing: podman's own pause process is stopped
if command -v podman > /dev/null; then
	tu_run rm -f "$PP"
	tu_run podman unshare true > /dev/null 2>&1
	pause=$(cat "$PP" 2>/dev/null)
	if [ -n "$pause" ] && kill -0 "$pause" 2>/dev/null; then
		"$RS" --user "$U" --engine podman uninstall > "$O/6d" 2>&1
		check "podman's pause process ($(cat /proc/$pause/comm 2>/dev/null)): stopped by uninstall" \
			sh -c "grep -q \"pause process (pid $pause): stopped\" '$O/6d'" && tu_dead "$pause"
	else
		skip "podman's pause process stopped" "podman unshare left no pause process here"
	fi
fi
kill "$victim" 2>/dev/null
tu_run rm -rf "$TU_XDG/libpod"
done_testing
