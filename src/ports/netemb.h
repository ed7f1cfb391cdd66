/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The embedded network's control protocol (launch/netemb.h says what the
 * embedded network is): the launcher and its helper talk over a
 * SOCK_SEQPACKET pair, one fixed-size message per packet. It is here,
 * below the launcher, because the libslirp port driver (port-libslirp.c)
 * speaks it too: its port forwards are requests to the helper. Once the
 * helper runs it parses packets from the namespace, so nothing it says is
 * trusted: replies are taken only at their exact size, for the request
 * sent, with an errno in range, and every wait is bounded.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define RS_NETEMB_VERB "__net-helper"

/* The helper's fds when it starts: the tap and the control socket; 0-2
 * are /dev/null (2 the launcher's stderr with --debug). */
enum { RS_NETEMB_TAP_FD = 3, RS_NETEMB_CTL_FD = 4 };

enum { RS_NETEMB_MAGIC = 0x72736e31 /* "rsn1" */ };

/* The launcher's first message: how to run the network. */
struct rs_netemb_cfg {
	uint32_t magic;
	uint8_t net[4];	 /* the --cidr network; the host (gateway) is .2, DNS .3 */
	uint32_t prefix; /* 8..25 */
	uint32_t mtu;	 /* 68..65521 */
	uint8_t ipv6;	 /* also fd00::/64: the namespace fd00::100, host fd00::2, DNS fd00::3 */
	uint8_t disable_host_loopback;
	uint8_t debug; /* libslirp's and our messages on stderr */
	uint8_t pad;
	int32_t launcher; /* our pid: the helper leaves when its parent is another */
};

enum rs_netemb_op {
	RS_NETEMB_READY = 1, /* helper -> launcher: sandboxed and serving (or err) */
	RS_NETEMB_ADD,	     /* launcher -> helper: a host port forward (slirp_add_hostxfwd) */
	RS_NETEMB_REMOVE,    /* launcher -> helper: remove one */
};

/* A port forward: the host's address and port to the namespace's. */
struct rs_netemb_fwd {
	uint32_t op;
	uint32_t seq; /* echoed by the reply */
	uint8_t udp;
	uint8_t v6; /* addresses are IPv6 (else the first 4 bytes are IPv4) */
	uint8_t pad[2];
	uint8_t host_addr[16];
	uint8_t guest_addr[16];
	uint16_t host_port;
	uint16_t guest_port;
};

struct rs_netemb_reply {
	uint32_t op;
	uint32_t seq;
	int32_t err;   /* 0 or a positive errno */
	char msg[200]; /* READY with err: what failed (NUL-terminated) */
};

/* One reply from the control socket ctl within ms milliseconds, checked
 * (size, errno range; msg NUL-terminated). Return: 0, -EAGAIN (read
 * again), -ETIMEDOUT, -EPIPE (closed), -EPROTO (not a reply) or -errno. */
int rs_netemb_recv(int ctl, struct rs_netemb_reply *rep, int ms);
/* One request on the control socket ctl, its reply within timeout_ms.
 * Return: 0, or -errno (the helper's refusal, -ETIMEDOUT, -EPROTO for a
 * reply that is not one). */
int rs_netemb_call(int ctl, struct rs_netemb_fwd *req, int timeout_ms);
