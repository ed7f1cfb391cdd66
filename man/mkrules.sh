#!/bin/sh
# rootless-setup-rules(7) in scdoc, from the program's own rule table and
# explanations, so the page cannot drift from the code.
set -eu
bin=$1
printf 'rootless-setup-rules(7)\n\n# NAME\n\nrootless-setup-rules - the rules of rootless-setup check\n\n'
printf '# DESCRIPTION\n\nOne entry per rule id: what it checks, why, the hints of each distro\n'
printf 'profile, and its fixer. The ids are stable.\n\n# RULES\n\n'
"$bin" rules --format json | jq -r '.[].id' | while read -r id; do
	printf '## %s\n\n' "$id"
	"$bin" explain "$id" | sed -e 's/^Per-distro hints:/Per-distro hints:\n/' -e 's/^  \([a-z0-9]*\): /- *\1*: /'
	printf '\n'
done
printf '# SEE ALSO\n\n*rootless-setup*(8)\n'
