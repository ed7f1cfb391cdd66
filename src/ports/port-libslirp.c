/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libslirp port driver: the embedded network's helper listens on the
 * host and forwards into the namespace's tap address itself (libslirp's
 * hostfwd, as slirp4netns' add_hostfwd), asked over its control socket
 * (ports/netemb.c). IPv4 to 10.0.2.100 (the network's .100); with --ipv6
 * also IPv6 to fd00::100. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/error.h"
#include "ports/netemb.h"
#include "ports/port.h"

/* The family of a forward: the proto's, else the addresses'. */
static int fwd_family(const struct rs_portspec *s)
{
	struct in6_addr a;
	int f = rs_portspec_family(s);
	if (f)
		return f;
	if (s->parent_ip[0])
		return inet_pton(AF_INET6, s->parent_ip, &a) == 1 ? 6 : 4;
	if (s->child_ip[0])
		return inet_pton(AF_INET6, s->child_ip, &a) == 1 ? 6 : 4;
	return 4;
}

static int fill(struct rs_portd *d, const struct rs_portspec *s, struct rs_netemb_fwd *f,
		struct rs_error **err)
{
	int fam = fwd_family(s);
	int af = fam == 6 ? AF_INET6 : AF_INET;
	const char *host = s->parent_ip[0] ? s->parent_ip : fam == 6 ? "::" : "0.0.0.0";
	const char *guest = s->child_ip[0]     ? s->child_ip
			    : fam == 6	       ? "fd00::100"
			    : d->cfg->child_ip ? d->cfg->child_ip
					       : "10.0.2.100";

	f->udp = rs_portspec_is_udp(s);
	f->v6 = fam == 6;
	f->host_port = (uint16_t)s->parent_port;
	f->guest_port = (uint16_t)s->child_port;
	if (inet_pton(af, host, f->host_addr) != 1 || inet_pton(af, guest, f->guest_addr) != 1) {
		return rs_error_setx(err, EINVAL,
				     "the libslirp port driver forwards IPv4 to IPv4 and IPv6 to "
				     "IPv6 (%s -> %s)",
				     host, guest);
	}
	if (fam == 6 && !d->cfg->ipv6) {
		return rs_error_setx(err, EINVAL, "IPv6 ports need --ipv6");
	}
	return 0;
}

static int call(struct rs_portd *d, struct rs_netemb_fwd *f, struct rs_error **err)
{
	int r = d->cfg->netemb_fd < 0
			? -ENOTCONN
			: rs_netemb_call(d->cfg->netemb_fd, f, RS_PORT_HELPER_TIMEOUT_SEC * 1000);
	if (r == -ETIMEDOUT || r == -EPIPE || r == -EPROTO || r == -ENOTCONN)
		return rs_error_setx(err, -r, "the embedded network's helper did not answer (%s)",
				     strerror(-r));
	if (r < 0)
		return rs_error_set(err, -r, "cannot forward port %u", (unsigned)f->host_port);
	return 0;
}

int rs_libslirp_add(struct rs_portd *d, struct rs_port *p, struct rs_error **err)
{
	struct rs_netemb_fwd f = {.op = RS_NETEMB_ADD};
	int r = fill(d, &p->spec, &f, err);
	return r < 0 ? r : call(d, &f, err);
}

int rs_libslirp_remove(struct rs_portd *d, struct rs_port *p, struct rs_error **err)
{
	struct rs_netemb_fwd f = {.op = RS_NETEMB_REMOVE};
	int r = fill(d, &p->spec, &f, err);
	return r < 0 ? r : call(d, &f, err);
}
