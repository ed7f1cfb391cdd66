/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The userns.probe rule, root's side: starts the probe child as a fresh
 * image (probe.h), bounds the wait, and parses what comes back as the
 * user's input. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "checks/internal.h"
#include "checks/probe.h"
#include "host/idmap.h"
#include "lib/spawn.h"

static const char *const stage_names[] = {
	[RS_PROBE_OK] = "",
	[RS_PROBE_FORK] = "fork",
	[RS_PROBE_CREDS] = "dropping to the user's credentials",
	[RS_PROBE_UNSHARE] = "unshare(CLONE_NEWUSER)",
	[RS_PROBE_UIDMAP] = "writing the uid map",
	[RS_PROBE_GIDMAP] = "writing the gid map",
	[RS_PROBE_TIMEOUT] = "waiting for the probe",
};

const struct rs_rule rs_rule_userns_probe; /* below: its start and run name it */

/* What root learned from the probe child. */
enum outcome { OUT_RESULT, OUT_SPAWN, OUT_TIMEOUT, OUT_MALFORMED };

struct probe_run {
	enum outcome outcome;
	struct rs_probe_result res;
	struct rs_idmap um, gm;	  /* built by root, passed in argv */
	struct rs_error *map_err; /* why they could not be built, or NULL */
	struct rs_child child;	  /* started, not yet collected (pid 0: none) */
};

static void probe_run_free(void *obj)
{
	struct probe_run *pr = obj;
	rs_child_kill(&pr->child);
	rs_error_free(pr->map_err);
	free(pr);
}

static char *groups_word(const struct rs_user *u)
{
	size_t cap = u->ngroups * 11 + 12, k = 0;
	char *s = rs_xmalloc(cap);

	if (u->ngroups == 0)
		snprintf(s, cap, "%u", (unsigned)u->gid);
	for (size_t i = 0; i < u->ngroups; i++)
		k += (size_t)snprintf(s + k, cap - k, "%s%u", i ? "," : "", (unsigned)u->groups[i]);
	return s;
}

/* The fresh image, started by lib/spawn: fds 0 and 2 on /dev/null, its
 * result on stdout (a pipe root reads, RS_PROBE_RESULT_MAX bytes at most),
 * nothing else of root's; a new session (no controlling terminal to inject
 * into, and a process group root kills whole); "/" as its cwd, not root's;
 * orphans of its namespace child reparented to us and reaped. */
static void spawn_child(char **argv, struct probe_run *pr)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL};
	/* opened before the fork: the image that runs is the one running now */
	_cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct rs_spawn o = {.path = "/proc/self/exe",
			     .argv = argv,
			     .envp = envp,
			     .flags = RS_SPAWN_EXE_FD | RS_SPAWN_STDOUT | RS_SPAWN_REAPER,
			     .exe_fd = exe,
			     .out_max = RS_PROBE_RESULT_MAX,
			     .timeout_ms = RS_PROBE_DEADLINE_S * 1000};
	_cleanup_error_ struct rs_error *e = NULL;

	int r = exe < 0 ? -errno : rs_spawn_start(&o, &pr->child, &e);
	if (r < 0) {
		pr->outcome = OUT_SPAWN;
		pr->res.stage = RS_PROBE_FORK;
		pr->res.err = -r;
	}
}

/* Its result, once it is done or the deadline (counted from its start)
 * has passed. */
static void collect_child(struct probe_run *pr)
{
	struct rs_spawn_result res = {0};
	_cleanup_error_ struct rs_error *e = NULL;

	if (pr->child.pid <= 0)
		return; /* it did not start: spawn_child said why */
	int r = rs_spawn_wait(&pr->child, &res, &e);
	if (r == -ETIMEDOUT) {
		pr->outcome = OUT_TIMEOUT;
	} else if (r < 0) {
		pr->outcome = OUT_SPAWN;
		pr->res.stage = RS_PROBE_FORK;
		pr->res.err = -r;
	} else {
		pr->outcome = res.out_cut || !res.out ||
					      rs_probe_result_parse(res.out, res.out_len, NULL,
								    &pr->res) < 0
				      ? OUT_MALFORMED
				      : OUT_RESULT;
	}
	rs_spawn_result_clear(&res);
	/* a failure to read the ranges is root's, reported at the step that
	 * needed them */
	if (pr->outcome == OUT_RESULT && pr->map_err &&
	    (pr->res.stage == RS_PROBE_UIDMAP || pr->res.stage == RS_PROBE_GIDMAP)) {
		struct rs_error *me = pr->map_err;
		pr->res.stage = strstr(me->msg, "gidmap") ? RS_PROBE_GIDMAP : RS_PROBE_UIDMAP;
		pr->res.err = me->code;
		snprintf(pr->res.detail, sizeof(pr->res.detail), "%s", me->msg);
	}
}

/* The engine's data dir, as a path: the child resolves it as the user and
 * puts the scratch dir beside it, so the overlay is tried on the
 * filesystem that will hold the layers. Root never resolves it: where a
 * symlink of the user's points would show in the child's argv, which
 * every user can read. */
static char *probe_data(struct rs_ctx *ctx)
{
	enum rs_engine e = RS_ENGINE_CONTAINERD;
	for (unsigned i = 0; i < RS_ENGINE_COUNT; i++)
		if ((ctx->engines & RS_ENGINES_STORAGE) & RS_ENGINE_BIT(i)) {
			e = i;
			break;
		}
	return rs_ctx_data_dir(ctx, e);
}

/* Builds the maps as root (the child checks them again and newuidmap
 * checks them against the files as the user) and starts the child. */
static struct probe_run *probe_begin(struct rs_ctx *ctx)
{
	struct probe_run *pr = rs_xcalloc(1, sizeof(*pr));
	bool map_ok = rs_idmap_build(ctx->host, &ctx->user, false, &pr->um, &pr->map_err) >= 0 &&
		      rs_idmap_build(ctx->host, &ctx->user, true, &pr->gm, &pr->map_err) >= 0;
	_cleanup_free_ char *data = probe_data(ctx);
	_cleanup_free_ char *uid = rs_xasprintf("%u", (unsigned)ctx->user.uid);
	_cleanup_free_ char *gid = rs_xasprintf("%u", (unsigned)ctx->user.gid);
	_cleanup_free_ char *groups = groups_word(&ctx->user);
	_cleanup_free_ char *um = map_ok ? rs_probe_map_format(&pr->um) : rs_xstrdup("-");
	_cleanup_free_ char *gm = map_ok ? rs_probe_map_format(&pr->gm) : rs_xstrdup("-");
	char *argv[] =
		{"rootless-setup", RS_PROBE_CHILD_VERB, uid, gid, groups, data, um, gm, NULL};

	spawn_child(argv, pr);
	return pr;
}

static bool probe_wanted(const struct rs_ctx *ctx)
{
	return ctx->host->live && !ctx->no_probe;
}

/* Started before the other rules: the child waits on two setuid helpers
 * and a namespace of its own, which takes as long as the rest of a check
 * (the floor: `unshare --map-auto`); collected by userns_probe. */
static void probe_start(struct rs_ctx *ctx)
{
	if (probe_wanted(ctx))
		rs_ctx_started_keep(ctx, &rs_rule_userns_probe, probe_begin(ctx), probe_run_free);
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

/* The probe could not give a verdict: a warning, never a pass or fail.
 * secs: the limit it did not finish within, or 0 for a malformed result. */
static void cannot_check(struct rs_ctx *ctx, struct rs_finding *out, int secs)
{
	struct rs_probe *p = &ctx->probe;

	p->userns_ok = p->tmpfs_ok = p->overlay_tried = p->overlay_ok = false;
	p->err = secs ? ETIMEDOUT : EBADMSG;
	p->stage = secs ? stage_names[RS_PROBE_TIMEOUT] : "reading the probe result";
	if (secs)
		rs_finding_set(out, RS_STATUS_WARN,
			       "cannot check: the probe did not finish within %d s", secs);
	else
		rs_finding_set(out, RS_STATUS_WARN, "cannot check: malformed probe result");
	rs_finding_hint(out,
			"the probe runs as '%s', who can stop or trace it; run the check "
			"again, and see the userns.* and subid.* rules above",
			ctx->user.name);
}

/* The verdict from a result the child sent (parsed, bounded, printable). */
static void report(struct rs_ctx *ctx, const struct probe_run *pr, struct rs_finding *out)
{
	const struct rs_probe_result *msg = &pr->res;
	const struct rs_probe *p = &ctx->probe;

	if (!p->userns_ok) {
		if (msg->stage == RS_PROBE_UNSHARE)
			rs_finding_set(out, RS_STATUS_FAIL,
				       "%s as '%s' failed: %s; likely cause: %s", p->stage,
				       ctx->user.name, strerror(msg->err), likely_cause(msg->err));
		else
			rs_finding_set(out, RS_STATUS_FAIL, "%s as '%s' failed: %s", p->stage,
				       ctx->user.name,
				       msg->detail[0] ? msg->detail : strerror(msg->err));
		rs_finding_hint(out,
				"see the userns.* and subid.* rules above for the knob to change");
		return;
	}
	_cleanup_free_ char *ov =
		p->overlay_tried
			? rs_xasprintf("overlayfs (userxattr) %s",
				       p->overlay_ok ? "mounted" : strerror(p->overlay_err))
			: rs_xstrdup("overlayfs not tried (no writable scratch dir)");
	if (!p->tmpfs_ok) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "user namespace made, but a mount namespace "
			       "with tmpfs failed: %s",
			       strerror(msg->tmpfs_err));
		return;
	}
	if (!p->full_map) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "user namespace made as '%s' with a single-id map "
			       "only (no subordinate ids); tmpfs mounted; %s",
			       ctx->user.name, ov);
		rs_finding_hint(out, "see subid.ranges: images with several owners need 65536 ids");
		return;
	}
	rs_finding_set(out, RS_STATUS_PASS,
		       "user namespace made as '%s' with %llu uids and %llu "
		       "gids mapped by newuidmap/newgidmap; tmpfs mounted; %s beside the data dir",
		       ctx->user.name, (unsigned long long)pr->um.subordinate + 1,
		       (unsigned long long)pr->gm.subordinate + 1, ov);
}

static int userns_probe(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			struct rs_error **err _unused_)
{
	struct probe_run *pr = NULL;
	struct rs_probe *p = &ctx->probe;

	if (!ctx->host->live) {
		rs_finding_set(out, RS_STATUS_SKIP, "live only: skipped under --root");
		return 0;
	}
	if (ctx->no_probe) {
		rs_finding_set(out, RS_STATUS_SKIP, "not run (static facts only)");
		return 0;
	}
	pr = rs_ctx_started_take(ctx, &rs_rule_userns_probe);
	if (!pr)
		pr = probe_begin(ctx);
	collect_child(pr);
	p->ran = true;
	if (pr->outcome == OUT_TIMEOUT || pr->outcome == OUT_MALFORMED ||
	    (pr->outcome == OUT_RESULT && pr->res.stage == RS_PROBE_TIMEOUT)) {
		/* root's deadline, or the child's own waits for its namespace child */
		p->scratch = rs_xstrdup("(none)");
		cannot_check(ctx, out,
			     pr->outcome == OUT_TIMEOUT	    ? RS_PROBE_DEADLINE_S
			     : pr->outcome == OUT_MALFORMED ? 0
							    : RS_PROBE_CHILD_BUDGET_MS / 1000);
		probe_run_free(pr);
		return 0;
	}
	const struct rs_probe_result *msg = &pr->res;
	p->userns_ok = msg->stage == RS_PROBE_OK;
	p->err = msg->err;
	p->stage = stage_names[msg->stage < RS_PROBE_STAGE_COUNT ? msg->stage : RS_PROBE_FORK];
	p->full_map = pr->um.subordinate && pr->gm.subordinate;
	p->tmpfs_ok = p->userns_ok && msg->tmpfs_err == 0;
	p->overlay_tried = p->userns_ok && msg->overlay_tried && msg->tmpfs_err == 0;
	p->overlay_ok = p->overlay_tried && msg->overlay_err == 0;
	p->overlay_err = msg->overlay_err;
	p->scratch = rs_xstrdup(msg->scratch[0] ? msg->scratch : "(none)");
	report(ctx, pr, out);
	probe_run_free(pr);
	return 0;
}

const struct rs_rule rs_rule_userns_probe = {
	.id = "userns.probe",
	.summary = "a real user namespace with the user's real id ranges can be made (live)",
	.explain = "In a forked child running with the target user's uid, gid and groups: "
		   "unshare(CLONE_NEWUSER), map the user's subordinate ranges through "
		   "newuidmap/newgidmap, unshare a mount namespace, mount a tmpfs, and try an "
		   "overlay mount with userxattr in a scratch dir beside the engine's data dir. "
		   "Everything it creates is removed; the child starts before the other rules, "
		   "which run while it works. Its overlay result decides the snapshotter; "
		   "where it disagrees with the static rules, the probe wins. The child is a fresh "
		   "image of the program with a minimal environment and no fds of root's (the user "
		   "can trace it); a probe that does not finish within 20 s, or whose result is "
		   "malformed, is a warning (cannot check). Skipped under --root.",
	.engines = RS_ENGINES_ALL,
	.needs_user = true,
	.run = userns_probe,
	.start = probe_start,
};
