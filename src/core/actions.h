/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Actions: what a changing verb (fix, generate, install, uninstall) did or,
 * in a dry run, would do, one step each, printed as text or as the
 * rootless-setup/actions/v1 document. Fixers and templates both record
 * into a struct rs_actions; the verbs print the struct rs_action_report.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "lib/macro.h"

struct rs_report;
struct rs_user;

struct rs_action {
	const char *rule; /* a rule id or a verb name: static */
	char *kind;	  /* write, exec, sysctl, chmod, remove, note */
	char *path;	  /* file, or the program for exec */
	char *detail;	  /* old -> new, what and why */
	bool changed;	  /* would change (dry run) or changed */
	bool failed;
};

/* A command for the user to type next (install: how to start the engine,
 * a first container or build), in the order to type them. */
struct rs_next {
	const char *step; /* start, prepare, pull, run, build: static */
	char *command;	  /* for a shell, as the user */
	bool done;	  /* install did it already (started the engine) */
};

struct rs_actions {
	struct rs_action *a;
	size_t n;
	bool dry_run; /* plan only: nothing is changed or run */
	struct rs_next *next;
	size_t n_next;
};

/* One more action (printf-style detail); the pointer stays valid until the
 * next rs_action_add on the same list. */
struct rs_action *rs_action_add(struct rs_actions *l, const char *rule, const char *kind,
				const char *path, const char *fmt, ...) _printf_(5, 6);
/* One more next command (step static, command copied). */
void rs_action_next(struct rs_actions *l, const char *step, const char *command, bool done);
/* Replaces a's detail (printf-style). */
void rs_action_detail(struct rs_action *a, const char *fmt, ...) _printf_(2, 3);
/* Whether the last action recorded failed (false for an empty list). */
bool rs_actions_last_failed(const struct rs_actions *l);
void rs_actions_clear(struct rs_actions *l);

/* The deadline of a helper run by rs_action_exec: systemd's own default
 * for starting a unit (DefaultTimeoutStartSec), which systemctl --user
 * enable --now waits for. */
#define RS_ACTION_EXEC_TIMEOUT_S 90

/* Runs a root-owned helper (absolute path, clean environment), recorded as
 * an exec action; planned only in a dry run. The helper runs through
 * lib/spawn: its own session, no terminal, its output read by us (the last
 * line of its stderr goes into the failure's detail), at most
 * RS_ACTION_EXEC_TIMEOUT_S, then its process group is killed. Return: 0
 * or <0 (recorded). */
int rs_action_exec(struct rs_actions *l, const char *rule, char *const argv[]);
/* The same with "NAME=value" entries added to that clean environment
 * (env NULL-terminated, may be NULL): systemctl --user finds the user's
 * manager only through XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS. With
 * as (may be NULL) and root running, the helper runs as that user (its
 * groups, no capability, no_new_privs, cwd "/") with the user's
 * allow-listed environment (rs_user_env): root starting a user's unit
 * talks to the user's manager only with the user's credentials, and
 * nothing of root's (terminal, environment, fds) reaches that process. */
int rs_action_exec_env(struct rs_actions *l, const char *rule, char *const argv[],
		       const char *const *env, const struct rs_user *as);

/* What a verb hands its printer: the check it ran and its actions. */
struct rs_action_report {
	struct rs_report *check;
	struct rs_actions acts;
	unsigned changed, failed;
};

/* Takes check and the actions of l (l is left empty). */
struct rs_action_report *rs_action_report_new(struct rs_report *check, struct rs_actions *l);
void rs_action_report_free(struct rs_action_report *r);
/* The rootless-setup/actions/v1 document. */
json_t *rs_action_report_json(const struct rs_action_report *r);
