# shellcheck shell=bash
# Engines no package archive ships (BuildKit, iSulad), run for real from
# ../shared/ext beside the repository (sourced, bash, after tap.sh).
#
#   . tests/lib/ext.sh
#   ext_need buildkit || { done_testing; exit; }
#   "$EXT_BUILDKIT/buildkitd" --version
#
# ext_need NAME finds the archive NAME-*.tar.xz (or NAME.*.tar.xz) that
# ext's SHA256SUMS lists, checks its hash, and unpacks it once into
# build/ext/HASH/ (a cache keyed by the archive's hash: a second run, or
# another suite, reuses it; a changed archive gets a directory of its own).
# It sets EXT_<NAME> (upper case, '-' as '_') to that directory, and
# EXT_ROOT to ext itself (its recipe/ and src/).
#
# Without ext (a lone clone) the suite is skipped, saying why, also under
# RS_TESTS_MUST_WORK=1: its absence is a fact of the machine, like a
# missing architecture. With ext present, anything else that stops the
# engine (the archive not listed, a wrong hash, an unpack that fails) is a
# failure, never a skip; so is every later step of the suite.
#
# Environment: RS_EXT_DIR (default: ../shared/ext from the repository root).

EXT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EXT_ROOT=${RS_EXT_DIR:-$(cd "$EXT_REPO/.." && pwd)/shared/ext}
EXT_CACHE=$EXT_REPO/build/ext

# ext_skip NAME WHY: a skip that RS_TESTS_MUST_WORK does not turn into a
# failure (for what the machine lacks, not what the code got wrong).
ext_skip() {
	T_N=$((T_N + 1)); T_SKIP=$((T_SKIP + 1))
	echo "ok $T_N - $1 # SKIP $2"
}

# ext_present: ext exists beside the repository, with its SHA256SUMS.
ext_present() {
	[ -d "$EXT_ROOT" ] && [ -f "$EXT_ROOT/SHA256SUMS" ]
}

# ext_archive NAME: "HASH FILE" of NAME's archive in SHA256SUMS (top level).
ext_archive() {
	awk -v n="$1" '
		{ f = $2; sub(/^\*/, "", f) }
		f !~ /\// && (index(f, n "-") == 1 || index(f, n ".") == 1) && f ~ /\.tar\.xz$/ {
			print $1, f; exit
		}' "$EXT_ROOT/SHA256SUMS"
}

# ext_unpack HASH FILE: the cache directory of that archive, made when
# missing (unpacked beside it, then renamed: a reader never sees half).
ext_unpack() {
	local hash=$1 file=$2 dir tmp lock rc=0
	dir=$EXT_CACHE/${hash:0:16}
	[ -f "$dir/.complete" ] && { echo "$dir"; return 0; }
	mkdir -p "$EXT_CACHE" || return 1
	chmod 755 "$EXT_REPO/build" "$EXT_CACHE" 2>/dev/null
	exec {lock}> "$EXT_CACHE/.lock" || return 1
	flock -w 600 "$lock" || { exec {lock}>&-; return 1; }
	if [ ! -f "$dir/.complete" ]; then
		rm -rf "$dir"
		tmp=$(mktemp -d "$EXT_CACHE/.unpack.XXXXXX") &&
			tar -C "$tmp" --no-same-owner -xJf "$EXT_ROOT/$file" &&
			chmod -R u+rwX,go+rX,go-w "$tmp" && chmod 755 "$tmp" &&
			echo "$hash  $file" > "$tmp/.complete" && mv -T "$tmp" "$dir" || rc=1
		[ "$rc" = 0 ] || rm -rf "$tmp"
	fi
	exec {lock}>&-
	[ "$rc" = 0 ] && echo "$dir"
}

# ext_need NAME: NAME's archive verified and unpacked; EXT_<NAME> set.
# Return: 0 ready, 1 skipped (no ext, or not an amd64 machine), 2 failed
# (ext present, yet NAME cannot be had: reported as not ok).
ext_need() {
	local name=$1 var line hash file have dir
	var=EXT_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')
	if ! ext_present; then
		ext_skip "$name from ext" "no '$EXT_ROOT' with its SHA256SUMS beside the repository (a lone clone): $name is not packaged by the distribution, so it cannot be run here"
		return 1
	fi
	if [ "$(uname -m)" != x86_64 ]; then
		ext_skip "$name from ext" "ext holds amd64 builds; this machine is $(uname -m)"
		return 1
	fi
	line=$(ext_archive "$name")
	if [ -z "$line" ]; then
		not_ok "$name from ext: '$EXT_ROOT/SHA256SUMS' lists no $name-*.tar.xz"
		return 2
	fi
	read -r hash file <<<"$line"
	have=$(sha256sum < "$EXT_ROOT/$file" 2>/dev/null | cut -d' ' -f1)
	if [ "$have" != "$hash" ]; then
		not_ok "$name from ext: '$EXT_ROOT/$file' does not match SHA256SUMS (${have:-unreadable})"
		return 2
	fi
	if ! dir=$(ext_unpack "$hash" "$file"); then
		not_ok "$name from ext: cannot unpack '$EXT_ROOT/$file' into '$EXT_CACHE'"
		return 2
	fi
	printf -v "$var" '%s' "$dir"
	diag "ext: $file (sha256 ${hash:0:16}...) in $dir"
	return 0
}
