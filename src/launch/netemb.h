/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The embedded network (--net=libslirp): a user-mode network with no
 * external program. The launcher makes the tap device in the child's
 * network namespace (net-embedded.c) and starts a helper, a fresh image of
 * our own binary (`rootless-setup __net-helper`), that runs libslirp on it
 * (slirp-helper.c) from inside a sandbox (slirp-sandbox.c): its own user and
 * mount namespaces on an empty read-only tmpfs, no capabilities,
 * no_new_privs and a seccomp allow-list, so that a libslirp bug
 * (CVE-2019-14378, CVE-2020-1983) gets a process that can open nothing,
 * exec nothing and reach nothing but the sockets it is given or makes.
 *
 * The launcher and the helper talk over a SOCK_SEQPACKET pair (the helper's
 * fd 4), one fixed-size message per packet. The helper parses packets from
 * the namespace, so once it runs nothing it says is trusted: the launcher
 * takes only replies of the exact size, for the request it sent, with an
 * errno in range, and bounds every wait.
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

/* ---- the launcher's side (net-embedded.c) ---- */
struct rs_net_ctx;
struct rs_netproc;
struct rs_error;

/* Makes the tap in the child's network namespace and starts the helper on
 * it; np->ready_r is the control socket. Return: 0 or -errno with *err. */
int rs_netemb_start(const struct rs_net_ctx *c, struct rs_netproc *np, struct rs_error **err);
/* Until the helper says it is ready (10 s at most). Return: 0 or -errno. */
int rs_netemb_wait(struct rs_netproc *np, struct rs_error **err);
/* One request on the control socket ctl, its reply within timeout_ms.
 * Return: 0, or -errno (the helper's refusal, -ETIMEDOUT, -EPROTO for a
 * reply that is not one). */
int rs_netemb_call(int ctl, struct rs_netemb_fwd *req, int timeout_ms);

/* ---- the helper (slirp-helper.c, slirp-sandbox.c) ---- */
/* The helper's messages (--debug only): one line, no newline. */
typedef void (*rs_netemb_log_fn)(const char *line);
/* The helper's main, its fds as above. Return: an exit status. */
int rs_netemb_helper_main(rs_netemb_log_fn log);

/* Enters the sandbox: a new user and mount namespace, pivot_root to a
 * read-only tmpfs holding only etc/resolv.conf (resolv, n bytes), all
 * file descriptors above keep_max closed, no capabilities, no_new_privs,
 * the parent-death signal armed again (the namespace change clears it).
 * why: what failed. Return: 0 or -errno. */
int rs_netemb_sandbox(const char *resolv, size_t n, int keep_max, char *why, size_t whylen);
/* The seccomp allow-list, built before the sandbox hides libseccomp's file
 * (it is opened on first use). Return: the filter, or NULL with why. */
void *rs_netemb_seccomp_prepare(char *why, size_t whylen);
/* Loads it (and frees it). Return: 0 or -errno with why. */
int rs_netemb_seccomp_load(void *filter, char *why, size_t whylen);
