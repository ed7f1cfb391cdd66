/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ports/api-http.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The end of the head ("\r\n\r\n"), or 0 while it has not arrived. */
static size_t head_end(const char *buf, size_t len)
{
	size_t lim = len < RS_HTTP_HEAD_MAX ? len : RS_HTTP_HEAD_MAX;
	for (size_t i = 0; i + 4 <= lim; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

/* One "Name: value" line of [b, e); sets *cl for Content-Length. */
static int header_line(const char *b, const char *e, long *cl, bool *te)
{
	const char *colon = b;
	while (colon < e && is_tchar((unsigned char)*colon))
		colon++;
	if (colon == b || colon == e || *colon != ':')
		return -EINVAL;
	for (const char *p = colon + 1; p < e; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return -EINVAL;
	const char *v = colon + 1, *ve = e;
	while (v < ve && (*v == ' ' || *v == '\t'))
		v++;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	size_t nl = (size_t)(colon - b);
	if (nl == 17 && strncasecmp(b, "transfer-encoding", nl) == 0)
		*te = true;
	if (nl == 14 && strncasecmp(b, "content-length", nl) == 0) {
		uint64_t n;
		if (ve - v > 9 || rs_parse_u64n(v, (size_t)(ve - v), 999999999, &n) < 0)
			return -EINVAL;
		/* two different lengths: a smuggling attempt */
		if (*cl >= 0 && (uint64_t)*cl != n)
			return -EINVAL;
		*cl = (long)n;
	}
	return 0;
}

/* Walks the header lines of [p, end) (end: the final "\r\n" of the head). */
static int header_lines(const char *p, const char *end, long *cl, bool *te)
{
	while (p < end) {
		const char *e = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
		if (!e || header_line(p, e, cl, te) < 0)
			return -EINVAL;
		p = e + 2;
	}
	return 0;
}

/* The framing requests and responses share: the head up to the blank
 * line (within RS_HTTP_HEAD_MAX), its first line judged by first, then
 * the header lines (one Content-Length, no Transfer-Encoding). The first
 * line is judged before the headers, so its error wins. Return: the
 * head's length with *cl set (-1: no Content-Length); 0 while the head
 * has not all arrived; first's error; -EINVAL, -E2BIG or -ENOSYS. */
static long parse_head(const char *buf, size_t len,
		       int (*first)(const char *b, const char *e, void *arg), void *arg, long *cl)
{
	size_t he = head_end(buf, len);
	if (!he)
		return len >= RS_HTTP_HEAD_MAX ? -E2BIG : 0;
	const char *le = memmem(buf, he, "\r\n", 2);
	int ret = first(buf, le, arg);
	if (ret < 0)
		return ret;
	bool te = false;
	*cl = -1;
	if (header_lines(le + 2, buf + he - 2, cl, &te) < 0)
		return -EINVAL;
	if (te)
		return -ENOSYS;
	return (long)he;
}

/* "METHOD /path[?query] HTTP/1.x" into the struct rs_http_req arg. */
static int request_line(const char *b, const char *e, void *arg)
{
	struct rs_http_req *r = arg;
	const char *sp = b;
	while (sp < e && *sp >= 'A' && *sp <= 'Z')
		sp++;
	if (sp == b || sp == e || *sp != ' ' || (size_t)(sp - b) >= sizeof(r->method))
		return -EINVAL;
	memcpy(r->method, b, (size_t)(sp - b));
	r->method[sp - b] = '\0';
	const char *t = sp + 1, *te = t;
	while (te < e && (unsigned char)*te > 0x20 && *te != 0x7f)
		te++;
	if (te == t || *t != '/' || te == e || *te != ' ')
		return -EINVAL;
	const char *q = memchr(t, '?', (size_t)(te - t));
	size_t pl = (size_t)((q ? q : te) - t);
	if (pl >= sizeof(r->path))
		return -E2BIG;
	memcpy(r->path, t, pl);
	r->path[pl] = '\0';
	size_t vl = (size_t)(e - te - 1);
	if (vl != 8 || (memcmp(te + 1, "HTTP/1.1", 8) != 0 && memcmp(te + 1, "HTTP/1.0", 8) != 0))
		return -EINVAL;
	return 0;
}

/* "HTTP/1.x NNN[ reason]", the code (100-999) into the uint64_t arg. */
static int status_line(const char *b, const char *e, void *arg)
{
	uint64_t *code = arg;
	if (e - b < 12 || (memcmp(b, "HTTP/1.1 ", 9) != 0 && memcmp(b, "HTTP/1.0 ", 9) != 0) ||
	    rs_parse_u64n(b + 9, 3, 999, code) < 0 || *code < 100 || (e - b > 12 && b[12] != ' '))
		return -EINVAL;
	return 0;
}

long rs_http_parse(const char *buf, size_t len, struct rs_http_req *r)
{
	long cl;
	memset(r, 0, sizeof(*r));
	long he = parse_head(buf, len, request_line, r, &cl);
	if (he <= 0)
		return he;
	r->head_len = (size_t)he;
	r->body_len = cl < 0 ? 0 : (size_t)cl;
	if (r->body_len > RS_HTTP_BODY_MAX)
		return -E2BIG;
	if (len - (size_t)he < r->body_len)
		return 0;
	return (long)(r->head_len + r->body_len);
}

long rs_http_parse_response(const char *buf, size_t len, int *status, size_t *head_len,
			    long *content_length)
{
	uint64_t code;
	long cl;
	long he = parse_head(buf, len, status_line, &code, &cl);
	if (he <= 0)
		return he;
	*status = (int)code;
	*head_len = (size_t)he;
	*content_length = cl;
	return he;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

char *rs_http_response(int status, const char *ctype, const char *body, size_t body_len, size_t *n)
{
	_cleanup_free_ char *ct = ctype ? rs_xasprintf("Content-Type: %s\r\n", ctype)
					: rs_xstrdup("");
	_cleanup_free_ char *head = rs_xasprintf("HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\n"
						 "Connection: close\r\n\r\n",
						 status, reason(status), ct, body_len);
	size_t hl = strlen(head);
	char *out = rs_xmalloc(hl + body_len + 1);
	memcpy(out, head, hl);
	if (body_len)
		memcpy(out + hl, body, body_len);
	out[hl + body_len] = '\0';
	*n = hl + body_len;
	return out;
}

enum rs_api_route rs_api_route_of(const char *method, const char *path, const char **id)
{
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST"),
	     del = !strcmp(method, "DELETE");
	*id = NULL;
	if (!strcmp(path, "/v1/info"))
		return get ? RS_API_ROUTE_INFO : RS_API_ROUTE_METHOD;
	if (!strcmp(path, "/v1/ports"))
		return get    ? RS_API_ROUTE_PORTS_LIST
		       : post ? RS_API_ROUTE_PORTS_ADD
			      : RS_API_ROUTE_METHOD;
	if (!strncmp(path, "/v1/ports/", 10) && path[10] && !strchr(path + 10, '/')) {
		if (!del)
			return RS_API_ROUTE_METHOD;
		*id = path + 10;
		return RS_API_ROUTE_PORTS_DELETE;
	}
	return RS_API_ROUTE_NONE;
}
