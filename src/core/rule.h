/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <libmount.h>
#include <stdbool.h>
#include "core/distro.h"
#include "core/engine.h"
#include "core/find.h"
#include "host/host.h"
#include "host/parse.h"
#include "host/user.h"
#include "lib/error.h"

/* Severity order: a merged result keeps the most severe. */
enum rs_status {
	RS_STATUS_SKIP,
	RS_STATUS_PASS,
	RS_STATUS_WARN,
	RS_STATUS_FAIL,
};

/* A failed check is a finding, not an error: rules fill one of these. */
struct rs_finding {
	enum rs_status status;
	char *message;
	char *hint;
	/* The rule's fixer cannot act on what was found here (a /dev/kvm that
	 * is not a device, no Kata configuration to copy): the report offers
	 * no `fix` command, the hint says what to do by hand. */
	bool no_fix;
};

struct rs_ctx;
struct rs_fixer; /* src/fixers/fixer.h: what `fix` does for a rule */

struct rs_rule {
	const char *id;	     /* stable (rootless-setup-rules(7)); never renumbered or reused */
	const char *summary; /* one line, for `rules` */
	const char *explain; /* what, why, how to fix: for `explain` */
	unsigned engines;    /* served engines; RS_ENGINES_ALL for common rules */
	bool per_engine;     /* verdict depends on the engine: run once per engine */
	bool needs_user;     /* skip "no target user" without one */
	/* Runs without a target user, but its verdict may change with one (a
	 * device the user may open, the user's own configuration): a fleet run
	 * (check --all-users) runs it again for each user, where it reuses the
	 * host's verdict of every other rule that needs no user. */
	bool reads_user;
	const struct rs_fixer *fixer; /* NULL: no fixer in this version */
	/* Return 0 with *out filled, or <0 when the rule could not decide. */
	int (*run)(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
		   struct rs_error **err);
	/* Begins, before any rule runs, work that waits on something else
	 * (the probe's child and its setuid helpers), so that the other
	 * rules run meanwhile; run collects it (rs_ctx_started). Called only
	 * where run will be. NULL: none. */
	void (*start)(struct rs_ctx *ctx);
};

/* What a rule's start began, until its run collects it: dropped (a child
 * killed and reaped) with the context when it never is. */
struct rs_started {
	const struct rs_rule *rule;
	void *obj;
	void (*drop)(void *obj);
};

#define RS_STARTED_MAX 2

struct rs_probe {
	bool ran;
	bool userns_ok;
	int err;	   /* errno of the failing step */
	const char *stage; /* the failing step: "fork", "unshare(CLONE_NEWUSER)", "newuidmap" ... */
	char *detail;	   /* helper output or mapping summary */
	bool full_map;	   /* mapped with the subordinate ranges, not a single id */
	bool tmpfs_ok;
	bool overlay_tried, overlay_ok;
	int overlay_err;
	char *scratch; /* canonical dir the overlay was tried in */
};

struct rs_ctx {
	struct rs_host *host;
	struct rs_osrelease os;
	struct rs_distro distro;
	char *kernel_release;
	struct rs_kver kver;
	bool kver_ok;
	struct rs_user user;
	bool has_user;
	bool user_is_caller; /* the caller's own XDG_* may be trusted */
	const char *xdg_runtime_dir;
	const char *xdg_data_home;
	const char *xdg_config_home;
	const char *path_env; /* the caller's PATH: searched only for the caller */
	unsigned engines;     /* 0: the common rules only */
	bool postinstall;
	struct libmnt_table *mounts; /* lazily loaded; NULL when unreadable */
	bool mounts_loaded;
	bool mounts_nolib;	   /* NULL because libmount cannot be loaded (host/libs.h) */
	const char *mounts_source; /* the mountinfo read: "proc/1/mountinfo"... */
	struct rs_probe probe;
	enum { RS_CGROUP_UNKNOWN, RS_CGROUP_V1, RS_CGROUP_HYBRID, RS_CGROUP_V2 } cgroup_mode;
	bool systemd_init;	 /* run/systemd/system exists: systemd is PID 1 */
	char *delegated;	 /* controllers delegated to the user's manager, when known */
	bool no_probe;		 /* callers that need static facts only (oci rootless) */
	bool podman_libpod_conf; /* podman.config found Podman < 2.0: libpod.conf */
	/* A --root tree whose proc/ (sys/) is absent or empty: a chroot on disk,
	 * no running kernel behind it. Rules that read them say skip (or warn
	 * "cannot check") instead of concluding from the missing files. */
	bool no_proc, no_sys;
	bool proc_mounted; /* a --root tree whose proc/ is a mounted procfs */
	/* A user's context of a fleet run (check --all-users): the host's
	 * facts above (host, os, distro, kernel, mounts, cgroup layout) are the
	 * host run's, borrowed, never freed with this context. */
	bool shared;
	/* the user-mode network helper decide() picks when network.tun passes
	 * ("pasta", "slirp4netns", or NULL), once known */
	const char *net_helper;
	bool net_helper_known;
	/* the user's own unit directories (~/.config/systemd/user 1,
	 * ~/.local/share/systemd/user 2): looked at, and present; per user */
	unsigned home_units_known, home_units;
	/* answers about this user asked again for each engine (a device
	 * opened as the user): kept for this user's run, never shared */
	struct rs_user_memo *user_memo;
	struct rs_started started[RS_STARTED_MAX]; /* rule->start's work, not yet collected */
	const struct rs_ruleset *rules;		   /* the rules run, from rs_check_opts */
	struct rs_result *results;		   /* one per rule, in rules order */
};

struct rs_result {
	const struct rs_rule *rule;
	struct rs_finding f;
	enum rs_engine engine; /* the engine whose verdict is reported */
	bool selected;	       /* named by --rule (or no --rule given) */
};

/* A table of rules in report order. The core owns none: the one the
 * program runs is the checks layer's (checks/registry.h, rs_rules), which
 * the verbs hand in (rs_check_opts.rules), so that core/ depends on no
 * layer above it. */
struct rs_ruleset {
	const struct rs_rule *const *v; /* NULL-terminated */
	size_t n;
};

const struct rs_rule *rs_rule_find(const struct rs_ruleset *set, const char *id);

void rs_finding_set(struct rs_finding *f, enum rs_status st, const char *fmt, ...) _printf_(3, 4);
void rs_finding_hint(struct rs_finding *f, const char *fmt, ...) _printf_(2, 3);
void rs_finding_clear(struct rs_finding *f);
/* The `fix` command the report offers for res, or NULL: only for a warn or
 * fail of a rule with a fixer that can act on this finding. Caller frees. */
char *rs_result_fix_cmd(const struct rs_result *res);
const char *rs_status_name(enum rs_status st);

/* The result of an earlier rule (rules run in ctx->rules order). */
const struct rs_result *rs_ctx_result(const struct rs_ctx *ctx, const char *id);
/* An answer about the target user kept under key for this context (the
 * user's run), freed with it; NULL when none. */
void *rs_ctx_user_memo(const struct rs_ctx *ctx, const char *key);
void rs_ctx_user_memo_keep(struct rs_ctx *ctx, const char *key, void *obj);
void rs_ctx_user_memo_free(struct rs_ctx *ctx);
/* rule's start keeps what it began (obj, dropped with drop when never
 * taken); its run takes it back, or gets NULL (nothing was begun: the
 * run does the work itself). */
void rs_ctx_started_keep(struct rs_ctx *ctx, const struct rs_rule *rule, void *obj,
			 void (*drop)(void *obj));
void *rs_ctx_started_take(struct rs_ctx *ctx, const struct rs_rule *rule);
void rs_ctx_started_drop(struct rs_ctx *ctx);
/* The cgroup layout (and whether systemd is init) into ctx, once. */
void rs_cgroup_detect(struct rs_ctx *ctx);
/* The parsed proc/self/mountinfo (libmount), or NULL. */
struct libmnt_table *rs_ctx_mounts(struct rs_ctx *ctx);
/* The snapshotter decision from the results so far: overlayfs (the probe's
 * mount, else kernel.overlay-userns), fuse-overlayfs (kernel.fuse-overlayfs,
 * unless storage.fuse found /dev/fuse unusable), else native. */
const char *rs_ctx_snapshotter(const struct rs_ctx *ctx);
/* The user's data dir for engine e (root-relative path, caller frees). */
char *rs_ctx_data_dir(const struct rs_ctx *ctx, enum rs_engine e);
/* The user's runtime dir: XDG_RUNTIME_DIR when trusted, else run/user/UID. */
char *rs_ctx_runtime_dir(const struct rs_ctx *ctx);
/* Reads an integer /proc/sys knob. Return: 0, -ENOENT (absent), or <0. */
int rs_ctx_sysctl(struct rs_ctx *ctx, const char *rel, uint64_t *out);
/* The upstream documentation of a rule (distro data "docs"), or NULL. */
const char *rs_ctx_docs(const struct rs_ctx *ctx, const char *rule_id);
/* A distro hint for rule, else def (may be NULL). */
const char *rs_ctx_hint(const struct rs_ctx *ctx, const char *rule_id, const char *def);
/* The upstream version ("4.3.1") dpkg's database records for the package
 * owning the root-relative path rel, tried as each of the packages in
 * pkgs (NULL-terminated; a package counts only when its file list names
 * rel). NULL when no database says it. Nothing is executed. */
char *rs_ctx_dpkg_version(struct rs_ctx *ctx, const char *const *pkgs, const char *rel);
/* The first of usr/bin, usr/sbin, usr/local/bin, usr/local/sbin, bin, sbin
 * holding program name (root-relative, static storage per call), or NULL. */
const char *rs_ctx_find_program(const struct rs_ctx *ctx, const char *name);
/* Program name of engine e where the target user would run it from
 * (core/find.h: the caller's PATH when the caller is the user, the user's
 * ~/.local/bin and ~/bin, the system directories, the engine's opt_dir).
 * Return: 1 found (out->path), 0 not (out->refused may say why). */
int rs_ctx_find_engine(const struct rs_ctx *ctx, enum rs_engine e, const char *name,
		       struct rs_found *out);
/* The shared library soname ("libslirp.so.0") in a multiarch directory of
 * usr/lib or lib, or in usr/lib64, lib64, usr/lib, lib, usr/local/lib
 * (root-relative, static storage per call), or NULL. */
const char *rs_ctx_find_library(const struct rs_ctx *ctx, const char *soname);
/* The library of the launcher's embedded network (--net=libslirp), which
 * its helper opens (src/host/libs.c) */
#define RS_LIBSLIRP_SONAME "libslirp.so.0"
/* "apt-get install -y uidmap" for a package key, or NULL. */
char *rs_ctx_install_cmd(const struct rs_ctx *ctx, const char *pkg_key);
