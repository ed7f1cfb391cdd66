/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The launcher's port server, run by the launch's parent in its own loop
 * once the child is up: RootlessKit's REST API on STATE_DIR/api.sock
 * (api.c) and the port drivers: builtin (port-builtin.c: listens here,
 * connects in the child's network namespace through a helper that joined it,
 * copies with splice(2): TCP in two threads a connection, port-splice.c, past 64
 * connections and UDP in the same epoll loop), slirp4netns (port-slirp.c:
 * its add_hostfwd/remove_hostfwd API), libslirp (port-libslirp.c: the
 * embedded network's helper), implicit (pasta forwards by itself) and none. Shared by those files only.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include "ports/api.h"
#include "ports/portspec.h"

enum rs_ev_kind {
	RS_EV_SIGNAL,
	RS_EV_API_LISTEN,
	RS_EV_API_CONN,
	RS_EV_TCP_LISTEN,
	RS_EV_TCP_CONN,
	RS_EV_UDP_LISTEN,
	RS_EV_UDP_FLOW,
};

/* What an epoll event points at. */
struct rs_ev {
	enum rs_ev_kind kind;
	void *obj;
};

enum {
	RS_PORTS_MAX = 256,
	RS_UDP_FLOWS_MAX = 256,	      /* per port */
	RS_UDP_FLOWS_PER_SOURCE = 32, /* per source (port-udp.c) */
	RS_UDP_IDLE_SEC = 60,
	RS_PORT_HELPER_TIMEOUT_SEC = 2,
	/* source-address propagation (port-transparent.c): the mark of its
	 * connections, the routing table delivering them locally, the rule's
	 * priority (before "main", 32766) */
	RS_TRANSPARENT_MARK = 0x7273,
	RS_TRANSPARENT_TABLE = 0x7273,
	RS_TRANSPARENT_PRIORITY = 100,
	/* TCP connections moved by threads (port-splice.c); past that, by the
	 * event loop */
	RS_SPLICE_THREADED_MAX = 64,
	RS_SPLICE_CHUNK = 1024 * 1024,
};

struct rs_udp_flow;
struct rs_udp_src;
struct tcp_conn;
struct rs_splice;

/* launch --net-bypass: a listener of the launch's, made in the host's
 * namespace, holds the published address in place of the forwarder
 * (port-bypass.c, rs_api_bypass_bind) */
struct rs_port_bypass {
	bool on;		      /* the forwarder has stepped aside */
	time_t retry;		      /* when the forwarder next tries to come back */
	struct sockaddr_storage addr; /* the forwarder's address, family, V6ONLY */
	socklen_t len;
	int v6only;
};

struct rs_port {
	int id;
	struct rs_portspec spec;
	int fd; /* builtin: the listening socket */
	struct rs_port_bypass bypass;
	struct rs_ev ev;
	int slirp_id;			    /* slirp4netns: its hostfwd id */
	struct rs_udp_flow *flows, *oldest; /* UDP: by last use, newest first */
	struct rs_udp_src *srcs;	    /* UDP: who holds them */
	unsigned nflows;
	struct rs_port *next;
};

struct rs_portd {
	const struct rs_api_cfg *cfg;
	/* held while a batch of events is served and by the --net-bypass
	 * supervisor's thread (rs_api_bypass_bind) */
	pthread_mutex_t lock;
	int epfd;
	int helper_fd;	  /* builtin: SOCK_SEQPACKET to the helper in the child */
	int diag_fd;	  /* builtin: NETLINK_SOCK_DIAG (UDP senders' uids); -1 not yet */
	pid_t helper_pid; /* 0 once reaped (by the launch's loop or rs_builtin_stop) */
	struct rs_port *ports;
	struct tcp_conn *tcp;	  /* builtin: the open TCP connections */
	struct rs_splice *splice; /* builtin: those moved by threads; NULL: none yet */
	unsigned nports;
	int next_id;
	unsigned conns, conns_max; /* TCP connections and UDP flows */
	unsigned pipe_size;
	/* builtin, source-address propagation: wanted (cfg), set up in the
	 * helper (on the first connection from a non-loopback client), the
	 * families it works for (bit 0 IPv4, bit 1 IPv6) */
	bool transparent, transparent_tried;
	unsigned transparent_ok, transparent_warned;
	int transparent_err; /* why a family failed (errno), or 0 */
	void **grave;	     /* freed after each batch of events */
	size_t ngrave, capgrave;
};

/* port.c: the driver-independent part. Return: 0, or -errno with *err
 * saying why in one line (the API's error body). */
int rs_portd_add(struct rs_portd *d, const struct rs_portspec *spec, struct rs_port **out,
		 struct rs_error **err);
int rs_portd_remove(struct rs_portd *d, int id, struct rs_error **err);
const char *const *rs_portd_protos(const struct rs_portd *d);
void rs_portd_defer_free(struct rs_portd *d, void *p);
/* port-bypass.c. --net-bypass: forwarders whose bypassed listener is gone come back
 * (called with d->lock held, once a batch). */
void rs_portd_bypass_sweep(struct rs_portd *d, time_t now);
/* rs_api_bypass_bind's work, with d->lock held. */
int rs_portd_bypass_bind(struct rs_portd *d, int fd, int type, const struct sockaddr *addr,
			 socklen_t len);
int rs_portd_epoll_add(struct rs_portd *d, int fd, uint32_t events, struct rs_ev *ev);
/* Before closing fd: epoll drops a registration only when the last fd of
 * its file is closed, and a socket received over SCM_RIGHTS may still be
 * open in the sender, so a closed one could still report events for the
 * object that is freed. */
void rs_portd_epoll_del(struct rs_portd *d, int fd);

/* port-builtin.c: init forks the helper that joins the child's user and
 * network namespaces, add listens for a port; both return -errno with
 * *err set */
int rs_builtin_init(struct rs_portd *d, struct rs_error **err);
int rs_builtin_add(struct rs_portd *d, struct rs_port *p, struct rs_error **err);
void rs_builtin_remove(struct rs_portd *d, struct rs_port *p);
void rs_builtin_event(struct rs_portd *d, struct rs_ev *ev, uint32_t events);
void rs_builtin_sweep(struct rs_portd *d, time_t now);
/* Closes every connection, flow and port, and ends the helper. */
void rs_builtin_stop(struct rs_portd *d);
/* A socket connected (or connecting) inside the child, made by the helper;
 * the address p forwards to there. Return: fd or -errno. */
int rs_builtin_child_socket(struct rs_portd *d, int type, const struct sockaddr_storage *addr,
			    socklen_t len);
void rs_builtin_child_addr(const struct rs_port *p, struct sockaddr_storage *sa, socklen_t *len);

/* port-transparent.c: source-address propagation. In the helper: sets up
 * the namespace's rule, table and tcp_fwmark_accept and tries the path
 * once per family; Return: the families that work (bit 0 IPv4, bit 1
 * IPv6), *err the first errno of one that does not. */
unsigned rs_transparent_setup(int *err);
/* In the helper: a TCP socket bound with IP(V6)_TRANSPARENT to src,
 * connecting to dst. Return: fd or -errno. */
int rs_transparent_socket(const struct sockaddr_storage *dst, socklen_t dlen,
			  const struct sockaddr_storage *src, socklen_t slen, bool blocking);
/* In the helper: dst is an address of its network namespace. */
bool rs_transparent_local(const struct sockaddr_storage *dst, socklen_t dlen);
/* In the launcher: peer (an accepted client; an IPv4-mapped address made
 * IPv4) is an address to propagate to a service of family: the same
 * family, not loopback, unspecified or link-local. */
bool rs_transparent_source(struct sockaddr_storage *peer, socklen_t *plen, int family);

/* port-splice.c: a TCP connection's bytes moved by two threads (one per
 * direction); it owns both sockets then (made blocking). Return: 0, or
 * -EAGAIN (too many, or no pipes: the sockets are the caller's, as
 * they were). */
struct rs_splice *rs_splice_new(void);
int rs_splice_start(struct rs_splice *s, int client, int child, unsigned pipe_size);
unsigned rs_splice_count(const struct rs_splice *s);
/* Ends every connection (shut both ways) and waits for the threads (at
 * most 2 s), then frees s (NULL: nothing). */
void rs_splice_stop(struct rs_splice *s);
/* A leg of a forwarded connection whose peer is on this machine (loopback,
 * or fd's own address) gets reno: nothing to pace or probe there, and a
 * paced congestion control (BBR: with no fq qdisc the kernel paces with a
 * timer) held the builtin driver to half its speed (issue 25). A leg to
 * another machine keeps the admin's choice. */
void rs_splice_local_cc(int fd, const struct sockaddr_storage *peer);

/* port-udp.c: the builtin driver's UDP flows */
void rs_udp_from_host(struct rs_portd *d, struct rs_port *p);
void rs_udp_from_child(struct rs_portd *d, struct rs_udp_flow *f);
bool rs_udp_flow_open(const struct rs_udp_flow *f);
/* Closes p's flows idle for more than RS_UDP_IDLE_SEC. */
void rs_udp_sweep(struct rs_portd *d, struct rs_port *p, time_t now);
void rs_udp_close_all(struct rs_portd *d, struct rs_port *p);

/* port-libslirp.c: the embedded network's helper forwards (its control
 * socket, cfg->netemb_fd) */
int rs_libslirp_add(struct rs_portd *d, struct rs_port *p, struct rs_error **err);
int rs_libslirp_remove(struct rs_portd *d, struct rs_port *p, struct rs_error **err);

/* port-slirp.c */
int rs_slirp_add(struct rs_portd *d, struct rs_port *p, struct rs_error **err);
int rs_slirp_remove(struct rs_portd *d, struct rs_port *p, struct rs_error **err);
