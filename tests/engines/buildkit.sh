#!/bin/bash
# BuildKit from ../shared/ext (no archive here ships it), as a new user
# would run it: buildkitd and buildctl put in ~/.local/bin, then check (it
# finds them there), install (no systemd user manager here: it starts the
# launch detached), a `buildctl build` of a Dockerfile with a RUN step with
# exactly the command install printed, and uninstall --purge --yes, which
# leaves the home as it was. Three ways: as the user; root installing for
# the user; the containerd worker (buildkitd joining the user's containerd
# launch, as nerdctl's install-buildkit-containerd does). The truth table:
# the report's decisions against what buildkitd used.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/ext.sh"

en_need "buildkit end to end" busybox jq runc containerd
ext_need buildkit || { done_testing; exit; }
en_start "buildkit end to end"

# the binaries, put where a user puts what it installs for itself
cp "$EXT_BUILDKIT/buildkitd" "$EXT_BUILDKIT/buildctl" "$W/" && chmod 755 "$W/buildkitd" "$W/buildctl"
tu_run sh -c "mkdir -p ~/.local/bin && cp '$W/buildkitd' '$W/buildctl' ~/.local/bin/"
check "buildkitd and buildctl in ~/.local/bin, the user's" \
	[ "$(stat -c %U "$TU_HOME/.local/bin/buildkitd" 2>/dev/null)" = "$TU_NAME" ]
tu_on_exit rm -rf "$TU_HOME/.local/bin"
BUILDCTL=$TU_HOME/.local/bin/buildctl

# the build context: Debian's static busybox, a file, a RUN step that
# records who it ran as, its network namespace and interfaces
U=$W/u
install -d -o "$TU_UID" -g "$TU_GID" "$U"
mkdir -p "$W/ctx" && cp "$(command -v busybox)" "$W/ctx/busybox" && echo hello-from-ext > "$W/ctx/hello.txt"
cat > "$W/ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
COPY hello.txt /hello.txt
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /out && /bin/busybox id > /out/id.txt && /bin/busybox cat /hello.txt >> /out/id.txt && /bin/busybox readlink /proc/self/ns/net > /out/netns && /bin/busybox cat /proc/net/dev > /out/netdev"]
EOF
chmod -R a+rX "$W/ctx"
SOCK=$TU_XDG/buildkit/buildkitd.sock

# build LABEL CLIENT: the client command install printed, run as the user
# with the context and an output directory; the build's /out lands in U/LABEL
build() {
	rm -rf "${U:?}/$1"
	tu_run sh -c "$2 --frontend dockerfile.v0 --local context=$W/ctx --local dockerfile=$W/ctx --output type=local,dest=$U/$1" \
		> "$W/build-$1.log" 2>&1
}

# buildkit_truth LABEL REPORT: the worker's snapshotter and the network the
# RUN step had, against the report's decisions
buildkit_truth() {
	local label=$1 rep=$2 snap net netns launcher helper
	snap=$(tu_run "$BUILDCTL" --addr "unix://$SOCK" debug workers -v 2>/dev/null |
		sed -n 's/.*worker.snapshotter:[[:space:]]*//p' | head -1)
	en_truth buildkit "$label/snapshotter" "$(jq -r .decisions.snapshotter "$rep")" "${snap:-none}"
	net=$(jq -r .decisions.network "$rep")
	netns=$(cat "$U/$label/out/netns" 2>/dev/null)
	# the helper is a child of the launcher (the parent of child_pid)
	launcher=$(ps -o ppid= -p "$(cat "$TU_XDG/rootless-setup/buildkit/child_pid" 2>/dev/null)" 2>/dev/null | tr -d ' ')
	helper=$([ -n "$launcher" ] && pgrep -P "$launcher" -l 2>/dev/null |
		grep -oE 'pasta|passt|slirp4netns' | head -1 | sed 's/^passt$/pasta/')
	en_truth buildkit "$label/network" "$net" \
		"$(if [ "$netns" = "$(readlink /proc/self/ns/net)" ]; then echo host; else echo "${helper:-unknown}"; fi)"
}

no_buildkitd() {
	local left
	left=$(pgrep -u "$TU_UID" -x buildkitd | while read -r p; do tu_dead "$p" || echo "$p"; done)
	[ -z "$left" ]
}

# ---- as the user ----
before=$(en_home_digest)
tu_run "$RS" --engine buildkit --format json check > "$W/report.json" 2>/dev/null
check "check finds buildkitd in ~/.local/bin ($(jq -r '.results[] | select(.id == "engine.programs") | .message' "$W/report.json" | cut -c1-80))" \
	sh -c "jq -r '.results[] | select(.id == \"engine.programs\") | .status + \" \" + .message' '$W/report.json' | grep -q '^pass .$TU_HOME/.local/bin/buildkitd'"
tu_run "$RS" --format json check > "$W/default.json" 2>/dev/null
check "check with no --engine selects buildkit (its daemon is the user's)" \
	jq -e '.engines | index("buildkit")' "$W/default.json"
tu_run "$RS" --engine buildkit install > "$W/install.out" 2>&1
check "install succeeds" [ $? -eq 0 ]
sed 's/^/# /' "$W/install.out" | grep -E 'exec|build with|run a build' | cut -c1-240
check "install started the launch (no systemd user manager)" grep -q 'started (no systemd user manager)' "$W/install.out"
check "the unit and the launch run buildkitd from ~/.local/bin by its path" \
	grep -q -- "-- $TU_HOME/.local/bin/buildkitd --config" "$TU_HOME/.config/systemd/user/rootless-setup-buildkit.service"
check "buildkitd's socket is there when install returns" [ -S "$SOCK" ]
client=$(sed -n 's/.*run a build with: \(.*\) --frontend .*/\1/p' "$W/install.out" | head -1)
check "install prints the build command ($client)" [ -n "$client" ]
check "buildkitd runs as the user" sh -c "[ -n \"\$(pgrep -u $TU_UID -x buildkitd)\" ]"
client_abs=${client/buildctl/$BUILDCTL}
build user "$client_abs"
check "buildctl build with the command install printed: the RUN step ran" grep -qx hello-from-ext "$U/user/out/id.txt"
[ -s "$U/user/out/id.txt" ] || tail -5 "$W/build-user.log" | sed 's/^/# /'
check "RUN ran as uid 0 in the build (the user's uid outside)" grep -q '^uid=0(root) gid=0(root)\|^uid=0 gid=0' "$U/user/out/id.txt"
en_truth buildkit user/started "$(jq -r 'if .summary.fail == 0 then "yes" else "no" end' "$W/report.json")" \
	"$(grep -qx hello-from-ext "$U/user/out/id.txt" 2>/dev/null && echo yes || echo no)"
buildkit_truth user "$W/report.json"
out=$(tu_run "$RS" --engine buildkit nsenter -- sh -c 'echo "$BUILDKIT_HOST"' 2>&1)
check "nsenter --engine buildkit enters the launch, BUILDKIT_HOST set ($out)" [ "$out" = "unix://$SOCK" ]
tu_run "$RS" --engine buildkit install > "$W/again.out" 2>&1
check "a second install leaves the running launch alone" sh -c "grep -q 'already running' '$W/again.out' && [ \$(pgrep -u $TU_UID -x buildkitd | wc -l) = 1 ]"
tu_run "$RS" --engine buildkit uninstall --purge --yes > "$W/uninstall.out" 2>&1
check "uninstall --purge --yes succeeds" [ $? -eq 0 ]
check "uninstall stopped the running launch" grep -q 'the running launch: stopped' "$W/uninstall.out"
check "no buildkitd left" no_buildkitd
after=$(en_home_digest)
check "the home as before install" [ "$before" = "$after" ]
[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | head -10 | sed 's/^/# /'
check "the launch's state dir and log are gone" [ ! -e "$TU_XDG/rootless-setup/buildkit" ]

# ---- root installing for the user ----
before=$(en_home_digest)
# root's records of this user as they were (a throwaway uid may have been
# a user's before; compared, not assumed absent)
REC=/var/lib/rootless-setup/users/$TU_UID
rec_before=$(ls -A "$REC" 2> /dev/null | sort)
"$RS" --user "$TU_NAME" --engine buildkit install > "$W/rinstall.out" 2>&1
check "install as root for the user succeeds" [ $? -eq 0 ]
check "root's record, not the user's" sh -c "[ -f /var/lib/rootless-setup/users/$TU_UID/buildkit.json ] && [ ! -e '$TU_HOME/.local/state/rootless-setup/buildkit.json' ]"
pid=$(pgrep -u "$TU_UID" -x buildkitd | head -1)
check "root's install started buildkitd as the user (pid ${pid:-none})" \
	sh -c "[ -n '$pid' ] && [ \"\$(awk '/^Uid:/ {print \$2 \$3 \$4 \$5}' /proc/$pid/status)\" = '$TU_UID$TU_UID$TU_UID$TU_UID' ]"
check "in a session of its own, no terminal" sh -c "[ \"\$(ps -o tty= -p $pid | tr -d ' ')\" = '?' ]"
client=$(sed -n 's/.*run a build with: \(.*\) --frontend .*/\1/p' "$W/rinstall.out" | head -1)
build root "${client/buildctl/$BUILDCTL}"
check "buildctl build against root's install: the RUN step ran" grep -qx hello-from-ext "$U/root/out/id.txt"
[ -s "$U/root/out/id.txt" ] || tail -5 "$W/build-root.log" | sed 's/^/# /'
en_truth buildkit root/started yes "$(grep -qx hello-from-ext "$U/root/out/id.txt" 2>/dev/null && echo yes || echo no)"
"$RS" --user "$TU_NAME" --engine buildkit uninstall --purge --yes > "$W/runinstall.out" 2>&1
check "uninstall --purge --yes as root succeeds" [ $? -eq 0 ]
check "root's uninstall stopped the launch" grep -q 'the running launch: stopped' "$W/runinstall.out"
check "no buildkitd left (root's uninstall)" no_buildkitd
after=$(en_home_digest)
check "the home as before root's install" [ "$before" = "$after" ]
[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | head -10 | sed 's/^/# /'
check "root's records of the user as before install" [ "$(ls -A "$REC" 2> /dev/null | sort)" = "$rec_before" ]

# ---- the containerd worker: buildkitd in the user's containerd launch ----
before=$(en_home_digest)
tu_run "$RS" --engine containerd install > "$W/cinstall.out" 2>&1
check "install --engine containerd succeeds" [ $? -eq 0 ]
tu_run "$RS" --engine buildkit --format json check > "$W/creport.json" 2>/dev/null
tu_run "$RS" --engine buildkit install --worker containerd > "$W/winstall.out" 2>&1
check "install --engine buildkit --worker containerd succeeds" [ $? -eq 0 ]
sed 's/^/# /' "$W/winstall.out" | grep -E 'exec' | cut -c1-240
check "the unit joins containerd's launch and is bound to containerd's unit" \
	sh -c "grep -q 'nsenter --engine containerd -- $TU_HOME/.local/bin/buildkitd --config' '$TU_HOME/.config/systemd/user/rootless-setup-buildkit.service' && grep -qx 'BindsTo=rootless-setup-containerd.service' '$TU_HOME/.config/systemd/user/rootless-setup-buildkit.service'"
check "buildkitd's socket is there when install returns" [ -S "$SOCK" ]
workers=$(tu_run "$BUILDCTL" --addr "unix://$SOCK" debug workers -v 2>&1)
en_truth buildkit containerd/executor containerd "$(sed -n 's/.*worker.executor:[[:space:]]*//p' <<<"$workers" | head -1)"
cver=$(tu_run "$RS" --engine containerd nsenter -- ctr version 2>/dev/null | awk '/^Server:/ {s = 1} s && /Version:/ {print $2; exit}')
client=$(sed -n 's/.*run a build with: \(.*\) --frontend .*/\1/p' "$W/winstall.out" | head -1)
build containerd "${client/buildctl/$BUILDCTL}"
check "containerd worker (containerd ${cver:-?}): the RUN step ran" grep -qx hello-from-ext "$U/containerd/out/id.txt"
[ -s "$U/containerd/out/id.txt" ] || tail -5 "$W/build-containerd.log" | sed 's/^/# /'
en_truth buildkit containerd/started "$(jq -r 'if .summary.fail == 0 then "yes" else "no" end' "$W/creport.json")" \
	"$(grep -qx hello-from-ext "$U/containerd/out/id.txt" 2>/dev/null && echo yes || echo no)"
snap=$(sed -n 's/.*worker.snapshotter:[[:space:]]*//p' <<<"$workers" | head -1)
en_truth buildkit containerd/snapshotter \
	"$(jq -r '.decisions.snapshotter | if . == "overlayfs" then . else "native" end' "$W/creport.json")" "${snap:-none}"
out=$(tu_run "$RS" --engine buildkit nsenter -- sh -c 'readlink /proc/self/ns/user' 2>&1)
check "nsenter --engine buildkit enters containerd's namespaces" \
	[ "$out" = "$(tu_run "$RS" --engine containerd nsenter -- readlink /proc/self/ns/user 2>&1)" ]
tu_run "$RS" --engine buildkit uninstall --purge --yes > "$W/wuninstall.out" 2>&1
check "uninstall --engine buildkit stops the buildkitd that joined containerd" \
	sh -c "grep -q 'the running launch: stopped' '$W/wuninstall.out'"
check "no buildkitd left (containerd worker)" no_buildkitd
check "containerd still runs after buildkit's uninstall" [ -S "$TU_XDG/containerd/containerd.sock" ]
tu_run "$RS" --engine containerd uninstall --purge --yes > "$W/cuninstall.out" 2>&1
check "uninstall --engine containerd --purge --yes succeeds" [ $? -eq 0 ]
after=$(en_home_digest)
check "the home as before (containerd and its buildkit worker)" [ "$before" = "$after" ]
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") | head -10; sed 's/^/# /' "$W/cuninstall.out"; } | sed 's/^/# /'

# ---- refusals ----
"$RS" --engine containerd install --worker containerd > /dev/null 2>&1
check "--worker is for buildkit and devkit: exit 2" [ $? -eq 2 ]
tu_run "$RS" --engine buildkit install --worker nope > /dev/null 2>&1
check "an unknown --worker: exit 2" [ $? -eq 2 ]
done_testing
