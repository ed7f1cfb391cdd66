/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

/*
 * main() ignores SIGPIPE so that a closed stdout is an error, not a death.
 * Ignored signals and the signal mask survive execve(2), so every program
 * we start would inherit them: `yes | head -1` inside a launch printed
 * "Broken pipe" instead of ending quietly. Every exec path resets them
 * (lib/spawn for all but the launcher's own children).
 */

/* Every catchable signal back to SIG_DFL and an empty mask; for a child
 * between fork/clone and exec. Async-signal-safe. */
void rs_signals_reset(void);

/* Kills our child pid (SIGKILL) and reaps it, waiting through EINTR. */
void rs_kill_reap(pid_t pid);
