#!/bin/bash
# `oci rootless` against real runtimes, as a throwaway unprivileged user:
# a `runc spec` bundle fails rootless as is, runs after conversion; the
# conversion agrees with `runc spec --rootless`; PRoot makes chown work in a
# single-id map; crun's refusal on this host matches what check predicts.
set -u
. "$(dirname "$0")/../lib/tap.sh"

# RS_TEST_USER: parallel runs must not share (and delete) one user
U=${RS_TEST_USER:-rsoci}
T=$(mktemp -d /tmp/rs-oci.XXXXXX)
chmod 755 "$T"
cleanup() {
	[ "$(id -u)" = 0 ] && { userdel -r "$U" 2>/dev/null; sed -i "/^$U:/d" /etc/subuid /etc/subgid; rm -rf "/run/user/$UID_U"; }
	rm -rf "$T"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	skip "oci rootless with real runtimes" "needs root to create a throwaway user"
	done_testing; exit
fi
for b in runc crun proot busybox jq; do
	command -v $b >/dev/null || { skip "oci rootless with real runtimes" "$b is not installed"; done_testing; exit; }
done
userdel -r "$U" 2>/dev/null; sed -i "/^$U:/d" /etc/subuid /etc/subgid
useradd -m "$U" >/dev/null 2>&1 || true
UID_U=$(id -u "$U")
install -d -o "$U" -g "$U" -m 0700 "/run/user/$UID_U"
cp "$RS_BIN" "$T/rootless-setup"; chmod 755 "$T/rootless-setup"
as_user() { runuser -u "$U" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="/home/$U" XDG_RUNTIME_DIR="/run/user/$UID_U" "$@"; }

B="$T/bundle"
mkdir -p "$B/rootfs/bin" "$B/rootfs/tmp" "$B/rootfs/proc" "$B/rootfs/sys" "$B/rootfs/dev"
cp "$(command -v busybox)" "$B/rootfs/bin/busybox"
for a in sh id echo chown touch cat; do ln -s busybox "$B/rootfs/bin/$a"; done
(cd "$B" && runc spec)
jq '.process.terminal=false | .process.args=["/bin/sh","-c","id -u"] | .root.readonly=false' \
	"$B/config.json" > "$B/root.json"
chown -R "$U:$U" "$T"
RUN="runc --root /run/user/$UID_U/runc"

# 1. the root form fails rootless as is
cp "$B/root.json" "$B/config.json"
out=$(as_user sh -c "cd '$B' && $RUN run t0" 2>&1)
check "runc spec bundle fails without conversion" [ -n "$(echo "$out" | grep -i 'user namespace')" ]

# 2. converted, it runs and prints uid 0
as_user "$T/rootless-setup" oci rootless -i "$B/root.json" -o "$B/config.json"
check "conversion exit 0" [ $? -eq 0 ]
out=$(as_user sh -c "cd '$B' && $RUN run t1" 2>&1)
check "runc runs the converted bundle as uid 0 (got '$out')" [ "$out" = 0 ]

# 3. --host-net agrees with runc spec --rootless, compared structurally
mkdir -p "$T/rr"; chown "$U" "$T/rr"
as_user sh -c "cd '$T/rr' && runc spec && mv config.json root.json && runc spec --rootless"
as_user "$T/rootless-setup" oci rootless --host-net -i "$T/rr/root.json" -o "$T/rr/ours.json"
norm='{ns: [.linux.namespaces[].type] | sort, uid: .linux.uidMappings, gid: .linux.gidMappings,
	mounts: [.mounts[] | {destination, type, source, options: ((.options // []) | sort)}] | sort_by(.destination),
	resources: .linux.resources}'
a=$(jq -S "$norm" "$T/rr/ours.json"); b=$(jq -S "$norm" "$T/rr/config.json")
check "--host-net matches runc spec --rootless" [ "$a" = "$b" ]
[ "$a" = "$b" ] || diff <(echo "$a") <(echo "$b") | sed 's/^/# /'

# 4. converting again changes nothing
as_user "$T/rootless-setup" oci rootless -i "$T/rr/ours.json" -o "$T/rr/again.json"
same_json() { [ -s "$1" ] && [ -s "$2" ] && [ "$(jq -S . "$1")" = "$(jq -S . "$2")" ]; }
check "already-rootless input comes back unchanged" same_json "$T/rr/ours.json" "$T/rr/again.json"

# 5. chown in a single-id map: EINVAL without PRoot, success with it
jq '.process.args=["/bin/sh","-c","touch /tmp/f && chown 1:1 /tmp/f && echo chown-ok"]' \
	"$B/root.json" > "$B/chown.json"; chown "$U" "$B/chown.json"
as_user "$T/rootless-setup" oci rootless -i "$B/chown.json" -o "$B/config.json"
out=$(as_user sh -c "cd '$B' && $RUN run t2" 2>&1)
check "chown 1:1 fails with EINVAL without PRoot" sh -c "echo '$out' | grep -q 'Invalid argument'"
as_user "$T/rootless-setup" oci rootless --proot "$(command -v proot)" -i "$B/chown.json" -o "$B/config.json"
out=$(as_user sh -c "cd '$B' && $RUN run t3" 2>&1)
check "chown 1:1 succeeds with --proot (got '$out')" sh -c "echo '$out' | grep -q chown-ok"

# 6. --subids maps the user's ranges, and runc applies them with newuidmap
as_user "$T/rootless-setup" oci rootless --subids -i "$B/root.json" -o "$B/config.json"
n=$(jq '.linux.uidMappings | length' "$B/config.json")
check "--subids adds the subordinate ranges ($n mappings)" [ "$n" -ge 2 ]
jq '.process.args=["/bin/cat","/proc/self/uid_map"]' "$B/config.json" > "$B/c.json" && mv "$B/c.json" "$B/config.json"; chown "$U" "$B/config.json"
out=$(as_user sh -c "cd '$B' && $RUN run t4" 2>&1)
check "runc maps the subordinate range" [ "$(echo "$out" | wc -l)" -ge 2 ]

# 6b. chown under --subids: runc spec's three capabilities hold no
# CAP_CHOWN (as root too), so chown fails until the bundle grants it; with
# CAP_CHOWN the container's root chowns to a mapped id (the README says so)
jq '.process.args=["/bin/sh","-c","touch /tmp/f && chown 1:1 /tmp/f && echo chown-ok"]' \
	"$B/root.json" > "$B/chown.json"; chown "$U" "$B/chown.json"
as_user "$T/rootless-setup" oci rootless --subids -i "$B/chown.json" -o "$B/config.json"
out=$(as_user sh -c "cd '$B' && $RUN run t4b" 2>&1)
check "--subids: chown fails without CAP_CHOWN (runc spec's set)" sh -c "! echo '$out' | grep -q chown-ok"
capadd='.process.capabilities |= with_entries(.value += ["CAP_CHOWN"])'
jq "$capadd" "$B/config.json" > "$B/c.json" && mv "$B/c.json" "$B/config.json"; chown "$U" "$B/config.json"
out=$(as_user sh -c "cd '$B' && $RUN run t4c" 2>&1)
check "--subids: with CAP_CHOWN added, chown 1:1 works (got '$out')" sh -c "echo '$out' | grep -q chown-ok"

# 7. crun: the prediction of check --engine oci matches what crun does
as_user "$T/rootless-setup" oci rootless -i "$B/root.json" -o "$B/config.json"
as_user sh -c "cd '$B' && crun --root /run/user/$UID_U/crun run t5" > "$T/crun.out" 2>&1
crun_rc=$?
pred=$(as_user "$T/rootless-setup" check --engine oci --rule cgroup.v2 --format json | jq -r '.results[0].message')
if echo "$pred" | grep -q "crun refuses"; then
	check "check predicts crun's refusal, and crun refuses" [ $crun_rc -ne 0 ]
else
	check "check predicts crun works, and crun runs (rc $crun_rc)" [ $crun_rc -eq 0 ]
fi

# 8. bad input: a clear error, exit 1, no output file
echo '{"process": {"args": "sh"}, "root": {"path": "r"}}' > "$T/bad.json"
"$RS_BIN" oci rootless -i "$T/bad.json" -o "$T/out.json" 2> "$T/err"
rc=$?
check "bad input exits 1" [ $rc -eq 1 ]
check "bad input writes no output file" [ ! -e "$T/out.json" ]
check "bad input names the field" grep -q "process.args" "$T/err"
echo '{"process": ' > "$T/bad2.json"
"$RS_BIN" oci rootless -i "$T/bad2.json" -o "$T/out.json" 2>/dev/null
rc=$?
check "invalid JSON exits 1 without output" [ $rc -eq 1 -a ! -e "$T/out.json" ]

# 9. hostile input (issue item 11): a full-range map and a joined user
# namespace are replaced by the caller's own, never passed to the runtime
jq '.linux.uidMappings=[{containerID:0,hostID:0,size:4294967295}]
	| .linux.gidMappings=[{containerID:0,hostID:0,size:4294967295}]
	| .linux.namespaces += [{type:"user",path:"/proc/1/ns/user"}]' "$B/root.json" > "$B/hostile.json"
chown "$U" "$B/hostile.json"
as_user "$T/rootless-setup" oci rootless -i "$B/hostile.json" -o "$B/config.json" 2> "$T/h.err"
check "hostile maps: exit 0" [ $? -eq 0 ]
check "hostile maps: uidMappings are the user's own id" \
	[ "$(jq -c .linux.uidMappings "$B/config.json")" = "[{\"containerID\":0,\"hostID\":$UID_U,\"size\":1}]" ]
check "hostile maps: one user namespace, no path" \
	[ "$(jq -c '[.linux.namespaces[] | select(.type == "user")]' "$B/config.json")" = '[{"type":"user"}]' ]
check "hostile maps: a note says so" grep -q 'replaced' "$T/h.err"
out=$(as_user sh -c "cd '$B' && $RUN run t6" 2>&1)
check "hostile maps: runc runs the result as uid 0 (got '$out')" [ "$out" = 0 ]

# 10. --proot that is a FIFO or not executable: refused at once, exit 1
mkfifo "$T/fifo"
timeout 5 "$RS_BIN" oci rootless --proot "$T/fifo" -i "$B/root.json" > "$T/p.out" 2> "$T/p.err"
rc=$?
check "--proot FIFO refused without hanging (exit $rc)" [ $rc -eq 1 ]
check "--proot FIFO: one line on stderr" [ "$(wc -l < "$T/p.err")" -eq 1 ]
timeout 5 "$RS_BIN" oci rootless --proot "$B/root.json" -i "$B/root.json" > /dev/null 2>&1
check "--proot of a file that is not executable: exit 1" [ $? -eq 1 ]
timeout 5 "$RS_BIN" oci rootless --proot "$T" -i "$B/root.json" > /dev/null 2>&1
check "--proot of a directory: exit 1" [ $? -eq 1 ]
done_testing
