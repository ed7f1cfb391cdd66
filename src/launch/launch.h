/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The in-tree namespace launcher (rootless-setup(8), launch): what RootlessKit does for the
 * guides, as one parent and one child, no re-exec. The parent maps the
 * child's ids with newuidmap/newgidmap, forwards signals and waits; the
 * child sets up mounts (propagation, copy-up, overlay files), the network,
 * and execs the command (or, with --pidns, runs it as PID 1's child).
 */
#include <stdbool.h>
#include <sys/types.h>
#include "host/host.h"
#include "host/user.h"
#include "lib/error.h"
#include "lib/strutil.h"

/* Launcher failures get their own exit codes, apart from the command's:
 * 125 setup failed, 126 the command cannot run, 127 it was not found. */
enum { RS_LAUNCH_EXIT_SETUP = 125, RS_LAUNCH_EXIT_NOEXEC = 126, RS_LAUNCH_EXIT_NOTFOUND = 127 };

/* RS_NET_LIBSLIRP: the embedded network (net-embedded.c), no external
 * program; RootlessKit v3's gvisor-tap-vsock maps to it */
enum rs_net { RS_NET_HOST, RS_NET_NONE, RS_NET_SLIRP4NETNS, RS_NET_PASTA, RS_NET_LIBSLIRP };

/* RootlessKit's [auto, true, false] switches; 0 is auto. */
enum rs_launch_tri { RS_TRI_AUTO = 0, RS_TRI_TRUE, RS_TRI_FALSE };
enum rs_subid_source { RS_SUBID_AUTO = 0, RS_SUBID_DYNAMIC, RS_SUBID_STATIC };

struct rs_launch_opts {
	const char *state_dir; /* NULL: $XDG_RUNTIME_DIR/rootless-setup/launch-PID */
	bool state_dir_given;
	struct rs_strv copy_up;
	struct rs_strv overlay_files; /* "SRC:DST" */
	enum rs_net net;
	unsigned mtu;	  /* 0: 65520 for slirp4netns, pasta and libslirp */
	const char *cidr; /* NULL: 10.0.2.0/24 */
	bool disable_host_loopback;
	const char *ifname; /* NULL: tap0 */
	bool ipv6;	    /* slirp4netns --enable-ipv6, pasta without -4, libslirp fd00::/64 */
	const char *slirp4netns_binary; /* NULL: slirp4netns from PATH */
	enum rs_launch_tri slirp4netns_sandbox, slirp4netns_seccomp;
	const char *pasta_binary; /* NULL: pasta from PATH */
	/* the port driver (src/ports/port*.c): "none", "builtin",
	 * "slirp4netns", "implicit" or "libslirp" (NULL: none); -p specs,
	 * added before the command runs */
	const char *port_driver;
	struct rs_strv publish;
	/* builtin: TCP services in the launch see the client's address
	 * (RootlessKit v3's --source-ip-transparent, on by default there) */
	bool source_ip_transparent;
	bool cgroupns, pidns, ipcns, utsns;
	enum rs_launch_tri reaper;    /* auto: with --pidns */
	bool detach_netns;	      /* the command keeps our netns; the new one is STATE/netns */
	const char *evacuate_cgroup2; /* sub-cgroup name, NULL: none */
	enum rs_subid_source subid_source;
	bool debug;		      /* network helpers keep their stderr */
	unsigned long propagation;    /* MS_PRIVATE|MS_REC etc.; 0: rprivate */
	const char *propagation_name; /* as given, for the warning; NULL: rprivate */
	/* --net-bypass: CIDR lists whose destinations a connect reaches from
	 * the host's namespace (bypass.h) */
	struct rs_strv net_bypass;
	bool rootlesskit_exit; /* a command killed by a signal gives 255 */
	char **argv;	       /* the command */
	const char *xdg_runtime_dir;
};

/* Emits one-line warnings (single-id fallback...) through this callback, so
 * the core never prints. */
typedef void (*rs_launch_warn_fn)(const char *msg);

/* Runs the command in new namespaces. Return: the command's exit status
 * (128+signal when killed, then with *err naming the signal), or a
 * RS_LAUNCH_EXIT_* code with *err set. */
int rs_launch_run(const struct rs_launch_opts *o, rs_launch_warn_fn warn, struct rs_error **err);

/* Parses "rslave", "rprivate", ... Return: 0 or -EINVAL. */
int rs_launch_parse_propagation(const char *s, unsigned long *out);
/* Parses "auto", "true", "false" (and "" as true: a bare --flag). Return: 0 or -EINVAL. */
int rs_launch_parse_tri(const char *s, enum rs_launch_tri *out);
/* Validates "10.0.2.0/24": a network address. Return: 0 or -EINVAL. */
int rs_launch_parse_cidr(const char *s, unsigned char net[4], unsigned *prefix);

/* ---- state dir (state.c) ---- */
struct rs_state {
	char *dir;
	int dir_fd;
	int lock_fd;
	bool created; /* we made the directory: remove it at the end */
};
/* Creates (0700) or reuses dir and takes its lock. A lock held by a live
 * launch is -EBUSY; a stale child_pid is removed. */
int rs_state_open(const char *dir, bool given, struct rs_state *st, struct rs_error **err);
/* Writes child_pid ("PID\n") and child_start (the process start time,
 * /proc/PID/stat field 22) atomically. */
int rs_state_publish(struct rs_state *st, pid_t pid, struct rs_error **err);
/* Removes our files (and the directory when we created it). */
void rs_state_close(struct rs_state *st);
/* For nsenter: the state dir, open. strict (root acting for a user):
 * walked by rs_guarded_open (host/userfs.h), no symlink followed from
 * the user's directories down, and owned by the uid whose directory holds
 * it; else opened as given. *owner: the directory's owner, read on the
 * opened fd. Return: fd or -errno. */
int rs_state_dir_open(const char *dir, bool strict, uid_t *owner, struct rs_error **err);
/* child_pid and child_start of the state dir dfd (named dir in messages).
 * These are records the user can write: they say which process to look
 * at, never whether it may be entered (nsenter.c checks the process).
 * Each is read as a small regular file, never through a symlink and never
 * blocking on a FIFO; strict: of owner. Return: 0, -ENOENT (no launch),
 * or -errno. */
int rs_state_read_child(int dfd, const char *dir, bool strict, uid_t owner, pid_t *pid,
			unsigned long long *start, struct rs_error **err);
/* The first line of the small file name of the state dir (snapshotter),
 * read as rs_state_read_child reads its files, into buf (size bytes; the
 * file must be shorter). Return: 0, -ENOENT absent, or -errno with *err. */
int rs_state_read_line(int dfd, const char *dir, const char *name, bool strict, uid_t owner,
		       char *buf, size_t size, struct rs_error **err);

/* ---- nsenter (nsenter.c, nsenter-user.c) ---- */
struct rs_nsenter_opts {
	const char *dir; /* the launch's state dir */
	char **argv;	 /* the command */
	/* the caller's environment: what a user entering its own launch keeps */
	char **env;
	/* "NAME=value" of the engine's client (the engine table), or NULL */
	const char *const *client_env;
	bool snapshotter;    /* CONTAINERD_SNAPSHOTTER from STATE/snapshotter */
	const char *run_dir; /* the runtime dir the state dir is in, or NULL */
	/* the uid whose launch root means to enter (--user), or (uid_t)-1:
	 * a state dir of anyone else is refused */
	uid_t owner;
	/* the caller's TERM and LANG: all of the caller's environment that
	 * reaches the command when root enters a user's launch */
	const char *term, *lang;
};
/* Joins the namespaces of the launch in o->dir that differ from ours and
 * runs o->argv there. A non-root caller enters only a launch whose process
 * and user namespace are its own uid's, and execs in place. Root enters a
 * user's launch through a child (lib/spawn) that becomes the launch's
 * owner (uid, gid, groups, no capabilities) before it joins: the user's
 * allow-listed environment (HOME, USER, LOGNAME, PATH, LANG,
 * XDG_RUNTIME_DIR, TERM, the engine's client variables), root's pipes and
 * files as they are, and for a terminal of root's a pty root relays
 * (lib/pty.h). Return: like rs_launch_run. */
int rs_nsenter_run(const struct rs_nsenter_opts *o, struct rs_error **err);
