/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The embedded network helper's sandbox, entered before it reads a single
 * packet: at least what slirp4netns' --enable-sandbox --enable-seccomp give
 * (its own mount namespace, pivot_root to a tmpfs, no capabilities, a
 * seccomp filter), tighter where we can:
 *
 * - its own user namespace (one id: ours), not the launch's: the helper has
 *   no capability over the launch's namespaces at any time (slirp4netns
 *   joins the launch's user namespace as its root for its sandbox);
 * - the root is an empty tmpfs, read-only, holding only etc/resolv.conf,
 *   a copy of the host's made before (slirp4netns binds the host's /etc and
 *   /run): libslirp reads it for its DNS forwarder, and nothing of the
 *   user's files is reachable by path;
 * - no capabilities (bounding, ambient, effective), no_new_privs, every fd
 *   but the tap and the control socket closed;
 * - seccomp: an allow-list (slirp4netns: a block-list); the calls no
 *   network stack makes (exec, ptrace, mount, namespaces, modules, bpf,
 *   signals to others...) kill the process, everything else not on the
 *   list fails with EPERM; sockets only AF_INET and AF_INET6 (no AF_UNIX:
 *   the helper stays in the host's network namespace, where abstract
 *   sockets live; no netlink); no executable memory (mmap, mprotect without
 *   PROT_EXEC); open only read-only.
 *
 * Written with libseccomp, opened on first use (src/host/libs.c): it
 * resolves the names per architecture, checks the architecture (a 32-bit
 * or x32 call is killed) and compiles the argument comparisons, which hand
 * written BPF gets wrong easily (64-bit arguments in two 32-bit words).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "launch/netemb.h"
#include "lib/macro.h"

static int fail(int e, char *why, size_t n, const char *what)
{
	snprintf(why, n, "%s: %s", what, strerror(e));
	return -e;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, s, strlen(s));
	int e = w == (ssize_t)strlen(s) ? 0 : w < 0 ? -errno : -EIO;
	close(fd);
	return e;
}

/* Our own ids, each mapped to itself: an unprivileged map of one id (the
 * kernel wants setgroups denied before the gid map). */
static int map_self(uid_t uid, gid_t gid)
{
	char m[64];
	int r;
	snprintf(m, sizeof(m), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if ((r = write_str("/proc/self/uid_map", m)) < 0)
		return r;
	if ((r = write_str("/proc/self/setgroups", "deny")) < 0 && r != -ENOENT)
		return r;
	snprintf(m, sizeof(m), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return write_str("/proc/self/gid_map", m);
}

/* The new root: a tmpfs with etc/resolv.conf, on the first of these
 * directories (in our mount namespace only). */
static int new_root(const char *resolv, size_t n, const char **at)
{
	static const char *const dirs[] = {"/tmp", "/proc"};
	int r = -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && r < 0; i++) {
		*at = dirs[i];
		r = mount("tmpfs", dirs[i], "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=256k,nr_inodes=16,mode=0755") < 0
			    ? -errno
			    : 0;
	}
	if (r < 0)
		return r;
	char p[64];
	snprintf(p, sizeof(p), "%s/etc", *at);
	if (mkdir(p, 0755) < 0)
		return -errno;
	snprintf(p, sizeof(p), "%s/etc/resolv.conf", *at);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	if (n && write(fd, resolv, n) != (ssize_t)n)
		return -EIO;
	return 0;
}

static int drop_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	for (int c = 0; prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0 || errno != EINVAL; c++)
		if (errno == EPERM)
			return -EPERM;
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int rs_netemb_sandbox(const char *resolv, size_t n, int keep_max, char *why, size_t wl)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t parent = getppid();
	const char *at = NULL;
	int r;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return fail(errno, why, wl, "cannot create its user and mount namespaces");
	/* the namespace changed our credentials, which clears the
	 * parent-death signal: armed again, and a parent that died before
	 * is seen here (the control socket's EOF is the other guard) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return fail(ESRCH, why, wl, "the launcher is gone");
	if ((r = map_self(uid, gid)) < 0)
		return fail(-r, why, wl, "cannot map its ids");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(errno, why, wl, "cannot make its mounts private");
	if ((r = new_root(resolv, n, &at)) < 0)
		return fail(-r, why, wl, "cannot make its root");
	/* pivot_root(".", "."): the old root ends up on top of the new one,
	 * and is detached at once (the way runc does it) */
	if (chdir(at) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(errno, why, wl, "cannot pivot_root to its tmpfs");
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return fail(errno, why, wl, "cannot detach the host's mounts");
	if (mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail(errno, why, wl, "cannot make its root read-only");
	if (close_range((unsigned)keep_max + 1, ~0U, 0) < 0)
		return fail(errno, why, wl, "cannot close its other files");
	if ((r = drop_caps()) < 0)
		return fail(-r, why, wl, "cannot drop its capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(errno, why, wl, "cannot set no_new_privs");
	return 0;
}

/* ---- seccomp ---- */

/* Never made by a network stack: the process is killed. */
static const char *const killed[] = {
	"execve",
	"execveat",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"pidfd_getfd",
	"pidfd_open",
	"pidfd_send_signal",
	"kill",
	"tkill",
	"tgkill",
	"rt_sigqueueinfo",
	"rt_tgsigqueueinfo",
	"clone",
	"clone3",
	"fork",
	"vfork",
	"mount",
	"umount",
	"umount2",
	"pivot_root",
	"chroot",
	"setns",
	"unshare",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"move_mount",
	"open_tree",
	"mount_setattr",
	"open_by_handle_at",
	"name_to_handle_at",
	"bpf",
	"perf_event_open",
	"userfaultfd",
	"io_uring_setup",
	"keyctl",
	"add_key",
	"request_key",
	"init_module",
	"finit_module",
	"delete_module",
	"kexec_load",
	"kexec_file_load",
	"reboot",
	"swapon",
	"swapoff",
	"setuid",
	"setgid",
	"setreuid",
	"setregid",
	"setresuid",
	"setresgid",
	"setgroups",
	"capset",
	"seccomp",
	"memfd_create",
	"personality",
};

/* What libslirp, glib and libc do here, with no condition. */
static const char *const allowed[] = {
	"read",
	"write",
	"readv",
	"writev",
	"close",
	"lseek",
	"_llseek",
	"fstat",
	"fstat64",
	"newfstatat",
	"fstatat64",
	"stat",
	"stat64",
	"statx",
	"poll",
	"ppoll",
	"ppoll_time64",
	"brk",
	"munmap",
	"mremap",
	"madvise",
	"clock_gettime",
	"clock_gettime64",
	"clock_getres",
	"gettimeofday",
	"time",
	"getrandom",
	"getpid",
	"gettid",
	"exit",
	"exit_group",
	"rt_sigreturn",
	"rt_sigprocmask",
	/* the sanitizer runtime asks for the thread's alternate signal stack
	 * before every noreturn call (ASan's __asan_handle_no_return, a
	 * CHECK failure when refused); it names only the caller's own stack */
	"sigaltstack",
	"restart_syscall",
	"futex",
	"futex_time64",
	"connect",
	"bind",
	"listen",
	"accept",
	"accept4",
	"getsockname",
	"getpeername",
	"setsockopt",
	"getsockopt",
	"shutdown",
	"recvfrom",
	"sendto",
	"recv",
	"send",
};

struct cond_rule {
	const char *name;
	struct scmp_arg_cmp cmp;
};

#define WRITE_BITS (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)

static const struct cond_rule conditional[] = {
	/* IPv4 and IPv6 only */
	{"socket", SCMP_A0(SCMP_CMP_EQ, AF_INET)},
	{"socket", SCMP_A0(SCMP_CMP_EQ, AF_INET6)},
	/* libslirp's FIONREAD and its non-blocking sockets */
	{"ioctl", SCMP_A1(SCMP_CMP_EQ, FIONREAD)},
	{"ioctl", SCMP_A1(SCMP_CMP_EQ, FIONBIO)},
	{"fcntl", SCMP_A1(SCMP_CMP_EQ, F_GETFL)},
	{"fcntl", SCMP_A1(SCMP_CMP_EQ, F_SETFL)},
	{"fcntl", SCMP_A1(SCMP_CMP_EQ, F_GETFD)},
	{"fcntl", SCMP_A1(SCMP_CMP_EQ, F_SETFD)},
	{"fcntl64", SCMP_A1(SCMP_CMP_EQ, F_GETFL)},
	{"fcntl64", SCMP_A1(SCMP_CMP_EQ, F_SETFL)},
	{"fcntl64", SCMP_A1(SCMP_CMP_EQ, F_GETFD)},
	{"fcntl64", SCMP_A1(SCMP_CMP_EQ, F_SETFD)},
	/* /etc/resolv.conf, read-only (the root is read-only besides) */
	{"openat", SCMP_A2(SCMP_CMP_MASKED_EQ, WRITE_BITS, 0)},
	{"open", SCMP_A1(SCMP_CMP_MASKED_EQ, WRITE_BITS, 0)},
	/* memory, never executable */
	{"mmap", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)},
	{"mmap2", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)},
	{"mprotect", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)},
};

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
	       const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	/* a name this architecture does not have (stat64 on x86-64) */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	return r == -EOPNOTSUPP ? 0 : r;
}

void *rs_netemb_seccomp_prepare(char *why, size_t wl)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r = 0;

	if (!ctx) {
		snprintf(why, wl, "cannot build its seccomp filter (%s)",
			 errno == ENOSYS ? "libseccomp cannot be loaded" : strerror(errno));
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(killed) && r == 0; i++)
		r = add(ctx, SCMP_ACT_KILL_PROCESS, killed[i], 0, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(allowed) && r == 0; i++)
		r = add(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(conditional) && r == 0; i++)
		r = add(ctx, SCMP_ACT_ALLOW, conditional[i].name, 1, &conditional[i].cmp);
	if (r < 0) {
		snprintf(why, wl, "cannot build its seccomp filter: %s", strerror(-r));
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

int rs_netemb_seccomp_load(void *ctx, char *why, size_t wl)
{
	int r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return fail(-r, why, wl, "cannot load its seccomp filter");
	return 0;
}
