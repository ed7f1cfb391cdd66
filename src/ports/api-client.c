/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One request to a launch's API socket (ours or RootlessKit's): what
 * `rootless-setup ports` sends. The answer comes from a process the
 * socket's owner runs, so it is bounded in size and time like any input:
 * one deadline covers the connect (a socket whose backlog is full, because
 * its server never accepts, would block connect(2) forever), the request
 * and the answer. Root reaches a user's socket without following a symlink
 * the user could have made and sends the request with the user's
 * credentials (docs/security.md). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "host/userfs.h"
#include "ports/api-http.h"
#include "ports/api.h"
#include "lib/io.h"
#include "lib/xalloc.h"

enum { RESP_MAX = RS_HTTP_HEAD_MAX + (1 << 20) };

/* Bounds connect(2) on fd by what is left of the deadline. */
static int bound_connect(int fd, uint64_t end)
{
	int l = rs_ms_left(end);
	struct timeval tv = {.tv_sec = l / 1000, .tv_usec = (l % 1000) * 1000};
	if (!l)
		return -ETIMEDOUT;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* All n bytes before the deadline (a server that never reads, its receive
 * buffer made tiny, would hold a blocking write). Return: 0 or -errno. */
static int send_bounded(int fd, const char *p, size_t n, uint64_t end)
{
	while (n) {
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		int l = rs_ms_left(end), w = l ? poll(&pf, 1, l) : 0;
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w == 0 ? -ETIMEDOUT : -errno;
		ssize_t r = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* connect(2) to addr (a path, or /proc/self/fd/N of the socket), bounded:
 * a full backlog makes the kernel wait at most SO_SNDTIMEO, then EAGAIN. */
static int connect_bounded(int fd, const char *addr, const char *shown, uint64_t end,
			   struct rs_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int r;

	if (strlen(addr) >= sizeof(sa.sun_path))
		return rs_error_setx(err, ENAMETOOLONG, "the socket path '%s' is too long", shown);
	strcpy(sa.sun_path, addr);
	if ((r = bound_connect(fd, end)) < 0)
		return rs_error_set(err, -r, "cannot connect to '%s'", shown);
	while ((r = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EINTR)
		;
	if (r == 0)
		return 0;
	if (errno == EAGAIN || errno == ETIMEDOUT || errno == EINPROGRESS)
		return rs_error_setx(err, ETIMEDOUT,
				     "cannot connect to '%s': no connection accepted within %d s",
				     shown, RS_API_CALL_TIMEOUT_MS / 1000);
	return rs_error_set(err, errno, "cannot connect to '%s'", shown);
}

/* The round trip on the socket at addr; shown names it in messages. */
static int round_trip(const char *addr, const char *shown, const char *method, const char *path,
		      const char *body, int *status, char **resp, struct rs_error **err)
{
	uint64_t end = rs_now_ms() + RS_API_CALL_TIMEOUT_MS;
	size_t len, head;
	long cl;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return rs_error_set(err, errno, "cannot create a socket");
	int r = connect_bounded(fd, addr, shown, end, err);
	if (r < 0)
		return r;
	size_t bl = body ? strlen(body) : 0;
	_cleanup_free_ char *req =
		rs_xasprintf("%s %s HTTP/1.1\r\nHost: localhost\r\n"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			     "Connection: close\r\n\r\n%s",
			     method, path, bl, body ? body : "");
	if ((r = send_bounded(fd, req, strlen(req), end)) < 0)
		return r == -ETIMEDOUT
			       ? rs_error_setx(err, ETIMEDOUT, "'%s' took no request within %d s",
					       shown, RS_API_CALL_TIMEOUT_MS / 1000)
			       : rs_error_set(err, -r, "cannot send to '%s'", shown);
	_cleanup_free_ char *buf = rs_xmalloc(RESP_MAX + 1);
	ssize_t n = rs_read_all(fd, buf, RESP_MAX, rs_ms_left(end));
	if (n == -ETIMEDOUT)
		return rs_error_setx(err, ETIMEDOUT, "no answer from '%s' within %d s", shown,
				     RS_API_CALL_TIMEOUT_MS / 1000);
	if (n < 0)
		return rs_error_setx(err, (int)-n, "no answer from '%s' (%s)", shown,
				     n == -EFBIG ? "too large" : strerror((int)-n));
	len = (size_t)n;
	if (rs_http_parse_response(buf, len, status, &head, &cl) <= 0)
		return rs_error_setx(err, EPROTO, "'%s' did not answer in HTTP", shown);
	size_t blen = len - head;
	if (cl >= 0 && (size_t)cl < blen)
		blen = (size_t)cl;
	*resp = rs_xstrndup(buf + head, blen);
	return 0;
}

int rs_api_call(const char *sock, const char *method, const char *path, const char *body,
		int *status, char **resp, struct rs_error **err)
{
	return round_trip(sock, sock, method, path, body, status, resp, err);
}

/* ---- root for a user: the socket by fd, the request as its owner ---- */

struct guarded_call {
	int sock; /* O_PATH fd of the socket */
	const char *shown, *method, *path, *body;
};

/* In the child that has the owner's credentials: "STATUS\n" + body. */
static int call_as_owner(void *arg, char **data, size_t *len, char *msg, size_t msglen)
{
	const struct guarded_call *c = arg;
	struct rs_error *err = NULL;
	char addr[64];
	int status = 0;
	_cleanup_free_ char *resp = NULL;

	snprintf(addr, sizeof(addr), "/proc/self/fd/%d", c->sock);
	int r = round_trip(addr, c->shown, c->method, c->path, c->body, &status, &resp, &err);
	if (r < 0) {
		snprintf(msg, msglen, "%s", err ? err->msg : strerror(-r));
		rs_error_free(err);
		return r;
	}
	*data = rs_xasprintf("%d\n%s", status, resp);
	*len = strlen(*data);
	return 0;
}

/* DIR/api.sock as an O_PATH fd: a socket of DIR's owner, never a symlink. */
static int open_socket(int dfd, const char *shown, uid_t owner, struct rs_error **err)
{
	struct stat st;
	int fd = openat(dfd, "api.sock", O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return rs_error_set(err, errno, "cannot open '%s'", shown);
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return rs_error_set(err, e, "cannot open '%s'", shown);
	}
	const char *why = S_ISLNK(st.st_mode)	  ? "is a symlink (not followed)"
			  : !S_ISSOCK(st.st_mode) ? "is not a socket"
			  : st.st_uid != owner	  ? "is not owned by its directory's owner"
						  : NULL;
	if (why) {
		close(fd);
		return rs_error_setx(err, EPERM, "refusing '%s': it %s", shown, why);
	}
	return fd;
}

static int call_as(uid_t uid, const struct guarded_call *c, int *status, char **resp,
		   struct rs_error **err)
{
	struct rs_host *h = NULL;
	struct rs_user u = {0};
	char spec[16], msg[512];
	_cleanup_free_ char *data = NULL;
	size_t len;

	snprintf(spec, sizeof(spec), "%u", (unsigned)uid);
	int r = rs_host_open("/", &h, err);
	if (r == 0 && rs_user_resolve(h, spec, &u, err) < 0)
		r = rs_error_wrap(err, "the owner of '%s' (uid %u)", c->shown, (unsigned)uid);
	rs_host_free(h);
	if (r < 0)
		return r;
	r = rs_as_user_data(&u, call_as_owner, (void *)c, RESP_MAX + 16, &data, &len, msg,
			    sizeof(msg), RS_API_CALL_TIMEOUT_MS + 2000);
	rs_user_clear(&u);
	if (r < 0)
		return rs_error_setx(err, -r, "%s", msg[0] ? msg : strerror(-r));
	char *nl = strchr(data, '\n');
	if (!nl || sscanf(data, "%d", status) != 1)
		return rs_error_setx(err, EPROTO, "no answer from '%s'", c->shown);
	*resp = rs_xstrdup(nl + 1);
	return 0;
}

int rs_api_call_guarded(const char *dir, uid_t expect, const char *method, const char *path,
			const char *body, int *status, char **resp, struct rs_error **err)
{
	struct rs_guarded g;
	_cleanup_free_ char *shown = rs_xasprintf("%s/api.sock", dir);
	_cleanup_close_ int dfd = rs_guarded_open(dir, O_PATH | O_DIRECTORY, &g, err);

	if (dfd < 0)
		return dfd;
	uid_t owner = g.st.st_uid;
	if (g.shaper != (uid_t)-1 && g.shaper != owner)
		return rs_error_setx(err, EPERM,
				     "refusing '%s': it is uid %u's, in a directory of uid %u's",
				     dir, (unsigned)owner, (unsigned)g.shaper);
	if (expect != (uid_t)-1 && owner != expect)
		return rs_error_setx(err, EPERM, "refusing '%s': it is uid %u's, not uid %u's", dir,
				     (unsigned)owner, (unsigned)expect);
	_cleanup_close_ int sfd = open_socket(dfd, shown, owner, err);
	if (sfd < 0)
		return sfd;
	struct guarded_call c = {.sock = sfd,
				 .shown = shown,
				 .method = method,
				 .path = path,
				 .body = body};
	if (owner == geteuid()) {
		char addr[64];
		snprintf(addr, sizeof(addr), "/proc/self/fd/%d", sfd);
		return round_trip(addr, shown, method, path, body, status, resp, err);
	}
	return call_as(owner, &c, status, resp, err);
}
