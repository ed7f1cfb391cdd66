/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "core/actions.h"
#include "install/templates.h"

struct rs_install_opts {
	struct rs_check_opts check;
	enum rs_engine engine;
	const char *self;   /* the rootless-setup binary the unit runs */
	const char *output; /* generate --output DIR */
	bool dry_run, force, no_start, purge;
	bool default_runtime;	/* kata: Podman's default runtime */
	bool containerd_worker; /* buildkit, devkit: --worker containerd */
};

int rs_generate_run(const struct rs_install_opts *o, struct rs_action_report **out,
		    struct rs_error **err);
int rs_install_run(const struct rs_install_opts *o, struct rs_action_report **out,
		   struct rs_error **err);
int rs_uninstall_run(const struct rs_install_opts *o, struct rs_action_report **out,
		     struct rs_error **err);

/* uninstall --purge, run by root: the /run/user/UID that fix made where no
 * logind runs, when nothing but empty directories is left in it
 * (install/rundir.c). */
void rs_uninstall_rundir(struct rs_gen_ctx *f, const struct rs_install_opts *o);
