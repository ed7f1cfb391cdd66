#!/bin/bash
# Hostile strings, --root containment and hostile OCI input (issue items 8,
# 9, 11). Run as root: the throwaway user plants names with terminal escape
# sequences and bytes that are not UTF-8; root runs check, fix, install and
# uninstall for it. Nothing may reach the terminal raw (no ESC, no BEL), and
# the JSON documents must parse and hold every action the text shows.
#   RS_TEST_USER=rsedges RS_BIN=build/rootless-setup bash tests/security/t-edges.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/testuser.sh"
. "$HERE/lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "hostile strings and --root containment" "needs root (a throwaway user, fixture trees)"
	done_testing; exit
fi
for tool in jq timeout setpriv; do
	command -v "$tool" > /dev/null || { skip "edges" "'$tool' is not installed"; done_testing; exit; }
done
tu_setup || { not_ok "throwaway user"; done_testing; exit; }
tu_bin || { not_ok "scratch copy of the binary"; done_testing; exit; }
B=$TU_BIN
W=$TU_WORK
# a root-owned decoy that a hostile record names: it must stay untouched
DECOY=$(mktemp -d /tmp/rs-edges-decoy.XXXXXX)
tu_on_exit rm -rf "$DECOY"
echo precious > "$DECOY/file"
chmod 0755 "$DECOY"; chmod 0644 "$DECOY/file"

# the hostile name: OSC title, BEL, clear screen, C1 CSI (as UTF-8), a bidi override
HN=$'evil\e]0;pwned\a\e[2J\xc2\x9b2J\xe2\x80\xaeend'
# and one that is not UTF-8 at all
BAD=$'cfg\xff\xfe\e[2J'

not() { ! "$@"; }
no_ctl() { [ "$(cat "$@" | grep -c $'[\e\a]')" = 0 ]; }
parses() { jq -e . "$1" > /dev/null 2>&1; }
# text action lines (state column) of an actions/v1 run
nactions() { grep -c -E '^(would change|changed|unchanged|FAILED) ' "$1"; }

# ---- item 8: a hostile install record ---------------------------------------
# the user installs for itself (its record lives in its own ~/.local/state),
# plants hostile paths in it, and root uninstalls for it
tu_run "$B" install --engine containerd --no-start > "$W/i.out" 2> "$W/i.err" < /dev/null
M=$TU_HOME/.local/state/rootless-setup/containerd.json
check "install wrote the record" [ -f "$M" ]
tu_run mkdir -p "$TU_HOME/.config/$HN"
tu_run sh -c 'echo mine > "$1"' sh "$TU_HOME/.config/$HN/f"
tu_run sh -c 'jq --arg p "$1" --arg d "$2" ".files += [{path: \$p, hash: \"0\"}, {path: \$d, hash: \"0\"}]" "$3" > "$3.new" && mv "$3.new" "$3"' \
	sh "$TU_HOME/.config/$HN/f" "$DECOY/$HN" "$M"
check "the user's record now names the hostile path" grep -q 'pwned' "$M"
before=$(digest "$DECOY")

"$B" --user "$TU_NAME" uninstall --engine containerd --dry-run > "$W/u.out" 2> "$W/u.err" < /dev/null
check "uninstall --dry-run: no raw ESC or BEL on stdout or stderr" no_ctl "$W/u.out" "$W/u.err"
check "uninstall --dry-run: the hostile record path is shown escaped" \
	grep -qF 'evil\x1b]0;pwned\x07\x1b[2J\xc2\x9b2J\xe2\x80\xaeend' "$W/u.out"
"$B" --user "$TU_NAME" uninstall --engine containerd --dry-run --format json > "$W/u.json" 2> "$W/u.jerr" < /dev/null
check "uninstall --format json parses" parses "$W/u.json"
check "uninstall json: every action of the text run ($(nactions "$W/u.out"))" \
	[ "$(jq '.actions | length' "$W/u.json")" = "$(nactions "$W/u.out")" ]
check "uninstall json: the hostile path is there, exact" \
	[ "$(jq --arg p "$TU_HOME/.config/$HN/f" '[.actions[] | select(.path == $p)] | length' "$W/u.json")" = 1 ]
"$B" --user "$TU_NAME" uninstall --engine containerd > "$W/u2.out" 2> "$W/u2.err" < /dev/null
check "uninstall: no raw ESC or BEL" no_ctl "$W/u2.out" "$W/u2.err"
check "uninstall: the root-owned decoy the record names is untouched" [ "$(digest "$DECOY")" = "$before" ]
check "uninstall: the user's changed file is kept" [ -f "$TU_HOME/.config/$HN/f" ]

# ---- item 8: check and fix for the user, with the hostile names in place -------
tu_run mkdir -p "$TU_HOME/.local/share"
tu_run ln -sfn "$TU_HOME/.config/$HN" "$TU_HOME/.local/share/containerd"
"$B" --user "$TU_NAME" check --engine containerd > "$W/c.out" 2> "$W/c.err" < /dev/null
check "check: no raw ESC or BEL" no_ctl "$W/c.out" "$W/c.err"
"$B" --user "$TU_NAME" check --engine containerd --format json > "$W/c.json" 2> /dev/null < /dev/null
check "check --format json parses" parses "$W/c.json"
"$B" --user "$TU_NAME" fix --dry-run > "$W/f.out" 2> "$W/f.err" < /dev/null
check "fix --dry-run: no raw ESC or BEL" no_ctl "$W/f.out" "$W/f.err"
"$B" --user "$TU_NAME" fix --dry-run --format json > "$W/f.json" 2> /dev/null < /dev/null
check "fix --dry-run --format json parses, every action there" \
	[ "$(jq '.actions | length' "$W/f.json" 2> /dev/null)" = "$(nactions "$W/f.out")" ]

# ---- item 8: the user's own generate with a config home that is not UTF-8 ------
tu_run mkdir -p "$TU_HOME/$BAD"
tu_run env XDG_CONFIG_HOME="$TU_HOME/$BAD" "$B" generate --engine containerd --force > "$W/g.out" 2> "$W/g.err" < /dev/null
check "generate (XDG_CONFIG_HOME not UTF-8): no raw ESC or BEL" no_ctl "$W/g.out" "$W/g.err"
tu_run rm -rf "$TU_HOME/$BAD"; tu_run mkdir -p "$TU_HOME/$BAD"
tu_run env XDG_CONFIG_HOME="$TU_HOME/$BAD" "$B" generate --engine containerd --format json > "$W/g.json" 2> /dev/null < /dev/null
n=$(jq '.actions | length' "$W/g.json" 2> /dev/null)
changed=$(jq '[.actions[] | select(.changed)] | length' "$W/g.json" 2> /dev/null)
check "generate json parses and lists every action ($n; text had $(nactions "$W/g.out"))" \
	[ "${n:-none}" = "$(nactions "$W/g.out")" ]
check "generate json: summary.changed ($(jq .summary.changed "$W/g.json" 2> /dev/null)) = changed actions listed ($changed)" \
	[ "$(jq .summary.changed "$W/g.json" 2> /dev/null)" = "$changed" ]
check "generate json: the non-UTF-8 path is there, escaped" \
	[ "$(jq '[.actions[] | select((.path // "") | contains("cfg\\xff\\xfe\\x1b[2J"))] | length' "$W/g.json" 2> /dev/null)" -ge 1 ]

# ---- item 9: --root with proc/self/mountinfo -> a path outside the tree --------
R=$(mktemp -d /tmp/rs-edges-root.XXXXXX)
tu_on_exit rm -rf "$R"
if bash "$HERE/../fixtures/mkhost.sh" debian12-healthy "$R/t" > /dev/null 2>&1; then
	OUT=$(mktemp -d /tmp/rs-edges-outside.XXXXXX)
	tu_on_exit rm -rf "$OUT"
	sed 's/ - ext4 / - fuseblk /' "$R/t/proc/self/mountinfo" > "$OUT/mountinfo"
	rm "$R/t/proc/self/mountinfo"
	ln -s "$OUT/mountinfo" "$R/t/proc/self/mountinfo"
	# the newuidmap of the tree points out of it: its xattrs must not be read there
	before=$(digest "$OUT")
	"$B" --root "$R/t" --user alice check --engine containerd --format json > "$W/r.json" 2> "$W/r.err" < /dev/null
	check "--root: the report parses" parses "$W/r.json"
	check "--root: the outside mountinfo (fuseblk) is not in the report" not grep -q fuseblk "$W/r.json"
	check "--root: storage.fs sees no mountinfo in the tree (warn)" \
		[ "$(jq -r '.results[] | select(.id == "storage.fs") | .status' "$W/r.json")" = warn ]
	check "--root: the outside tree is untouched" [ "$(digest "$OUT")" = "$before" ]
else
	not_ok "mkhost.sh debian12-healthy"
fi

# ---- item 11: oci rootless with hostile input, as the user ---------------------
O=$TU_HOME/oci
tu_run mkdir -p "$O"
tu_run sh -c 'cat > "$1"' sh "$O/in.json" <<'EOF'
{"ociVersion":"1.0.2","process":{"args":["sh"]},"root":{"path":"rootfs"},
 "linux":{"namespaces":[{"type":"pid"},{"type":"user","path":"/proc/1/ns/user"},{"type":"mount"}],
 "uidMappings":[{"containerID":0,"hostID":0,"size":4294967295}],
 "gidMappings":[{"containerID":0,"hostID":0,"size":4294967295}]}}
EOF
tu_run "$B" oci rootless -i "$O/in.json" > "$W/o.json" 2> "$W/o.err" < /dev/null
check "oci rootless: exit 0" [ $? -eq 0 ]
check "oci: uidMappings are the user's own id only" \
	[ "$(jq -c '.linux.uidMappings' "$W/o.json")" = "[{\"containerID\":0,\"hostID\":$TU_UID,\"size\":1}]" ]
check "oci: gidMappings are the user's own id only" \
	[ "$(jq -c '.linux.gidMappings' "$W/o.json")" = "[{\"containerID\":0,\"hostID\":$TU_GID,\"size\":1}]" ]
check "oci: no user namespace path is kept" \
	[ "$(jq '[.linux.namespaces[] | select(.type == "user")] | (length == 1 and (.[0].path == null))' "$W/o.json")" = true ]
check "oci: a note says the mappings were replaced" grep -q 'uidMappings.*replaced' "$W/o.err"
tu_run mkfifo "$O/proot"
start=$(date +%s)
tu_run timeout 5 "$B" oci rootless --proot "$O/proot" -i "$O/in.json" > "$W/p.out" 2> "$W/p.err" < /dev/null
rc=$?
check "oci --proot FIFO: refused, no hang (exit $rc, $(($(date +%s) - start)) s)" [ "$rc" = 1 ]
one_line_why() { [ "$(wc -l < "$1")" = 1 ] && grep -q 'not an executable regular file' "$1"; }
check "oci --proot FIFO: one line says why" one_line_why "$W/p.err"
check "oci --proot FIFO: nothing on standard output" [ ! -s "$W/p.out" ]

done_testing
