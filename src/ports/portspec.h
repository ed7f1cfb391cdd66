/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A published port, as RootlessKit's API and `-p` name it:
 *   [PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT/PROTO
 * PROTO is tcp, udp, tcp4, tcp6, udp4 or udp6; IPv6 addresses are written
 * in brackets ("[::1]:8080:80/tcp"). An empty IP is "any" (parent) or the
 * driver's default (child).
 */
#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define RS_PORTSPEC_IP_MAX 46 /* INET6_ADDRSTRLEN */

struct rs_portspec {
	char proto[8];
	char parent_ip[RS_PORTSPEC_IP_MAX];
	unsigned parent_port;
	char child_ip[RS_PORTSPEC_IP_MAX];
	unsigned child_port;
};

/* Parses the text form of s. Return: 0, or -EINVAL with *why (static text)
 * saying which part is wrong. */
int rs_portspec_parse(const char *s, struct rs_portspec *out, const char **why);
/* Checks a spec built from JSON: proto known, ports 1..65535, IPs literal
 * addresses of a family the proto allows. Return: 0 or -EINVAL, *why. */
int rs_portspec_validate(const struct rs_portspec *p, const char **why);
/* Canonical text form (the one rs_portspec_parse reads back). */
void rs_portspec_format(const struct rs_portspec *p, char *buf, size_t n);
/* true for "udp", "udp4", "udp6". */
bool rs_portspec_is_udp(const struct rs_portspec *p);
/* 4, 6, or 0 (either) for the proto's suffix. */
int rs_portspec_family(const struct rs_portspec *p);
/* Parses a literal IPv4 or IPv6 address into sa with port. Return: 0 or -EINVAL. */
int rs_ip_to_sockaddr(const char *ip, unsigned port, struct sockaddr_storage *sa, socklen_t *len);
/* true for a loopback address: 127.0.0.0/8, ::1, or 127.0.0.0/8 mapped
 * into IPv6 (a dual-stack socket's IPv4 peer). The one test of it the port
 * drivers make, so "on this host" means the same to each. */
bool rs_sockaddr_loopback(const struct sockaddr_storage *sa);
