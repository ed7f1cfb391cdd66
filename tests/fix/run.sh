#!/bin/bash
# fix against fixture roots: the sysctl fixers. A dry run leaves the tree
# byte-identical and says what the real run then does; the real run makes a
# file that sets the knob; a second run changes no byte; an administrator's
# later restrictive file stops it unless --force; read-only /etc distros
# get their instruction instead of a write.
set -u
. "$(dirname "$0")/../lib/tap.sh"
T=$(mktemp -d /tmp/rs-fix.XXXXXX)
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
	RS_TEST_USER=rsfix
	. "$(dirname "$0")/../lib/testuser.sh"
	tu_setup >/dev/null 2>&1
	sed -i "/^rsfix:/d" /etc/subuid /etc/subgid
	"$RS_BIN" --user rsfix check --rule subid.ranges --format json > "$T/live0.json"
	check "live: the throwaway user starts without ranges" jq_is "$T/live0.json" '.results[0].status' fail
	"$RS_BIN" --user rsfix fix --yes --rule subid.ranges > "$T/live"
	check "live: fix runs usermod" grep -q "changed.*exec.*usermod" "$T/live"
	"$RS_BIN" --user rsfix check --format json > "$T/live.json"
	check "live: subid.ranges passes" jq_is "$T/live.json" '.results[] | select(.id == "subid.ranges") | .status' pass
	check "live: the probe maps the new range" jq_is "$T/live.json" '.results[] | select(.id == "userns.probe") | .status' pass
else
	skip "live subid fix" "needs root and usermod"
fi
done_testing
