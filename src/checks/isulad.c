/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <libmount.h>
#include <unistd.h>
#include "checks/internal.h"
#include "checks/isulad.h"
#include "host/parse.h"
#include "host/userfs.h"

bool rs_isulad_copy_ok(const struct rs_host *h, const struct rs_user *u, const char *rel)
{
	_cleanup_free_ char *sub = rs_xasprintf("%s/%s", RS_ISULAD_COPY_DIR, rel);
	_cleanup_close_ int home = -1, fd = -1;
	struct stat st;

	if (!u->home || u->home[0] != '/' || !strcmp(u->home, "/"))
		return false;
	/* the home itself comes from passwd; below it the user decides, so an
	 * O_PATH open (no read, no FIFO wait) that refuses every symlink */
	home = rs_host_openat(h, rs_host_rel(u->home), O_PATH | O_DIRECTORY, NULL);
	if (home < 0)
		return false;
	fd = rs_beneath_open(home, sub, O_PATH, 0);
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == u->uid &&
	       (st.st_mode & 0400);
}

static void append(char **list, const char *item)
{
	char *n = rs_xasprintf("%s%s'%s'", *list, **list ? ", " : "", item);
	free(*list);
	*list = n;
}

struct perm_tally {
	struct rs_ctx *ctx;
	char *bad; /* the first four the user can read neither way, quoted */
	unsigned nfiles, nbad, ncopies;
};

static int tally_file(const char *rel, const struct stat *st _unused_, void *arg)
{
	struct perm_tally *t = arg;

	t->nfiles++;
	if (rs_access_user_host(t->ctx->host, &t->ctx->user, rel, R_OK) == 1)
		return 0;
	if (rs_isulad_copy_ok(t->ctx->host, &t->ctx->user, rel)) {
		t->ncopies++;
	} else if (t->nbad++ < 4) {
		_cleanup_free_ char *abs = rs_xasprintf("/%s", rel);
		append(&t->bad, abs);
	}
	return 0;
}

static int isulad_permissions(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			      struct rs_error **err _unused_)
{
	struct perm_tally t = {.ctx = ctx, .bad = rs_xstrdup("")};

	rs_engine_each_copied(ctx->host, RS_ENGINE_ISULAD, true, tally_file, &t);
	_cleanup_free_ char *bad = t.bad;
	if (t.nbad) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "%u of %u iSulad files are not readable by "
			       "'%s': %s%s",
			       t.nbad, t.nfiles, ctx->user.name, bad, t.nbad > 4 ? ", ..." : "");
		rs_finding_hint(out,
				"rootless-setup fix --rule isulad.permissions copies them, as "
				"the user, to ~/" RS_ISULAD_COPY_DIR "/ (root's files and group "
				"'isula' stay as they are; no blanket chmod +r)");
		return 0;
	}
	if (t.ncopies)
		rs_finding_set(out, RS_STATUS_PASS,
			       "%u iSulad files readable by '%s', %u of them "
			       "through its copy in ~/" RS_ISULAD_COPY_DIR,
			       t.nfiles, ctx->user.name, t.ncopies);
	else
		rs_finding_set(out, RS_STATUS_PASS, "%u iSulad files, all readable by '%s'",
			       t.nfiles, ctx->user.name);
	return 0;
}

extern const struct rs_fixer rs_fixer_isulad_permissions;
const struct rs_rule rs_rule_isulad_permissions = {
	.fixer = &rs_fixer_isulad_permissions,
	.id = "isulad.permissions",
	.summary = "iSulad's configuration files are readable by the user",
	.explain = "iSulad installs /etc/isulad/daemon.json (0640) and the files of "
		   "/etc/default/isulad/ and its hooks/ without read access for others; rootless "
		   "iSulad reads them as the user. The guide says 'chmod +r' them all. The fixer "
		   "changes none of root's files and adds the user to no group (group 'isula' owns "
		   "the root daemon's socket: membership is root-equivalent); it copies each file "
		   "the user cannot read to ~/.config/isulad/system/<path> (e.g. "
		   "~/.config/isulad/system/etc/default/isulad/hooks/default.json), made as the "
		   "user (directories 0700, files 0600, written atomically, never through a "
		   "symlink). The generated launch shows each copy at its system path inside the "
		   "launcher's mount namespace, and the generated ~/.config/isulad/daemon.json "
		   "in place of /etc/isulad/daemon.json. The rule passes when every file is "
		   "readable by the user or has such a copy.",
	.engines = ENG(ISULAD),
	.needs_user = true,
	.run = isulad_permissions,
};

static int isulad_stale(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			struct rs_error **err _unused_)
{
	static const char *const dirs[] = {"var/run/isula", "var/run/isulad", "var/run/lxc", NULL};
	_cleanup_free_ char *bad = rs_xstrdup("");

	for (const char *const *d = dirs; *d; d++) {
		if (!rs_host_exists_host(ctx->host, *d))
			continue;
		if (rs_access_user_host(ctx->host, &ctx->user, *d, W_OK | X_OK) != 1) {
			_cleanup_free_ char *abs = rs_xasprintf("/%s", *d);
			append(&bad, abs);
		}
	}
	if (*bad) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "left by a root iSulad and not writable by "
			       "'%s': %s",
			       ctx->user.name, bad);
		/* a running root daemon, a process or LXC may use them */
		rs_finding_hint(
			out, "if no root iSulad runs (isulad.service inactive), rootless-setup "
			     "fix --rule isulad.stale-state removes those that no process uses "
			     "(/var/run/lxc only where LXC is not installed) and names the rest");
		return 0;
	}
	/* /run is a tmpfs: on a tree with no kernel behind it, empty says nothing */
	if (rs_offline_skip(ctx, out, true, false, "whether a root iSulad left state in /run"))
		return 0;
	rs_finding_set(out, RS_STATUS_PASS, "no stale iSulad state directories");
	return 0;
}

extern const struct rs_fixer rs_fixer_isulad_stale_state;
const struct rs_rule rs_rule_isulad_stale_state = {
	.fixer = &rs_fixer_isulad_stale_state,
	.id = "isulad.stale-state",
	.summary = "no root-owned iSulad state directories are left behind",
	.explain = "A root iSulad leaves /var/run/isula, /var/run/isulad and /var/run/lxc; "
		   "rootless iSulad cannot write them. The check only reports them. The fixer "
		   "removes nothing while a root iSulad runs (its pid file or socket; --force "
		   "overrides only this), and leaves a directory in place, naming it and why, "
		   "when a process has a file open, its working directory, its root or a mapped "
		   "file below it (read from /proc; under --root without a live /proc it cannot "
		   "tell and leaves them all), or, for /var/run/lxc, when LXC is installed "
		   "(lxc-start, the Debian package lxc). Symlinks inside are removed, never "
		   "followed.",
	.engines = ENG(ISULAD),
	.needs_user = true,
	.run = isulad_stale,
};

/* ---- isulad.locale ---- */

/* glibc looks the normalised name up in the archive ("en_US.utf8"), and a
 * compiled directory under either spelling (Fedora's langpacks) */
static const char *const locale_dirs[] = {"usr/lib/locale/en_US.utf8/LC_CTYPE",
					  "usr/lib/locale/en_US.UTF-8/LC_CTYPE", NULL};
#define LOCALE_ARCHIVE "usr/lib/locale/locale-archive"

/* The archive's first need bytes (at most RS_LOCALE_ARCHIVE_SPAN): a
 * read of its header, then of the span its name tables take. */
static int archive_has(const struct rs_host *h, const char *name)
{
	_cleanup_close_ int fd = rs_host_openat(h, LOCALE_ARCHIVE,
						O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, NULL);
	_cleanup_free_ char *buf = NULL;
	size_t want = 4096, need = 0;
	struct stat st;
	int r = -ENODATA;

	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -EINVAL;
	for (int round = 0; r == -ENODATA && round < 2; round++, want = need) {
		size_t cap = want < (size_t)st.st_size ? want : (size_t)st.st_size;
		free(buf);
		buf = rs_xmalloc(cap + 1);
		ssize_t n = pread(fd, buf, cap, 0);
		if (n < 0)
			return -errno;
		r = rs_locale_archive_has(buf, (size_t)n, name, &need);
		if (r == -ENODATA && need <= (size_t)n)
			return -EINVAL;
	}
	return r == -ENODATA ? -EINVAL : r;
}

int rs_isulad_locale(const struct rs_host *h, const char **where)
{
	for (const char *const *d = locale_dirs; *d; d++)
		if (rs_host_exists(h, *d)) {
			*where = *d;
			return 1;
		}
	*where = LOCALE_ARCHIVE;
	return archive_has(h, "en_US.utf8");
}

static int isulad_locale(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			 struct rs_error **err)
{
	const char *where;
	int r = rs_isulad_locale(ctx->host, &where);

	if (r < 0)
		return rs_error_setx(err, -r, "cannot read '/%s': %s", where, strerror(-r));
	if (r == 1) {
		rs_finding_set(out, RS_STATUS_PASS, "the en_US.UTF-8 locale is installed ('/%s')",
			       where);
		return 0;
	}
	rs_finding_set(out, RS_STATUS_FAIL,
		       "no en_US.UTF-8 locale (neither in '/" LOCALE_ARCHIVE "' nor compiled "
		       "in '/usr/lib/locale'): isulad and isula exit at start ('Could not set "
		       "locale to en_US.UTF-8')");
	if (rs_distro_str(&ctx->distro, "locale_gen"))
		rs_finding_hint(out,
				"rootless-setup fix --rule isulad.locale enables "
				"'en_US.UTF-8 UTF-8' in /%s and runs locale-gen",
				rs_distro_str(&ctx->distro, "locale_gen"));
	else
		rs_finding_hint(out, "%s",
				rs_ctx_hint(ctx, "isulad.locale",
					    "install the en_US.UTF-8 locale (glibc-langpack-en or "
					    "glibc-all-langpacks; elsewhere: localedef -i en_US -f "
					    "UTF-8 en_US.UTF-8)"));
	return 0;
}

extern const struct rs_fixer rs_fixer_isulad_locale;
const struct rs_rule rs_rule_isulad_locale = {
	.fixer = &rs_fixer_isulad_locale,
	.id = "isulad.locale",
	.summary = "the en_US.UTF-8 locale iSulad insists on is installed",
	.explain = "isulad and the isula client both call setlocale(LC_CTYPE, \"en_US.UTF-8\") "
		   "first (so libarchive can convert file names) and exit 1 when it fails, "
		   "before reading any configuration; the rootless guide does not say so, since "
		   "openEuler ships the locale. The rule looks where glibc does: a compiled "
		   "locale directory /usr/lib/locale/en_US.utf8 (or en_US.UTF-8), or the name "
		   "en_US.utf8 in /usr/lib/locale/locale-archive (its header and name table are "
		   "read, not the whole file). The fixer, where the distribution compiles "
		   "locales from locale.gen (Debian: distro data locale_gen), enables "
		   "'en_US.UTF-8 UTF-8' there (uncommenting the line Debian ships commented, or "
		   "appending it; every other byte kept) and runs locale-gen, which needs the "
		   "locales package. Elsewhere it names the distribution's package.",
	.engines = ENG(ISULAD),
	.run = isulad_locale,
};

/* ---- isulad.runtime ---- */

/* The longest path iSulad makes below its state directory with runc:
 * STATE/runc/<64 hex digits>/attach.sock, a unix socket whose path must
 * fit sun_path (107 bytes and a NUL). */
#define STATE_SOCKET_TAIL (sizeof("/runc/") - 1 + 64 + sizeof("/attach.sock") - 1)
#define SUN_PATH_MAX	  107

static int isulad_runtime(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			  struct rs_error **err _unused_)
{
	_cleanup_free_ char *bad = rs_xstrdup(""), *run = NULL, *state = NULL;
	const struct rs_engine_info *ei = rs_engine_info(RS_ENGINE_ISULAD);

	/* iSulad 2.1 forks to exec modprobe (br-netfilter when its CRI starts,
	 * overlay when /proc/filesystems lacks it) with no exit after a failed
	 * exec: without modprobe the child goes on as a second daemon with
	 * every fd closed, and containers die ("Failed to add handler for exit
	 * fifo": epoll_ctl on a closed, reused fd) */
	if (!rs_ctx_find_program(ctx, "modprobe")) {
		_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, "modprobe");
		rs_list_add(&bad, "; ",
			    "no modprobe: iSulad's exec of it fails and its child "
			    "goes on as a second daemon, killing every container "
			    "('Failed to add handler for exit fifo')");
		if (install)
			rs_finding_hint(out, "install it: %s", install);
	}
	if (!rs_ctx_find_program(ctx, "runc")) {
		_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, "runc");
		rs_list_add(&bad, "; ",
			    "no runc: the generated daemon.json runs containers with it");
		if (install && !out->hint)
			rs_finding_hint(out, "install it: %s", install);
	}
	if (ctx->user.name && (run = rs_ctx_runtime_dir(ctx))) {
		state = rs_xasprintf("%s/%s", run, ei->run_dir);
		if (strlen(state) + STATE_SOCKET_TAIL > SUN_PATH_MAX) {
			_cleanup_free_ char *msg = rs_xasprintf(
				"the state directory '%s' is too long: iSulad's socket "
				"'%s/runc/ID/attach.sock' would be %zu bytes (a unix socket path "
				"holds %d)",
				state, state, strlen(state) + STATE_SOCKET_TAIL, SUN_PATH_MAX);
			rs_list_add(&bad, "; ", msg);
			if (!out->hint)
				rs_finding_hint(out, "use the runtime directory /run/user/%u",
						(unsigned)ctx->user.uid);
		}
	}
	if (*bad) {
		rs_finding_set(out, RS_STATUS_FAIL, "%s", bad);
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "modprobe and runc are installed%s%s%s",
		       state ? "; the state directory '" : "", state ? state : "",
		       state ? "' leaves room for iSulad's sockets" : "");
	return 0;
}

const struct rs_rule rs_rule_isulad_runtime = {
	.id = "isulad.runtime",
	.summary = "what iSulad's daemon runs and makes at run time is possible",
	.explain = "Beyond its guide, rootless iSulad needs: modprobe (Debian's kmod), which "
		   "iSulad 2.1 runs when its CRI service starts and when /proc/filesystems lacks "
		   "overlay - its exec helper has no exit after a failed exec, so without "
		   "modprobe the forked child carries on as a second copy of the daemon with "
		   "every file descriptor closed, and each container is killed at start "
		   "('Failed to add handler for exit fifo', epoll_ctl EINVAL on a closed and "
		   "reused fd; the same as real root); runc, which the generated daemon.json "
		   "names as the default runtime (lcr's LXC cannot set up cgroups in a user "
		   "namespace on a v1 or hybrid host); and a state directory "
		   "($XDG_RUNTIME_DIR/isulad) short enough that STATE/runc/<64-digit "
		   "id>/attach.sock fits a unix socket path (107 bytes).",
	.engines = ENG(ISULAD),
	.run = isulad_runtime,
};

/* ---- isulad.cgroups ---- */

/* The v1 hierarchies below /sys/fs/cgroup (cpu, memory, the named systemd
 * one...): the cgroup (v1) mounts there, by mountinfo; without a mount
 * table, the directories with a "tasks" file (cgroup2 has none; a symlink,
 * systemd's cpu -> cpu,cpuacct, is the same hierarchy again). */
void rs_isulad_v1_hierarchies(struct rs_ctx *ctx, struct rs_strv *out)
{
	struct libmnt_table *tb = rs_ctx_mounts(ctx);
	struct libmnt_iter *it = tb ? mnt_new_iter(MNT_ITER_FORWARD) : NULL;
	_cleanup_strv_ struct rs_strv names = {0};
	struct libmnt_fs *fs;

	while (it && mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *t = mnt_fs_get_target(fs);
		if (!rs_streq(mnt_fs_get_fstype(fs), "cgroup") || !t ||
		    !rs_startswith(t, "/sys/fs/cgroup/") || !t[15] || strchr(t + 15, '/') ||
		    rs_strv_contains(out, t + 15))
			continue;
		rs_strv_push(out, t + 15);
	}
	if (it) {
		mnt_free_iter(it);
		return;
	}
	if (rs_host_listdir(ctx->host, "sys/fs/cgroup", &names, NULL) < 0)
		return;
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *dir = rs_xasprintf("sys/fs/cgroup/%s", names.v[i]);
		_cleanup_free_ char *tasks = rs_xasprintf("%s/tasks", dir);
		struct stat st;
		if (rs_host_stat(ctx->host, dir, &st, true) == 0 && S_ISDIR(st.st_mode) &&
		    rs_host_exists(ctx->host, tasks))
			rs_strv_push(out, names.v[i]);
	}
}

/* Whether the user's group in hierarchy hier is ready: a directory owned
 * by the user, and for cpuset with CPUs and memory nodes (a new cpuset
 * group has none, and runc cannot fill one the user does not own). */
static bool user_group_ok(const struct rs_host *h, const struct rs_user *u, const char *hier)
{
	_cleanup_free_ char *dir = rs_xasprintf("sys/fs/cgroup/%s/" RS_ISULAD_CGROUP_FMT, hier,
						(unsigned)u->uid);
	struct stat st;

	if (rs_host_stat(h, dir, &st, true) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != u->uid)
		return false;
	_cleanup_free_ char *top = rs_xasprintf("sys/fs/cgroup/%s/cpuset.cpus", hier);
	if (!rs_host_exists(h, top))
		return true;
	for (const char *f = "cpus"; f; f = strcmp(f, "cpus") ? NULL : "mems") {
		_cleanup_free_ char *rel = rs_xasprintf("%s/cpuset.%s", dir, f), *buf = NULL;
		size_t len;
		if (rs_host_read(h, rel, 4096, &buf, &len, NULL) < 0 || !*rs_strstrip(buf))
			return false;
	}
	return true;
}

static void cgroups_v2(struct rs_ctx *ctx, struct rs_finding *out)
{
	if (ctx->delegated && *ctx->delegated) {
		rs_finding_set(out, RS_STATUS_PASS,
			       "cgroup v2, delegated to the user manager of '%s' (%s): runc makes "
			       "the containers' groups below the unit's own",
			       ctx->user.name, ctx->delegated);
		return;
	}
	rs_finding_set(out, RS_STATUS_FAIL,
		       "cgroup v2 with no group delegated to '%s': runc, given an explicit "
		       "cgroups path by iSulad, cannot make the containers' groups",
		       ctx->user.name);
	rs_finding_hint(out,
			"run iSulad from its user unit under a systemd user manager "
			"(loginctl enable-linger %s; see cgroup.delegation)",
			ctx->user.name);
}

static int isulad_cgroups(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			  struct rs_error **err)
{
	_cleanup_strv_ struct rs_strv hier = {0};
	_cleanup_free_ char *bad = rs_xstrdup("");
	unsigned nbad = 0;

	rs_cgroup_detect(ctx);
	if (ctx->cgroup_mode == RS_CGROUP_UNKNOWN &&
	    rs_offline_skip(ctx, out, true, true, "the running system's cgroup layout"))
		return 0;
	if (ctx->cgroup_mode == RS_CGROUP_UNKNOWN)
		return rs_error_setx(err, ENOSYS, "cannot tell the cgroup layout");
	if (ctx->cgroup_mode == RS_CGROUP_V2) {
		cgroups_v2(ctx, out);
		return 0;
	}
	rs_isulad_v1_hierarchies(ctx, &hier);
	for (size_t i = 0; i < hier.n; i++)
		if (!user_group_ok(ctx->host, &ctx->user, hier.v[i]) && nbad++ < 6)
			rs_list_add(&bad, ", ", hier.v[i]);
	if (!hier.n) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "no cgroup v1 hierarchy is mounted below "
			       "/sys/fs/cgroup");
	} else if (nbad) {
		rs_finding_set(
			out, RS_STATUS_FAIL,
			"'%s' has no usable group of its own (its directory; cpuset's with CPUs "
			"and memory nodes) in %u of %zu cgroup v1 hierarchies "
			"(%s%s): runc, given the cgroups path /" RS_ISULAD_CGROUP_FMT
			"/ID by iSulad, cannot make the containers' groups ('mkdir "
			"/sys/fs/cgroup/...: permission denied')",
			ctx->user.name, nbad, hier.n, bad, nbad > 6 ? ", ..." : "",
			(unsigned)ctx->user.uid);
		rs_finding_hint(out,
				"rootless-setup fix --rule isulad.cgroups makes "
				"/sys/fs/cgroup/*/" RS_ISULAD_CGROUP_FMT " for it (root "
				"makes them; a reboot removes them)",
				(unsigned)ctx->user.uid);
	} else {
		rs_finding_set(out, RS_STATUS_PASS,
			       "'%s' owns /sys/fs/cgroup/*/" RS_ISULAD_CGROUP_FMT " in all %zu "
			       "cgroup v1 hierarchies: runc makes the containers' groups there, "
			       "with their limits",
			       ctx->user.name, (unsigned)ctx->user.uid, hier.n);
	}
	return 0;
}

extern const struct rs_fixer rs_fixer_isulad_cgroups;
const struct rs_rule rs_rule_isulad_cgroups = {
	.fixer = &rs_fixer_isulad_cgroups,
	.id = "isulad.cgroups",
	.summary = "runc can make the cgroups of the user's iSulad containers",
	.explain = "iSulad gives runc an explicit cgroups path (its cgroup-parent, then the "
		   "container's id), and runc in a user namespace ignores a denied cgroup only "
		   "when no path was given: so a rootless iSulad container starts only where the "
		   "user may create that group. On cgroup v2 that is the group systemd "
		   "delegates to the user's manager (the unit runs the launch with "
		   "--evacuate-cgroup2; see cgroup.delegation): the rule passes when "
		   "cgroup.delegation found one. On cgroup v1 or a hybrid layout, where iSulad's "
		   "guide stops (it asks for v2), the generated daemon.json sets cgroup-parent "
		   "/rootless-isulad-UID, and the rule passes when every v1 hierarchy below "
		   "/sys/fs/cgroup has that directory owned by the user (cpuset's with its CPUs "
		   "and memory nodes): containers then run with their resource limits. The "
		   "fixer (root, on a running system) makes the missing ones, owned by the "
		   "user and its group, and copies cpuset.cpus and cpuset.mems from the parent; "
		   "they live in the cgroup file system, so a reboot removes them and the rule "
		   "fails again until fix runs.",
	.engines = ENG(ISULAD),
	.needs_user = true,
	.run = isulad_cgroups,
};
