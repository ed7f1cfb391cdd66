#!/bin/bash
# A fixture host tree with N users, for the fleet benchmark and tests:
#   bench/fleet-tree.sh N DESTDIR [SCENARIO]
# SCENARIO (tests/fixtures/mkhost.sh, default debian12-healthy) gives the
# host; then N users u000001... (uid 20000+i, a group of their own, a
# 0700 home, every one a member of "users"), each with a 65536-id range
# in etc/subuid and etc/subgid, and N/10 more range owners x000001...
# with no passwd line (accounts removed, or only in LDAP), which a fleet
# run reports as errors. Every 4th user has a runtime dir
# (run/user/UID, 0700). Needs root, as mkhost.sh does.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
N=${1:?usage: fleet-tree.sh N DESTDIR [SCENARIO]}
D=${2:?usage: fleet-tree.sh N DESTDIR [SCENARIO]}
case $N in '' | *[!0-9]*) echo "fleet-tree.sh: N must be a number: '$N'" >&2; exit 2 ;; esac
bash "$HERE/../tests/fixtures/mkhost.sh" "${3:-debian12-healthy}" "$D"
R=$(cd "$D" && pwd)
awk -v n="$N" -v r="$R" '
	BEGIN {
		g = r "/etc/group"; p = r "/etc/passwd"; su = r "/etc/subuid"; sg = r "/etc/subgid"
		for (i = 1; i <= n; i++) {
			name = sprintf("u%06d", i); uid = 20000 + i
			printf "%s:x:%d:%d:User %d,,,:/home/%s:/bin/bash\n", name, uid, uid, i, name >> p
			printf "%s:x:%d:\n", name, uid >> g
			lo = 1000000 + (i - 1) * 65536
			printf "%s:%d:65536\n", name, lo >> su
			printf "%s:%d:65536\n", name, lo >> sg
		}
		for (i = 1; i <= int(n / 10); i++) {
			lo = 1000000 + (n + i - 1) * 65536
			printf "x%06d:%d:65536\n", i, lo >> su
			printf "x%06d:%d:65536\n", i, lo >> sg
		}
	}'
# every user in "users": one long etc/group line, as on a campus server
awk -v n="$N" -F: 'BEGIN { OFS = ":" }
	$1 == "users" { for (i = 1; i <= n; i++) $4 = $4 sprintf(",u%06d", i) } { print }' \
	"$R/etc/group" > "$R/etc/group.new"
mv "$R/etc/group.new" "$R/etc/group"
# homes and run dirs in one process (perl-base is in every Debian)
perl -e '
	my ($r, $n) = @ARGV;
	umask 0;
	for my $i (1 .. $n) {
		my ($name, $uid) = (sprintf("u%06d", $i), 20000 + $i);
		mkdir("$r/home/$name", 0700) or die "mkdir: $!";
		chown($uid, $uid, "$r/home/$name") or die "chown: $!";
		next if $i % 4;
		mkdir("$r/run/user/$uid", 0700) or die "mkdir: $!";
		chown($uid, $uid, "$r/run/user/$uid") or die "chown: $!";
	}' "$R" "$N"
