/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hidden `__probe-child` entry: the fresh image the userns.probe rule
 * starts for the target user (src/checks/probe.h). Not a verb: main()
 * hands it argv before any option parsing, and it is not listed. */
#include <sys/prctl.h>
#include "cli.h"
#include "cmd-probe-child.h"
#include "checks/probe.h"

int rs_cmd_probe_child(int argc, char **argv)
{
	struct rs_probe_child_args a;

	/* execveat names the process after the fd ("4"); ps and the user
	 * should see what it is */
	prctl(PR_SET_NAME, "rootless-setup");
	if (rs_probe_child_parse(argc, argv, &a) < 0)
		return RS_EXIT_USAGE;
	int r = rs_probe_child_run(&a);
	rs_probe_child_args_clear(&a);
	return r < 0 ? RS_EXIT_USAGE : RS_EXIT_OK;
}
