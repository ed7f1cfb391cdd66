#!/bin/bash
# fix against fixture roots: the sysctl fixers. A dry run leaves the tree
# byte-identical and says what the real run then does; the real run makes a
# file that sets the knob; a second run changes no byte; an administrator's
# later restrictive file stops it unless --force; read-only /etc distros
# get their instruction instead of a write.
set -u
. "$(dirname "$0")/../lib/tap.sh"
T=$(mktemp -d /tmp/rs-fix.XXXXXX)
REF="$(cd "$(dirname "$0")/../fixtures/ref" && pwd)"
# data/: the installed reference copies of what fix writes (compared below)
DATA="$(cd "$(dirname "$0")/../../data" && pwd)"
trap 'rm -rf "$T"' EXIT

mkroot() { # DIR ID VERSION
	mkdir -p "$1/etc/sysctl.d" "$1/usr/lib/sysctl.d" "$1/proc/sys/kernel" "$1/proc/sys/user"
	printf 'ID=%s\nVERSION_ID="%s"\n' "$2" "$3" > "$1/etc/os-release"
	echo 4.19.0-21-amd64 > "$1/proc/sys/kernel/osrelease"
	echo 0 > "$1/proc/sys/kernel/unprivileged_userns_clone"
	echo 0 > "$1/proc/sys/user/max_user_namespaces"
	echo 'root:x:0:0:root:/root:/bin/sh' > "$1/etc/passwd"
	echo 'net.ipv4.ip_forward = 1' > "$1/etc/sysctl.d/10-admin.conf"
}
digest() { (cd "$1" && find . -printf '%p %m %u %g %s\n' | sort && find . -type f -exec sha256sum {} + | sort); }
rs() { "$RS_BIN" --root "$R" "$@"; }
not() { ! "$@"; }
# jq_is FILE FILTER VALUE: FILE is non-empty JSON and FILTER gives VALUE
jq_is() { [ -s "$1" ] && [ "$(jq -r "$2" "$1")" = "$3" ]; }

R="$T/deb10"; mkroot "$R" debian 10
before=$(digest "$R")
out=$(rs fix --dry-run)
check "dry run exits 0" [ $? -eq 0 ]
check "dry run leaves the tree byte-identical" [ "$before" = "$(digest "$R")" ]
check "dry run names the clone drop-in" grep -q "would change.*50-rootless-setup-userns-clone.conf" <<<"$out"
check "dry run names the max drop-in" grep -q "would change.*51-rootless-setup-userns-max.conf" <<<"$out"

rs fix --yes > "$T/out1"
check "fix exits 0" [ $? -eq 0 ]
check "the clone drop-in sets the knob" grep -qx 'kernel.unprivileged_userns_clone = 1' "$R/etc/sysctl.d/50-rootless-setup-userns-clone.conf"
check "the max drop-in uses Debian's recommended value" grep -qx 'user.max_user_namespaces = 63359' "$R/etc/sysctl.d/51-rootless-setup-userns-max.conf"
check "drop-ins are 0644" [ "$(stat -c %a "$R/etc/sysctl.d/50-rootless-setup-userns-clone.conf")" = 644 ]
check "the admin's file is untouched" grep -qx 'net.ipv4.ip_forward = 1' "$R/etc/sysctl.d/10-admin.conf"
check "under --root the live kernel is not touched" grep -q "not applied to the running system under --root" "$T/out1"
check "--yes prints what was done once, not the plan first" \
	sh -c '! grep -q "^would change" "$1" && [ "$(grep -c "^summary:" "$1")" = 1 ]' _ "$T/out1"
check "the fixture's /proc value stays as it was" [ "$(cat "$R/proc/sys/kernel/unprivileged_userns_clone")" = 0 ]
after1=$(digest "$R")
rs fix --yes > "$T/out2"
check "a second run changes nothing" [ "$after1" = "$(digest "$R")" ]
check "a second run says so" grep -q "^summary: 0 changed, 0 failed" "$T/out2"
check "no temporary file is left" [ -z "$(find "$R" -name '.*.rs-*')" ]

R="$T/hardened"; mkroot "$R" debian 12
echo 'kernel.unprivileged_userns_clone=0' > "$R/etc/sysctl.d/99-hardening.conf"
before=$(digest "$R")
rs fix --yes --rule userns.clone > "$T/out3"
check "a later restrictive file stops the fixer (exit 1)" [ $? -eq 1 ]
check "and names that file" grep -q "99-hardening.conf" "$T/out3"
check "and changes nothing" [ "$before" = "$(digest "$R")" ]
rs fix --yes --force --rule userns.clone > /dev/null
check "--force writes a drop-in that sorts after it" grep -qx 'kernel.unprivileged_userns_clone = 1' "$R/etc/sysctl.d/zz-rootless-setup-userns-clone.conf"
after=$(digest "$R")
rs fix --yes --force --rule userns.clone > /dev/null
check "a second forced run changes nothing" [ "$after" = "$(digest "$R")" ]

R="$T/syscfg"; mkroot "$R" debian 12
echo 'kernel.unprivileged_userns_clone = 0' > "$R/etc/sysctl.conf"
rs fix --yes --force --rule userns.clone > "$T/out4"
check "/etc/sysctl.conf, applied last, is named even with --force" grep -q "/etc/sysctl.conf.*applied last" "$T/out4"

R="$T/br"; mkroot "$R" bottlerocket 1.20.0
before=$(digest "$R")
rs fix --yes --rule userns.max > "$T/out5"
check "Bottlerocket: no write, exit 1" [ $? -eq 1 ]
check "Bottlerocket: the settings API is named" grep -q "apiclient" "$T/out5"
check "Bottlerocket: tree unchanged" [ "$before" = "$(digest "$R")" ]

R="$T/json"; mkroot "$R" debian 10
rs fix --dry-run --format json > "$T/out6"
check "json: one actions/v1 document" [ "$(jq -r .schema "$T/out6")" = rootless-setup/actions/v1 ]
check "json: planned writes are marked changed" [ "$(jq '[.actions[] | select(.kind == "write" and .changed)] | length' "$T/out6")" = 2 ]
rs fix --rule userns.clone < /dev/null > /dev/null 2> "$T/err7"
check "without a terminal, fix needs --yes (exit 2)" [ $? -eq 2 ]
check "and says so" grep -q -- "--yes" "$T/err7"
check "unknown rule is a usage error" sh -c "'$RS_BIN' --root '$R' fix --rule nope --yes 2>/dev/null; [ \$? -eq 2 ]"

# ---- subid.ranges ----
mksub() { # DIR: alice without ranges, bob with one, a real uid inside the free space
	mkdir -p "$1/etc" "$1/proc/sys/kernel"
	printf 'ID=debian\nVERSION_ID="12"\n' > "$1/etc/os-release"
	printf 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\nsvc:x:170000:170000::/:/bin/sh\n' > "$1/etc/passwd"
	printf 'root:x:0:\nalice:x:1000:\n' > "$1/etc/group"
	printf 'bob:100000:65536\n' > "$1/etc/subuid"
	printf 'bob:100000:65536\n' > "$1/etc/subgid"
}
R="$T/sub"; mksub "$R"
before=$(digest "$R")
out=$(rs --user alice fix --dry-run --rule subid.ranges)
check "subid dry run: tree byte-identical" [ "$before" = "$(digest "$R")" ]
rs --user alice fix --yes --rule subid.ranges > "$T/s1"
check "subid: fix exits 0" [ $? -eq 0 ]
line=$(grep '^alice:' "$R/etc/subuid")
check "subid: the dry run announced what the real run wrote ($line)" grep -q "append $line" <<<"$out"
start=${line#alice:}; start=${start%%:*}
check "subid: the range avoids bob's range and uid 170000" [ "$start" -ge 170001 ]
check "subid: subgid got the same range" grep -qx "$line" "$R/etc/subgid"
check "subid: bob's line kept first" [ "$(head -1 "$R/etc/subuid")" = "bob:100000:65536" ]
check "subid: no lock or temporary file left" [ -z "$(find "$R/etc" -name '*.lock' -o -name '.sub*')" ]
rs --user alice check --rule subid.ranges --format json > "$T/s1.json"
check "subid: check passes afterwards" jq_is "$T/s1.json" '.results[0].status' pass
after=$(digest "$R")
rs --user alice fix --yes --rule subid.ranges > /dev/null
check "subid: a second run changes nothing" [ "$after" = "$(digest "$R")" ]

R="$T/overlap"; mksub "$R"; echo 'alice:150000:65536' >> "$R/etc/subuid"; echo 'alice:150000:65536' >> "$R/etc/subgid"
before=$(digest "$R")
rs --user alice fix --yes --rule subid.ranges > "$T/s2"
check "subid: an overlap with another user is left to an admin (exit 1)" [ $? -eq 1 ]
check "subid: overlap: nothing changed" [ "$before" = "$(digest "$R")" ]

R="$T/malformed"; mksub "$R"; printf 'carol:200000:65536\r\n' >> "$R/etc/subuid"
before=$(digest "$R")
rs --user alice fix --yes --rule subid.ranges > "$T/s3"
check "subid: a file with a malformed line is never rewritten (exit 1)" [ $? -eq 1 ]
check "subid: malformed: the line is named" grep -q "line 2" "$T/s3"
check "subid: malformed: nothing changed" [ "$before" = "$(digest "$R")" ]

R="$T/locked"; mksub "$R"; echo 999999 > "$R/etc/subuid.lock"
before=$(digest "$R")
rs --user alice fix --yes --rule subid.ranges > "$T/s4"
check "subid: a stale lock is not broken without --force (exit 1)" [ $? -eq 1 ]
check "subid: stale lock: nothing changed" [ "$before" = "$(digest "$R")" ]
rs --user alice fix --yes --force --rule subid.ranges > /dev/null
check "subid: --force breaks the stale lock and allocates" grep -q '^alice:' "$R/etc/subuid"

R="$T/big"; mksub "$R"
awk 'BEGIN { for (i = 0; i < 50000; i++) printf "u%d:%d:65536\n", i, 1000000 + i * 65536 }' >> "$R/etc/subuid"
cp "$R/etc/subuid" "$R/etc/subgid"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "p%d:x:%d:%d::/:/bin/sh\n", i, 2000 + i, 2000 + i }' >> "$R/etc/passwd"
t0=$(date +%s%N)
rs --user alice fix --yes --rule subid.ranges > /dev/null
t1=$(date +%s%N)
diag "allocation with 50,000 subuid entries and 100,000 users: $(( (t1 - t0) / 1000000 )) ms"
check "subid: 50,000 entries: allocated" grep -q '^alice:' "$R/etc/subuid"

# live: a throwaway user without ranges, fixed through usermod
if [ "$(id -u)" = 0 ] && [ -x /usr/sbin/usermod ]; then
	RS_TEST_USER=${RS_TEST_USER:-rsfix}
	. "$(dirname "$0")/../lib/testuser.sh"
	tu_setup >/dev/null 2>&1
	tu_on_exit rm -rf "$T"
	sed -i "/^$TU_NAME:/d" /etc/subuid /etc/subgid
	"$RS_BIN" --user "$TU_NAME" check --rule subid.ranges --format json > "$T/live0.json"
	check "live: the throwaway user starts without ranges" jq_is "$T/live0.json" '.results[0].status' fail
	"$RS_BIN" --user "$TU_NAME" fix --yes --rule subid.ranges > "$T/live"
	check "live: fix runs usermod" grep -q "changed.*exec.*usermod" "$T/live"
	check "live: and says to run 'podman system migrate' after it" grep -q "podman system migrate" "$T/live"
	"$RS_BIN" --user "$TU_NAME" check --format json > "$T/live.json"
	check "live: subid.ranges passes" jq_is "$T/live.json" '.results[] | select(.id == "subid.ranges") | .status' pass
	check "live: the probe maps the new range" jq_is "$T/live.json" '.results[] | select(.id == "userns.probe") | .status' pass
	# runtime.dir on this host (no logind runs here: PID 1 is not systemd)
	if [ ! -d /run/systemd/system ]; then
		rm -rf "/run/user/$TU_UID"
		tu_on_exit rm -rf "/var/lib/rootless-setup/users/$TU_UID/runtime-dir"
		tu_run env -u XDG_RUNTIME_DIR "$RS_BIN" fix --yes --rule runtime.dir > "$T/rd-user" 2>&1
		check "live, as the user: fix makes a runtime dir under the home (exit 0)" [ $? -eq 0 ]
		fb="$TU_HOME/.local/state/rootless-setup/run"
		check "live, as the user: it is the user's 0700" [ "$(stat -c '%u %a' "$fb")" = "$TU_UID 700" ]
		check "live, as the user: the export is printed" grep -q "export XDG_RUNTIME_DIR=$fb" "$T/rd-user"
		tu_run env XDG_RUNTIME_DIR="$fb" "$RS_BIN" --format json check --rule runtime.dir > "$T/rd-user.json"
		check "live, as the user: check passes with that export" jq_is "$T/rd-user.json" '.results[] | select(.id == "runtime.dir") | .status' pass
		"$RS_BIN" --user "$TU_NAME" fix --yes --rule runtime.dir > "$T/rd-root" 2>&1
		check "live, as root: fix makes /run/user/UID as pam_systemd would" [ "$(stat -c '%u:%g %a' "/run/user/$TU_UID")" = "$TU_UID:$TU_GID 700" ]
		"$RS_BIN" --user "$TU_NAME" --format json check --rule runtime.dir > "$T/rd-root.json"
		check "live, as root: check passes after it" jq_is "$T/rd-root.json" '.results[] | select(.id == "runtime.dir") | .status' pass
		# uninstall --purge removes it, but only while nothing but empty
		# directories is left in it (other engines, other sessions)
		tu_run sh -c 'mkdir -p "$XDG_RUNTIME_DIR/rootless-setup/podman" && : > "$XDG_RUNTIME_DIR/keep"'
		"$RS_BIN" --user "$TU_NAME" --engine podman uninstall --purge --yes > "$T/rd-un1" 2>&1
		check "live: uninstall --purge keeps a runtime dir that holds a file, naming it" \
			sh -c "[ -f '/run/user/$TU_UID/keep' ] && grep -q \"still holds 'keep'\" '$T/rd-un1'"
		rm -f "/run/user/$TU_UID/keep"
		"$RS_BIN" --user "$TU_NAME" --engine podman uninstall --purge --yes > "$T/rd-un2" 2>&1
		check "live: uninstall --purge removes the runtime dir fix made" [ ! -e "/run/user/$TU_UID" ]
		check "live: and root's note of it" [ ! -e "/var/lib/rootless-setup/users/$TU_UID/runtime-dir" ]
	fi
else
	skip "live subid fix" "needs root and usermod"
fi

# ---- podman.migrate ----
# under --root: a plan that names the command, never a run
MK="$(dirname "$0")/../fixtures/mkhost.sh"
R="$T/migrate"
if bash "$MK" migrate-stale "$R" > /dev/null 2>&1; then
	before=$(digest "$R")
	rs --user alice fix --dry-run --rule podman.migrate --format json > "$T/m0.json"
	check "migrate: the dry run under --root runs nothing" jq_is "$T/m0.json" '[.actions[] | select(.kind == "exec")] | length' 0
	check "migrate: and says what to run as the user" grep -q "as 'alice', run: podman system migrate" "$T/m0.json"
	rs --user alice fix --yes --rule podman.migrate > /dev/null
	check "migrate: the tree is unchanged" [ "$before" = "$(digest "$R")" ]
else
	skip "podman.migrate under --root" "mkhost.sh could not build the tree"
fi
# live: a real pause process of a throwaway user whose ranges then grow
if [ "$(id -u)" = 0 ] && command -v podman > /dev/null && [ -n "${TU_UID:-}" ]; then
	# the runtime.dir tests above may have purged it; tu_setup's cleanup removes it
	[ -d "$TU_XDG" ] || install -d -m 0700 -o "$TU_UID" -g "$TU_GID" "$TU_XDG"
	tu_run timeout 60 podman unshare true > /dev/null 2>&1
	pp=$(cat "$TU_XDG/libpod/tmp/pause.pid" 2> /dev/null)
	add=$(tu_free_start /etc/subuid /etc/subgid)
	usermod --add-subuids "$add-$((add + 999))" --add-subgids "$add-$((add + 999))" "$TU_NAME"
	"$RS_BIN" --user "$TU_NAME" fix --dry-run --engine podman --rule podman.migrate > "$T/m1"
	check "migrate live: the dry run plans podman system migrate as the user" grep -q "would change.*exec.*podman system migrate (as $TU_NAME)" "$T/m1"
	check "migrate live: and leaves the pause process (pid $pp) alone" [ -n "$pp" ] && ! tu_dead "$pp"
	"$RS_BIN" --user "$TU_NAME" fix --yes --engine podman --rule podman.migrate > "$T/m2"
	check "migrate live: fix runs it (exit $?)" grep -q "changed.*exec.*podman system migrate" "$T/m2"
	for _ in $(seq 50); do tu_dead "$pp" && break; sleep 0.1; done
	check "migrate live: the old pause process is gone" tu_dead "$pp"
	"$RS_BIN" --user "$TU_NAME" check --engine podman --rule podman.migrate --format json > "$T/m3.json"
	check "migrate live: check passes after" jq_is "$T/m3.json" '.results[] | select(.id == "podman.migrate") | .status' pass
	n=$(tu_run timeout 60 podman unshare cat /proc/self/uid_map 2> /dev/null | awk '{ n += $3 } END { print n }')
	want=$(awk -F: -v u="$TU_NAME" '$1 == u { n += $3 } END { print n + 1 }' /etc/subuid)
	check "migrate live: podman's next namespace holds the new range too ($n ids, want $want)" [ "$n" = "$want" ]
	pp=$(cat "$TU_XDG/libpod/tmp/pause.pid" 2> /dev/null); [ -n "$pp" ] && kill "$pp"
	usermod --del-subuids "$add-$((add + 999))" --del-subgids "$add-$((add + 999))" "$TU_NAME" 2> /dev/null
else
	skip "podman.migrate live" "needs root, podman and the throwaway user"
fi

# ---- kvm.group, kvm.device ----
mkuser() { # DIR ID
	mkdir -p "$1/etc" "$1/dev" "$1/proc/sys/kernel" "$1/home/alice"
	printf 'ID=%s\nVERSION_ID="40"\n' "$2" > "$1/etc/os-release"
	echo 6.8.0 > "$1/proc/sys/kernel/osrelease"
	printf 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n' > "$1/etc/passwd"
	printf 'root:x:0:\nalice:x:1000:\n' > "$1/etc/group"
}
if [ "$(id -u)" = 0 ]; then
	R="$T/kvm"; mkuser "$R" fedora
	mknod "$R/dev/kvm" c 10 232; chmod 0600 "$R/dev/kvm"
	before=$(digest "$R")
	rs --user alice --engine kata fix --dry-run --rule kvm.device --rule kvm.group > /dev/null
	check "kvm dry run: tree byte-identical" [ "$before" = "$(digest "$R")" ]
	rs --user alice --engine kata fix --yes --rule kvm.device --rule kvm.group > "$T/k1"
	check "kvm: fix exits 0" [ $? -eq 0 ]
	check "kvm: group kvm created with alice in it" grep -q '^kvm:x:[0-9]*:alice$' "$R/etc/group"
	check "kvm: /dev/kvm is 0660" [ "$(stat -c %a "$R/dev/kvm")" = 660 ]
	gid=$(awk -F: '$1 == "kvm" {print $3}' "$R/etc/group")
	check "kvm: /dev/kvm belongs to root:kvm" [ "$(stat -c %u:%g "$R/dev/kvm")" = "0:$gid" ]
	check "kvm: a udev rule keeps it" grep -q 'KERNEL=="kvm", GROUP="kvm", MODE="0660"' "$R/etc/udev/rules.d/99-rootless-setup-kvm.rules"
	check "kvm: the udev rule is data/99-rootless-setup-kvm.rules (comments aside)" \
		diff <(grep -v '^#' "$DATA/99-rootless-setup-kvm.rules") <(grep -v '^#' "$R/etc/udev/rules.d/99-rootless-setup-kvm.rules")
	rs --user alice --engine kata check --rule kvm.device --rule kvm.group --format json > "$T/k.json"
	check "kvm: both rules pass afterwards" [ "$(jq '[.results[] | select(.status == "pass")] | length' "$T/k.json")" = 2 ]
	after=$(digest "$R")
	rs --user alice --engine kata fix --yes --rule kvm.device --rule kvm.group > /dev/null
	check "kvm: a second run changes nothing" [ "$after" = "$(digest "$R")" ]
	R="$T/kvm666"; mkuser "$R" fedora; echo 'kvm:x:36:' >> "$R/etc/group"
	mknod "$R/dev/kvm" c 10 232; chown 0:36 "$R/dev/kvm"; chmod 0666 "$R/dev/kvm"
	rs --user alice --engine kata check --rule kvm.device --format json > "$T/k666.json"
	check "kvm 0666: check warns" jq_is "$T/k666.json" '.results[0].status' warn
	rs --user alice --engine kata fix --yes --rule kvm.device --rule kvm.group > /dev/null
	check "kvm 0666: alice joins kvm" grep -qx 'kvm:x:36:alice' "$R/etc/group"
	check "kvm 0666: fixed to 0660, never left world-writable" [ "$(stat -c %a:%g "$R/dev/kvm")" = 660:36 ]
	R="$T/kvmlink"; mkuser "$R" fedora
	mknod "$R/dev/realkvm" c 10 232; chmod 0600 "$R/dev/realkvm"; ln -s realkvm "$R/dev/kvm"
	rs --user alice --engine kata fix --yes --rule kvm.device --rule kvm.group > "$T/k2"
	check "kvm: a symlinked /dev/kvm is never chmod'ed (exit 1)" [ $? -eq 1 ]
	check "kvm: its target keeps 0600" [ "$(stat -c %a "$R/dev/realkvm")" = 600 ]
else
	skip "kvm fixers" "needs root for mknod"
fi

# ---- kata.config, both upstream templates ----
for v in 2025 2026; do
	R="$T/kata$v"; mkuser "$R" fedora
	mkdir -p "$R/usr/share/defaults/kata-containers"
	sed 's/@[A-Z_]*@/x/g' "$REF/kata/configuration-qemu.toml.in-$v" > "$R/usr/share/defaults/kata-containers/configuration.toml"
	rs --user alice --engine kata fix --yes --rule kata.config > /dev/null
	check "kata $v: fix exits 0" [ $? -eq 0 ]
	d=$(diff "$R/usr/share/defaults/kata-containers/configuration.toml" "$R/etc/kata-containers/configuration.toml" | grep -c '^[<>]')
	check "kata $v: exactly one line changed ($d diff lines)" [ "$d" = 2 ]
	check "kata $v: disable_vhost_net = true" grep -qx 'disable_vhost_net = true' "$R/etc/kata-containers/configuration.toml"
	check "kata $v: readable by all" [ "$(stat -c %a "$R/etc/kata-containers/configuration.toml")" = 644 ]
	after=$(digest "$R")
	rs --user alice --engine kata fix --yes --rule kata.config > /dev/null
	check "kata $v: a second run changes nothing" [ "$after" = "$(digest "$R")" ]
done

# ---- isulad.permissions, isulad.stale-state ----
# permissions: root's files and etc/group stay as they are (group isula is
# the root daemon's socket group: root-equivalent); the user gets copies,
# made as the user. stale-state: removed only where /proc can tell no
# process uses it (a private procfs mount stands for a live /proc).
R="$T/isulad"; mkuser "$R" openEuler; chown 1000:1000 "$R/home/alice"
mkdir -p "$R/etc/isulad" "$R/etc/default/isulad/hooks" "$R/var/run/isulad/x" "$R/var/run/lxc"
cp "$REF/isulad/daemon.json" "$R/etc/isulad/"; cp "$REF/isulad/hooks-default.json" "$R/etc/default/isulad/hooks/default.json"
chmod 0600 "$R/etc/isulad/daemon.json" "$R/etc/default/isulad/hooks/default.json"; chmod 0700 "$R/etc/isulad"
echo precious > "$T/outside"; ln -s "$T/outside" "$R/var/run/isulad/x/link"
sum=$(sha256sum < "$REF/isulad/daemon.json")
etc_before=$(digest "$R/etc")
rs --user alice --engine isulad fix --yes --rule isulad.permissions --rule isulad.stale-state > "$T/i1"
check "isulad: without a live /proc the state is left: exit 1" [ $? -eq 1 ]
check "isulad: root's files, modes and etc/group unchanged" [ "$etc_before" = "$(digest "$R/etc")" ]
check "isulad: alice is in no isula group" not grep -q '^isula:' "$R/etc/group"
C="$R/home/alice/.config/isulad/system"
check "isulad: alice's copy of daemon.json, hers, 0600" [ "$(stat -c %u:%a "$C/etc/isulad/daemon.json" 2>/dev/null)" = 1000:600 ]
check "isulad: the copy is byte-identical" [ "$(sha256sum < "$C/etc/isulad/daemon.json")" = "$sum" ]
check "isulad: the hooks' copy too" cmp -s "$C/etc/default/isulad/hooks/default.json" "$R/etc/default/isulad/hooks/default.json"
check "isulad: new directories are 0700" [ "$(stat -c %a "$R/home/alice/.config/isulad")" = 700 ]
check "isulad: stale state left: cannot tell" grep -q "/var/run/lxc: left in place: cannot tell" "$T/i1"
check "isulad: stale state still there" [ -d "$R/var/run/isulad" -a -d "$R/var/run/lxc" ]
after=$(digest "$R")
rs --user alice --engine isulad fix --yes --rule isulad.permissions > /dev/null
check "isulad: a second run changes nothing" [ "$after" = "$(digest "$R")" ]
rs --user alice --engine isulad generate --output "$T/igen" > /dev/null
check "isulad: the launch shows the hooks' copy at its system path" grep -q -- "--overlay-file=/home/alice/.config/isulad/system/etc/default/isulad/hooks/default.json:/etc/default/isulad/hooks/default.json" "$T/igen/rootless-setup-isulad.service"
if [ "$(id -u)" = 0 ] && command -v unshare > /dev/null; then
	withproc() { unshare -m --propagation private sh -c 'mount -t proc proc "$1/proc" && shift && exec "$@"' sh "$R" "$RS_BIN" --root "$R" "$@"; }
	withproc --user alice --engine isulad fix --yes --rule isulad.stale-state > "$T/i3"
	check "isulad: with a live /proc, stale state removed" [ ! -e "$R/var/run/isulad" -a ! -e "$R/var/run/lxc" ]
	check "isulad: a symlink inside was removed, not followed" [ "$(cat "$T/outside")" = precious ]
	withproc --user alice --engine isulad check --format json > "$T/i.json"
	check "isulad: both rules pass afterwards" [ "$(jq '[.results[] | select((.id == "isulad.permissions" or .id == "isulad.stale-state") and .status == "pass")] | length' "$T/i.json")" = 2 ]
	mkdir -p "$R/var/run/isulad"; echo 4242 > "$R/var/run/isulad.pid"
	withproc --user alice --engine isulad fix --yes --rule isulad.stale-state > "$T/i2"
	check "isulad: a pid file means a daemon may run: nothing removed (exit 1)" [ $? -eq 1 -a -d "$R/var/run/isulad" ]
else
	skip "isulad stale-state with a live /proc" "needs root and unshare"
fi
# uninstall takes the copies fix made while each is root's file byte for
# byte; one alice changed stays, named, with the directories holding it
printf '# hers\n' >> "$C/etc/default/isulad/hooks/default.json"
etc_before=$(digest "$R/etc")
rs --user alice --engine isulad uninstall > "$T/iu1" 2>&1
check "isulad uninstall: exits 0" [ $? -eq 0 ]
check "isulad uninstall: the unchanged copy is gone" [ ! -e "$C/etc/isulad/daemon.json" ]
check "isulad uninstall: so is its empty directory" [ ! -e "$C/etc/isulad" ]
check "isulad uninstall: the copy alice changed is kept" grep -q '# hers' "$C/etc/default/isulad/hooks/default.json"
check "isulad uninstall: and named" grep -q "differs from '/etc/default/isulad/hooks/default.json'.*kept" "$T/iu1"
check "isulad uninstall: root's files unchanged" [ "$etc_before" = "$(digest "$R/etc")" ]
rm "$C/etc/default/isulad/hooks/default.json"
rs --user alice --engine isulad fix --yes --rule isulad.permissions > /dev/null
rs --user alice --engine isulad uninstall > "$T/iu2" 2>&1
check "isulad uninstall: fresh copies all go, with the directories fix made" [ ! -e "$C" ]
check "isulad uninstall: so does the empty ~/.config/isulad fix made" [ ! -e "$R/home/alice/.config/isulad" ]
check "isulad uninstall: ~/.config itself stays" [ -d "$R/home/alice/.config" ]
rs --user alice --engine isulad fix --yes --rule isulad.permissions > /dev/null
echo '{}' > "$R/home/alice/.config/isulad/hers.json"; chown 1000:1000 "$R/home/alice/.config/isulad/hers.json"
rs --user alice --engine isulad uninstall > "$T/iu3" 2>&1
check "isulad uninstall: a ~/.config/isulad holding a file of alice's stays, with it" [ -f "$R/home/alice/.config/isulad/hers.json" ]
check "isulad uninstall: the copies went all the same" [ ! -e "$C" ]

# ---- isulad.locale, isulad.cgroups (fixture: en_US commented out, cgroup v1) ----
MK="$(dirname "$0")/../fixtures/mkhost.sh"
R="$T/isl"; bash "$MK" debian12-isulad-bare "$R"
gen_before=$(cat "$R/etc/locale.gen"); before=$(digest "$R")
rs --user alice --engine isulad fix --dry-run --rule isulad.locale > "$T/l0"
check "locale: a dry run changes nothing" [ "$before" = "$(digest "$R")" ]
check "locale: the dry run names /etc/locale.gen" grep -q "would change isulad.locale *write */etc/locale.gen" "$T/l0"
rs --user alice --engine isulad fix --yes --rule isulad.locale > "$T/l1"
check "locale: fix exits 0" [ $? -eq 0 ]
check "locale: en_US.UTF-8 uncommented in place, every other line kept" [ "$(cat "$R/etc/locale.gen")" = "$(printf '# This file lists locales\n# de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8')" ]
check "locale: locale-gen is not run under --root, and it says so" grep -q "locale-gen not run under --root" "$T/l1"
after=$(digest "$R")
rs --user alice --engine isulad fix --yes --rule isulad.locale > /dev/null
check "locale: a second run changes nothing" [ "$after" = "$(digest "$R")" ]
rm "$R/usr/sbin/locale-gen"; printf '%s\n' "$gen_before" > "$R/etc/locale.gen"; before=$(digest "$R")
rs --user alice --engine isulad fix --yes --rule isulad.locale > "$T/l2"
check "locale: without locale-gen nothing is written, the package is named (exit 1)" sh -c "[ $? -eq 1 ] && grep -q 'apt-get install -y locales' '$T/l2' && [ '$before' = '$(digest "$R")' ]"
before=$(digest "$R")
rs --user alice --engine isulad fix --yes --rule isulad.cgroups > "$T/g1"
check "cgroups: not made under --root (exit 1), the tree unchanged" sh -c "[ $? -eq 1 ] && grep -q 'not made under --root' '$T/g1' && [ '$before' = '$(digest "$R")' ]"

# ---- cgroup.delegation ----
mkcg() { mkuser "$1" debian; mkdir -p "$1/run/systemd/system" "$1/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service"
	echo "cpuset cpu io memory pids" > "$1/sys/fs/cgroup/cgroup.controllers"
	echo "memory pids" > "$1/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers"
	mkdir -p "$1/proc/self"; echo "29 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw" > "$1/proc/self/mountinfo"; }
R="$T/cg"; mkcg "$R"; mkdir -p "$R/etc/systemd/system/user@.service.d"
printf '[Service]\nDelegate=memory pids\n' > "$R/etc/systemd/system/user@.service.d/delegate.conf"
rs --user alice fix --yes --rule cgroup.delegation > "$T/c1"
check "delegation: fix exits 0" [ $? -eq 0 ]
check "delegation: our drop-in delegates cpu cpuset io memory pids" grep -qx 'Delegate=cpu cpuset io memory pids' "$R/etc/systemd/system/user@.service.d/rootless-setup.conf"
check "delegation: the admin's drop-in is untouched" [ "$(cat "$R/etc/systemd/system/user@.service.d/delegate.conf")" = "$(printf '[Service]\nDelegate=memory pids')" ]
check "delegation: says a re-login is needed" grep -q "new login" "$T/c1"
R="$T/cglink"; mkcg "$R"; mkdir -p "$T/elsewhere"; ln -s "$T/elsewhere" "$R/etc/systemd/system/user@.service.d" 2>/dev/null || { mkdir -p "$R/etc/systemd/system"; ln -s "$T/elsewhere" "$R/etc/systemd/system/user@.service.d"; }
rs --user alice fix --yes --rule cgroup.delegation > /dev/null
check "delegation: a symlinked drop-in directory is refused (exit 1)" [ $? -eq 1 ]
check "delegation: nothing written through the link" [ -z "$(ls -A "$T/elsewhere")" ]

# ---- userns.apparmor ----
R="$T/aa"; mkuser "$R" ubuntu; echo 1 > "$R/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
mkdir -p "$R/usr/bin"; : > "$R/usr/bin/runc"
rs --user alice fix --yes --rule userns.apparmor > "$T/a1"
check "apparmor: a profile allows userns for the launcher" grep -q 'profile rootless-setup-launcher .* flags=(unconfined)' "$R/etc/apparmor.d/rootless-setup"
check "apparmor: and for runc, which the engines run" grep -q 'profile rootless-setup-runc /usr/bin/runc' "$R/etc/apparmor.d/rootless-setup"
n=$(grep -vc '^#' "$DATA/apparmor-rootless-setup")
check "apparmor: the profile begins as data/apparmor-rootless-setup (comments aside)" \
	diff <(grep -v '^#' "$DATA/apparmor-rootless-setup") <(grep -v '^#' "$R/etc/apparmor.d/rootless-setup" | head -n "$n")
check "apparmor: the global knob is left alone without --force" [ ! -e "$R/etc/sysctl.d/zz-rootless-setup-apparmor-userns.conf" ]
rs --user alice check --rule userns.apparmor --format json > "$T/a.json"
check "apparmor: check passes with the profile" jq_is "$T/a.json" '.results[0].status' pass

# ---- faults: the original stays byte-identical, no temporary file stays ----
# (LeakSanitizer cannot run under ptrace: off for the runs under strace)
if command -v strace >/dev/null; then
	export ASAN_OPTIONS=detect_leaks=0
	for fault in "write:error=ENOSPC:when=2+" "fsync:error=EIO" "rename,renameat,renameat2:error=EXDEV" "rename,renameat,renameat2:error=EBUSY"; do
		R="$T/fault"; rm -rf "$R"; mksub "$R"
		before=$(digest "$R")
		strace -f -o /dev/null -e "inject=$fault" "$RS_BIN" --root "$R" --user alice fix --yes --rule subid.ranges > "$T/f.out" 2>&1
		rc=$?
		check "fault $fault: exit 1 ($rc)" [ $rc -eq 1 ]
		check "fault $fault: files byte-identical, no temporary file" [ "$before" = "$(digest "$R")" ]
	done
	R="$T/kill"; rm -rf "$R"; mksub "$R"; before=$(digest "$R")
	strace -f -o /dev/null -e inject=rename,renameat,renameat2:signal=SIGKILL "$RS_BIN" --root "$R" --user alice fix --yes --rule subid.ranges > /dev/null 2>&1
	check "SIGKILL before rename: the original is byte-identical" [ "$(cat "$R/etc/subuid")" = "bob:100000:65536" ]
	check "SIGKILL before rename: the temporary file is there" [ -n "$(find "$R/etc" -name '.sub*.rs-*')" ]
	sleep 1.2
	rm -f "$R/etc/subuid.lock" "$R/etc/subgid.lock"   # the killed run's locks, as an admin would after checking
	rs --user alice fix --yes --rule subid.ranges > /dev/null
	check "the next run completes" grep -q '^alice:' "$R/etc/subuid"
	check "and removes the killed run's temporary file" [ -z "$(find "$R/etc" -name '.sub*.rs-*')" ]
else
	skip "fault injection" "strace is not installed"
fi

# ---- runtime.dir: made as pam_systemd would, or under the home ----
R="$T/rd-nosd"; bash "$MK" runtime-dir-missing-nosystemd "$R" > /dev/null
rs --user alice fix --yes --rule runtime.dir > "$T/rd1"
check "runtime.dir, no systemd: fix exits 0" [ $? -eq 0 ]
check "runtime.dir, no systemd: /run/user/1000 is alice's 0700" [ "$(stat -c '%u:%g %a' "$R/run/user/1000")" = "1000:1000 700" ]
check "runtime.dir, no systemd: root's note for uninstall --purge" [ "$(stat -c '%u %a' "$R/var/lib/rootless-setup/users/1000/runtime-dir")" = "0 600" ]
check "runtime.dir, no systemd: it says nothing else removes it" grep -q "nothing removes it at logout" "$T/rd1"
rs --user alice --format json check --rule runtime.dir > "$T/rd1.json"
check "runtime.dir, no systemd: check passes after it" jq_is "$T/rd1.json" '.results[] | select(.id == "runtime.dir") | .status' pass
after=$(digest "$R"); rs --user alice fix --yes --rule runtime.dir > /dev/null
check "runtime.dir: a second run changes nothing" [ "$after" = "$(digest "$R")" ]
R="$T/rd-sd"; bash "$MK" runtime-dir-missing "$R" > /dev/null
before=$(digest "$R")
rs --user alice fix --yes --rule runtime.dir > "$T/rd2"
check "runtime.dir, systemd tree: linger is named, nothing made" sh -c "grep -q 'loginctl enable-linger alice' '$T/rd2' && [ '$before' = \"\$(cd '$R' && find . -printf '%p %m %u %g %s\n' | sort && find . -type f -exec sha256sum {} + | sort)\" ]"
check "runtime.dir: the hint names machinectl shell for su/sudo" grep -q "machinectl shell alice@" <(rs --user alice check --rule runtime.dir)
R="$T/rd-mode"; bash "$MK" runtime-dir-mode "$R" > /dev/null
rs --user alice fix --yes --rule runtime.dir > /dev/null
check "runtime.dir: alice's 0755 directory becomes 0700" [ "$(stat -c '%u %a' "$R/run/user/1000")" = "1000 700" ]
R="$T/rd-bad"; bash "$MK" runtime-dir-bad "$R" > /dev/null
before=$(digest "$R")
rs --user alice fix --yes --rule runtime.dir > "$T/rd3"
check "runtime.dir: a root-owned one is refused (exit 1)" [ $? -eq 1 ]
check "runtime.dir: and left as it was" [ "$before" = "$(digest "$R")" ]

# ---- /etc/subuid a symlink; COS; two runs at once; dry-run purity ----
R="$T/symlink"; mksub "$R"; mv "$R/etc/subuid" "$R/etc/subuid.real"; ln -s subuid.real "$R/etc/subuid"
before=$(digest "$R")
rs --user alice fix --yes --rule subid.ranges > "$T/h1"
check "H1: a symlinked /etc/subuid is refused (exit 1)" [ $? -eq 1 ]
check "H1: nothing changed" [ "$before" = "$(digest "$R")" ]
R="$T/cos"; mksub "$R"; printf 'ID=cos\nVERSION_ID="105"\n' > "$R/etc/os-release"
before=$(digest "$R")
rs --user alice fix --yes --rule subid.ranges > "$T/h9"
check "H9: Container-Optimized OS: no write to a non-persistent /etc (exit 1)" [ $? -eq 1 ]
check "H9: cloud-init is named" grep -q cloud-init "$T/h9"
check "H9: nothing changed" [ "$before" = "$(digest "$R")" ]
R="$T/concurrent"; mksub "$R"
rs --user alice fix --yes --rule subid.ranges > /dev/null & p1=$!
rs --user alice fix --yes --rule subid.ranges > /dev/null & p2=$!
wait $p1; wait $p2
check "H24: two runs at once give one range" [ "$(grep -c '^alice:' "$R/etc/subuid")" = 1 -a "$(grep -c '^alice:' "$R/etc/subgid")" = 1 ]
if command -v strace >/dev/null; then
	R="$T/pure"; mksub "$R"; mkdir -p "$R/etc/sysctl.d" "$R/proc/sys/kernel" "$R/proc/sys/user"
	echo 0 > "$R/proc/sys/kernel/unprivileged_userns_clone"; echo 0 > "$R/proc/sys/user/max_user_namespaces"
	strace -f -qq -o "$T/pure.log" -e trace=write,pwrite64,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,chmod,fchmod,fchmodat,chown,fchown,fchownat,link,linkat,symlink,symlinkat,truncate,ftruncate \
		"$RS_BIN" --root "$R" --user alice fix --dry-run > /dev/null
	# writes to stdout (fd 1) are the report, not a change
	n=$(grep -v -E '^[0-9]+ +write\(1,' "$T/pure.log" | grep -c -E '^[0-9]+ +[a-z]')
	check "H30: a dry run makes no mutating system call ($n)" [ "$n" = 0 ]
	[ "$n" = 0 ] || grep -v -E 'write\(1,' "$T/pure.log" | head -5 | sed 's/^/# /'
else
	skip "H30 dry-run purity" "strace is not installed"
fi
done_testing
