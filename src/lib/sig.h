/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <spawn.h>

/*
 * main() ignores SIGPIPE so that a closed stdout is an error, not a death.
 * Ignored signals and the signal mask survive execve(2), so every program
 * we start would inherit them: `yes | head -1` inside a launch printed
 * "Broken pipe" instead of ending quietly. Every exec path resets them.
 */

/* Every catchable signal back to SIG_DFL and an empty mask; for a child
 * between fork/clone and exec. Async-signal-safe. */
void rs_signals_reset(void);

/* The same for posix_spawn: attributes with POSIX_SPAWN_SETSIGDEF (all
 * signals) and POSIX_SPAWN_SETSIGMASK (empty). Destroy with
 * posix_spawnattr_destroy. Return: 0 or an errno value, as posix_spawn. */
int rs_spawnattr_init_clean(posix_spawnattr_t *attr);

/* Kills our child pid (SIGKILL) and reaps it, waiting through EINTR. */
void rs_kill_reap(pid_t pid);
