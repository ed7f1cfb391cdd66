/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by launch.c (parent) and child.c (inside the namespaces). */
#include "launch/launch.h"

/* The child's report over the sync pipe: setup failures and exec failures
 * come back as one of these; a clean exec closes the pipe (O_CLOEXEC). */
struct rs_child_msg {
	int code; /* RS_LAUNCH_EXIT_* */
	int err;
	char msg[512];
};

struct rs_child_args {
	const struct rs_launch_opts *o;
	const char *state_dir;
	int from_parent; /* 'm' (mapped), then 'g' (go) */
	int to_parent;   /* 'r' (ready) or a struct rs_child_msg */
	bool single_map;
	unsigned char dns[4];
};

_noreturn_ void rs_launch_child(const struct rs_child_args *a);
/* Reads exactly n bytes; Return: 0, -EPIPE at EOF, -ETIMEDOUT, -errno. */
int rs_read_full(int fd, void *buf, size_t n, int timeout_ms);
int rs_write_full(int fd, const void *buf, size_t n);
