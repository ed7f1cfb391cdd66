/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checks/internal.h"
#include "host/idmap.h"
#include "host/safewrite.h"

/* What the prober process reports back over a pipe. */
struct probe_msg {
	int stage; /* 0: all went through; else the failing step below */
	int err;
	int tmpfs_err, overlay_err;
	bool overlay_tried, full_map;
	unsigned long long uids, gids;
	char detail[512];
	char scratch[1024];
};

enum { ST_OK, ST_FORK, ST_CREDS, ST_UNSHARE, ST_UIDMAP, ST_GIDMAP, ST_TIMEOUT };

static const char *const stage_names[] = {
	[ST_OK] = "", [ST_FORK] = "fork", [ST_CREDS] = "dropping to the user's credentials",
	[ST_UNSHARE] = "unshare(CLONE_NEWUSER)", [ST_UIDMAP] = "writing the uid map",
	[ST_GIDMAP] = "writing the gid map", [ST_TIMEOUT] = "waiting for the probe",
};

static int read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	size_t got = 0;
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	while (got < n) {
		if (poll(&pf, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		got += (size_t)r;
	}
	return 0;
}

static void write_full(int fd, const void *buf, size_t n)
{
	while (n) {
		ssize_t r = write(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		buf = (const char *)buf + r;
		n -= (size_t)r;
	}
}

/* The namespace child: a user namespace, then a mount namespace with a
 * tmpfs and an overlay (userxattr, Linux 5.11) in the scratch dir. */
_noreturn_ static void ns_child(int to_parent, int from_parent, const char *scratch)
{
	int res[3] = {0, 0, 0};
	char go, t[1100], m[1100], opts[4400];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	res[0] = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
	write_full(to_parent, &res[0], sizeof(int));
	if (res[0] || read_full(from_parent, &go, 1, 10000) < 0 || go != 'g')
		_exit(1);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		res[1] = res[2] = errno;
	} else if (*scratch) {
		snprintf(t, sizeof(t), "%s/t", scratch);
		snprintf(m, sizeof(m), "%s/m", scratch);
		snprintf(opts, sizeof(opts), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w,userxattr",
			 scratch, scratch, scratch);
		res[1] = mount("tmpfs", t, "tmpfs", 0, "size=64k,mode=0700") < 0 ? errno : 0;
		res[2] = mount("overlay", m, "overlay", 0, opts) < 0 ? errno : 0;
	} else {
		res[1] = mount("tmpfs", "/tmp", "tmpfs", 0, "size=64k") < 0 ? errno : 0;
		res[2] = ENOENT;
	}
	write_full(to_parent, &res[1], 2 * sizeof(int));
	_exit(0);
}

static bool make_scratch(const char *base, struct probe_msg *msg)
{
	static const char *const sub[] = {"l", "u", "w", "m", "t"};
	char tmpl[1024];

	if (snprintf(tmpl, sizeof(tmpl), "%s/.rootless-setup-probe-XXXXXX", base) >= (int)sizeof(tmpl))
		return false;
	if (!mkdtemp(tmpl))
		return false;
	snprintf(msg->scratch, sizeof(msg->scratch), "%s", tmpl);
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		char p[1100];
		snprintf(p, sizeof(p), "%s/%s", tmpl, sub[i]);
		if (mkdir(p, 0700) < 0)
			return false;
	}
	return true;
}

static void drop_scratch(const char *scratch)
{
	_cleanup_free_ char *dir = rs_xstrdup(scratch);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	rs_remove_tree(dfd, slash + 1, 3);
	close(dfd);
}

static int drop_creds(const struct rs_user *u)
{
	if (geteuid() != 0 || u->uid == 0)
		return 0;
	if (setgroups(u->ngroups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return -errno;
	/* newuidmap checks that /proc/PID belongs to its caller; a credential
	 * change clears the dumpable flag, which would make it root's */
	prctl(PR_SET_DUMPABLE, 1);
	return 0;
}

static void map_child(struct rs_ctx *ctx, pid_t q, struct probe_msg *msg)
{
	struct rs_idmap um, gm;
	struct rs_error *e = NULL;

	if (rs_idmap_build(ctx->host, &ctx->user, false, &um, &e) < 0 ||
	    rs_idmap_build(ctx->host, &ctx->user, true, &gm, &e) < 0 ||
	    rs_idmap_apply_pair(ctx->host, q, &um, &gm, &e) < 0) {
		msg->stage = e && strstr(e->msg, "gidmap") ? ST_GIDMAP : ST_UIDMAP;
	} else {
		msg->full_map = um.subordinate && gm.subordinate;
		msg->uids = um.subordinate + 1;
		msg->gids = gm.subordinate + 1;
	}
	if (e) {
		msg->err = e->code;
		snprintf(msg->detail, sizeof(msg->detail), "%s", e->msg);
		rs_error_free(e);
	}
}

/* Runs as the target user, in a process of its own. */
_noreturn_ static void prober(struct rs_ctx *ctx, const char *base, int out)
{
	struct probe_msg msg = {0};
	int q2p[2], p2q[2];
	pid_t q;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (drop_creds(&ctx->user) < 0) {
		msg.stage = ST_CREDS;
		msg.err = errno;
		goto done;
	}
	msg.overlay_tried = make_scratch(base, &msg);
	if (pipe2(q2p, O_CLOEXEC) < 0 || pipe2(p2q, O_CLOEXEC) < 0 || (q = fork()) < 0) {
		msg.stage = ST_FORK;
		msg.err = errno;
		goto done;
	}
	if (q == 0)
		ns_child(q2p[1], p2q[0], msg.overlay_tried ? msg.scratch : "");
	close(q2p[1]);
	close(p2q[0]);
	int res[2] = {0, 0};
	if (read_full(q2p[0], &msg.err, sizeof(int), 10000) < 0) {
		msg.stage = ST_TIMEOUT;
	} else if (msg.err) {
		msg.stage = ST_UNSHARE;
	} else {
		map_child(ctx, q, &msg);
		write_full(p2q[1], msg.stage ? "x" : "g", 1);
		if (!msg.stage && read_full(q2p[0], res, sizeof(res), 10000) < 0)
			msg.stage = ST_TIMEOUT;
	}
	msg.tmpfs_err = res[0];
	msg.overlay_err = res[1];
	kill(q, SIGKILL);
	while (waitpid(q, NULL, 0) < 0 && errno == EINTR)
		;
done:
	if (msg.overlay_tried)
		drop_scratch(msg.scratch);
	write_full(out, &msg, sizeof(msg));
	_exit(0);
}

/* The scratch dir goes beside the engine's data dir, so the overlay is
 * tried on the filesystem that will hold the layers. */
static char *probe_base(struct rs_ctx *ctx)
{
	enum rs_engine e = RS_ENGINE_CONTAINERD;
	for (unsigned i = 0; i < RS_ENGINE_COUNT; i++)
		if ((ctx->engines & RS_ENGINES_STORAGE) & RS_ENGINE_BIT(i)) {
			e = i;
			break;
		}
	_cleanup_free_ char *data = rs_ctx_data_dir(ctx, e);
	char *dir = NULL;
	if (rs_host_canonical(ctx->host, data, &dir) < 0)
		dir = rs_xstrdup(data);
	/* the parent of the data dir, or the deepest ancestor that exists */
	do {
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir) {
			dir[1] = '\0';
			break;
		}
		*slash = '\0';
	} while (!rs_host_exists(ctx->host, dir));
	return dir;
}

static const char *likely_cause(int err)
{
	switch (err) {
	case EPERM:
		return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone"
		       " = 0), or a seccomp filter or no_new_privs blocks them";
	case EACCES:
		return "AppArmor (kernel.apparmor_restrict_unprivileged_userns = 1) or an SELinux "
		       "user_namespace policy denies it";
	case ENOSPC:
		return "user.max_user_namespaces is 0 or used up";
	case EINVAL:
		return "the kernel lacks user namespace support (CONFIG_USER_NS; RHEL 7 needs "
		       "user_namespace.enable=1)";
	case EUSERS:
		return "too many nested user namespaces";
	default:
		return "see the message";
	}
}

static void probe_collect(struct rs_ctx *ctx, struct probe_msg *msg)
{
	_cleanup_free_ char *base = probe_base(ctx);
	int p[2];
	pid_t pid;

	memset(msg, 0, sizeof(*msg));
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		msg->stage = ST_FORK;
		msg->err = errno;
		return;
	}
	if (pid == 0) {
		close(p[0]);
		prober(ctx, base, p[1]);
	}
	close(p[1]);
	if (read_full(p[0], msg, sizeof(*msg), 30000) < 0) {
		memset(msg, 0, sizeof(*msg));
		msg->stage = ST_TIMEOUT;
		msg->err = ETIMEDOUT;
		kill(pid, SIGKILL);
	}
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int userns_probe(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			struct rs_error **err _unused_)
{
	struct probe_msg msg;
	struct rs_probe *p = &ctx->probe;

	if (!ctx->host->live) {
		rs_finding_set(out, RS_STATUS_SKIP, "live only: skipped under --root");
		return 0;
	}
	if (ctx->no_probe) {
		rs_finding_set(out, RS_STATUS_SKIP, "not run (static facts only)");
		return 0;
	}
	probe_collect(ctx, &msg);
	p->ran = true;
	p->userns_ok = msg.stage == ST_OK;
	p->err = msg.err;
	p->stage = stage_names[msg.stage < ST_TIMEOUT + 1 ? msg.stage : ST_FORK];
	p->full_map = msg.full_map;
	p->tmpfs_ok = p->userns_ok && msg.tmpfs_err == 0;
	p->overlay_tried = p->userns_ok && msg.overlay_tried && msg.tmpfs_err == 0;
	p->overlay_ok = p->overlay_tried && msg.overlay_err == 0;
	p->overlay_err = msg.overlay_err;
	p->scratch = rs_xstrdup(msg.scratch[0] ? msg.scratch : "(none)");
	if (!p->userns_ok) {
		if (msg.stage == ST_UNSHARE)
			rs_finding_set(out, RS_STATUS_FAIL, "%s as '%s' failed: %s; likely cause: %s",
				       p->stage, ctx->user.name, strerror(msg.err), likely_cause(msg.err));
		else
			rs_finding_set(out, RS_STATUS_FAIL, "%s as '%s' failed: %s", p->stage,
				       ctx->user.name, msg.detail[0] ? msg.detail : strerror(msg.err));
		rs_finding_hint(out, "see the userns.* and subid.* rules above for the knob to change");
		return 0;
	}
	_cleanup_free_ char *ov = p->overlay_tried
		? rs_xasprintf("overlayfs (userxattr) %s", p->overlay_ok ? "mounted" : strerror(p->overlay_err))
		: rs_xstrdup("overlayfs not tried (no writable scratch dir)");
	if (!p->tmpfs_ok) {
		rs_finding_set(out, RS_STATUS_FAIL, "user namespace made, but a mount namespace "
			       "with tmpfs failed: %s", strerror(msg.tmpfs_err));
		return 0;
	}
	if (!p->full_map) {
		rs_finding_set(out, RS_STATUS_WARN, "user namespace made as '%s' with a single-id map "
			       "only (no subordinate ids); tmpfs mounted; %s", ctx->user.name, ov);
		rs_finding_hint(out, "see subid.ranges: images with several owners need 65536 ids");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "user namespace made as '%s' with %llu uids and %llu "
		       "gids mapped by newuidmap/newgidmap; tmpfs mounted; %s beside the data dir",
		       ctx->user.name, msg.uids, msg.gids, ov);
	return 0;
}

const struct rs_rule rs_rule_userns_probe = {
	.id = "userns.probe",
	.summary = "a real user namespace with the user's real id ranges can be made (live)",
	.explain = "In a forked child running with the target user's uid, gid and groups: "
		   "unshare(CLONE_NEWUSER), map the user's subordinate ranges through "
		   "newuidmap/newgidmap, unshare a mount namespace, mount a tmpfs, and try an "
		   "overlay mount with userxattr in a scratch dir beside the engine's data dir. "
		   "Everything it creates is removed. Its overlay result decides the snapshotter; "
		   "where it disagrees with the static rules, the probe wins. Skipped under --root.",
	.engines = RS_ENGINES_ALL,
	.needs_user = true,
	.run = userns_probe,
};
