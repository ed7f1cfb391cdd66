/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "launch/internal.h"
#include "lib/xalloc.h"

static const struct {
	const char *name;
	int type;
} ns_order[] = {
	/* the user namespace first: it grants the capabilities to join the rest */
	{"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},
	{"uts", CLONE_NEWUTS},   {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID},
	{"mnt", CLONE_NEWNS},
};

/* fd of /proc/pid/ns/name when it differs from ours, -1 when it is ours,
 * -2 when it cannot be opened (the process is going away). */
static int ns_fd_if_other(pid_t pid, const char *name)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
		close(fd);
		return -1;
	}
	return fd;
}

static int wait_child(pid_t child)
{
	sigset_t set;
	struct signalfd_siginfo si;
	static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	int st;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaddset(&set, fwd[i]);
	sigaddset(&set, SIGCHLD);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		if (waitpid(child, &st, WNOHANG) == child)
			break;
		if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD &&
		    si.ssi_code != SI_KERNEL)
			kill(child, (int)si.ssi_signo);
	}
	close(sfd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int rs_nsenter_run(const char *dir, char **argv, struct rs_error **err)
{
	int fds[ARRAY_SIZE(ns_order)];
	bool joined_pid = false;
	char cwd[4096];
	sigset_t set, old;

	int pid = rs_state_child_pid(dir, err);
	if (pid < 0)
		return RS_LAUNCH_EXIT_SETUP;
	for (size_t i = 0; i < ARRAY_SIZE(ns_order); i++) {
		fds[i] = ns_fd_if_other(pid, ns_order[i].name);
		/* never run half-joined: every namespace is ours or joinable */
		if (fds[i] == -2) {
			for (size_t j = 0; j < i; j++)
				if (fds[j] >= 0)
					close(fds[j]);
			rs_error_setx(err, ESRCH, "the %s namespace of pid %d cannot be opened: the "
				      "launch is gone (stale state)", ns_order[i].name, pid);
			return RS_LAUNCH_EXIT_SETUP;
		}
	}
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	for (size_t i = 0; i < ARRAY_SIZE(ns_order); i++) {
		if (fds[i] < 0)
			continue;
		if (setns(fds[i], ns_order[i].type) < 0) {
			int e = errno;
			for (size_t j = i; j < ARRAY_SIZE(ns_order); j++)
				if (fds[j] >= 0)
					close(fds[j]);
			rs_error_set(err, e, "cannot join the %s namespace of pid %d", ns_order[i].name,
				     pid);
			return RS_LAUNCH_EXIT_SETUP;
		}
		joined_pid |= ns_order[i].type == CLONE_NEWPID;
		close(fds[i]);
	}
	if (chdir(cwd) < 0 && chdir("/") < 0) {
		rs_error_set(err, errno, "cannot change directory");
		return RS_LAUNCH_EXIT_SETUP;
	}
	/* a pid namespace applies to children only */
	pid_t child = 0;
	if (joined_pid) {
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		for (int s = 1; s < 32; s++)
			if (s == SIGTERM || s == SIGINT || s == SIGHUP || s == SIGQUIT || s == SIGUSR1 ||
			    s == SIGUSR2)
				sigaddset(&set, s);
		sigprocmask(SIG_BLOCK, &set, &old);
		child = fork();
		if (child < 0) {
			rs_error_set(err, errno, "cannot fork");
			return RS_LAUNCH_EXIT_SETUP;
		}
		if (child > 0)
			return wait_child(child);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	execvp(argv[0], argv);
	int e = errno, code = e == ENOENT ? RS_LAUNCH_EXIT_NOTFOUND : RS_LAUNCH_EXIT_NOEXEC;
	if (joined_pid) {
		/* the forked child has no caller to hand an error to */
		fprintf(stderr, "rootless-setup: cannot run '%s': %s\n", argv[0], strerror(e));
		_exit(code);
	}
	rs_error_set(err, e, "cannot run '%s'", argv[0]);
	return code;
}
