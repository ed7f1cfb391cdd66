/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by launch.c (parent) and child.c (inside the namespaces). */
#include "host/idmap.h"
#include "launch/launch.h"
#include "lib/io.h"

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
	int to_parent;	 /* 'r' (ready) or a struct rs_child_msg */
	/* a launch with nothing for the parent to do between the child's
	 * "ready" and the command (no network helper, API, pid namespace or
	 * cgroup move): the child publishes child_pid itself and runs the
	 * command, sparing a round trip; else NULL */
	struct rs_state *self_publish;
	int status_fd; /* --pidns: PID 1 writes the command's wait status here */
	int lock_fd;   /* the parent's state dir lock: closed at once, so the
			* lock is the launcher's alone (PID 1 never execs) */
	bool single_map;
	void *bypass_filter; /* --net-bypass: loaded before exec (bypass.h) */
	int bypass_sock;     /* its listener goes to the launcher here */
	unsigned char dns[4];
	uid_t parent_euid; /* for ROOTLESSKIT_PARENT_EUID/EGID */
	gid_t parent_egid;
};

_noreturn_ void rs_launch_child(const struct rs_child_args *a);

/* ---- network helpers (net.c) ---- */
struct rs_net_plan {
	bool sandbox, seccomp; /* slirp4netns --enable-sandbox / --enable-seccomp */
	bool pasta_hostlo;     /* pasta takes --host-lo-to-ns-lo */
	bool pasta_fwd_fixed;  /* pasta's -t auto works with -T none (2023_03_21) */
};
struct rs_net_ctx {
	const struct rs_launch_opts *o;
	const struct rs_net_plan *plan;
	pid_t child;
	const char *state_dir;
	unsigned char net[4]; /* the --cidr network */
	unsigned prefix;
	rs_launch_warn_fn warn;
	const char *slirp_api; /* slirp4netns --api-socket (its port driver), or NULL */
	int netns_fd;	       /* --detach-netns: STATE/netns, for the helper to inherit; or -1 */
	int state_dir_fd;      /* the state dir, for pasta's ready FIFO; or -1 */
};
struct rs_netproc {
	const char *name;
	pid_t pid;
	int pidfd;     /* readable when it exits (-1 before Linux 5.3: polled) */
	int exit_w;    /* slirp4netns leaves when this closes */
	int ready_r;   /* a byte (slirp4netns) or a pid (pasta) when set up; libslirp: its
		       * control socket (net-embedded.c) */
	int fifo_dir;  /* pasta: the state dir holding PASTA_READY (borrowed), or -1 */
	bool embedded; /* --net=libslirp: ready_r is the helper's control socket */
	pid_t holder;  /* pasta with --detach-netns: ours in STATE/netns, or 0 */
};
/* Before the clone: slirp4netns' features for the auto switches, pasta's
 * for its flags (a warning when one cannot be had).
 * Return: 0 or -errno (a switch set to true that cannot be had). */
int rs_net_prepare(const struct rs_launch_opts *o, struct rs_net_plan *p, rs_launch_warn_fn warn,
		   struct rs_error **err);
/* A helper's argv, built in place: no allocation between fork and exec. */
struct rs_net_argv {
	char *v[48];
	int n;
	char s[24][320];
	int ns;
};
/* slirp4netns' and pasta's command lines from the options and the plan
 * (pure: exposed for tests/unit/test-launch.c). ready_w, exit_r:
 * slirp4netns' --ready-fd and --exit-fd; holder: pasta's netns holder with
 * --detach-netns, else 0. */
void rs_net_slirp_argv(const struct rs_net_ctx *c, int ready_w, int exit_r, struct rs_net_argv *b);
void rs_net_pasta_argv(const struct rs_net_ctx *c, struct rs_net_argv *b, pid_t holder);
int rs_net_start(const struct rs_net_ctx *c, struct rs_netproc *np, struct rs_error **err);
/* Waits (10 s at most) until the helper has configured the namespace. */
int rs_net_wait(struct rs_netproc *np, struct rs_error **err);
void rs_net_stop(struct rs_netproc *np);
/* The child's network namespace, O_RDONLY|O_CLOEXEC: /proc/PID/ns/net, or
 * with --detach-netns the bind mount at STATE/netns in its mount namespace.
 * Return: an fd or -errno. */
int rs_net_child_netns(const struct rs_launch_opts *o, pid_t child, const char *state_dir);

/* ---- --evacuate-cgroup2 (cgroup2.c) ---- */
/* Moves every process of our cgroup into its sub-cgroup name and enables
 * the controllers for the sub-cgroups. Return: 0 or -errno. */
int rs_cgroup2_evacuate(const char *name, rs_launch_warn_fn warn, struct rs_error **err);

/* ---- --subid-source=dynamic (subid.c) ---- */
/* getsubids(1) output ("0: NAME START COUNT" lines) as subuid(5) text
 * (allocated, *text_len bytes). Return: 0, or -EINVAL for any other line. */
int rs_getsubids_parse(const char *buf, size_t len, char **text, size_t *text_len);
/* The user's map from `getsubids [-g] NAME`. Return: 0 or -errno. */
int rs_launch_dynamic_map(const struct rs_user *u, bool gid, struct rs_idmap *out,
			  struct rs_error **err);
