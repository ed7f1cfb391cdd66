/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <errno.h>
#include <stddef.h>
#include <sys/wait.h>
#include "lib/sig.h"

void rs_signals_reset(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigset_t none;

	/* SIGKILL and SIGSTOP cannot be changed; _NSIG includes the RT range */
	for (int s = 1; s < _NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int rs_spawnattr_init_clean(posix_spawnattr_t *attr)
{
	sigset_t all, none;
	int r = posix_spawnattr_init(attr);

	if (r)
		return r;
	sigfillset(&all);
	sigemptyset(&none);
	r = posix_spawnattr_setsigdefault(attr, &all);
	if (!r)
		r = posix_spawnattr_setsigmask(attr, &none);
	if (!r)
		r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (r)
		posix_spawnattr_destroy(attr);
	return r;
}

void rs_kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}
