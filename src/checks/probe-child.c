/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The probe child: a fresh image started by root for the target user
 * (probe.h says why). Everything here runs with the user's credentials
 * after drop_creds(), and holds only what argv handed it. */
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "checks/internal.h"
#include "checks/probe.h"
#include "host/safewrite.h"
#include "lib/io.h"
#include "lib/sig.h"

#define GROUPS_MAX 65536 /* NGROUPS_MAX since Linux 2.6.4 */

static uint64_t deadline_ms;

static int left_ms(void)
{
	return rs_ms_left(deadline_ms);
}

/* The child's waits share one budget, RS_PROBE_CHILD_BUDGET_MS. */
static int read_full(int fd, void *buf, size_t n)
{
	return rs_read_full(fd, buf, n, left_ms());
}

/* The namespace child: a user namespace, then a mount namespace with a
 * tmpfs and an overlay (userxattr, Linux 5.11) in the scratch dir. */
_noreturn_ static void ns_child(int to_parent, int from_parent, const char *scratch)
{
	int res[3] = {0, 0, 0};
	char go, t[1100], m[1100], opts[4400];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	res[0] = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
	(void)rs_write_full(to_parent, &res[0], sizeof(int));
	if (res[0] || read_full(from_parent, &go, 1) < 0 || go != 'g')
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
	(void)rs_write_full(to_parent, &res[1], 2 * sizeof(int));
	_exit(0);
}

static bool make_scratch(const char *base, struct rs_probe_result *r)
{
	static const char *const sub[] = {"l", "u", "w", "m", "t"};
	char tmpl[1024];

	if (snprintf(tmpl, sizeof(tmpl), "%s/" RS_PROBE_SCRATCH_PREFIX "XXXXXX",
		     strcmp(base, "/") ? base : "") >= (int)sizeof(tmpl))
		return false;
	if (!mkdtemp(tmpl))
		return false;
	snprintf(r->scratch, sizeof(r->scratch), "%s", tmpl);
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

/* Return: 0 or a positive errno. The result is checked, not assumed. */
static int drop_creds(const struct rs_probe_child_args *a)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() != 0 || a->uid == 0)
		return 0;
	if (setgroups(a->ngroups, a->groups) < 0 || setresgid(a->gid, a->gid, a->gid) < 0 ||
	    setresuid(a->uid, a->uid, a->uid) < 0)
		return errno;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != a->uid ||
	    eu != a->uid || su != a->uid || rg != a->gid || eg != a->gid || sg != a->gid ||
	    getgroups(0, NULL) != (int)a->ngroups || setresuid(0, 0, 0) == 0)
		return EPERM;
	return 0;
}

static void map_child(const struct rs_probe_child_args *a, pid_t q, struct rs_probe_result *r)
{
	struct rs_host *h = NULL;
	struct rs_error *e = NULL;

	if (!a->map_ok) {
		/* root could not read the ranges; it reports its own error */
		r->stage = RS_PROBE_UIDMAP;
		return;
	}
	if (rs_host_open("/", &h, &e) < 0 || rs_idmap_apply_pair(h, q, a->um, a->gm, NULL, &e) < 0)
		r->stage = e && strstr(e->msg, "gidmap") ? RS_PROBE_GIDMAP : RS_PROBE_UIDMAP;
	if (e) {
		r->err = e->code;
		snprintf(r->detail, sizeof(r->detail), "%s", e->msg);
		rs_error_free(e);
	}
	rs_host_free(h);
}

/* The scratch dir's parent, resolved as the user: the data dir's parent,
 * or the deepest ancestor of the data dir that exists. out holds
 * PATH_MAX bytes. Return: false when none resolves. */
static bool probe_base(const char *data, char *out)
{
	_cleanup_free_ char *p = rs_xstrdup(data);
	bool whole = true;

	for (;;) {
		if (realpath(p, out)) {
			/* the data dir itself exists: its parent */
			char *slash = whole ? strrchr(out, '/') : NULL;
			if (slash)
				slash[slash == out ? 1 : 0] = '\0';
			return true;
		}
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			return realpath("/", out) != NULL;
		*slash = '\0';
		whole = false;
	}
}

static void probe_work(const struct rs_probe_child_args *a, struct rs_probe_result *r)
{
	int q2p[2], p2q[2], res[2] = {0, 0};
	pid_t q;

	char base[PATH_MAX];
	r->overlay_tried = probe_base(a->data, base) && make_scratch(base, r);
	if (pipe2(q2p, O_CLOEXEC) < 0 || pipe2(p2q, O_CLOEXEC) < 0 || (q = fork()) < 0) {
		r->stage = RS_PROBE_FORK;
		r->err = errno;
		goto out;
	}
	if (q == 0)
		ns_child(q2p[1], p2q[0], r->overlay_tried ? r->scratch : "");
	close(q2p[1]);
	close(p2q[0]);
	if (read_full(q2p[0], &r->err, sizeof(int)) < 0) {
		r->stage = RS_PROBE_TIMEOUT;
	} else if (r->err) {
		r->stage = RS_PROBE_UNSHARE;
	} else {
		map_child(a, q, r);
		(void)rs_write_full(p2q[1], r->stage ? "x" : "g", 1);
		if (!r->stage && read_full(q2p[0], res, sizeof(res)) < 0)
			r->stage = RS_PROBE_TIMEOUT;
	}
	r->tmpfs_err = res[0];
	r->overlay_err = res[1];
	rs_kill_reap(q);
out:
	if (r->scratch[0])
		drop_scratch(r->scratch);
}

int rs_probe_child_run(const struct rs_probe_child_args *a)
{
	struct rs_probe_result r = {0};
	struct stat st;
	char buf[RS_PROBE_RESULT_MAX];
	pid_t ppid = getppid();

	if (fstat(RS_PROBE_RESULT_FD, &st) < 0 || !S_ISFIFO(st.st_mode))
		return -EBADF;
	/* the map helpers and the namespace child never get the result pipe */
	fcntl(RS_PROBE_RESULT_FD, F_SETFD, FD_CLOEXEC);
	deadline_ms = rs_now_ms() + RS_PROBE_CHILD_BUDGET_MS;
	int e = drop_creds(a);
	if (e) {
		r.stage = RS_PROBE_CREDS;
		r.err = e;
	} else {
		/* newuidmap checks that /proc/PID belongs to its caller; the
		 * credential change cleared the dumpable flag, which made it
		 * root's. Only now, with nothing of root's left, is it set. */
		prctl(PR_SET_DUMPABLE, 1);
		/* the credential change cleared the parent-death signal too */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)
			return 0;
		probe_work(a, &r);
	}
	(void)rs_write_full(RS_PROBE_RESULT_FD, buf, rs_probe_result_format(&r, buf));
	return 0;
}

/* "N,N,..." */
static int parse_groups(const char *s, struct rs_probe_child_args *a)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (n > GROUPS_MAX)
		return -EINVAL;
	a->groups = rs_xcalloc(n, sizeof(gid_t));
	for (const char *p = s;; p++) {
		const char *end = strchrnul(p, ',');
		uint64_t g;
		if (rs_parse_u64n(p, (size_t)(end - p), UINT32_MAX - 1, &g) < 0)
			return -EINVAL;
		a->groups[a->ngroups++] = (gid_t)g;
		if (!*end)
			return 0;
		p = end;
	}
}

/* "0:OWN:1,IN:OUT:COUNT,..." as rs_idmap_build makes it */
static int parse_map(const char *s, uint64_t own, struct rs_idmap *m)
{
	uint64_t next = 1;

	memset(m, 0, sizeof(*m));
	for (const char *p = s;; p++) {
		uint64_t v[3];
		for (int i = 0; i < 3; i++) {
			size_t len = strcspn(p, i < 2 ? ":" : ",");
			if (rs_parse_u64n(p, len, UINT32_MAX - 1, &v[i]) < 0)
				return -EINVAL;
			p += len;
			if (i < 2 && *p++ != ':')
				return -EINVAL;
		}
		if (m->n == RS_IDMAP_MAX || v[2] == 0 || v[1] + v[2] > UINT32_MAX)
			return -EINVAL;
		if (m->n == 0 ? v[0] != 0 || v[1] != own || v[2] != 1 : v[0] != next)
			return -EINVAL;
		if (m->n)
			m->subordinate += v[2];
		next = v[0] + v[2];
		if (next > UINT32_MAX)
			return -EINVAL;
		m->e[m->n++] = (struct rs_idmap_extent){v[0], v[1], v[2]};
		if (!*p)
			return 0;
		if (*p != ',')
			return -EINVAL;
	}
}

/* Absolute, printable, no "." or ".." component, room for the scratch name. */
static bool base_ok(const char *b)
{
	size_t n = strlen(b);
	if (b[0] != '/' || n > 900 || strstr(b, "/./") || strstr(b, "/../") ||
	    (n >= 2 && strcmp(b + n - 2, "/.") == 0) || (n >= 3 && strcmp(b + n - 3, "/..") == 0))
		return false;
	for (const char *p = b; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int rs_probe_child_parse(int argc, char *const *argv, struct rs_probe_child_args *out)
{
	uint64_t uid, gid;

	memset(out, 0, sizeof(*out));
	if (argc != 6 || rs_parse_u64(argv[0], UINT32_MAX - 1, &uid) < 0 ||
	    rs_parse_u64(argv[1], UINT32_MAX - 1, &gid) < 0)
		return -EINVAL;
	out->uid = (uid_t)uid;
	out->gid = (gid_t)gid;
	out->um = rs_xcalloc(1, sizeof(*out->um));
	out->gm = rs_xcalloc(1, sizeof(*out->gm));
	out->map_ok = !(strcmp(argv[4], "-") == 0 && strcmp(argv[5], "-") == 0);
	if (parse_groups(argv[2], out) < 0 || !base_ok(argv[3]) ||
	    (out->map_ok &&
	     (parse_map(argv[4], uid, out->um) < 0 || parse_map(argv[5], gid, out->gm) < 0))) {
		rs_probe_child_args_clear(out);
		return -EINVAL;
	}
	out->data = rs_xstrdup(argv[3]);
	return 0;
}

void rs_probe_child_args_clear(struct rs_probe_child_args *a)
{
	free(a->groups);
	free(a->data);
	free(a->um);
	free(a->gm);
	memset(a, 0, sizeof(*a));
}
