/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The slirp4netns port driver: slirp4netns listens on the host and forwards
 * into the child itself; we ask it through its API socket (--api-socket):
 * one JSON request per connection, one JSON reply. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "ports/port.h"
#include "lib/macro.h"

static int slirp_call(const char *path, json_t *req, json_t **rep, struct rs_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	size_t got = 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		return rs_error_setx(err, ENAMETOOLONG,
				     "the slirp4netns API socket path is too long");
	}
	strcpy(sa.sun_path, path);
	_cleanup_free_ char *txt = json_dumps(req, JSON_COMPACT);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* slirp4netns runs as the user, who may stop it: the connect (a full
	 * backlog would block it), the send and the answer are bounded, so
	 * the launch's loop, which also forwards its signals, moves on */
	struct timeval tv = {.tv_sec = RS_PORT_HELPER_TIMEOUT_SEC};
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, txt, strlen(txt), MSG_NOSIGNAL) < 0) {
		rs_error_set(err, errno, "cannot reach slirp4netns' API socket");
		return -EIO;
	}
	shutdown(fd, SHUT_WR);
	/* each read waits SO_RCVTIMEO at most */
	ssize_t r;
	while (got < sizeof(buf) - 1 && (r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	_cleanup_json_ json_t *j = json_loadb(buf, got, 0, NULL);
	if (!j || !json_is_object(j))
		return rs_error_setx(err, EIO, "slirp4netns gave no answer");
	json_t *e = json_object_get(j, "error");
	if (e) {
		const char *d = json_string_value(json_object_get(e, "desc"));
		return rs_error_setx(err, EIO, "slirp4netns: %s", d ? d : "error");
	}
	*rep = TAKE_PTR(j);
	return 0;
}

int rs_slirp_add(struct rs_portd *d, struct rs_port *p, struct rs_error **err)
{
	const char *guest = p->spec.child_ip[0] ? p->spec.child_ip : d->cfg->child_ip;
	/* slirp4netns' hostfwd is IPv4 on both sides (the proto's family is
	 * checked by the protos it lists; the addresses are not bound to it) */
	if (strchr(p->spec.child_ip, ':') || strchr(p->spec.parent_ip, ':')) {
		return rs_error_setx(err, EINVAL, "the slirp4netns port driver forwards IPv4 only");
	}
	const char *proto = rs_portspec_is_udp(&p->spec) ? "udp" : "tcp"; /* tcp4 -> tcp */
	_cleanup_json_ json_t *req = json_pack("{s:s, s:{s:s, s:s, s:i, s:s, s:i}}", "execute",
					       "add_hostfwd", "arguments", "proto", proto,
					       "host_addr",
					       p->spec.parent_ip[0] ? p->spec.parent_ip : "0.0.0.0",
					       "host_port", (int)p->spec.parent_port, "guest_addr",
					       guest ? guest : "10.0.2.100", "guest_port",
					       (int)p->spec.child_port);
	_cleanup_json_ json_t *rep = NULL;
	int r = slirp_call(d->cfg->slirp_api, req, &rep, err);
	if (r < 0)
		return r;
	json_t *id = json_object_get(json_object_get(rep, "return"), "id");
	if (!json_is_integer(id))
		return rs_error_setx(err, EIO, "slirp4netns gave no id");
	p->slirp_id = (int)json_integer_value(id);
	return 0;
}

int rs_slirp_remove(struct rs_portd *d, struct rs_port *p, struct rs_error **err)
{
	_cleanup_json_ json_t *req = json_pack("{s:s, s:{s:i}}", "execute", "remove_hostfwd",
					       "arguments", "id", p->slirp_id);
	_cleanup_json_ json_t *rep = NULL;
	return slirp_call(d->cfg->slirp_api, req, &rep, err);
}
