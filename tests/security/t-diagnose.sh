#!/bin/bash
# `diagnose --log FILE` run by root for a user reads a file the user named
# and controls. The user plants what root would regret reading or waiting
# on: a symlink to /etc/shadow, one to a root-only file, a FIFO, a device,
# a directory, a large file, and terminal escapes. Root must follow no
# symlink the user made and read as the user whose directory holds the file
# (rs_guarded_read_tail), refuse what is not a regular file before any
# read, bound what it reads, and show nothing unescaped.
#
#   RS_TEST_USER=name bash tests/security/t-diagnose.sh   (as root)
# shellcheck disable=SC2016
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$HERE/../lib/tap.sh"
# shellcheck source=tests/lib/testuser.sh
. "$HERE/../lib/testuser.sh"

if [ "$(id -u)" != 0 ]; then
	skip "diagnose --log attacks" "needs root (root reads a log for the throwaway user)"
	done_testing
	exit
fi
if [ ! -x "$RS_BIN" ]; then
	echo "Bail out! $RS_BIN is not built (make)"
	exit 1
fi
tu_setup || { echo "Bail out! cannot set up the test user"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/rs-sec-diag.XXXXXX") || exit 1
chmod 0700 "$W"
tu_on_exit rm -rf "$W"
SECRET=rs-secret-$$-$RANDOM
printf 'newuidmap: Could not set caps %s\n' "$SECRET" > "$W/root-only.log"
chmod 0600 "$W/root-only.log"

# diag_log NAME: root's diagnose of the user's ~/NAME; sets OUT and RC
diag_log() {
	OUT=$(timeout 30 "$RS_BIN" --user "$TU_NAME" diagnose --log "$TU_HOME/$1" 2>&1)
	RC=$?
}

tu_run ln -s /etc/shadow "$TU_HOME/shadow.log"
diag_log shadow.log
check "a symlink to /etc/shadow the user made is not followed (exit $RC)" \
	sh -c '[ "$1" = 2 ] && ! grep -q "^root:" <<EOF
$2
EOF' _ "$RC" "$OUT"

tu_run ln -s "$W/root-only.log" "$TU_HOME/secret.log"
diag_log secret.log
check "a symlink to a root-only log: nothing of it shown (exit $RC)" \
	sh -c '[ "$1" = 2 ] && case "$2" in *"$3"*) false ;; *) true ;; esac' _ "$RC" "$OUT" "$SECRET"

tu_run mkfifo "$TU_HOME/fifo.log"
start=$(date +%s)
diag_log fifo.log
check "a FIFO is refused before any read, not waited on (exit $RC, $(($(date +%s) - start)) s)" \
	sh -c '[ "$1" = 2 ] && [ "$2" -lt 20 ]' _ "$RC" "$(($(date +%s) - start))"

tu_run ln -s /dev/zero "$TU_HOME/zero.log"
diag_log zero.log
check "a device is refused, not read forever (exit $RC)" [ "$RC" = 2 ]

tu_run mkdir "$TU_HOME/dir.log"
diag_log dir.log
check "a directory is refused (exit $RC)" [ "$RC" = 2 ]

tu_run sh -c 'head -c 8000000 /dev/zero | tr "\0" "x" > "$HOME/big.log"; printf "\nnewuidmap: Could not set caps\n" >> "$HOME/big.log"'
OUT=$(timeout 60 "$RS_BIN" --user "$TU_NAME" diagnose --format json --log "$TU_HOME/big.log" 2>/dev/null)
RC=$?
check "an 8 MB log: only its end is read, the error at the end found (exit $RC)" \
	sh -c 'jq -e ".input.truncated and .input.bytes <= 1048576 and .matches[0].id == \"newuidmap-not-setuid\"" >/dev/null <<EOF
$1
EOF' _ "$OUT"

tu_run sh -c 'printf "\033]0;owned\007\033[2Jnewuidmap: Could not set caps\n" > "$HOME/esc.log"'
diag_log esc.log
check "terminal escapes the user wrote are shown escaped" \
	sh -c '! printf %s "$1" | grep -q "$(printf "\033")" && printf %s "$1" | grep -qF "\\x1b"' _ "$OUT"

done_testing
