/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

/* The engines rootless-setup prepares; the order is the order of reports. */
enum rs_engine {
	RS_ENGINE_ISULAD,
	RS_ENGINE_CONTAINERD,
	RS_ENGINE_BUILDKIT,
	RS_ENGINE_DEVKIT,
	RS_ENGINE_PODMAN,
	RS_ENGINE_KATA,
	RS_ENGINE_OCI,
	RS_ENGINE_COUNT,
	RS_ENGINE_NONE = RS_ENGINE_COUNT, /* the common rules, no engine chosen */
};

#define RS_ENGINE_BIT(e) (1u << (e))
#define RS_ENGINES_ALL	 ((1u << RS_ENGINE_COUNT) - 1)
/* the BuildKit family: a rule's verdict for BuildKit is DevKit's too */
#define RS_ENGINES_BUILDKIT (RS_ENGINE_BIT(RS_ENGINE_BUILDKIT) | RS_ENGINE_BIT(RS_ENGINE_DEVKIT))
/* engines that keep images on a snapshotter / graph driver */
#define RS_ENGINES_STORAGE                                                       \
	(RS_ENGINE_BIT(RS_ENGINE_ISULAD) | RS_ENGINE_BIT(RS_ENGINE_CONTAINERD) | \
	 RS_ENGINES_BUILDKIT | RS_ENGINE_BIT(RS_ENGINE_PODMAN))

/*
 * Everything rootless-setup knows of an engine's layout, in one place:
 * check, generate, install, uninstall and nsenter read it from here. Paths
 * are relative: "home" is the user's home, "run" the user's runtime dir
 * ($XDG_RUNTIME_DIR), "config" the config home (~/.config).
 */
struct rs_engine_info {
	const char *name;
	const char *title;	      /* for people: "containerd", "BuildKit" */
	const char *const *programs;  /* names; any found (core/find.h) selects it by default */
	const char *opt_dir;	      /* its own tree's bin below /opt (root-relative), or NULL */
	const char *data_dir;	      /* below home, or NULL */
	const char *daemon;	      /* the program the user unit runs, or NULL */
	const char *config;	      /* the daemon's configuration below config, or NULL */
	const char *run_dir;	      /* the daemon's state below run, or NULL */
	const char *socket;	      /* its API socket below run, or NULL */
	const char *rootful_socket;   /* the rootful daemon's socket, root-relative, or NULL */
	const char *client_var;	      /* the client variable naming the socket, or NULL */
	bool client_url;	      /* its value is unix://SOCKET (else the bare path) */
	const char *const *more_data; /* more of the engine's data below home (purge) */
	/* How a container is run, as install prints it: the client's run
	 * command (after `rootless-setup nsenter --engine NAME --` when the
	 * engine has a launch), and the flags it needs where the user cannot
	 * use cgroups (cgroup v1 or hybrid, or v2 without delegation), which
	 * no configuration file of the engine can set. */
	const char *client_run;
	const char *client_args; /* what follows client_run: "IMAGE ID [COMMAND]" */
	const char *client_what; /* what client_run runs: "a build"; NULL: "a container" */
	/* the client reaches the daemon through client_var alone (BuildKit's
	 * buildctl), not inside the launch (nsenter --engine NAME) */
	bool client_direct;
	const char *no_cgroup_flags;
	/* The first container (or build) install prints as the next command
	 * (rootless-setup(8) JSON OUTPUT: "next"), each step after the
	 * client's prefix as for client_run: first_prep a plain shell
	 * command that readies it (BuildKit: a Dockerfile), first_pull the
	 * client's pull (NULL: the run pulls), first_args what follows
	 * client_run and the no-cgroup flags. */
	const char *first_prep;
	const char *first_pull;
	const char *first_args;
	/* Root's files the engine reads that a user may not be allowed to
	 * (iSulad's: they stay root's, checks/isulad.h): root-relative
	 * directories whose files fix copies for the user, below the home
	 * in copies_dir (copies_dir/ROOT-RELATIVE-PATH). uninstall removes
	 * a copy while it is byte-identical to root's file. */
	const char *const *copied_dirs;
	const char *copies_dir;
};

/* iSulad's: where below the home the user's copies go (its copies_dir;
 * its copied_dirs are in the table, walked by rs_engine_each_copied). */
#define RS_ISULAD_COPY_DIR ".config/isulad/system"

/* The files of engine e's copied_dirs on host h, for the rule that checks
 * them, the fixer that copies them, the launch that shows the copies and
 * the uninstall that removes them: one walk, so the four agree on which
 * files there are. Each directory's own files (no recursion: a copied
 * directory below another is listed in copied_dirs itself), in table
 * order and then by name; a subdirectory, and a name that cannot be
 * stat'ed (following a symlink, as root's read of the file does), is
 * passed over. cached: the directories are asked through the handle's
 * cache of paths only root changes (rs_host_stat_host: the rule, asked
 * once per user of a fleet). fn gets the root-relative "DIR/NAME" (valid
 * during the call) and its stat; it returns 0 to go on, anything else
 * ends the walk. Return: 0, or fn's value that ended it. */
struct rs_host;
struct stat;
typedef int rs_copied_fn(const char *rel, const struct stat *st, void *arg);
int rs_engine_each_copied(const struct rs_host *h, enum rs_engine e, bool cached, rs_copied_fn *fn,
			  void *arg);

/* Where programs are looked for besides the caller's PATH and opt_dir
 * (core/find.h): below the user's home, then root-relative system
 * directories, in order; NULL-terminated. */
extern const char *const rs_engine_home_dirs[];
extern const char *const rs_engine_system_dirs[];

const struct rs_engine_info *rs_engine_info(enum rs_engine e);
/* "isulad", "devkit", "all"... Return: 0 with *mask set, or -EINVAL. */
int rs_engine_parse(const char *name, unsigned *mask);
const char *rs_engine_name(enum rs_engine e);
/* The value of e's client variable for runtime dir run (caller frees), or
 * NULL when e has none. */
char *rs_engine_client_value(enum rs_engine e, const char *run);
