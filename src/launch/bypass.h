/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * launch --net-bypass: a process of the launch that connects a TCP or UDP
 * socket to an allowed destination gets, in place of its own socket, one
 * made in the host's network namespace by the launcher, which runs as the
 * user: traffic at the host's speed instead of through slirp4netns, pasta
 * or libslirp, and never more than the user could open outside.
 *
 * The same for bind(2) to the child side of a published port: the socket
 * handed back is bound to the port's host address, where the port
 * driver listened (ports/api.h, rs_api_bypass_bind).
 *
 * The child installs a seccomp filter before exec that sends connect(2)
 * and bind(2) to the launcher (SECCOMP_RET_USER_NOTIF, Linux 5.0); the launcher's
 * supervisor thread reads the address from the caller's memory, decides
 * by the rules below, makes and connects the host socket and installs it
 * at the caller's fd number (SECCOMP_IOCTL_NOTIF_ADDFD with
 * SECCOMP_ADDFD_FLAG_SETFD, Linux 5.9); anything else continues
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux 5.5) to the namespace's own
 * network. bypass-rules.c: the rules; bypass.c: filter and supervisor.
 */
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/socket.h>
#include <linux/seccomp.h>
#include "launch/launch.h"
#include "ports/api.h"

/* One network: family AF_INET (addr[0..3]) or AF_INET6, prefix in bits. */
struct rs_bypass_net {
	int family;
	unsigned prefix;
	unsigned char addr[16];
};

struct rs_bypass_rules {
	struct rs_bypass_net *v;
	size_t n;
};

/* Adds "CIDR[,CIDR...]" (192.0.2.0/24, 2001:db8::/32, an address alone
 * is /32 or /128) to r. Return: 0, or -EINVAL with r unchanged. */
int rs_bypass_rules_add(struct rs_bypass_rules *r, const char *spec);
void rs_bypass_rules_free(struct rs_bypass_rules *r);
/* Whether addr is in one of r's networks; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is judged as the IPv4 address it maps. */
bool rs_bypass_rules_match(const struct rs_bypass_rules *r, const struct rs_bypass_net *addr);
/* The destination of a connect: sa (len bytes, as the caller passed it)
 * as an address (prefix 128 or 32), and *port. Return: 0, or -EAFNOSUPPORT
 * for a family other than AF_INET/AF_INET6 or a short length. */
int rs_bypass_sockaddr(const void *sa, size_t len, struct rs_bypass_net *out, uint16_t *port);
/* The networks never bypassed, whatever the rules: loopback, unspecified,
 * link-local, multicast and broadcast, and the launch's --cidr network
 * (net, prefix). */
void rs_bypass_never_defaults(struct rs_bypass_rules *never, const unsigned char net[4],
			      unsigned prefix);

/* ---- the filter (child) and the supervisor (parent), bypass.c ---- */

/* Before the clone: checks that the rules parse and builds the filter
 * (libseccomp, opened here). Return: the filter, or NULL with *err. */
void *rs_bypass_prepare(const struct rs_launch_opts *o, struct rs_error **err);
void rs_bypass_filter_free(void *filter);
/* In the child, its network configured, before exec: loads the filter,
 * sends its listener and the namespace's own networks (every interface's
 * address and prefix) over sock and waits for the launcher's go. Return:
 * 0 or -errno with why set. */
int rs_bypass_child(void *filter, int sock, char *why, size_t whylen);

/* The supervisor's state (bypass.c starts it, bypass-notify.c answers). */
struct rs_bypass {
	int listener;		      /* the filter's notification fd */
	int stop;		      /* an eventfd: the thread leaves when it is readable */
	struct rs_bypass_rules allow; /* --net-bypass */
	struct rs_bypass_rules never; /* rs_bypass_never_defaults and the namespace's */
	unsigned long long netns_dev, netns_ino; /* the launch's network namespace */
	unsigned long long host_dev, host_ino;	 /* ours, the host's */
	struct rs_api_srv *ports;		 /* published ports (bind), or NULL */
	unsigned long bypassed, passed;		 /* counts, for --debug */
	bool started;
	pthread_t thread;
};
/* Answers one notification (bypass-notify.c). */
void rs_bypass_handle(struct rs_bypass *b, const struct seccomp_notif *req);
/* In the launcher: receives the listener from the child over sock, checks
 * the kernel has SECCOMP_IOCTL_NOTIF_ADDFD, starts the supervisor and
 * tells the child to go on. ports: the launch's API server, whose
 * published ports a bind may take over (rs_api_bypass_bind), or NULL;
 * it must outlive the supervisor (rs_bypass_stop first). Return: 0,
 * -EPIPE (the child died before sending: its own report says why), or
 * -errno with *err. */
int rs_bypass_start(const struct rs_launch_opts *o, int sock, const unsigned char net[4],
		    unsigned prefix, struct rs_api_srv *ports, struct rs_bypass **out,
		    struct rs_error **err);
/* Stops the supervisor; calls still waiting for it fail with ENOSYS. */
void rs_bypass_stop(struct rs_bypass *b);
