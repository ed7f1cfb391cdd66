#!/bin/bash
# Attacks on the fixers (issue items 3, 6, 7): isulad.permissions must give
# the user copies made as the user (no group isula, root's files untouched,
# never through a symlink the user planted); isulad.stale-state must leave a
# directory a process uses, or /var/run/lxc where LXC is installed; the
# --root edit of etc/group must keep every other byte and refuse what it
# cannot read. Fixture roots under a mktemp dir; the throwaway user is real
# (the copies are written by a child with its uid).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"
REF="$HERE/../fixtures/ref"

if [ "$(id -u)" != 0 ]; then
	skip "fixer attacks" "needs root (the fixers act for another user)"
	done_testing
	exit 0
fi
tu_setup >/dev/null 2>&1 || { not_ok "tu_setup"; done_testing; exit 1; }
T=$(mktemp -d /tmp/rs-tfix.XXXXXX)
chmod 0755 "$T"
HOLDERS=()
tu_on_exit rm -rf "$T"
tu_on_exit kill_holders
kill_holders() { local p; for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; HOLDERS=(); }
U=$TU_NAME

mkroot() { # DIR ID: a fixture host whose user U has the throwaway user's ids and a home inside
	mkdir -p "$1/etc" "$1/proc/sys/kernel" "$1/home/$U"
	printf 'ID=%s\nVERSION_ID="40"\n' "$2" > "$1/etc/os-release"
	echo 6.8.0 > "$1/proc/sys/kernel/osrelease"
	printf 'root:x:0:0::/root:/bin/sh\n%s:x:%s:%s::/home/%s:/bin/sh\n' "$U" "$TU_UID" "$TU_GID" "$U" > "$1/etc/passwd"
	printf 'root:x:0:\n%s:x:%s:\n' "$U" "$TU_GID" > "$1/etc/group"
	chmod 0755 "$1" "$1/home"
	chown "$TU_UID:$TU_GID" "$1/home/$U"
}
isulad_files() { # DIR
	mkdir -p "$1/etc/isulad" "$1/etc/default/isulad/hooks"
	cp "$REF/isulad/daemon.json" "$1/etc/isulad/daemon.json"
	cp "$REF/isulad/hooks-default.json" "$1/etc/default/isulad/hooks/default.json"
	printf '{\n    "ociVersion": "1.0.1"\n}\n' > "$1/etc/default/isulad/config.json"
	chmod 0600 "$1/etc/isulad/daemon.json" "$1/etc/default/isulad/hooks/default.json" "$1/etc/default/isulad/config.json"
	chmod 0700 "$1/etc/isulad"
}
rs() { local r=$1; shift; "$RS_BIN" --root "$r" --user "$U" "$@"; }
# withproc DIR ARGS...: the tool with a private procfs on DIR/proc, standing
# for the host's live /proc (the same processes, in a mount namespace of its own)
withproc() { local r=$1; shift; unshare -m --propagation private sh -c 'mount -t proc proc "$1/proc" && shift && exec "$@"' sh "$r" "$RS_BIN" --root "$r" --user "$U" "$@"; }

# ---- 1. isulad.permissions -------------------------------------------------
R="$T/iso"; mkroot "$R" openEuler; isulad_files "$R"
C="$R/home/$U/.config/isulad/system"
ids_before=$(id -G "$U")
etc_before=$(digest "$R/etc")
rs "$R" --engine isulad fix --yes --rule isulad.permissions > "$T/p1" 2>&1
check "permissions: fix exits 0" [ $? -eq 0 ]
check "permissions: the user is in no new group (live id -G)" [ "$ids_before" = "$(id -G "$U")" ]
not_in_group() { ! grep -q '^isula:' "$R/etc/group"; }
check "permissions: no group isula in the fixture's etc/group" not_in_group
check "permissions: /etc (isulad files' owner, group, mode, bytes; etc/group) unchanged" [ "$etc_before" = "$(digest "$R/etc")" ]
for f in etc/isulad/daemon.json etc/default/isulad/hooks/default.json etc/default/isulad/config.json; do
	check "permissions: copy of /$f exists, owned by the user, 0600" [ "$(stat -c %u:%a "$C/$f" 2>/dev/null)" = "$TU_UID:600" ]
	check "permissions: copy of /$f is byte-identical" cmp -s "$C/$f" "$R/$f"
done
check "permissions: the user reads its copy" tu_run cat "$C/etc/isulad/daemon.json" > /dev/null
rs "$R" --engine isulad check --rule isulad.permissions --format json > "$T/p1.json"
check "permissions: the rule passes through the copies" [ "$(jq -r '.results[0].status' "$T/p1.json")" = pass ]

# ~/.config a symlink to a root-owned decoy: refused, decoy untouched
mkdir -p "$T/decoy1/isulad"; echo keep > "$T/decoy1/isulad/file"
R="$T/iso-link"; mkroot "$R" openEuler; isulad_files "$R"
tu_run ln -s "$T/decoy1" "$R/home/$U/.config"
d_before=$(digest "$T/decoy1"); etc_before=$(digest "$R/etc")
rs "$R" --engine isulad fix --yes --rule isulad.permissions > "$T/p2" 2>&1
check "symlinked ~/.config: refused (exit 1)" [ $? -eq 1 ]
check "symlinked ~/.config: the output says why" grep -q "'~/.config' is a symlink: refused" "$T/p2"
check "symlinked ~/.config: the decoy is unchanged" [ "$d_before" = "$(digest "$T/decoy1")" ]
check "symlinked ~/.config: root's files unchanged" [ "$etc_before" = "$(digest "$R/etc")" ]

# a deeper link (~/.config/isulad/system/etc -> decoy), and a link where the
# copy goes (replaced by the rename, never written through)
mkdir -p "$T/decoy2"; echo keep > "$T/decoy2/default.json"
R="$T/iso-deep"; mkroot "$R" openEuler; isulad_files "$R"
tu_run mkdir -p "$R/home/$U/.config/isulad/system"
tu_run ln -s "$T/decoy2" "$R/home/$U/.config/isulad/system/etc"
d_before=$(digest "$T/decoy2")
rs "$R" --engine isulad fix --yes --rule isulad.permissions > "$T/p3" 2>&1
check "symlinked ~/.config/isulad/system/etc: refused (exit 1)" [ $? -eq 1 ]
check "symlinked .../system/etc: named in the output" grep -q "system/etc' is a symlink" "$T/p3"
check "symlinked .../system/etc: the decoy is unchanged" [ "$d_before" = "$(digest "$T/decoy2")" ]
R="$T/iso-file"; mkroot "$R" openEuler; isulad_files "$R"
tu_run mkdir -p "$R/home/$U/.config/isulad/system/etc/default/isulad/hooks"
tu_run ln -s "$T/decoy2/default.json" "$R/home/$U/.config/isulad/system/etc/default/isulad/hooks/default.json"
rs "$R" --engine isulad fix --yes --rule isulad.permissions > "$T/p4" 2>&1
check "a symlink where the copy goes: the decoy is unchanged" [ "$d_before" = "$(digest "$T/decoy2")" ]
check "a symlink where the copy goes: replaced by a plain file of the user's" [ "$(stat -c %F:%u "$R/home/$U/.config/isulad/system/etc/default/isulad/hooks/default.json")" = "regular file:$TU_UID" ]

# a root-owned directory inside the home: root could write there, the user
# cannot; the fixer acts as the user, so it is refused
mkdir -p "$T/iso-root"; R="$T/iso-root"; mkroot "$R" openEuler; isulad_files "$R"
mkdir -p "$R/home/$U/.config"; chmod 0755 "$R/home/$U/.config"
d_before=$(digest "$R/home/$U/.config")
rs "$R" --engine isulad fix --yes --rule isulad.permissions > "$T/p5" 2>&1
check "root-owned ~/.config: the user's own rights apply (exit 1)" [ $? -eq 1 ]
check "root-owned ~/.config: Permission denied named" grep -q "cannot create '~/.config/isulad': Permission denied" "$T/p5"
check "root-owned ~/.config: nothing written in it" [ "$d_before" = "$(digest "$R/home/$U/.config")" ]

# ---- 2. isulad.stale-state -------------------------------------------------
mkstale() { mkroot "$1" openEuler; isulad_files "$1"; mkdir -p "$1/var/run/isulad/x" "$1/var/run/lxc"; echo s > "$1/var/run/lxc/file"; echo s > "$1/var/run/isulad/x/f"; }
R="$T/stale-open"; mkstale "$R"
# shellcheck disable=SC2217 # sleep holds the file open as its stdin (an open file the fixer meets)
sleep 1000 < "$R/var/run/lxc/file" & HOLDERS+=($!); p_open=$!
(cd "$R/var/run/isulad/x" && exec sleep 1000) & HOLDERS+=($!); p_cwd=$!
sleep 0.2
withproc "$R" --engine isulad fix --yes --rule isulad.stale-state > "$T/s1" 2>&1
check "stale: a directory in use is left (exit 1)" [ $? -eq 1 ]
check "stale: /var/run/lxc with an open file is still there" [ -f "$R/var/run/lxc/file" ]
check "stale: the holder of the open file is named" grep -q "/var/run/lxc: left in place: in use by pid $p_open (sleep)" "$T/s1"
check "stale: /var/run/isulad, a process's cwd, is still there" [ -d "$R/var/run/isulad/x" ]
check "stale: the process in it is named" grep -q "/var/run/isulad: left in place: in use by pid $p_cwd (sleep)" "$T/s1"
kill_holders
withproc "$R" --engine isulad fix --yes --rule isulad.stale-state > "$T/s2" 2>&1
check "stale: once nothing uses them, they go" [ ! -e "$R/var/run/lxc" -a ! -e "$R/var/run/isulad" ]

R="$T/stale-lxc"; mkstale "$R"; mkdir -p "$R/usr/bin"; : > "$R/usr/bin/lxc-start"; chmod 0755 "$R/usr/bin/lxc-start"
withproc "$R" --engine isulad fix --yes --rule isulad.stale-state > "$T/s3" 2>&1
check "stale: with LXC installed, refused (exit 1)" [ $? -eq 1 ]
check "stale: with LXC installed, /var/run/lxc is kept" [ -f "$R/var/run/lxc/file" ]
check "stale: and the reason is named" grep -q "/var/run/lxc: left in place: LXC may use it ('/usr/bin/lxc-start' is there)" "$T/s3"
R="$T/stale-dpkg"; mkstale "$R"; mkdir -p "$R/var/lib/dpkg"
printf 'Package: lxcfs\nStatus: install ok installed\n\nPackage: lxc\nStatus: install ok installed\nVersion: 1:5.0.2-1\n\n' > "$R/var/lib/dpkg/status"
withproc "$R" --engine isulad fix --yes --rule isulad.stale-state > "$T/s4" 2>&1
check "stale: the Debian package lxc keeps /var/run/lxc too" [ -f "$R/var/run/lxc/file" ]
check "stale: named as such" grep -q "the Debian package 'lxc' is installed" "$T/s4"
R="$T/stale-noproc"; mkstale "$R"; before=$(digest "$R/var")
rs "$R" --engine isulad fix --yes --force --rule isulad.stale-state > "$T/s5" 2>&1
check "stale: under --root without a live /proc nothing is removed, even with --force" [ "$before" = "$(digest "$R/var")" ]
check "stale: and it says it cannot tell" grep -q "cannot tell whether a process uses it" "$T/s5"

# ---- 3. etc/group under --root ---------------------------------------------
mkgroup() { # DIR: odd bytes all over, the kvm line in the middle, no final newline
	mkroot "$1" fedora
	{
		printf 'root:x:0:   \n'
		printf '# kvm:x:1:not-a-group\n'
		printf '#kvm:x:2:\n'
		printf 'crlf:x:50:a,b\r\n'
		printf '\n'
		printf 'wheel:x:10:\t\n'
		printf 'big:x:3000:'; seq -f 'member%g' 1 20000 | paste -sd, | tr -d '\n'; printf '\n'
		printf 'kvm:x:36:qemu\n'
		printf '%s:x:%s:\n' "$U" "$TU_GID"
		printf 'last:x:99:z'
	} > "$1/etc/group"
	{ printf 'root:*::\n'; printf 'kvm:!::qemu\n'; printf 'last:!::z'; } > "$1/etc/gshadow"
	chmod 0640 "$1/etc/gshadow"
}
R="$T/grp"; mkgroup "$R"
cp "$R/etc/group" "$T/group.orig"; cp "$R/etc/gshadow" "$T/gshadow.orig"
rs "$R" --engine kata fix --yes --rule kvm.group > "$T/g1" 2>&1
check "group: fix exits 0" [ $? -eq 0 ]
sed "s/^kvm:x:36:qemu\$/kvm:x:36:qemu,$U/" "$T/group.orig" > "$T/group.want"
check "group: only the kvm line changed, every other byte kept (no final newline too)" cmp -s "$T/group.want" "$R/etc/group"
check "group: the expected differs from the original by one line" [ "$(diff "$T/group.orig" "$R/etc/group" | grep -c '^[<>]')" = 2 ]
sed "s/^kvm:!::qemu\$/kvm:!::qemu,$U/" "$T/gshadow.orig" > "$T/gshadow.want"
check "gshadow: only the kvm line changed" cmp -s "$T/gshadow.want" "$R/etc/gshadow"
check "gshadow: its mode is kept" [ "$(stat -c %a "$R/etc/gshadow")" = 640 ]

R="$T/grp-new"; mkgroup "$R"; sed -i '/^kvm:/d' "$R/etc/group"; cp "$R/etc/group" "$T/group2.orig"
rs "$R" --engine kata fix --yes --rule kvm.group > "$T/g2" 2>&1
check "group: a new kvm group: fix exits 0" [ $? -eq 0 ]
n=$(stat -c %s "$T/group2.orig")
check "group: a new line: the original bytes are the file's first bytes" cmp -s -n "$n" "$T/group2.orig" "$R/etc/group"
check "group: then a newline (the file had none) and the new line" [ "$(tail -c +$((n + 1)) "$R/etc/group")" = "$(printf '\nkvm:x:999:%s' "$U")" ]

R="$T/grp-nul"; mkgroup "$R"; printf 'nul:x:77:a\0b\n' >> "$R/etc/group"
before=$(digest "$R/etc")
rs "$R" --engine kata fix --yes --rule kvm.group > "$T/g3" 2>&1
check "group: a NUL byte: refused (exit 1)" [ $? -eq 1 ]
check "group: a NUL byte: the output says so" grep -q "refusing to rewrite '/etc/group': line [0-9]* holds a NUL byte" "$T/g3"
check "group: a NUL byte: etc/group and etc/gshadow unchanged" [ "$before" = "$(digest "$R/etc")" ]

R="$T/grp-bad"; mkgroup "$R"; sed -i 's/^kvm:x:36:qemu$/kvm:x:36/' "$R/etc/group"
before=$(digest "$R/etc")
rs "$R" --engine kata fix --yes --rule kvm.group > "$T/g4" 2>&1
check "group: a malformed kvm line: refused, nothing changed" [ "$before" = "$(digest "$R/etc")" ]
check "group: a malformed kvm line: named" grep -q "does not have 4 fields" "$T/g4"

R="$T/grp-200k"; mkroot "$R" fedora
awk -v u="$U" -v g="$TU_GID" 'BEGIN { print "root:x:0:"; print u ":x:" g ":"
	for (i = 0; i < 199998; i++) printf "g%d:x:%d:u%d\n", i, 2000 + i, i }' > "$R/etc/group"
cp "$R/etc/group" "$T/group3.orig"
timeout 20 "$RS_BIN" --root "$R" --user "$U" --engine kata fix --yes --rule kvm.group > "$T/g5" 2>&1
check "group: 200,000 lines: completes (exit 0; timeout 20 s is a hang guard only)" [ $? -eq 0 ]
n=$(stat -c %s "$T/group3.orig")
kept_plus_one() { [ "$(tail -c +$((n + 1)) "$R/etc/group")" = "kvm:x:999:$U" ] && cmp -s -n "$n" "$T/group3.orig" "$R/etc/group"; }
check "group: 200,000 lines: the original kept, one line added" kept_plus_one

done_testing
