#!/bin/bash
# containerd the way nerdctl's containerd-rootless.sh runs it, with
# `rootless-setup launch` standing in for RootlessKit through a `rootlesskit`
# shim first on the user's PATH. Debian 12 packages neither nerdctl nor its
# script, so the test carries a script of its own that does what that one
# does: the parent execs `rootlesskit` with its flag set (--state-dir,
# --net=slirp4netns --mtu=65520, --slirp4netns-sandbox/-seccomp=auto,
# --disable-host-loopback, --port-driver=builtin, --copy-up of /etc, /run and
# /var/lib, --propagation=rslave, and --detach-netns when `rootlesskit
# --help` lists it) and itself; the child removes the copy-up links of
# /run/containerd, /var/lib/containerd and /etc/containerd, rebinds /etc/ssl
# over its link, bind-mounts the user's XDG directories on the paths
# containerd hard-codes and execs containerd with no -c: its defaults
# (/etc/containerd/config.toml, /run/containerd/containerd.sock,
# /var/lib/containerd) land in the user's directories. Then ctr, through
# `rootless-setup nsenter`, runs a busybox container, and TERM to the
# launcher stops everything.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/testuser.sh"

for b in containerd ctr runc busybox slirp4netns setfacl jq; do
	command -v $b >/dev/null || { skip "containerd-rootless" "$b is not installed"; done_testing; exit; }
done
[ -c /dev/net/tun ] || { skip "containerd-rootless" "no /dev/net/tun"; done_testing; exit; }
tu_setup || { skip "containerd-rootless" "no test user"; done_testing; exit; }
tu_bin || { skip "scratch copy of the binary" "cannot copy it"; done_testing; exit; }
W=$TU_WORK
RS=$TU_BIN
mkdir -p "$W/bin"
printf '#!/bin/sh\nexec %s launch "$@"\n' "$RS" > "$W/bin/rootlesskit"
UPATH="$W/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
if setfacl -m "u:$TU_UID:rw" /dev/net/tun; then
	tu_on_exit setfacl -x "u:$TU_UID" /dev/net/tun
else
	skip "containerd-rootless" "cannot give the user an ACL on /dev/net/tun"; done_testing; exit
fi

# our script in containerd-rootless.sh's manner (its flags and mounts)
cat > "$W/bin/crs" <<'SH'
#!/bin/sh
set -e
: "${XDG_DATA_HOME:=$HOME/.local/share}" "${XDG_CONFIG_HOME:=$HOME/.config}"
if [ -z "${_CRS_CHILD:-}" ]; then
	export _CRS_CHILD=1
	extra=
	rootlesskit --help | grep -qw -- --detach-netns && extra=--detach-netns
	exec rootlesskit --state-dir="$XDG_RUNTIME_DIR/containerd-rootless" \
		--net=slirp4netns --mtu=65520 --slirp4netns-sandbox=auto --slirp4netns-seccomp=auto \
		--disable-host-loopback --port-driver=builtin \
		--copy-up=/etc --copy-up=/run --copy-up=/var/lib --propagation=rslave \
		$extra "$0" "$@"
fi
rm -f /run/containerd /run/xtables.lock /var/lib/containerd /var/lib/cni /etc/containerd
ssl=$(realpath /etc/ssl)
rm -f /etc/ssl && mkdir /etc/ssl && mount --rbind "$ssl" /etc/ssl
for m in "$XDG_RUNTIME_DIR/containerd:/run/containerd" "$XDG_DATA_HOME/containerd:/var/lib/containerd" \
	"$XDG_CONFIG_HOME/containerd:/etc/containerd"; do
	mkdir -p "${m%%:*}" "${m#*:}"
	mount --bind "${m%%:*}" "${m#*:}"
done
exec containerd "$@"
SH
chmod 755 "$W/bin" "$W/bin/crs" "$W/bin/rootlesskit"
# containerd's default config path, in the user's XDG_CONFIG_HOME
mkdir -p "$TU_HOME/.config/containerd"
printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' > "$TU_HOME/.config/containerd/config.toml"
chown -R "$TU_UID:$TU_GID" "$TU_HOME/.config"

S="$TU_XDG/containerd-rootless"
tu_run env PATH="$UPATH" crs > "$W/containerd.log" 2>&1 &
lp=$!
NS() { tu_run env PATH="$UPATH" "$RS" nsenter --state-dir="$S" -- "$@"; }
up=
for _ in $(seq 100); do
	NS ctr version >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$lp" 2>/dev/null || break
	sleep 0.1
done
check "containerd is up under the shim with containerd-rootless.sh's flags" [ -n "$up" ]
[ -n "$up" ] || tail -15 "$W/containerd.log" | sed 's/^/# /'
check "its default socket /run/containerd/containerd.sock is the user's \$XDG_RUNTIME_DIR/containerd" \
	[ -S "$TU_XDG/containerd/containerd.sock" ]
check "its default root /var/lib/containerd is the user's ~/.local/share/containerd" \
	[ -d "$TU_HOME/.local/share/containerd/io.containerd.content.v1.content" ]
check "the host's /run/containerd and /var/lib/containerd are untouched" \
	[ ! -S /run/containerd/containerd.sock -o "$(stat -c %U /run/containerd/containerd.sock 2>/dev/null)" = root ]
out=$(NS sh -c 'readlink /proc/1/ns/net; stat -c %F /etc/ssl; findmnt -no PROPAGATION /')
check "inside: /etc/ssl rebound as a directory over its copy-up link" grep -qx directory <<<"$out"
# rslave: a slave of the host's / where that is shared; a private / (this
# machine's, perhaps) has no peer to be a slave of and stays private
want=private
case $(findmnt -no PROPAGATION /) in shared*) want=slave ;; esac
check "inside: / is $want (--propagation=rslave, the host's / is $(findmnt -no PROPAGATION /))" \
	[ "$(tail -1 <<<"$out")" = $want ]
[ "$(tail -1 <<<"$out")" = $want ] || echo "$out" | sed 's/^/# /'

if grep -q -- --detach-netns "$W/containerd.log" 2>/dev/null || [ -e "$S/netns" ]; then
	check "--detach-netns: STATE/netns is there for containers" [ -e "$S/netns" ]
fi

B="$W/bundle"
mkdir -p "$B/rootfs/bin" "$B/rootfs/proc" "$B/rootfs/dev" "$B/rootfs/sys" "$B/rootfs/tmp"
cp "$(command -v busybox)" "$B/rootfs/bin/busybox"
chown -R "$TU_UID" "$B"
NS sh -c "cd '$B' && runc spec --rootless"
jq '.process.terminal = false | .process.args = ["/bin/busybox", "echo", "hello-from-busybox"] | .root.path = "'"$B/rootfs"'"' \
	"$B/config.json" > "$B/c.json" && mv "$B/c.json" "$B/config.json"
chown "$TU_UID" "$B/config.json"
out=$(NS ctr run --rm --config "$B/config.json" --cgroup "" bb1 2>&1)
check "ctr runs a busybox container on the default socket" grep -qx hello-from-busybox <<<"$out"
[ -n "$(grep -x hello-from-busybox <<<"$out")" ] || echo "$out" | tail -5 | sed 's/^/# /'

launcher=$(pgrep -u "$TU_UID" -f "^$RS launch " | head -1)
[ -n "$launcher" ] && kill -TERM "$launcher"
for _ in $(seq 100); do kill -0 "$lp" 2>/dev/null || break; sleep 0.1; done
wait "$lp" 2>/dev/null
sleep 0.3
left=$(pgrep -u "$TU_UID" | while read -r p; do tu_dead "$p" || echo "$p"; done)
check "TERM to the launcher stops containerd; no process of the user is left" [ -z "$left" ]
[ -z "$left" ] || ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" | sed 's/^/# left: /'
check "the launch's state is gone" [ ! -e "$S/child_pid" ]
done_testing
