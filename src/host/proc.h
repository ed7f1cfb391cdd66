/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A process's identity from /proc/PID/stat: its state letter and start
 * time, which together with the pid tell a live process from a reused pid
 * (the launcher's child_start record, stop's and nsenter's checks).
 * These read the live /proc, never a host root: they are about processes
 * of this machine.
 */
#include <sys/types.h>

/* Start time of pid (clock ticks since boot), or 0. */
unsigned long long rs_proc_starttime(pid_t pid);
/* State letter ('Z' for a zombie) and start time from /proc/PID/stat, read
 * through procfd, an open /proc/PID directory. Return: 0 or -errno. */
int rs_proc_stat_at(int procfd, char *state, unsigned long long *start);
