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
/* The rootless-setup/report/v1 document (rootless-setup(8), JSON OUTPUT); caller decrefs. */
json_t *rs_report_json(const struct rs_report *r);
/* Its parts, for documents that carry them (diagnosis/v1): the host, the
 * engines checked, and the selected rules' results. */
json_t *rs_report_host_json(const struct rs_report *r);
json_t *rs_report_engines_json(const struct rs_report *r);
json_t *rs_report_results_json(const struct rs_report *r);
