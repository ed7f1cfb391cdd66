/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "ports/port.h"
#include "lib/xalloc.h"

int rs_port_driver_parse(const char *s, enum rs_port_driver *out)
{
	static const struct {
		const char *name;
		enum rs_port_driver d;
	} names[] = {
		{"none", RS_PORT_NONE},
		{"builtin", RS_PORT_BUILTIN},
		{"slirp4netns", RS_PORT_SLIRP4NETNS},
		{"implicit", RS_PORT_IMPLICIT},
		{"libslirp", RS_PORT_LIBSLIRP},
		/* RootlessKit v3's embedded network's driver: ours */
		{"gvisor-tap-vsock", RS_PORT_LIBSLIRP},
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].d;
			return 0;
		}
	return -EINVAL;
}

const char *rs_port_driver_name(enum rs_port_driver d)
{
	switch (d) {
	case RS_PORT_BUILTIN:
		return "builtin";
	case RS_PORT_SLIRP4NETNS:
		return "slirp4netns";
	case RS_PORT_IMPLICIT:
		return "implicit";
	case RS_PORT_LIBSLIRP:
		return "libslirp";
	case RS_PORT_NONE:
		break;
	}
	return "none";
}

const char *const *rs_portd_protos(const struct rs_portd *d)
{
	static const char *const all[] = {"tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL};
	/* slirp4netns' hostfwd is IPv4 only */
	static const char *const v4[] = {"tcp", "tcp4", "udp", "udp4", NULL};
	static const char *const none[] = {NULL};
	switch (d->cfg->port_driver) {
	case RS_PORT_BUILTIN:
	case RS_PORT_IMPLICIT:
		return all;
	case RS_PORT_SLIRP4NETNS:
		return v4;
	case RS_PORT_LIBSLIRP:
		/* IPv6 to the namespace's fd00::100 with --ipv6 */
		return d->cfg->ipv6 ? all : v4;
	case RS_PORT_NONE:
		break;
	}
	return none;
}

void rs_portd_defer_free(struct rs_portd *d, void *p)
{
	if (d->ngrave == d->capgrave) {
		d->capgrave = d->capgrave ? 2 * d->capgrave : 64;
		d->grave = rs_xrealloc(d->grave, d->capgrave * sizeof(*d->grave));
	}
	d->grave[d->ngrave++] = p;
}

int rs_portd_epoll_add(struct rs_portd *d, int fd, uint32_t events, struct rs_ev *ev)
{
	struct epoll_event e = {.events = events, .data.ptr = ev};
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

void rs_portd_epoll_del(struct rs_portd *d, int fd)
{
	if (fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* net.ipv4.ip_unprivileged_port_start as this process sees it (the host's
 * network namespace); 1024 when it cannot be read (the kernel's default). */
static unsigned unprivileged_port_start(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/net/ipv4/ip_unprivileged_port_start", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1024;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1024;
	buf[n] = '\0';
	return (unsigned)strtoul(buf, NULL, 10);
}

static bool same_parent(const struct rs_portspec *a, const struct rs_portspec *b)
{
	return strcmp(a->proto, b->proto) == 0 && strcmp(a->parent_ip, b->parent_ip) == 0 &&
	       a->parent_port == b->parent_port;
}

static int check_new(struct rs_portd *d, const struct rs_portspec *spec, struct rs_error **err)
{
	const char *w = NULL;
	if (rs_portspec_validate(spec, &w) < 0) {
		return rs_error_setx(err, EINVAL, "%s", w);
	}
	bool ok = false;
	for (const char *const *p = rs_portd_protos(d); *p; p++)
		ok |= strcmp(*p, spec->proto) == 0;
	if (!ok) {
		return rs_error_setx(err, EINVAL, "the %s port driver does not forward %s",
				     rs_port_driver_name(d->cfg->port_driver), spec->proto);
	}
	for (struct rs_port *p = d->ports; p; p = p->next)
		if (same_parent(&p->spec, spec)) {
			return rs_error_setx(err, EEXIST, "conflict with ID %d", p->id);
		}
	if (d->nports >= RS_PORTS_MAX) {
		return rs_error_setx(err, ENOSPC, "too many ports (at most %d)", RS_PORTS_MAX);
	}
	unsigned start = unprivileged_port_start();
	if (spec->parent_port < start) {
		return rs_error_setx(
			err, EACCES,
			"cannot expose privileged port %u: it is below "
			"net.ipv4.ip_unprivileged_port_start (%u); set that sysctl to %u or choose "
			"a port >= %u",
			spec->parent_port, start, spec->parent_port, start);
	}
	return 0;
}

/* The builtin driver (port-builtin.c) still says why in a buffer. */
int rs_portd_builtin_add(struct rs_portd *d, struct rs_port *p, struct rs_error **err)
{
	char why[512] = "";
	int r = rs_builtin_add(d, p, why, sizeof(why));
	return r < 0 ? rs_error_setx(err, -r, "%s", why[0] ? why : strerror(-r)) : r;
}

int rs_portd_add(struct rs_portd *d, const struct rs_portspec *spec, struct rs_port **out,
		 struct rs_error **err)
{
	int r;
	if (d->cfg->port_driver == RS_PORT_NONE)
		return rs_error_setx(err, EINVAL, "no PortDriver is available");
	if ((r = check_new(d, spec, err)) < 0)
		return r;
	struct rs_port *p = rs_xcalloc(1, sizeof(*p));
	p->spec = *spec;
	p->fd = -1;
	/* implicit: recorded only; pasta forwards whatever listens inside */
	r = d->cfg->port_driver == RS_PORT_BUILTIN	 ? rs_portd_builtin_add(d, p, err)
	    : d->cfg->port_driver == RS_PORT_SLIRP4NETNS ? rs_slirp_add(d, p, err)
	    : d->cfg->port_driver == RS_PORT_LIBSLIRP	 ? rs_libslirp_add(d, p, err)
							 : 0;
	if (r < 0) {
		free(p);
		return r;
	}
	p->id = ++d->next_id;
	struct rs_port **tail = &d->ports;
	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	d->nports++;
	*out = p;
	return 0;
}

int rs_portd_remove(struct rs_portd *d, int id, struct rs_error **err)
{
	if (d->cfg->port_driver == RS_PORT_NONE)
		return rs_error_setx(err, EINVAL, "no PortDriver is available");
	for (struct rs_port **pp = &d->ports; *pp; pp = &(*pp)->next) {
		struct rs_port *p = *pp;
		if (p->id != id)
			continue;
		if (d->cfg->port_driver == RS_PORT_SLIRP4NETNS ||
		    d->cfg->port_driver == RS_PORT_LIBSLIRP) {
			int r = d->cfg->port_driver == RS_PORT_LIBSLIRP
					? rs_libslirp_remove(d, p, err)
					: rs_slirp_remove(d, p, err);
			if (r < 0)
				return r;
		} else if (d->cfg->port_driver == RS_PORT_BUILTIN) {
			rs_builtin_remove(d, p);
		}
		*pp = p->next;
		d->nports--;
		rs_portd_defer_free(d, p);
		return 0;
	}
	return rs_error_setx(err, ENOENT, "unknown id: %d", id);
}
