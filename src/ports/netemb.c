/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The embedded network's control protocol: a reply read and checked, and
 * one request with its reply (ports/netemb.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include "lib/io.h"
#include "ports/netemb.h"

int rs_netemb_recv(int ctl, struct rs_netemb_reply *rep, int ms)
{
	struct pollfd pf = {.fd = ctl, .events = POLLIN};
	int n = poll(&pf, 1, ms);
	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return -errno;
	/* one byte more than a reply: a longer message is not one */
	char buf[sizeof(*rep) + 1];
	ssize_t k = recv(ctl, buf, sizeof(buf), MSG_DONTWAIT);
	if (k == 0)
		return -EPIPE;
	if (k < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	if (k != (ssize_t)sizeof(*rep))
		return -EPROTO;
	memcpy(rep, buf, sizeof(*rep));
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	if (rep->err < 0 || rep->err > 4095)
		return -EPROTO;
	return 0;
}

int rs_netemb_call(int ctl, struct rs_netemb_fwd *req, int timeout_ms)
{
	static uint32_t seq;
	struct rs_netemb_reply rep = {0};
	uint64_t end = rs_now_ms() + (uint64_t)timeout_ms;

	req->seq = ++seq;
	if (send(ctl, req, sizeof(*req), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(*req)) {
		/* a full socket: the helper does not read; a closed one: gone */
		if (errno == EAGAIN)
			return -ETIMEDOUT;
		return errno == ECONNRESET || errno == ENOTCONN ? -EPIPE : -errno;
	}
	/* a late answer to an earlier request that timed out is skipped */
	for (;;) {
		int r = rs_netemb_recv(ctl, &rep, rs_ms_left(end));
		if (r == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		if (rep.op == req->op && rep.seq == req->seq)
			return -rep.err;
	}
}
