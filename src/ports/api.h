/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The launch's API server and port drivers, as the launch sees them. */
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "lib/error.h"
#include "lib/strutil.h"

/* The RootlessKit release whose behaviour launch follows where the two
 * differ (the child IP of a published port, the API's bodies):
 * Debian 13's; --print-semver and the API's /v1/info name it. */
#define RS_ROOTLESSKIT_VERSION "2.0.2"

enum rs_port_driver {
	RS_PORT_NONE,
	RS_PORT_BUILTIN,
	RS_PORT_SLIRP4NETNS,
	RS_PORT_IMPLICIT,
	RS_PORT_LIBSLIRP, /* the embedded network's own forwarding */
};

/* "none", "builtin", "slirp4netns", "implicit", "libslirp" (and
 * RootlessKit v3's "gvisor-tap-vsock", which is ours here). Return: 0 or
 * -EINVAL. */
int rs_port_driver_parse(const char *s, enum rs_port_driver *out);
const char *rs_port_driver_name(enum rs_port_driver d);

struct rs_api_cfg {
	const char *state_dir;
	int state_dir_fd;
	int wake_fd; /* the launch's signalfd: rs_api_serve returns when it is readable */
	pid_t child;
	int userns_fd, netns_fd; /* the child's, for the builtin driver's helper */
	const char *net_driver;	 /* "slirp4netns", "none", "host" */
	const char *child_ip;	 /* slirp4netns: the tap's address; else NULL */
	const char *dns;	 /* slirp4netns: its DNS; else NULL */
	enum rs_port_driver port_driver;
	const struct rs_strv *publish; /* -p at start */
	const char *slirp_api;	       /* slirp4netns --api-socket path */
	int netemb_fd;		       /* libslirp: the helper's control socket, or -1 */
	bool ipv6;		       /* libslirp: it forwards tcp6/udp6 too */
	bool source_ip_transparent;    /* builtin: TCP services see the client's address */
	void (*warn)(const char *msg); /* one line, for what falls back */
};

struct rs_api_srv;

/* Sets the server up in this process: STATE_DIR/api.sock (0600), the port
 * driver (the builtin's helper joins the namespaces cfg names; the fds are
 * the caller's) and the -p ports. A port it cannot add is the error (one
 * line). cfg's strings but state_dir, publish and slirp_api are copied.
 * Return: 0 or -errno with *err. */
int rs_api_start(const struct rs_api_cfg *cfg, struct rs_api_srv **out, struct rs_error **err);
/* Serves API clients and ports until cfg->wake_fd is readable. */
void rs_api_serve(struct rs_api_srv *s);
/* The launch reaped pid (it waits for any child): the server's helper? */
void rs_api_reaped(struct rs_api_srv *s, pid_t pid);
/* launch --net-bypass: fd is a TCP (type SOCK_STREAM) or UDP socket the
 * launcher made in the host's network namespace, as the user, with the
 * options of a socket of the launch that binds to addr (len bytes, the
 * launcher's copy). When addr is the child side of a port the builtin
 * driver publishes (the port, and an unspecified address or the spec's
 * own child IP; a loopback address only when the spec names it), of the
 * family and V6ONLY the driver's listener has, that listener steps aside
 * and fd is bound to its address instead; the driver listens again once
 * that address is free (fd and every copy of it closed). Called from the
 * supervisor's thread. Return: 0 fd is bound; -ENOENT not such a port
 * (the bind goes on inside the namespace); another -errno: the host's
 * bind of fd failed with the port bypassed already (the caller's answer,
 * such as -EADDRINUSE). */
int rs_api_bypass_bind(struct rs_api_srv *s, int fd, int type, const struct sockaddr *addr,
		       socklen_t len);
/* Closes every connection and port, ends the helper, removes api.sock and
 * frees s (NULL: nothing). */
void rs_api_stop(struct rs_api_srv *s);

/* Client side (`rootless-setup ports`): one request to the socket at path,
 * bounded in size and in time: connect (a server that never accepts),
 * request and answer together within RS_API_CALL_TIMEOUT_MS. *status: the
 * HTTP status; *resp: the response body (NUL-terminated). Return: 0 or
 * -errno with *err. */
enum { RS_API_CALL_TIMEOUT_MS = 5000 };
int rs_api_call(const char *sock, const char *method, const char *path, const char *body,
		int *status, char **resp, struct rs_error **err);
/* The same for root acting on a user's launch: DIR is opened by
 * rs_guarded_open (no symlink a user could have made is followed), DIR and
 * DIR/api.sock (a socket, never a symlink) must have one owner, that of the
 * user directories leading there, and expect when it is not (uid_t)-1. The
 * request is sent through the socket's fd (/proc/self/fd/N) by a child with
 * the owner's credentials (rs_as_user), so the kernel checks the access
 * too. Return: as rs_api_call. */
int rs_api_call_guarded(const char *dir, uid_t expect, const char *method, const char *path,
			const char *body, int *status, char **resp, struct rs_error **err);
