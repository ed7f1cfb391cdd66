/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The launcher's API speaks HTTP/1.1 over a unix socket, as RootlessKit's
 * clients (rootlessctl, rootlesskit-docker-proxy, Docker, our `ports`) do:
 * one request per connection, a Content-Length body, no chunked encoding.
 * The parser is strict and bounded; it works on what has arrived so far.
 */
#include <stddef.h>

enum { RS_HTTP_HEAD_MAX = 8192, RS_HTTP_BODY_MAX = 65536, RS_HTTP_PATH_MAX = 256 };

struct rs_http_req {
	char method[8];
	char path[RS_HTTP_PATH_MAX]; /* without the query */
	size_t head_len;	     /* through the blank line */
	size_t body_len;	     /* Content-Length */
};

/* Parses the request at the start of buf[0..len). Return: the request's
 * whole length (head + body) once all of it is in buf; 0 when more is
 * needed; -EINVAL malformed (400); -E2BIG head or body over the limits
 * (431/413); -ENOSYS a Transfer-Encoding (501). */
long rs_http_parse(const char *buf, size_t len, struct rs_http_req *r);

/* Parses an HTTP/1.x response head (our client's side): status code,
 * head length and Content-Length (-1 when absent). Same returns as above. */
long rs_http_parse_response(const char *buf, size_t len, int *status, size_t *head_len,
			    long *content_length);

/* "HTTP/1.1 <status> <reason>\r\n" with Content-Type (when ctype),
 * Content-Length and Connection: close, then body. *n: its length. */
char *rs_http_response(int status, const char *ctype, const char *body, size_t body_len, size_t *n);

/* The API's routes (RootlessKit's v1): what a request's method and path
 * ask for. RS_API_ROUTE_METHOD: a known path with another method (405);
 * RS_API_ROUTE_NONE: no such path (404). */
enum rs_api_route {
	RS_API_ROUTE_NONE,
	RS_API_ROUTE_METHOD,
	RS_API_ROUTE_INFO,	   /* GET /v1/info */
	RS_API_ROUTE_PORTS_LIST,   /* GET /v1/ports */
	RS_API_ROUTE_PORTS_ADD,	   /* POST /v1/ports */
	RS_API_ROUTE_PORTS_DELETE, /* DELETE /v1/ports/ID (*id: ID, not yet checked) */
};
enum rs_api_route rs_api_route_of(const char *method, const char *path, const char **id);
