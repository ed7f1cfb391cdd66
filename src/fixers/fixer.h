/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * `fix`: fixers for the rules check found failing or warning. Each fixer
 * plans its change, and applies it unless this is a dry run; every step is
 * an action (core/actions.h). Writes go through the safe-write module.
 */
#include "core/actions.h"
#include "core/check.h"

struct rs_fix_opts {
	struct rs_check_opts check;
	bool dry_run;
	bool force; /* override an admin's restrictive setting */
};

struct rs_fix_ctx {
	const struct rs_fix_opts *o;
	struct rs_ctx *ctx;
	struct rs_actions acts; /* .dry_run is o->dry_run */
};

/* A rule's fixer, named by the rule's descriptor (.fixer). */
struct rs_fixer {
	/* Fixers run by ascending order, so one that makes what another needs
	 * runs first (the kvm group before the device that is chowned to it);
	 * equal orders keep report order. */
	int order;
	/* Appends actions; returns <0 only when it could not even plan. */
	int (*run)(struct rs_fix_ctx *f, const struct rs_result *res);
	/* A user may run it for itself without root: everything it changes
	 * is the caller's own (runtime.dir's directory under the home). */
	bool user_may;
};

/* Whether every change in r is one a user may make for itself (the
 * fixers of its changed actions all have user_may). */
bool rs_fix_user_may(const struct rs_action_report *r);

/* Runs check (no probe), then the fixer of every selected rule that warns
 * or fails. Return: 0, or <0 as rs_check_run. */
int rs_fix_run(const struct rs_fix_opts *o, struct rs_action_report **out, struct rs_error **err);

/* For the fixers: one more action on f's list (printf-style detail). */
#define rs_fix_action(f, ...) rs_action_add(&(f)->acts, __VA_ARGS__)

/* Writes rel (root:root, mode for a new file) through the safe-write
 * module, creating missing parent directories (0755), and records the
 * action. Return: 1 changed, 0 unchanged, <0 failed (recorded). */
int rs_fix_write(struct rs_fix_ctx *f, const char *rule, const char *rel, const char *text,
		 mode_t mode, const char *detail);
/* Runs a root-owned helper on a live host: rs_action_exec on f's list. */
static inline int rs_fix_exec(struct rs_fix_ctx *f, const char *rule, char *const argv[])
{
	return rs_action_exec(&f->acts, rule, argv);
}
/* Whether live kernel and system state may be changed here: a live host,
 * not inside a container; *why says why not. */
bool rs_fix_live(struct rs_fix_ctx *f, const char **why);

/* Adds the user to group (created when missing). Return: 0 or <0. */
int rs_fix_group_member(struct rs_fix_ctx *f, const char *rule, const char *group);
/* kernel.apparmor_restrict_unprivileged_userns = 0, for fix --force only. */
int rs_fix_apparmor_knob(struct rs_fix_ctx *f);
