/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/lib/spawn.c: the one way a process is started and waited for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/io.h"
#include "lib/spawn.h"

static char *const sh_env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};

/* sh -c SCRIPT with stdout (and stderr) captured; err freed by caller */
static int run_sh(const char *script, unsigned flags, unsigned timeout_ms,
		  struct rs_spawn_result *res, struct rs_error **err)
{
	char *const argv[] = {"sh", "-c", (char *)script, NULL};
	struct rs_spawn o = {.path = "/bin/sh",
			     .argv = argv,
			     .envp = sh_env,
			     .flags = flags,
			     .timeout_ms = timeout_ms};
	return rs_spawn_run(&o, res, err);
}

static void output_is_captured(void **state)
{
	(void)state;
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	assert_int_equal(run_sh("echo out; echo err >&2; exit 3", RS_SPAWN_STDOUT | RS_SPAWN_STDERR,
				5000, &res, &err),
			 0);
	assert_null(err);
	assert_string_equal(res.out, "out\n");
	assert_string_equal(res.err, "err\n");
	assert_int_equal(rs_spawn_exit_code(res.status), 3);
	rs_spawn_result_clear(&res);
	/* 2>&1 */
	assert_int_equal(run_sh("echo a; echo b >&2", RS_SPAWN_STDOUT | RS_SPAWN_MERGE, 5000, &res,
				&err),
			 0);
	assert_string_equal(res.out, "a\nb\n");
	assert_null(res.err);
	rs_spawn_result_clear(&res);
	/* neither asked for: both on /dev/null, nothing kept */
	assert_int_equal(run_sh("echo lost", 0, 5000, &res, &err), 0);
	assert_null(res.out);
	assert_int_equal(rs_spawn_exit_code(res.status), 0);
	rs_spawn_result_clear(&res);
}

static void output_is_bounded(void **state)
{
	(void)state;
	char *const argv[] = {"sh", "-c", "head -c 300000 /dev/zero; echo done >&2", NULL};
	struct rs_spawn o = {.path = "/bin/sh",
			     .argv = argv,
			     .envp = sh_env,
			     .flags = RS_SPAWN_STDOUT | RS_SPAWN_STDERR,
			     .out_max = 1000};
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	/* the rest is read and dropped: the child is not blocked on a full pipe */
	assert_int_equal(rs_spawn_run(&o, &res, &err), 0);
	assert_int_equal(res.out_len, 1000);
	assert_true(res.out_cut);
	assert_false(res.err_cut);
	assert_string_equal(res.err, "done\n");
	assert_int_equal(rs_spawn_exit_code(res.status), 0);
	rs_spawn_result_clear(&res);
}

static void stdin_is_dev_null(void **state)
{
	(void)state;
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	/* cat ends at once: its input is empty, never ours */
	assert_int_equal(run_sh("cat; echo end", RS_SPAWN_STDOUT, 5000, &res, &err), 0);
	assert_string_equal(res.out, "end\n");
	rs_spawn_result_clear(&res);
}

static void exec_failure_is_reported(void **state)
{
	(void)state;
	struct rs_spawn o = {.path = "/nonexistent/program"};
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	assert_int_equal(rs_spawn_run(&o, &res, &err), -ENOENT);
	assert_non_null(err);
	assert_string_equal(err->msg,
			    "cannot run '/nonexistent/program': No such file or directory");
	rs_error_free(err);
	rs_spawn_result_clear(&res);
}

static int failing_setup(void *arg, struct rs_spawn_ctx *ctx)
{
	(void)arg;
	ctx->step = 1;
	return -EPERM;
}

static void setup_failure_names_the_step(void **state)
{
	(void)state;
	static const char *const steps[] = {"first", "becoming the user", NULL};
	struct rs_spawn o = {.path = "/bin/true", .setup = failing_setup, .steps = steps};
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	assert_int_equal(rs_spawn_run(&o, &res, &err), -EPERM);
	assert_string_equal(err->msg,
			    "cannot run '/bin/true': becoming the user: Operation not permitted");
	rs_error_free(err);
	rs_spawn_result_clear(&res);
}

static void search_uses_envp_path(void **state)
{
	(void)state;
	char *const argv[] = {"env", NULL};
	char *const envp[] = {"PATH=/nonexistent:/usr/bin:/bin", "ONLY=this", NULL};
	struct rs_spawn o = {.path = "env",
			     .argv = argv,
			     .envp = envp,
			     .flags = RS_SPAWN_SEARCH | RS_SPAWN_STDOUT};
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	/* the environment is exactly envp: nothing of ours */
	assert_int_equal(rs_spawn_run(&o, &res, &err), 0);
	assert_string_equal(res.out, "PATH=/nonexistent:/usr/bin:/bin\nONLY=this\n");
	rs_spawn_result_clear(&res);
	char *const envp2[] = {"PATH=/nonexistent", NULL};
	o.envp = envp2;
	assert_int_equal(rs_spawn_run(&o, &res, &err), -ENOENT);
	assert_non_null(strstr(err->msg, "cannot run 'env'"));
	rs_error_free(err);
	rs_spawn_result_clear(&res);
}

static void deadline_kills_the_group(void **state)
{
	(void)state;
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	/* a grandchild in the background, and a child that stops itself:
	 * the deadline passes all the same and the whole group goes */
	assert_int_equal(run_sh("sleep 60 & echo $!; kill -STOP $$",
				RS_SPAWN_STDOUT | RS_SPAWN_REAPER, 300, &res, &err),
			 -ETIMEDOUT);
	assert_string_equal(err->msg, "'/bin/sh' did not finish within 300 ms");
	assert_true(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGKILL);
	int gpid = atoi(res.out);
	assert_true(gpid > 0);
	/* killed and reaped by us (the reaper): no process, no zombie */
	assert_int_equal(kill(gpid, 0), -1);
	assert_int_equal(errno, ESRCH);
	rs_error_free(err);
	rs_spawn_result_clear(&res);
}

/* fn: exits 0 when every rule of a child holds; a bit per failure. */
static int check_child(void *arg)
{
	int handed = *(int *)arg, bad = 0;
	struct sigaction sa;
	sigset_t mask;

	if (getsid(0) != getpid() || getpgrp() != getpid())
		bad |= 1;
	if (open("/dev/tty", O_RDONLY) >= 0)
		bad |= 2; /* no controlling terminal */
	/* fn is ours: the caller's dispositions stay (only an exec'd child
	 * gets them reset: exec_child_gets_default_signals) */
	if (sigaction(SIGPIPE, NULL, &sa) < 0 || sa.sa_handler != SIG_IGN)
		bad |= 4;
	if (sigprocmask(SIG_SETMASK, NULL, &mask) < 0 || sigismember(&mask, SIGUSR1))
		bad |= 8;
	/* fds: 0-2, the one handed on as 3, the report pipe: nothing else */
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
			n++;
	if (!d || n != 5)
		bad |= 16;
	if (d)
		closedir(d);
	if (fcntl(3, F_GETFD) != 0 || handed < 0)
		bad |= 32; /* handed on without FD_CLOEXEC */
	char cwd[8];
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/"))
		bad |= 64;
	return bad;
}

static void child_holds_nothing_of_ours(void **state)
{
	(void)state;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigset_t block, was;
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: would be inherited */
	int handed = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct rs_spawn o = {.path = "check_child",
			     .fn = check_child,
			     .arg = &handed,
			     .fds = &handed,
			     .n_fds = 1};
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	assert_true(leak >= 0 && handed >= 0);
	sigaction(SIGPIPE, &ign, &old);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &was);
	assert_int_equal(rs_spawn_run(&o, &res, &err), 0);
	sigprocmask(SIG_SETMASK, &was, NULL);
	sigaction(SIGPIPE, &old, NULL);
	assert_int_equal(rs_spawn_exit_code(res.status), 0);
	rs_spawn_result_clear(&res);
	close(leak);
	close(handed);
}

/* An exec'd child: SIGPIPE back at its default (bit 13 of SigIgn clear),
 * nothing blocked, whatever the caller had. */
static void exec_child_gets_default_signals(void **state)
{
	(void)state;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigset_t block, was;
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	sigaction(SIGPIPE, &ign, &old);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &was);
	int r = run_sh("awk '/^SigIgn:|^SigBlk:/ {print $2}' /proc/self/status", RS_SPAWN_STDOUT,
		       5000, &res, &err);
	sigprocmask(SIG_SETMASK, &was, NULL);
	sigaction(SIGPIPE, &old, NULL);
	assert_int_equal(r, 0);
	assert_non_null(res.out);
	unsigned long long ign_mask = 0, blk = 1;
	/* status lists SigBlk before SigIgn */
	assert_int_equal(sscanf(res.out, "%llx %llx", &blk, &ign_mask), 2);
	assert_false(ign_mask & (1ull << (SIGPIPE - 1)));
	assert_true(blk == 0);
	rs_spawn_result_clear(&res);
}

static volatile sig_atomic_t usr1_seen;
static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen = 1;
}

/* An exec-only child shares our memory until it execs (CLONE_VM): it
 * must not run our handlers, and our mask is ours again after the start.
 * The child signals its own process group, which is itself (setsid), and
 * waits for the signal to be delivered before it execs away. */
static void exec_child_runs_no_handler_of_ours(void **state)
{
	(void)state;
	struct sigaction sa = {.sa_handler = on_usr1}, old;
	sigset_t before, after;
	struct rs_spawn_result res;
	struct rs_error *err = NULL;

	sigemptyset(&before);
	sigemptyset(&after);
	sigaction(SIGUSR1, &sa, &old);
	sigprocmask(SIG_SETMASK, NULL, &before);
	usr1_seen = 0;
	int r = run_sh("trap 'echo caught' USR1; kill -USR1 $$; echo done", RS_SPAWN_STDOUT, 5000,
		       &res, &err);
	sigprocmask(SIG_SETMASK, NULL, &after);
	sigaction(SIGUSR1, &old, NULL);
	assert_int_equal(r, 0);
	assert_string_equal(res.out, "caught\ndone\n");
	assert_int_equal(usr1_seen, 0);
	for (int sig = 1; sig < SIGRTMIN; sig++)
		assert_int_equal(sigismember(&before, sig), sigismember(&after, sig));
	rs_spawn_result_clear(&res);
}

/* fn: fd 3 is still the file the caller opened there (its inode in arg) */
static int check_kept(void *arg)
{
	struct stat st;
	return fstat(3, &st) == 0 && st.st_ino == *(ino_t *)arg && getsid(0) == getpid() ? 0 : 1;
}

static void keep_fds_leaves_ours_in_place(void **state)
{
	(void)state;
	int saved = fcntl(3, F_DUPFD_CLOEXEC, 10);
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct stat st;
	struct rs_spawn_result res;

	assert_true(fd >= 0 && (fd == 3 || dup3(fd, 3, O_CLOEXEC) == 3) && fstat(3, &st) == 0);
	struct rs_spawn o = {.path = "check_kept",
			     .fn = check_kept,
			     .arg = &st.st_ino,
			     .flags = RS_SPAWN_KEEP_FDS};
	/* the report pipe must not land on fd 3 (a host's root fd, say) */
	assert_int_equal(rs_spawn_run(&o, &res, NULL), 0);
	assert_int_equal(rs_spawn_exit_code(res.status), 0);
	rs_spawn_result_clear(&res);
	if (fd != 3)
		close(fd);
	if (saved >= 0) {
		dup3(saved, 3, O_CLOEXEC);
		close(saved);
	} else {
		close(3);
	}
}

static void cleanup_kills_and_reaps(void **state)
{
	(void)state;
	pid_t pid;
	{
		char *const argv[] = {"sleep", "60", NULL};
		struct rs_spawn o = {.path = "/bin/sleep", .argv = argv};
		_cleanup_child_ struct rs_child c;
		assert_int_equal(rs_spawn_start(&o, &c, NULL), 0);
		pid = c.pid;
		assert_int_equal(kill(pid, 0), 0);
	}
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

/* The parent of a child dies: the child dies too (PR_SET_PDEATHSIG). */
static void child_dies_with_its_parent(void **state)
{
	(void)state;
	int p[2];
	pid_t sleeper = 0;

	assert_int_equal(pipe(p), 0);
	pid_t mid = fork();
	if (mid == 0) {
		char *const argv[] = {"sleep", "60", NULL};
		struct rs_spawn o = {.path = "/bin/sleep", .argv = argv};
		struct rs_child c;
		if (rs_spawn_start(&o, &c, NULL) < 0)
			_exit(1);
		/* after the exec: the death signal survived it */
		usleep(100000);
		(void)!write(p[1], &c.pid, sizeof(c.pid));
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(rs_read_full(p[0], &sleeper, sizeof(sleeper), 10000), 0);
	close(p[0]);
	waitpid(mid, NULL, 0);
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)sleeper);
	bool alive = true;
	for (int i = 0; i < 200 && alive; i++) {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		char *rp = strrchr(buf, ')');
		alive = n > 0 && rp && rp[2] != 'Z';
		if (alive)
			usleep(20000);
	}
	assert_false(alive);
}

static void bad_options_are_refused(void **state)
{
	(void)state;
	struct rs_spawn o = {.path = "/bin/true", .flags = RS_SPAWN_CTTY, .ctty = 0};
	struct rs_child c;
	struct rs_error *err = NULL;
	assert_int_equal(rs_spawn_start(&o, &c, &err), -EINVAL); /* CTTY without STDIO */
	rs_error_free(err);
	err = NULL;
	struct rs_spawn o2 = {.path = "/bin/true", .n_fds = RS_SPAWN_FDS_MAX + 1};
	assert_int_equal(rs_spawn_start(&o2, &c, &err), -EINVAL);
	rs_error_free(err);
	assert_int_equal(rs_child_kill(&c), -1);
	assert_int_equal(rs_spawn_exit_code(0x0300), 3);
	assert_int_equal(rs_spawn_exit_code(SIGKILL), 128 + SIGKILL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(output_is_captured),
		cmocka_unit_test(output_is_bounded),
		cmocka_unit_test(stdin_is_dev_null),
		cmocka_unit_test(exec_failure_is_reported),
		cmocka_unit_test(setup_failure_names_the_step),
		cmocka_unit_test(search_uses_envp_path),
		cmocka_unit_test(deadline_kills_the_group),
		cmocka_unit_test(child_holds_nothing_of_ours),
		cmocka_unit_test(exec_child_gets_default_signals),
		cmocka_unit_test(exec_child_runs_no_handler_of_ours),
		cmocka_unit_test(keep_fds_leaves_ours_in_place),
		cmocka_unit_test(cleanup_kills_and_reaps),
		cmocka_unit_test(child_dies_with_its_parent),
		cmocka_unit_test(bad_options_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
