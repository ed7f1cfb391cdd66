/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* argv[1] == RS_NETEMB_VERB ("__net-helper"): see src/launch/netemb.h.
 * Return: exit code. */
int rs_cmd_net_helper(void);
