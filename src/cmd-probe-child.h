/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* argv after "__probe-child"; see src/checks/probe.h. Return: exit code. */
int rs_cmd_probe_child(int argc, char **argv);
