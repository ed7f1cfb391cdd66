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
check "under --root the live kernel is not touched" grep -q "not applied to the running kernel under --root" "$T/out1"
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
done_testing
