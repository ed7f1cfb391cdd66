/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hidden `__net-helper` entry: the embedded network's helper, a fresh
 * image of the program the launcher starts for --net=libslirp
 * (src/launch/netemb.h). Not a verb: main() hands it over before any
 * option parsing, and it is not listed. Its settings come on fd 4, not
 * argv; run by hand it finds none and exits 1. */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "cmd-net-helper.h"
#include "launch/netemb.h"
#include "lib/macro.h"
#include "lib/strutil.h"

/* --debug: one line on the launcher's stderr (the helper's fd 2 then),
 * control characters escaped (libslirp's and glib's messages may quote
 * what came from the network); one write */
static void helper_log(const char *line)
{
	char buf[600];
	_cleanup_free_ char *e = rs_escape(line);
	int n = snprintf(buf, sizeof(buf) - 1, "rootless-setup: net helper: %s", e ? e : "?");
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n] = '\n';
	(void)!write(2, buf, (size_t)n + 1);
}

int rs_cmd_net_helper(void)
{
	/* exec'd as /proc/self/exe, it would be "exe" in ps and top */
	prctl(PR_SET_NAME, "rs-net-helper");
	return rs_netemb_helper_main(helper_log);
}
