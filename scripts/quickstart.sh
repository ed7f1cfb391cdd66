#!/bin/sh
# Fresh Debian/Ubuntu machine, as root: install what is missing, build, and
# check this host. Pass check options through, e.g. --user alice.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
make
exec ./build/rootless-setup check "$@"
