/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A pseudo-terminal root relays for a user's process (pty.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/io.h"
#include "lib/pty.h"

#define DRAIN_MS     100  /* after the child's exit: output still coming, or done */
#define DRAIN_MAX_MS 2000 /* and never longer: what it left running may write on */

int rs_pty_open(int tty, bool raw_later, struct rs_pty *p)
{
	struct termios t;
	struct winsize ws;
	char name[64];

	*p = (struct rs_pty){.master = -1, .slave = -1, .tty = tty};
	if (tcgetattr(tty, &p->orig) < 0)
		return -errno;
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
	    ptsname_r(p->master, name, sizeof(name)) != 0)
		goto fail;
	p->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0)
		goto fail;
	t = p->orig;
	/* our terminal, left cooked, translates newlines already */
	if (!raw_later)
		t.c_oflag &= ~(tcflag_t)OPOST;
	if (tcsetattr(p->slave, TCSANOW, &t) < 0)
		goto fail;
	if (ioctl(tty, TIOCGWINSZ, &ws) == 0)
		ioctl(p->master, TIOCSWINSZ, &ws);
	fcntl(p->master, F_SETFL, O_NONBLOCK);
	return 0;
fail:;
	int e = errno;
	rs_pty_close(p);
	return -e;
}

int rs_pty_raw(struct rs_pty *p)
{
	struct termios t = p->orig;

	cfmakeraw(&t);
	if (tcsetattr(p->tty, TCSAFLUSH, &t) < 0)
		return -errno;
	p->raw = true;
	return 0;
}

void rs_pty_close(struct rs_pty *p)
{
	if (p->raw)
		tcsetattr(p->tty, TCSAFLUSH, &p->orig);
	p->raw = false;
	if (p->master >= 0)
		close(p->master);
	if (p->slave >= 0)
		close(p->slave);
	p->master = p->slave = -1;
}

struct relay {
	struct rs_pty *p;
	struct rs_child *c;
	int in, out, sigfd;
	char buf[4096]; /* keys read, not yet taken by the master */
	size_t len, off;
	bool in_done, master_done, out_done, exited;
	uint64_t exit_ms; /* when the exit was seen */
};

static bool child_exited(const struct rs_child *c)
{
	siginfo_t si = {0};
	return waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == c->pid;
}

static void on_signal(struct relay *r)
{
	struct signalfd_siginfo si;
	struct winsize ws;

	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGWINCH) {
			if (ioctl(r->p->tty, TIOCGWINSZ, &ws) == 0)
				ioctl(r->p->master, TIOCSWINSZ, &ws);
		} else if (si.ssi_signo == SIGCHLD) {
			r->exited = r->exited || child_exited(r->c);
		} else if (!r->exited) {
			/* the zombie keeps its pid until we reap it */
			kill(r->c->pid, (int)si.ssi_signo);
		}
	}
}

/* Our keys into the master, as much as it takes now. */
static void to_master(struct relay *r)
{
	while (r->off < r->len) {
		ssize_t n = write(r->p->master, r->buf + r->off, r->len - r->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN)
				r->len = r->off = 0; /* the slave side is gone */
			return;
		}
		r->off += (size_t)n;
	}
	r->len = r->off = 0;
}

static void from_in(struct relay *r)
{
	ssize_t n = read(r->in, r->buf, sizeof(r->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		r->in_done = true; /* end of input, or our terminal hung up */
		return;
	}
	r->len = (size_t)n;
	r->off = 0;
	to_master(r);
}

/* What the user's process wrote, to our output. Return: true if any. */
static bool from_master(struct relay *r)
{
	char out[4096];
	bool any = false;

	for (int round = 0; round < 16; round++) {
		ssize_t n = read(r->p->master, out, sizeof(out));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return any;
		if (n <= 0) {
			r->master_done = true; /* EIO: no slave is open any more */
			return any;
		}
		any = true;
		if (!r->out_done && rs_write_full(r->out, out, (size_t)n) < 0)
			r->out_done = true;
	}
	return any;
}

static int relay_poll(struct relay *r)
{
	struct pollfd pf[4] = {
		{.fd = r->in >= 0 && !r->in_done && !r->len ? r->in : -1, .events = POLLIN},
		{.fd = r->master_done ? -1 : r->p->master,
		 .events = (short)(POLLIN | (r->len ? POLLOUT : 0))},
		{.fd = r->sigfd, .events = POLLIN},
		{.fd = r->exited ? -1 : r->c->pidfd, .events = POLLIN},
	};
	int ms = r->exited ? DRAIN_MS : (r->c->pidfd < 0 && r->sigfd < 0) ? DRAIN_MS : -1;
	int n = poll(pf, 4, ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0 && r->exited)
		return 1; /* exited, and its output has stopped */
	if (pf[2].revents)
		on_signal(r);
	if (pf[3].revents || (r->c->pidfd < 0 && !r->exited))
		r->exited = r->exited || child_exited(r->c);
	if (r->exited && !r->exit_ms)
		r->exit_ms = rs_now_ms();
	if (r->exited && rs_now_ms() - r->exit_ms > DRAIN_MAX_MS)
		return 1;
	if (pf[1].revents & POLLOUT)
		to_master(r);
	if (pf[1].revents & (POLLIN | POLLHUP | POLLERR))
		from_master(r);
	if (pf[0].revents)
		from_in(r);
	return 0;
}

int rs_pty_relay(struct rs_pty *p, struct rs_child *c, int in, int out, int sigfd)
{
	struct relay *r = calloc(1, sizeof(*r));
	int ret = 0;

	if (!r)
		return -ENOMEM;
	*r = (struct relay){.p = p, .c = c, .in = in, .out = out, .sigfd = sigfd};
	while (!(r->exited && r->master_done) && (ret = relay_poll(r)) == 0)
		;
	free(r);
	return ret < 0 ? ret : 0;
}
