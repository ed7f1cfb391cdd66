/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <jansson.h>
#include "core/rule.h"

/* What `check` is asked; the verb fills it from argv and the environment
 * (the core reads neither). */
struct rs_check_opts {
	const char *root;   /* NULL: the live host */
	const char *user;   /* --user, or NULL */
	unsigned engines;   /* --engine mask */
	bool engines_given; /* else: engines whose daemon is installed */
	const char *distro; /* --distro, or NULL */
	bool postinstall;
	/* root naming nobody (no --user, SUDO_USER, PKEXEC_UID) checks the
	 * host only: the per-user rules skip. Else (verbs that act for a user)
	 * root itself is the target, with a warning. */
	bool host_only;
	const char *sudo_user; /* SUDO_USER / PKEXEC_UID of a root caller */
	const char *pkexec_uid;
	const char *xdg_runtime_dir; /* the caller's; used only for the caller */
	const char *xdg_data_home;
	const char *xdg_config_home;
	const char *path;	 /* the caller's PATH; searched only when the caller is the user */
	const char *const *only; /* --rule ids (validated by the verb), NULL-terminated */
	bool no_probe;		 /* skip the live probe (static facts only) */
	/* the rules to run, in report order: the verbs pass checks/registry.h's
	 * rs_rules (the core sees no layer above it) */
	const struct rs_ruleset *rules;
};

struct rs_report {
	struct rs_ctx ctx;
	const char *snapshotter;    /* overlayfs | fuse-overlayfs | native */
	const char *network;	    /* pasta | slirp4netns | libslirp | host */
	const char *cgroup_manager; /* systemd | cgroupfs | none */
	unsigned counts[4];	    /* by enum rs_status, selected rules only */
	struct rs_strv notes;	    /* one-line warnings for stderr */
};

/*
 * Runs every rule against the host and decides snapshotter, network and
 * cgroup manager. Return: 0; -EINVAL or -ENOENT when an argument names
 * nothing (unknown user or distro: a usage error); other <0 when the host
 * cannot be inspected at all.
 */
int rs_check_run(const struct rs_check_opts *o, struct rs_report **out, struct rs_error **err);
void rs_report_free(struct rs_report *r);

/*
 * A fleet run (check --all-users): the host once, then each user against
 * it. open runs the host-wide rules with no target user (as --postinstall
 * does) and hands that report out in *host (the fleet's; freed with it).
 * check runs, for one user, the rules that need a user or read one
 * (rule.h, reads_user) and takes the host's verdict of every other rule,
 * then decides as rs_check_run does: the same report as `check --user` on
 * the same host, at the cost of the user's own rules. One host handle for
 * all: each host file is read once per fleet run (host/cache.c).
 * Return: as rs_check_run; check's -ENOENT / -EINVAL is that user unknown.
 */
struct rs_fleet;
int rs_fleet_open(const struct rs_check_opts *o, struct rs_fleet **out,
		  const struct rs_report **host, struct rs_error **err);
/* The users --all-users covers (rootless-setup(8)): every owner of a range
 * in etc/subuid, then in etc/subgid, in file order, each account once (an
 * owner named by uid is the account of that uid). Return: 0, or -errno
 * with *err when a file exists but cannot be read. */
int rs_fleet_users(struct rs_fleet *f, struct rs_strv *out, struct rs_error **err);
int rs_fleet_check(struct rs_fleet *f, const char *user, struct rs_report **out,
		   struct rs_error **err);
void rs_fleet_free(struct rs_fleet *f);
/* The rootless-setup/report/v1 document (rootless-setup(8), JSON OUTPUT); caller decrefs. */
json_t *rs_report_json(const struct rs_report *r);
/* Its parts, for documents that carry them (diagnosis/v1, the fleet
 * reports): "host" (with "user"), "engines", the selected rules' results,
 * one entry of "results", "decisions". Caller decrefs. */
json_t *rs_report_host_json(const struct rs_report *r);
json_t *rs_report_engines_json(const struct rs_report *r);
json_t *rs_report_results_json(const struct rs_report *r);
json_t *rs_result_json(const struct rs_ctx *ctx, const struct rs_result *res);
json_t *rs_report_decisions_json(const struct rs_report *r);
