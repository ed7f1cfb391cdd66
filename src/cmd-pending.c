/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verbs whose issues are still open answer "not implemented yet" (exit 2),
 * so scripts can tell them apart from a run that failed. */
#include "cli.h"

static int pending(struct rs_cli *cli _unused_, int argc _unused_, char **argv)
{
	rs_cli_msg("'%s' is not implemented yet", argv[0]);
	return RS_EXIT_USAGE;
}

const struct rs_cmd rs_cmd_generate = {"generate", "write engine configuration files", pending};
const struct rs_cmd rs_cmd_install = {"install", "check, generate and start an engine", pending};
const struct rs_cmd rs_cmd_uninstall = {"uninstall", "remove what install created", pending};
