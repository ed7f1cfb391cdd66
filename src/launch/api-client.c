/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One request to a launch's API socket (ours or RootlessKit's): what
 * `rootless-setup ports` sends. The answer comes from a process the
 * socket's owner runs, so it is bounded in size and time like any input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "launch/api-http.h"
#include "launch/api.h"
#include "lib/io.h"
#include "lib/xalloc.h"

enum { RESP_MAX = RS_HTTP_HEAD_MAX + (1 << 20), CALL_TIMEOUT_MS = 5000 };

int rs_api_call(const char *sock, const char *method, const char *path, const char *body,
		int *status, char **resp, struct rs_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len, head;
	long cl;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return rs_error_setx(err, ENAMETOOLONG, "the socket path '%s' is too long", sock);
	strcpy(sa.sun_path, sock);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return rs_error_set(err, errno, "cannot connect to '%s'", sock);
	size_t bl = body ? strlen(body) : 0;
	_cleanup_free_ char *req =
		rs_xasprintf("%s %s HTTP/1.1\r\nHost: localhost\r\n"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			     "Connection: close\r\n\r\n%s",
			     method, path, bl, body ? body : "");
	int w = rs_write_full(fd, req, strlen(req));
	if (w < 0)
		return rs_error_set(err, -w, "cannot send to '%s'", sock);
	_cleanup_free_ char *buf = rs_xmalloc(RESP_MAX + 1);
	ssize_t r = rs_read_all(fd, buf, RESP_MAX, CALL_TIMEOUT_MS);
	if (r < 0)
		return r == -ETIMEDOUT || r == -EFBIG
			       ? rs_error_setx(err, (int)-r, "no answer from '%s' (%s)", sock,
					       r == -ETIMEDOUT ? "timed out" : "too large")
			       : rs_error_set(err, (int)-r, "no answer from '%s'", sock);
	len = (size_t)r;
	if (rs_http_parse_response(buf, len, status, &head, &cl) <= 0)
		return rs_error_setx(err, EPROTO, "'%s' did not answer in HTTP", sock);
	size_t blen = len - head;
	if (cl >= 0 && (size_t)cl < blen)
		blen = (size_t)cl;
	*resp = rs_xstrndup(buf + head, blen);
	return 0;
}
