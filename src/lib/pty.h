/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A terminal of root's is never handed to a process that runs as a user:
 * that process could push keystrokes into it (TIOCSTI), or read what root
 * types once it holds the fd (pidfd_getfd, ptrace). Where root runs a
 * user's command interactively (nsenter into a user's launch), root
 * allocates a pseudo-terminal, gives the user's process its slave as
 * controlling terminal in a session of its own, and relays between its
 * own terminal and the master, as `su --pty` and `machinectl shell` do:
 * root's terminal in raw mode (restored after), the window size copied
 * and kept in step on SIGWINCH, the command's exit status returned.
 */
#include <stdbool.h>
#include <termios.h>
#include "lib/spawn.h"

struct rs_pty {
	int master, slave;   /* -1: none */
	int tty;	     /* our terminal the slave copies, or -1 */
	struct termios orig; /* tty's settings before rs_pty_raw */
	bool raw;	     /* tty is in raw mode now */
};

/* A new pty (master and slave close-on-exec, the slave not our
 * controlling terminal) whose slave has tty's settings and window size;
 * with raw_later false the slave does no output processing of its own
 * (tty, left cooked, does it). Return: 0 or -errno. */
int rs_pty_open(int tty, bool raw_later, struct rs_pty *p);

/* tty in raw mode (cfmakeraw) until rs_pty_close. Return: 0 or -errno. */
int rs_pty_raw(struct rs_pty *p);

/* Restores tty's settings (when raw) and closes what is open. */
void rs_pty_close(struct rs_pty *p);

/* Relays until the child has exited and the master has nothing more to
 * read: in (our terminal, or -1) to the master, the master to out. sigfd
 * (a signalfd, or -1): SIGWINCH copies tty's window size to the master,
 * SIGCHLD is looked at, every other signal is forwarded to the child.
 * Input is not read while the master cannot take it, so a child that
 * reads nothing cannot block us on a full pty. Return: 0 or -errno. */
int rs_pty_relay(struct rs_pty *p, struct rs_child *c, int in, int out, int sigfd);
