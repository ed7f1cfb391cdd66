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
 * fd 4): the protocol is ports/netemb.h, which the libslirp port driver
 * speaks too.
 */
#include <stddef.h>
#include "ports/netemb.h"

/* ---- the launcher's side (net-embedded.c) ---- */
struct rs_net_ctx;
struct rs_netproc;
struct rs_error;

/* Makes the tap in the child's network namespace and starts the helper on
 * it; np->ready_r is the control socket. Return: 0 or -errno with *err. */
int rs_netemb_start(const struct rs_net_ctx *c, struct rs_netproc *np, struct rs_error **err);
/* Until the helper says it is ready (10 s at most). Return: 0 or -errno. */
int rs_netemb_wait(struct rs_netproc *np, struct rs_error **err);

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
