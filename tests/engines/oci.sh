#!/bin/bash
# Plain OCI runtimes: a `runc spec` bundle made rootless by `oci rootless`
# runs under runc as the user and prints its line; crun on this host does
# what `check --engine oci` predicts (on a hybrid layout: refuses).
set -u
. "$(dirname "$0")/lib.sh"

en_need "oci end to end" runc busybox jq
en_start "oci end to end"
B="$W/bundle"
mkdir -p "$B/rootfs"
en_rootfs_tar "$W/bb.tar"
tar -C "$B/rootfs" -xf "$W/bb.tar"
(cd "$B" && runc spec)
jq '.process.terminal=false | .process.args=["/bin/echo","hi"]' "$B/config.json" > "$B/in.json"
chown -R "$TU_UID:$TU_GID" "$B"
before=$(en_digest)
tu_run "$RS" --engine oci --format json check > "$W/report.json" 2>/dev/null
tu_run "$RS" oci rootless < "$B/in.json" > "$W/rl.json" 2>"$W/rl.err"
check "oci rootless converts the bundle" [ -s "$W/rl.json" ]
cp "$W/rl.json" "$B/config.json"; chown "$TU_UID" "$B/config.json"
out=$(tu_run sh -c "cd '$B' && runc --root '$TU_XDG/runc' run rl1" 2>&1)
check "runc runs the converted bundle: hi" [ "$out" = hi ]
[ "$out" = hi ] || echo "$out" | tail -3 | sed 's/^/# /'
en_truth oci runc-started yes "$([ "$out" = hi ] && echo yes || echo no)"
if command -v crun >/dev/null; then
	out=$(tu_run sh -c "cd '$B' && crun --root '$TU_XDG/crun' run rl2" 2>&1)
	rc=$?
	pred=$(jq -r '.results[] | select(.id == "cgroup.v2") | .message' "$W/report.json")
	p=$(echo "$pred" | grep -q 'crun refuses' && echo refuses || echo runs)
	r=$([ $rc -eq 0 ] && [ "$out" = hi ] && echo runs || echo refuses)
	en_truth oci crun "$p" "$r"
	[ "$p" = "$r" ] || echo "$out" | tail -2 | sed 's/^/# /'
	if [ "$r" = refuses ]; then
		check "crun refuses the way check says (cgroups)" grep -qi 'cgroup' <<<"$out"
	fi
else
	skip "crun's verdict" "crun is not installed"
fi
rm -rf "$TU_XDG/runc" "$TU_XDG/crun"
after=$(en_digest)
check "the user's XDG trees as before" [ "$before" = "$after" ]
done_testing
