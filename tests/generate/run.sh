#!/bin/bash
# generate / install / uninstall: golden files per engine and decision,
# merging into hostile and conflicting user files, real engines accepting
# what is written, and install → launch → nsenter → uninstall end to end.
set -u
. "$(dirname "$0")/../lib/tap.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
MK="$HERE/../fixtures/mkhost.sh"
REF="$(cd "$HERE/../fixtures/ref" && pwd)"
T=$(mktemp -d /tmp/rs-gen.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
[ "$(id -u)" = 0 ] || { skip "generate tests" "fixture trees need root"; done_testing; exit; }

# ---- goldens: each engine under three decisions, paths normalised ----
for s in debian12-healthy debian10 centos7 no-slirp; do
	mkdir -p "$T/$s"; bash "$MK" "$s" "$T/$s"
	for e in containerd isulad buildkit devkit podman kata; do
		out="$T/out/$s/$e"
		"$RS_BIN" --root "$T/$s" --user alice --engine "$e" generate --output "$out" > /dev/null
		for f in "$out"/*; do sed -i "s|$RS_BIN|@RS_BIN@|g" "$f"; done
		if [ "${RS_UPDATE_GOLDEN:-0}" = 1 ]; then
			mkdir -p "$HERE/expected/$s/$e"; cp "$out"/* "$HERE/expected/$s/$e/"
		fi
		check "golden $s/$e" diff -r "$HERE/expected/$s/$e" "$out"
	done
done
check "overlayfs host: containerd launches with slirp4netns" grep -q -- "--net=slirp4netns" "$T/out/debian12-healthy/containerd/rootless-setup-containerd.service"
check "host network decision: no --net" sh -c "! grep -q -- --net= '$T/out/no-slirp/containerd/rootless-setup-containerd.service'"
check "devkit: its own daemon, config, data and socket (not buildkit's)" sh -c "grep -q -- '-- devkitd --config /home/alice/.config/devkit/devkitd.toml' '$T/out/debian12-healthy/devkit/rootless-setup-devkit.service' && grep -q 'devkit/devkitd.sock' '$T/out/debian12-healthy/devkit/devkitd.toml' && grep -q 'share/devkit\"' '$T/out/debian12-healthy/devkit/devkitd.toml' && ! grep -q buildkit '$T/out/debian12-healthy/devkit/devkitd.toml'"
check "fuse-overlayfs decision: buildkit uses it" grep -q 'snapshotter = "fuse-overlayfs"' "$T/out/debian10/buildkit/buildkitd.toml"
# the containerd worker: the daemon joins containerd's launch, its unit is bound to containerd's
W="$T/worker"
"$RS_BIN" --root "$T/debian12-healthy" --user alice --engine buildkit generate --worker containerd --output "$W" > /dev/null
check "--worker containerd: containerd's worker on, the oci worker off" \
	sh -c "grep -A1 -x '\[worker.oci\]' '$W/buildkitd.toml' | grep -q 'enabled = false' && grep -A1 -x '\[worker.containerd\]' '$W/buildkitd.toml' | grep -q 'enabled = true'"
check "--worker containerd: containerd's socket and snapshotter, a namespace of its own" \
	sh -c "grep -qx '  address = \"/run/user/1000/containerd/containerd.sock\"' '$W/buildkitd.toml' && grep -qx '  namespace = \"buildkit\"' '$W/buildkitd.toml' && grep -qx '  snapshotter = \"overlayfs\"' '$W/buildkitd.toml'"
check "--worker containerd: the unit runs buildkitd through nsenter --engine containerd" \
	grep -q 'ExecStart=.* nsenter --engine containerd -- buildkitd --config /home/alice/.config/buildkit/buildkitd.toml$' "$W/rootless-setup-buildkit.service"
check "--worker containerd: bound to containerd's unit" \
	sh -c "grep -qx 'BindsTo=rootless-setup-containerd.service' '$W/rootless-setup-buildkit.service' && grep -qx 'After=rootless-setup-containerd.service' '$W/rootless-setup-buildkit.service'"
"$RS_BIN" --root "$T/centos7" --user alice --engine devkit generate --worker containerd --output "$T/dworker" > /dev/null
check "--worker containerd for devkit: its own names, native where containerd has no overlayfs" \
	sh -c "grep -qx '  namespace = \"devkit\"' '$T/dworker/devkitd.toml' && grep -qx '  snapshotter = \"native\"' '$T/dworker/devkitd.toml' && grep -q -- '-- devkitd --config' '$T/dworker/rootless-setup-devkit.service'"
"$RS_BIN" --root "$T/debian12-healthy" --user alice --engine podman generate --worker containerd --output "$T/pworker" > /dev/null 2>&1
check "--worker for another engine: exit 2" [ $? -eq 2 ]
# a daemon found outside the unit's PATH is run by its path
mkdir -p "$T/elsewhere"; bash "$MK" engines-elsewhere "$T/elsewhere" > /dev/null
"$RS_BIN" --root "$T/elsewhere" --user alice --engine buildkit generate --output "$T/ew" > /dev/null
check "buildkitd in /opt/buildkit/bin: the unit runs it by its path" \
	grep -q -- '-- /opt/buildkit/bin/buildkitd --config' "$T/ew/rootless-setup-buildkit.service"
"$RS_BIN" --root "$T/elsewhere" --user alice --engine containerd generate --output "$T/ewc" > /dev/null
check "containerd in the user's ~/.local/bin: the unit runs it by its path" \
	grep -q 'exec /home/alice/.local/bin/containerd -c' "$T/ewc/rootless-setup-containerd.service"
"$RS_BIN" --root "$T/debian12-healthy" --user alice --engine kata generate --default-runtime --output "$T/kdef" > /dev/null
check "--default-runtime makes kata Podman's default" grep -qx 'runtime = "kata"' "$T/kdef/60-rootless-setup-kata.conf"
check "without it, no default runtime" sh -c "! grep -q '^runtime' '$T/out/debian12-healthy/kata/60-rootless-setup-kata.conf'"
check "native decision: containerd told native" grep -q "echo native" "$T/out/centos7/containerd/rootless-setup-containerd.service"
check "iSulad: overlay2 where overlay works" jq -e '."storage-driver" == "overlay2"' "$T/out/debian12-healthy/isulad/daemon.json"
check "iSulad: vfs where it does not" jq -e '."storage-driver" == "vfs"' "$T/out/centos7/isulad/daemon.json"
# iSulad's own daemon.json, and the two keys of its daemon schema
# (isulad-daemon-configs.json) the host may need
for s in debian12-healthy centos7 no-slirp; do
	keys_ok=$(jq -r --slurpfile ref "$REF/isulad/daemon.json" '[keys[] | select(. as $k | ($ref[0] | has($k)) or $k == "cgroup-parent" or $k == "websocket-server-listening-port" | not)] | length' "$T/out/$s/isulad/daemon.json")
	check "iSulad ($s): only keys iSulad knows ($keys_ok unknown)" [ "$keys_ok" = 0 ]
done
check "iSulad: runc, not lcr (LXC cannot set up cgroups in a user namespace on v1)" jq -e '."default-runtime" == "runc"' "$T/out/centos7/isulad/daemon.json"
check "iSulad on cgroup v1: the per-user cgroup-parent" jq -e '."cgroup-parent" == "/rootless-isulad-1000"' "$T/out/centos7/isulad/daemon.json"
check "iSulad on cgroup v2: iSulad's own cgroup-parent" jq -e 'has("cgroup-parent") | not' "$T/out/debian12-healthy/isulad/daemon.json"
check "iSulad in the host network: a CRI streaming port of the user's own" jq -e '."websocket-server-listening-port" == 21000' "$T/out/no-slirp/isulad/daemon.json"
check "iSulad in a network of its own: iSulad's port" jq -e 'has("websocket-server-listening-port") | not' "$T/out/debian12-healthy/isulad/daemon.json"
# iSulad unpacked under /opt as its own tree: found there, run by its path
# with its bin in PATH (isulad-shim) and its lib for the loader
O="$T/opt-isulad"; bash "$MK" debian12-isulad-ready "$O"
mkdir -p "$O/opt/isulad/bin" "$O/opt/isulad/lib"; mv "$O/usr/bin/isulad" "$O/opt/isulad/bin/isulad"
: > "$O/opt/isulad/lib/libisulad_tools.so"
"$RS_BIN" --root "$O" --user alice --engine isulad generate --output "$T/optgen" > /dev/null
check "iSulad under /opt: run by its path, its bin in PATH, its lib in LD_LIBRARY_PATH" \
	grep -q -- '-- /usr/bin/env ISULAD_TMPDIR=/home/alice/.local/share/isulad/tmp PATH=/opt/isulad/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH=/opt/isulad/lib /opt/isulad/bin/isulad -H ' "$T/optgen/rootless-setup-isulad.service"
rm "$O/opt/isulad/lib/libisulad_tools.so"
"$RS_BIN" --root "$O" --user alice --engine isulad generate --output "$T/optgen2" > /dev/null
check "iSulad under /opt without its libraries there: no LD_LIBRARY_PATH" sh -c "grep -q -- 'PATH=/opt/isulad/bin:' '$T/optgen2/rootless-setup-isulad.service' && ! grep -q LD_LIBRARY_PATH '$T/optgen2/rootless-setup-isulad.service'"
check "iSulad: its tmpdir in the data dir, a pid namespace" sh -c "grep -q -- '--pidns ' '$T/out/centos7/isulad/rootless-setup-isulad.service' && grep -q -- '-- /usr/bin/env ISULAD_TMPDIR=/home/alice/.local/share/isulad/tmp isulad -H ' '$T/out/centos7/isulad/rootless-setup-isulad.service'"
if python3 -c 'import tomllib' 2>/dev/null; then
	for f in "$T"/out/*/containerd/config.toml "$T"/out/*/buildkit/buildkitd.toml "$T"/out/*/devkit/devkitd.toml "$T"/out/*/*/*rootless-setup*.conf "$T"/out/*/podman/storage.conf "$T/worker/buildkitd.toml" "$T/dworker/devkitd.toml"; do
		check "TOML parses: ${f#"$T"/out/}" python3 -c 'import sys, tomllib; tomllib.load(open(sys.argv[1], "rb"))' "$f"
	done
else
	skip "TOML parse" "python3 has no tomllib"
fi

# ---- Podman before 2.0 (libpod.conf only): the rule's finding picks the file ----
L="$T/legacy"; cp -a "$T/debian12-healthy" "$L"; mkdir -p "$L/etc/containers"; : > "$L/etc/containers/libpod.conf"
"$RS_BIN" --root "$L" --user alice --engine kata generate --output "$T/lp" > "$T/lp.out"
check "Podman < 2.0: libpod.conf, with Kata under [runtimes]" sh -c "[ ! -e '$T/lp/60-rootless-setup-kata.conf' ] && grep -q '^tmp_dir = ' '$T/lp/libpod.conf' && grep -qx '\[runtimes\]' '$T/lp/libpod.conf'"
check "Podman < 2.0: the header names no outside document" grep -qx '# generated by rootless-setup generate --engine kata (Podman before 2.0)' "$T/lp/libpod.conf"
check "generate --output: the actions name the files written, in DIR" sh -c "grep -q '$T/lp/libpod.conf: created' '$T/lp.out' && ! grep -q '/home/alice' '$T/lp.out'"

# ---- merging into the user's files ----
R="$T/debian12-healthy"; CFG="$R/home/alice/.config/isulad/daemon.json"
mkdir -p "$(dirname "$CFG")"
printf '{\n    "graph": "/srv/mine",\n    "x-unknown": [1, 2],\n    "log-level": "DEBUG"\n}\n' > "$CFG"
"$RS_BIN" --root "$R" --user alice --engine isulad generate > "$T/m1"
check "merge: the user's graph is kept" jq -e '.graph == "/srv/mine"' "$CFG"
check "merge: unknown keys kept" jq -e '."x-unknown" == [1, 2]' "$CFG"
check "merge: our missing keys added" jq -e '."default-runtime" == "runc"' "$CFG"
check "merge: the user's key order kept" [ "$(jq -r 'keys_unsorted[0:3] | join(",")' "$CFG")" = "graph,x-unknown,log-level" ]
check "merge: the conflict is reported" grep -q "kept for: graph, log-level" "$T/m1"
sum=$(sha256sum < "$CFG")
"$RS_BIN" --root "$R" --user alice --engine isulad generate > /dev/null
check "merge: a second run changes nothing" [ "$sum" = "$(sha256sum < "$CFG")" ]
for bad in '{"a": 1,}' '{"a": 1, "a": 2}' '[1]' '// c
{}'; do
	printf '%s' "$bad" > "$CFG"; before=$(sha256sum < "$CFG")
	"$RS_BIN" --root "$R" --user alice --engine isulad generate > /dev/null
	rc=$?
	check "hostile daemon.json left untouched, exit 1: $(echo "$bad" | head -1)" [ $rc -eq 1 -a "$before" = "$(sha256sum < "$CFG")" ]
done
TOML="$R/home/alice/.config/containerd/config.toml"; mkdir -p "$(dirname "$TOML")"; echo 'version = 2 # mine' > "$TOML"; chown 1000:1000 "$TOML"
"$RS_BIN" --root "$R" --user alice --engine containerd generate > /dev/null
check "the user's own config.toml is left alone, ours imports it" sh -c "[ \"\$(cat '$TOML')\" = 'version = 2 # mine' ] && grep -qx 'imports = \[\"/home/alice/.config/containerd/config.toml\"\]' '$R/home/alice/.config/containerd/rootless-setup.toml'"
check "the unit runs containerd with ours" grep -q 'containerd -c /home/alice/.config/containerd/rootless-setup.toml' "$R/home/alice/.config/systemd/user/rootless-setup-containerd.service"
rm -f "$TOML" "$R/home/alice/.config/containerd/rootless-setup.toml" "$R/home/alice/.config/systemd/user/rootless-setup-containerd.service"
"$RS_BIN" --root "$R" --user alice --engine buildkit generate > /dev/null
check "new files are the user's" [ "$(stat -c %u:%g "$R/home/alice/.config/buildkit/buildkitd.toml")" = 1000:1000 ]
check "new directories are the user's, 0700" [ "$(stat -c %u:%a "$R/home/alice/.config/buildkit")" = 1000:700 ]

# ---- root installs for a tree's user (--root): the record is root's ----
R=$T/debian10; A=$R/home/alice
"$RS_BIN" --root "$R" --user alice --engine containerd install --no-start --force > "$T/ri"
REC=$R/var/lib/rootless-setup/users/1000/containerd.json
check "--root, root for alice: the record is root's, not in alice's home" \
	[ "$(stat -c %u "$REC" 2>/dev/null)" = 0 -a ! -e "$A/.local/state/rootless-setup/containerd.json" ]
check "--root: the record's directory is 0700" [ "$(stat -c %a "$(dirname "$REC")")" = 700 ]
check "--root: the files are alice's (the tree's uid)" [ "$(stat -c %u "$A/.config/containerd/config.toml")" = 1000 ]
"$RS_BIN" --root "$R" --user alice --engine containerd uninstall > "$T/ru"
check "--root: uninstall removes the files, the record and the dirs install made" \
	[ ! -e "$A/.config/containerd" -a ! -e "$A/.config/systemd" -a ! -e "$(dirname "$REC")" ]
check "--root: done as the tree's user" grep -q "config.toml: installed by rootless-setup" "$T/ru"

# ---- install's next commands: every engine, under fixture trees ----
# JSON "next" and the text's "next:" lines say the same, in order: start
# (a daemon's launch; not done under --root), then a first container or
# build with the engine's own client, through nsenter where it has a launch
for s in debian12-healthy debian10; do
	for e in containerd isulad buildkit devkit podman kata; do
		N="$T/next-$s-$e"; rm -rf "$N"; mkdir -p "$N"; bash "$MK" "$s" "$N/h"
		"$RS_BIN" --root "$N/h" --user alice --engine "$e" --format json install --no-start --force > "$N/j" 2>/dev/null
		rm -rf "$N/h"; mkdir -p "$N/h"; bash "$MK" "$s" "$N/h"
		"$RS_BIN" --root "$N/h" --user alice --engine "$e" install --no-start --force > "$N/t" 2>/dev/null
		J=$N/j
		steps=$(jq -r '[.next[].step] | join(",")' "$J" 2>/dev/null)
		case $e in
		containerd|isulad) want=start,pull,run ;;
		buildkit|devkit) want=start,prepare,build ;;
		podman|kata) want=run ;;
		esac
		check "$s/$e: install's next steps are $want ($steps)" [ "$steps" = "$want" ]
		check "$s/$e: nothing is done under --root" jq -e '[.next[].done] | any | not' "$J" > /dev/null
		check "$s/$e: the text's next: lines are the JSON's commands" \
			[ "$(sed -n 's/^next: [a-z ]*: //p' "$N/t")" = "$(jq -r '.next[].command' "$J")" ]
		run=$(jq -r '.next[] | select(.step == "run" or .step == "build") | .command' "$J")
		case $e in
		containerd|isulad)
			check "$s/$e: start is the unit's launch" \
				bash -c '[[ $1 == "$2 launch --state-dir=/run/user/1000/rootless-setup/$3 "* ]]' _ \
				"$(jq -r '.next[0].command' "$J")" "$RS_BIN" "$e"
			pull=$(jq -r '.next[1].command' "$J")
			check "$s/$e: pull and run go through nsenter --engine $e" \
				bash -c '[[ $1 == "$3 nsenter --engine $4 -- "*" pull "* && $2 == "$3 nsenter --engine $4 -- "*" run --rm "* ]]' _ \
				"$pull" "$run" "$RS_BIN" "$e"
			img=${pull##* }
			check "$s/$e: the run uses the image pulled ($img)" grep -qF " $img " <<<"$run " ;;
		buildkit|devkit)
			check "$s/$e: the build reaches the daemon through BUILDKIT_HOST" \
				bash -c '[[ $1 == "BUILDKIT_HOST=unix:///run/user/1000/$2/$2d.sock buildctl build "* ]]' _ "$run" "$e"
			check "$s/$e: the build's context is the Dockerfile prepared" \
				bash -c '[[ $1 == *"> first-build/Dockerfile"* && $2 == *"--local context=first-build"* ]]' _ \
				"$(jq -r '.next[1].command' "$J")" "$run" ;;
		podman) check "$s/$e: a plain podman run" bash -c '[[ $1 == "podman run --rm "*" echo hello" ]]' _ "$run" ;;
		kata) check "$s/$e: podman run with the kata runtime" bash -c '[[ $1 == "podman run --rm --runtime kata "* ]]' _ "$run" ;;
		esac
		rm -rf "$N"
	done
done
# where the user has no cgroups (cgroup v1 or hybrid), ctr's run carries
# the flags no configuration file gives; where it has them, it does not
N="$T/next-cg"; mkdir -p "$N"
for s in debian12-healthy debian10; do
	rm -rf "$N/h"; mkdir -p "$N/h"; bash "$MK" "$s" "$N/h"
	"$RS_BIN" --root "$N/h" --user alice --engine containerd --format json install --no-start --force > "$N/$s" 2>/dev/null
	"$RS_BIN" --root "$N/h" --user alice --engine containerd --format json check > "$N/$s.rep" 2>/dev/null
	run=$(jq -r '.next[] | select(.step == "run") | .command' "$N/$s")
	if [ "$(jq -r .decisions.cgroup_manager "$N/$s.rep")" = none ]; then
		check "$s: no cgroups: ctr run --rm --cgroup \"\" (as install's note)" grep -qF 'ctr run --rm --cgroup "" --cpu-shares 0 ' <<<"$run"
	else
		check "$s: cgroups: a plain ctr run --rm" grep -qF 'ctr run --rm docker.io' <<<"$run"
	fi
done
rm -rf "$N"
# no next command after a failure (install refusing past failing rules)
N="$T/next-fail"; mkdir -p "$N/h"; bash "$MK" debian12-healthy "$N/h"
: > "$N/h/etc/subuid"
"$RS_BIN" --root "$N/h" --user alice --engine podman --format json install --no-start > "$N/j" 2>/dev/null
check "install refused past failing rules: no next command" jq -e '(.summary.failed > 0) and (.next == [])' "$N/j" > /dev/null
rm -rf "$N"

# ---- on this machine, as a throwaway user ----
. "$HERE/../lib/testuser.sh"
tu_setup || { done_testing; exit; }
# tu_setup's EXIT trap replaces ours: the scratch dir goes with the user
tu_on_exit rm -rf "$T"
tu_bin || { done_testing; exit; }
RS=$TU_BIN
# content and names (a directory's own mtime moves with the probe's scratch dir)
snap() { (cd "$1" && find . -type f -printf '%p %s %T@\n' -o -printf '%p\n' | sort); }
before=$(snap "$TU_HOME"; snap "$TU_XDG")
tu_run "$RS" --engine containerd install --dry-run > "$T/dry"
after=$(snap "$TU_HOME"; snap "$TU_XDG")
check "install --dry-run changes nothing" [ "$before" = "$after" ]
check "install --dry-run names every file" [ "$(grep -c 'would change.*write' "$T/dry")" = 3 ]
tu_run "$RS" --engine containerd install --no-start > "$T/inst"
check "install --no-start exits 0" [ $? -eq 0 ]
CONF="$TU_HOME/.config/containerd/config.toml"
UNIT="$TU_HOME/.config/systemd/user/rootless-setup-containerd.service"
dump=$(tu_run containerd --config "$CONF" config dump 2>/dev/null)
check "containerd accepts the config: root" grep -q "root = \"$TU_HOME/.local/share/containerd\"" <<<"$dump"
check "containerd accepts the config: socket" grep -q "$TU_XDG/containerd/containerd.sock" <<<"$dump"
if command -v systemd-analyze >/dev/null; then
	out=$(tu_run systemd-analyze verify --man=no --user "$UNIT" 2>&1 | grep -v -E 'Failed to connect|bus|XDG_RUNTIME_DIR' )
	check "systemd-analyze verify --user accepts the unit" [ -z "$out" ]
	[ -z "$out" ] || echo "$out" | head -3 | sed 's/^/# /'
fi
mkdir -p "$T/podc"; chown "$TU_UID" "$T/podc"
tu_run "$RS" --engine podman generate --output "$T/podc" > /dev/null
check "podman info accepts containers.conf" sh -c "runuser -u '$TU_NAME' -- env -i PATH=/usr/bin:/bin HOME='$TU_HOME' XDG_RUNTIME_DIR='$TU_XDG' CONTAINERS_CONF='$T/podc/50-rootless-setup.conf' podman info > /dev/null 2>&1"
cmd=$(sed -n 's/.*start it with: //p' "$T/inst")
check "install prints the launch command" [ -n "$cmd" ]
tu_run sh -c "$cmd" > "$T/ctrd.log" 2>&1 &
lp=$!
for _ in $(seq 100); do [ -S "$TU_XDG/containerd/containerd.sock" ] && break; sleep 0.1; done
out=$(tu_run "$RS" --engine containerd nsenter -- sh -c 'ctr version > /dev/null && echo ok; echo "$CONTAINERD_SNAPSHOTTER"')
check "the printed command brings containerd up; nsenter --engine answers" [ "$(echo "$out" | head -1)" = ok ]
check "nsenter --engine sets CONTAINERD_SNAPSHOTTER from the launch" [ "$(echo "$out" | sed -n 2p)" = overlayfs ]
pkill -TERM -u "$TU_UID" -f "rootless-setup launch --state-dir=$TU_XDG/rootless-setup/containerd"
wait "$lp" 2>/dev/null
echo '# mine' >> "$UNIT"
tu_run "$RS" --engine containerd uninstall > "$T/un"
check "uninstall removes what install wrote" [ ! -e "$CONF" ]
check "uninstall keeps a file the user changed" [ -e "$UNIT" ]
check "uninstall removes its record" [ ! -e "$TU_HOME/.local/state/rootless-setup/containerd.json" ]
check "uninstall removes the directories install made, when empty" [ ! -e "$TU_HOME/.config/containerd" ]
check "uninstall leaves the data" [ -d "$TU_HOME/.local/share/containerd" ]
tu_run "$RS" --engine containerd uninstall --purge --yes > /dev/null
check "uninstall --purge removes the data" [ ! -e "$TU_HOME/.local/share/containerd" ]
done_testing
