/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "launch/bypass.h"
#include "launch/internal.h"
#include "lib/sig.h"
#include "lib/xalloc.h"

/* The new mount API (Linux 5.2 / 5.12); glibc 2.36's wrappers clash with
 * <linux/mount.h>, so raw syscalls with their stable numbers. */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#define RS_OPEN_TREE_CLONE	   1
#define RS_AT_RECURSIVE		   0x8000
#define RS_MOVE_MOUNT_F_EMPTY_PATH 0x4

#define RO_NAME ".rootless-setup-ro"

static int report_fd = -1;

_noreturn_ _printf_(3, 4) static void child_fail(int code, int err, const char *fmt, ...)
{
	struct rs_child_msg m = {.code = code, .err = err};
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(m.msg, sizeof(m.msg), fmt, ap);
	va_end(ap);
	if (err && n > 0 && (size_t)n < sizeof(m.msg))
		snprintf(m.msg + n, sizeof(m.msg) - (size_t)n, ": %s", strerror(err));
	rs_write_full(report_fd, &m, sizeof(m));
	_exit(code);
}

/* Entries of src as entries of dst: a symlink is copied as it is, so a
 * relative target resolves from the same depth as on the host
 * (RootlessKit#225); anything else becomes a link into the read-only view. */
static void link_entries(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	char s[4096], target[4096];

	if (!d)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot list '%s'", src);
	if (dfd < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot open '%s'", dst);
	/* fd-relative: one lookup of src and dst, not one per entry */
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, RO_NAME))
			continue;
		/* readdir's d_type spares a readlink per entry */
		ssize_t n = -1;
		if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN)
			n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n >= 0)
			target[n] = '\0';
		else
			snprintf(target, sizeof(target), "%s/%s", src, de->d_name);
		if (symlinkat(target, dfd, de->d_name) < 0) {
			snprintf(s, sizeof(s), "%s/%s", dst, de->d_name);
			child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot create '%s'", s);
		}
	}
	close(dfd);
	closedir(d);
}

/* The read-only view: one clone of the whole tree, taken before the first
 * tmpfs covers anything, and attached under the first copied-up dir. With a
 * clone of "/", "../.." inside it means what it means on the host. */
static char *ro_base;
static int ro_tree = -1;

/* Before the ids are mapped (the mounts need only the capabilities the
 * new user namespace already gives): the clone of the tree and the tmpfs
 * on each copied-up directory. This runs while newuidmap works. */
static void copy_up_mount(const char *dir, bool *fallback)
{
	struct stat st;
	char opts[64];

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		child_fail(RS_LAUNCH_EXIT_SETUP, errno ? errno : ENOTDIR, "cannot copy up '%s'",
			   dir);
	if (!ro_base && ro_tree < 0 && !*fallback) {
		ro_tree = (int)syscall(SYS_open_tree, AT_FDCWD, "/",
				       RS_OPEN_TREE_CLONE | RS_AT_RECURSIVE | O_CLOEXEC);
		/* before Linux 5.2: RootlessKit's way, a bind of dir moved under it */
		if (ro_tree < 0 && (errno == ENOSYS || errno == EPERM)) {
			*fallback = true;
			return;
		}
		if (ro_tree < 0)
			child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot clone the mount tree");
	}
	if (*fallback)
		return;
	snprintf(opts, sizeof(opts), "mode=%o", st.st_mode & 07777);
	if (mount("tmpfs", dir, "tmpfs", 0, opts) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot mount a tmpfs on '%s'", dir);
}

static void copy_up_fallback(const char *dir)
{
	struct stat st;
	char opts[64], ro[4096], tmp[] = "/tmp/.rootless-setup-XXXXXX";

	if (stat(dir, &st) < 0 || !mkdtemp(tmp) ||
	    mount(dir, tmp, NULL, MS_BIND | MS_REC, NULL) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot bind '%s'", dir);
	snprintf(opts, sizeof(opts), "mode=%o", st.st_mode & 07777);
	snprintf(ro, sizeof(ro), "%s/%s", strcmp(dir, "/") ? dir : "", RO_NAME);
	if (mount("tmpfs", dir, "tmpfs", 0, opts) < 0 || mkdir(ro, 0755) < 0 ||
	    mount(tmp, ro, NULL, MS_MOVE, NULL) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot copy up '%s'", dir);
	rmdir(tmp);
	link_entries(ro, dir);
}

/* After the map: attach the read-only view in the first copied-up
 * directory, then fill each tmpfs with links. */
static void copy_up_link(const char *dir, bool fallback)
{
	char ro[4096], src[4096];

	if (fallback) {
		copy_up_fallback(dir);
		return;
	}
	if (!ro_base) {
		snprintf(ro, sizeof(ro), "%s/%s", strcmp(dir, "/") ? dir : "", RO_NAME);
		if (mkdir(ro, 0755) < 0)
			child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot create '%s'", ro);
		if (syscall(SYS_move_mount, ro_tree, "", AT_FDCWD, ro, RS_MOVE_MOUNT_F_EMPTY_PATH) <
		    0)
			child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot attach the read-only view");
		close(ro_tree);
		ro_tree = -1;
		/* not remounted read-only: $XDG_RUNTIME_DIR often lies below a
		 * copied-up /run on the same filesystem, and must stay writable;
		 * the user's own permissions guard the rest, as with RootlessKit */
		ro_base = rs_xstrdup(ro);
	}
	snprintf(src, sizeof(src), "%s%s", ro_base, dir);
	link_entries(src, dir);
}

/* Path of dir's original in the read-only view when p is one of our
 * copy-up links, else NULL. */
static bool is_view_link(const char *p, char *orig, size_t n)
{
	ssize_t k;
	if (!ro_base || (k = readlink(p, orig, n - 1)) < 0)
		return false;
	orig[k] = '\0';
	return strncmp(orig, ro_base, strlen(ro_base)) == 0;
}

/* Makes every directory above dst real (expanding copy-up links), then
 * binds src on dst. */
static void overlay_file(const char *spec)
{
	_cleanup_free_ char *s = rs_xstrdup(spec);
	char *colon = strchr(s, ':'), orig[4096];
	const char *src = s, *dst = colon + 1;

	*colon = '\0';
	for (char *p = (char *)dst + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		struct stat st;
		if (is_view_link(dst, orig, sizeof(orig))) {
			if (unlink(dst) < 0 || mkdir(dst, 0755) < 0)
				child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot copy up '%s'", dst);
			link_entries(orig, dst);
		} else if (lstat(dst, &st) < 0 && mkdir(dst, 0755) < 0) {
			child_fail(RS_LAUNCH_EXIT_SETUP, errno,
				   "cannot create '%s' (copy up its "
				   "parent)",
				   dst);
		}
		*p = '/';
	}
	if (is_view_link(dst, orig, sizeof(orig)))
		unlink(dst);
	int fd = open(dst, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EISDIR)
		fd = open(dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot create '%s' for --overlay-file",
			   dst);
	close(fd);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot place '%s' at '%s'", src, dst);
}

/* Sets flags on interface name (in our network namespace). */
static void if_flags_on(const char *name, short flags)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot read the flags of '%s'", name);
	ifr.ifr_flags |= flags;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot set the flags of '%s'", name);
	close(s);
}

static void loopback_up(void)
{
	if_flags_on("lo", IFF_UP);
}

/* slirp4netns --configure sets the interface's flags to UP|RUNNING and so
 * drops the MULTICAST a tap is made with, which RootlessKit's `ip link set
 * up` keeps (IPv6 neighbour discovery needs it). Once slirp4netns is
 * ready: here, or in STATE/netns through a helper (the command keeps our
 * network namespace, and setns back to the host's is not permitted). */
static void tap_multicast(const struct rs_child_args *a)
{
	const char *ifname = a->o->ifname ? a->o->ifname : "tap0";
	char path[4200];
	int st;

	if (a->o->net != RS_NET_SLIRP4NETNS)
		return;
	if (!a->o->detach_netns) {
		if_flags_on(ifname, IFF_MULTICAST);
		return;
	}
	snprintf(path, sizeof(path), "%s/netns", a->state_dir);
	pid_t p = fork();
	if (p < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot fork");
	if (p == 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot enter '%s'", path);
		if_flags_on(ifname, IFF_MULTICAST);
		_exit(0);
	}
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		_exit(RS_LAUNCH_EXIT_SETUP);
}

/* Writes text to dir/name (0644, a new file; a planted link is not
 * followed). */
static void write_file_at(const char *dir, const char *name, const char *text)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || rs_write_full(fd, text, strlen(text)) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot write '%s'", path);
	close(fd);
}

/* The host's /etc/hosts (64 KiB at most) with the hostname on loopback. */
static char *hosts_text(void)
{
	char host[HOST_NAME_MAX + 1] = "localhost",
				  *buf = rs_xmalloc(65536 + 2 * sizeof(host) + 32);
	size_t n = 0;
	ssize_t k;
	int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && n < 65536 && (k = read(fd, buf + n, 65536 - n)) > 0)
		n += (size_t)k;
	if (fd >= 0)
		close(fd);
	if (n && buf[n - 1] != '\n')
		buf[n++] = '\n';
	gethostname(host, sizeof(host) - 1);
	sprintf(buf + n, "127.0.0.1 %s\n::1 %s\n", host, host);
	return buf;
}

/* RootlessKit's files for a network with DNS: STATE/resolv.conf naming
 * it and STATE/hosts (the host's, with the hostname on loopback, so it
 * does not resolve to the host's address). The command sees them at
 * /etc/resolv.conf and /etc/hosts (bind mounts; a copied-up /etc's links
 * become files first) unless it keeps the host's network namespace
 * (--detach-netns): then it keeps the host's resolver too, which it can
 * reach, and the files are for what runs inside STATE/netns. */
static void net_files(const struct rs_child_args *a, bool etc_up)
{
	static const char *const names[] = {"resolv.conf", "hosts"};
	char text[64], path[4200], etc[32];
	_cleanup_free_ char *hosts = hosts_text();

	snprintf(text, sizeof(text), "nameserver %u.%u.%u.%u\n", a->dns[0], a->dns[1], a->dns[2],
		 a->dns[3]);
	write_file_at(a->state_dir, names[0], text);
	write_file_at(a->state_dir, names[1], hosts);
	if (a->o->detach_netns)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(etc, sizeof(etc), "/etc/%s", names[i]);
		snprintf(path, sizeof(path), "%s/%s", a->state_dir, names[i]);
		if (etc_up) {
			unlink(etc);
			int fd = open(etc, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0)
				child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot create '%s'", etc);
			close(fd);
		} else if (access(etc, F_OK) < 0) {
			continue; /* a host without one: nothing to mount over */
		}
		if (mount(path, etc, NULL, MS_BIND, NULL) < 0)
			child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot mount '%s' on '%s'", path,
				   etc);
	}
}

static bool copy_up_fallback_mode;

/* --evacuate-cgroup2: our cgroup namespace's view of cgroup2, so the
 * command sees the sub-group it was moved to. A tmpfs first: cgroup2 over
 * the host's cgroup2 mount is EBUSY (the same superblock). */
static void mount_cgroup2(void)
{
	if (mount("none", "/sys/fs/cgroup", "tmpfs", 0, NULL) < 0 ||
	    mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot mount cgroup2 on '/sys/fs/cgroup'");
}

/* A network namespace of our own gets its own sysfs, so /sys/class/net
 * shows its interfaces, not the host's (RootlessKit's mountSysfs). The
 * host's /sys/fs/cgroup is kept: a clone of it is attached on the new
 * sysfs (with --evacuate-cgroup2, our cgroup2 is mounted there instead).
 * Where a read-write sysfs is refused (the host's is read-only), a
 * read-only one; where none is permitted (a masked /sys/firmware), the
 * host's stays, as RootlessKit goes on with a warning. */
static void mount_sysfs(bool evacuate)
{
	char tmp[] = "/tmp/.rootless-setup-sys-XXXXXX";
	bool moved = false;
	int cg = -1;

	bool keep = !evacuate && access("/sys/fs/cgroup", F_OK) == 0;
	if (keep) {
		cg = (int)syscall(SYS_open_tree, AT_FDCWD, "/sys/fs/cgroup",
				  RS_OPEN_TREE_CLONE | RS_AT_RECURSIVE | O_CLOEXEC);
		/* before Linux 5.2: RootlessKit's way, a bind moved back after */
		if (cg < 0 && (!mkdtemp(tmp) ||
			       mount("/sys/fs/cgroup", tmp, NULL, MS_BIND | MS_REC, NULL) < 0))
			child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot keep '/sys/fs/cgroup'");
		moved = cg < 0;
	}
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 &&
	    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) <
		    0) {
		/* the host's sysfs stays, and its cgroup mounts with it */
		if (cg >= 0)
			close(cg);
		if (moved) {
			umount2(tmp, MNT_DETACH);
			rmdir(tmp);
		}
		if (evacuate)
			mount_cgroup2();
		return;
	}
	if (evacuate) {
		if (mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
			child_fail(RS_LAUNCH_EXIT_SETUP, errno,
				   "cannot mount cgroup2 on '/sys/fs/cgroup'");
	} else if (!keep) {
		/* a host without /sys/fs/cgroup: nothing to keep */
	} else if (moved ? mount(tmp, "/sys/fs/cgroup", NULL, MS_MOVE, NULL) < 0
			 : syscall(SYS_move_mount, cg, "", AT_FDCWD, "/sys/fs/cgroup",
				   RS_MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		child_fail(RS_LAUNCH_EXIT_SETUP, errno,
			   "cannot attach '/sys/fs/cgroup' on the new sysfs");
	}
	if (cg >= 0)
		close(cg);
	if (moved)
		rmdir(tmp);
}

/* --detach-netns: the command keeps the launcher's network namespace; a
 * new one, with lo up, is kept alive by a bind mount at STATE/netns (in our
 * mount namespace) for the network helper and for clients that enter it.
 * A helper process makes it: setns back to the host's namespace would
 * need a capability there. */
static void detached_netns(const char *state_dir)
{
	char path[4096];
	int st;

	snprintf(path, sizeof(path), "%s/netns", state_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0400);
	if (fd < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot create '%s'", path);
	close(fd);
	pid_t p = fork();
	if (p < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot fork");
	if (p == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			child_fail(RS_LAUNCH_EXIT_SETUP, errno,
				   "cannot create a network namespace");
		loopback_up();
		if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
			child_fail(RS_LAUNCH_EXIT_SETUP, errno,
				   "cannot bind the network namespace at '%s'", path);
		_exit(0);
	}
	/* on failure the helper has reported; the parent reads that instead of 'r' */
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		_exit(RS_LAUNCH_EXIT_SETUP);
}

static void setup_mounts_early(const struct rs_child_args *a)
{
	const struct rs_launch_opts *o = a->o;

	if (mount(NULL, "/", NULL, o->propagation ? o->propagation : MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot set the propagation of '/'");
	for (size_t i = 0; i < o->copy_up.n; i++)
		copy_up_mount(o->copy_up.v[i], &copy_up_fallback_mode);
}

static void setup_mounts(const struct rs_child_args *a)
{
	const struct rs_launch_opts *o = a->o;
	bool etc_up = false;

	for (size_t i = 0; i < o->copy_up.n; i++) {
		copy_up_link(o->copy_up.v[i], copy_up_fallback_mode);
		etc_up |= strcmp(o->copy_up.v[i], "/etc") == 0;
	}
	for (size_t i = 0; i < o->overlay_files.n; i++)
		overlay_file(o->overlay_files.v[i]);
	if (o->pidns && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot mount a new /proc for --pidns");
	if (o->detach_netns)
		detached_netns(a->state_dir);
	if (o->net != RS_NET_HOST && !o->detach_netns) {
		loopback_up();
		mount_sysfs(o->evacuate_cgroup2 != NULL);
	} else if (o->evacuate_cgroup2) {
		mount_cgroup2();
	}
	if (o->net == RS_NET_SLIRP4NETNS || o->net == RS_NET_PASTA || o->net == RS_NET_LIBSLIRP)
		net_files(a, etc_up);
}

static const int fwd_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void set_env(const struct rs_child_args *a)
{
	char buf[32];
	/* socket activation: LISTEN_PID must name the process that gets the fds */
	if (getenv("LISTEN_FDS")) {
		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		setenv("LISTEN_PID", buf, 1);
	}
	setenv("ROOTLESS_SETUP_STATE_DIR", a->state_dir, 1);
	/* RootlessKit's documented names, read by containerd-rootless.sh,
	 * dockerd-rootless.sh and nerdctl */
	setenv("ROOTLESSKIT_STATE_DIR", a->state_dir, 1);
	snprintf(buf, sizeof(buf), "%u", (unsigned)a->parent_euid);
	setenv("ROOTLESSKIT_PARENT_EUID", buf, 1);
	snprintf(buf, sizeof(buf), "%u", (unsigned)a->parent_egid);
	setenv("ROOTLESSKIT_PARENT_EGID", buf, 1);
}

_noreturn_ static void exec_command(const struct rs_child_args *a)
{
	/* main() ignores SIGPIPE; the command gets default dispositions and an
	 * empty mask (`yes | head -1` must end quietly) */
	rs_signals_reset();
	set_env(a);
	execvp(a->o->argv[0], a->o->argv);
	int e = errno;
	child_fail(e == ENOENT ? RS_LAUNCH_EXIT_NOTFOUND : RS_LAUNCH_EXIT_NOEXEC, e,
		   "cannot run '%s'", a->o->argv[0]);
}

static int status_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
}

/* PID 1 of --pidns: forwards signals to the command, reaps every orphan
 * (without --reaper=false: then only the command, as RootlessKit's
 * runWithoutReap), and leaves with the command's status, its wait status
 * on status_fd for the parent; its death kills the namespace. */
_noreturn_ static void pid1(const struct rs_child_args *a, bool reap)
{
	sigset_t set;
	struct signalfd_siginfo si;
	pid_t cmd;
	int sfd;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaddset(&set, fwd_signals[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	cmd = fork();
	if (cmd < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot fork the command");
	if (cmd == 0) {
		close(sfd);
		exec_command(a);
	}
	/* the parent learns of a clean exec from EOF: drop our copy */
	close(a->to_parent);
	for (;;) {
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD) {
			/* a tty's ^C already reached the command's process group */
			if (si.ssi_code != SI_KERNEL)
				kill(cmd, (int)si.ssi_signo);
			continue;
		}
		int st;
		pid_t p;
		while ((p = waitpid(reap ? -1 : cmd, &st, WNOHANG)) > 0)
			if (p == cmd) {
				(void)!write(a->status_fd, &st, sizeof(st));
				_exit(status_code(st));
			}
	}
}

void rs_launch_child(const struct rs_child_args *a)
{
	char c;

	report_fd = a->to_parent;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* a copy of the lock's file would hold it past a SIGKILLed launcher */
	close(a->lock_fd);
	setup_mounts_early(a);
	/* EOF here means the parent died before mapping us */
	if (rs_read_full(a->from_parent, &c, 1, -1) < 0 || c != 'm')
		_exit(RS_LAUNCH_EXIT_SETUP);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		child_fail(RS_LAUNCH_EXIT_SETUP, errno, "cannot become root in the user namespace");
	/* a credential change clears the parent-death signal: arm it again */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setup_mounts(a);
	if (a->self_publish) {
		/* no pid namespace: our pid is the host's; the files are the
		 * user's (its uid is our 0) */
		struct rs_error *e = NULL;
		if (rs_state_publish(a->self_publish, getpid(), &e) < 0)
			child_fail(RS_LAUNCH_EXIT_SETUP, 0, "%s", e->msg);
	} else {
		c = 'r';
		rs_write_full(a->to_parent, &c, 1);
		if (rs_read_full(a->from_parent, &c, 1, -1) < 0 || c != 'g')
			_exit(RS_LAUNCH_EXIT_SETUP);
		/* the network helper is ready now */
		tap_multicast(a);
	}
	/* last, so every process of the command inherits it and nothing of
	 * ours connects after it */
	if (a->bypass_filter) {
		char why[256];
		if (rs_bypass_child(a->bypass_filter, a->bypass_sock, why, sizeof(why)) < 0)
			child_fail(RS_LAUNCH_EXIT_SETUP, 0, "%s", why);
		close(a->bypass_sock);
	}
	close(a->from_parent);
	if (a->o->pidns)
		pid1(a, a->o->reaper != RS_TRI_FALSE);
	close(a->status_fd);
	exec_command(a);
}
