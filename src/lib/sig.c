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

void rs_kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}
