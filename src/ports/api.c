/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The launch's API server: RootlessKit's REST API (GET /v1/info, GET and
 * POST /v1/ports, DELETE /v1/ports/ID) on STATE_DIR/api.sock, and the port
 * drivers, in the launch's parent with one epoll loop that also watches the
 * launch's signalfd (one process fewer than a server of its own: its
 * memory is counted once). Nothing in it blocks on a client: every socket
 * is non-blocking and every API connection is bounded in size, number and
 * time, so a stuck client or a flood never holds up signal forwarding.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ports/api-http.h"
#include "ports/port.h"
#include "lib/xalloc.h"

enum { API_CONNS_MAX = 32, API_TIMEOUT_SEC = 10 };

struct api_conn {
	int fd;
	struct rs_ev ev;
	char *in;
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	time_t deadline;
};

struct rs_api_srv {
	struct rs_api_cfg cfg; /* a copy: the strings below are ours */
	char *child_ip, *dns;
	struct rs_portd d;
	int listen_fd;
	struct rs_ev listen_ev, wake_ev;
	struct api_conn *conns[API_CONNS_MAX];
};

static json_t *spec_json(const struct rs_port *p)
{
	json_t *s = json_object();
	json_object_set_new(s, "proto", json_string(p->spec.proto));
	if (p->spec.parent_ip[0])
		json_object_set_new(s, "parentIP", json_string(p->spec.parent_ip));
	json_object_set_new(s, "parentPort", json_integer(p->spec.parent_port));
	if (p->spec.child_ip[0])
		json_object_set_new(s, "childIP", json_string(p->spec.child_ip));
	json_object_set_new(s, "childPort", json_integer(p->spec.child_port));
	return json_pack("{s:i, s:o}", "id", p->id, "spec", s);
}

/* A driver the API answers for: not none. RootlessKit 2.x has none for
 * implicit either; ours answers, taking port requests as records only
 * (pasta forwards whatever listens inside), because Debian 12's
 * rootlesskit-docker-proxy 1.1 fails on a launch without a port driver
 * and, told of one, starts docker-proxy inside for pasta to find.
 * Docker's newer clients read "implicit" as nothing to ask for. */
static bool has_port_driver(const struct rs_api_cfg *c)
{
	return c->port_driver != RS_PORT_NONE;
}

static json_t *info_json(struct rs_api_srv *s)
{
	const struct rs_api_cfg *c = s->d.cfg;
	/* the version of RootlessKit whose API this is (rootlessctl info) */
	json_t *j = json_pack("{s:s, s:s, s:s, s:i}", "apiVersion", "1.1.1", "version",
			      RS_ROOTLESSKIT_VERSION, "stateDir", c->state_dir, "childPID",
			      (int)c->child);
	/* RootlessKit names no network driver for the host's network, and no
	 * port driver for none */
	if (strcmp(c->net_driver, "host") != 0) {
		json_t *nd = json_pack("{s:s}", "driver", c->net_driver);
		if (c->dns)
			json_object_set_new(nd, "dns", json_pack("[s]", c->dns));
		if (c->child_ip)
			json_object_set_new(nd, "childIP", json_string(c->child_ip));
		json_object_set_new(j, "networkDriver", nd);
	}
	if (has_port_driver(c)) {
		json_t *protos = json_array();
		for (const char *const *p = rs_portd_protos(&s->d); *p; p++)
			json_array_append_new(protos, json_string(*p));
		json_t *pd = json_pack("{s:s, s:o}", "driver", rs_port_driver_name(c->port_driver),
				       "protos", protos);
		/* slirp4netns and libslirp forward to the tap address: a client
		 * (Docker's rootlesskit-docker-proxy) must then listen on
		 * childIP, not on loopback, which they cannot reach (API v1.1.1) */
		if (c->port_driver == RS_PORT_SLIRP4NETNS || c->port_driver == RS_PORT_LIBSLIRP)
			json_object_set_new(pd, "disallowLoopbackChildIP", json_true());
		json_object_set_new(j, "portDriver", pd);
	}
	return j;
}

/* A port spec from a POST body: RootlessKit's clients send the spec itself;
 * {"spec": {...}} (a status's shape) is read too. */
static int spec_from_json(json_t *j, struct rs_portspec *sp, const char **why)
{
	json_t *inner = json_object_get(j, "spec");
	if (json_is_object(inner))
		j = inner;
	memset(sp, 0, sizeof(*sp));
	static const char *const strs[] = {"proto", "parentIP", "childIP"};
	char *dst[] = {sp->proto, sp->parent_ip, sp->child_ip};
	size_t lim[] = {sizeof(sp->proto), sizeof(sp->parent_ip), sizeof(sp->child_ip)};
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(j, strs[i]);
		if (v && (!json_is_string(v) || json_string_length(v) >= lim[i])) {
			*why = "a bad string in the port spec";
			return -EINVAL;
		}
		if (v)
			strcpy(dst[i], json_string_value(v));
	}
	static const char *const nums[] = {"parentPort", "childPort"};
	unsigned *ndst[] = {&sp->parent_port, &sp->child_port};
	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(j, nums[i]);
		json_int_t x = json_integer_value(v);
		if (v && (!json_is_integer(v) || x < 0 || x > 65535)) {
			*why = "a bad port number in the port spec";
			return -EINVAL;
		}
		*ndst[i] = (unsigned)x;
	}
	return rs_portspec_validate(sp, why);
}

static void reply_json(struct api_conn *c, int status, json_t *j)
{
	_cleanup_free_ char *txt = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	c->out = rs_http_response(status, txt ? "application/json" : NULL, txt,
				  txt ? strlen(txt) : 0, &c->outlen);
}

/* RootlessKit's error body: {"message": ...} and a newline (Go's
 * json.Encoder), sent as text/plain (Go sniffs it: the type is set after
 * the status went out). */
static void reply_error(struct api_conn *c, int status, const char *msg)
{
	json_t *j = json_pack("{s:s}", "message", msg);
	_cleanup_free_ char *txt = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	_cleanup_free_ char *line = rs_xasprintf("%s\n", txt);
	c->out = rs_http_response(status, "text/plain; charset=utf-8", line, strlen(line),
				  &c->outlen);
}

static void route_ports_post(struct rs_api_srv *s, struct api_conn *c, const char *body, size_t n)
{
	json_error_t je;
	struct rs_portspec sp;
	const char *why = NULL;
	_cleanup_error_ struct rs_error *err = NULL;
	struct rs_port *p;
	_cleanup_json_ json_t *j = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		reply_error(c, 400, j ? "the body is not a JSON object" : je.text);
		return;
	}
	if (spec_from_json(j, &sp, &why) < 0) {
		reply_error(c, 400, why);
		return;
	}
	if (rs_portd_add(&s->d, &sp, &p, &err) < 0) {
		reply_error(c, 400, err ? err->msg : "cannot add the port");
		return;
	}
	reply_json(c, 201, spec_json(p));
}

static void route_ports_delete(struct rs_api_srv *s, struct api_conn *c, const char *id)
{
	uint64_t v;
	_cleanup_error_ struct rs_error *err = NULL;
	if (rs_parse_u64(id, INT32_MAX, &v) < 0) {
		char why[128];
		snprintf(why, sizeof(why), "bad id %.64s", id);
		reply_error(c, 400, why);
		return;
	}
	if (rs_portd_remove(&s->d, (int)v, &err) < 0)
		reply_error(c, 400, err ? err->msg : "cannot remove the port");
	else
		c->out = rs_http_response(200, NULL, NULL, 0, &c->outlen);
}

static void route(struct rs_api_srv *s, struct api_conn *c, const struct rs_http_req *q)
{
	const char *body = c->in + q->head_len, *id;
	enum rs_api_route r = rs_api_route_of(q->method, q->path, &id);
	bool ports = r == RS_API_ROUTE_PORTS_LIST || r == RS_API_ROUTE_PORTS_ADD ||
		     r == RS_API_ROUTE_PORTS_DELETE;

	if (ports && !has_port_driver(s->d.cfg)) {
		reply_error(c, 400, "no PortDriver is available");
		return;
	}
	switch (r) {
	case RS_API_ROUTE_INFO:
		reply_json(c, 200, info_json(s));
		break;
	case RS_API_ROUTE_PORTS_LIST: {
		/* no port: null, Go's encoding of an empty slice */
		json_t *a = s->d.ports ? json_array() : json_null();
		for (struct rs_port *p = s->d.ports; p; p = p->next)
			json_array_append_new(a, spec_json(p));
		reply_json(c, 200, a);
		break;
	}
	case RS_API_ROUTE_PORTS_ADD:
		route_ports_post(s, c, body, q->body_len);
		break;
	case RS_API_ROUTE_PORTS_DELETE:
		route_ports_delete(s, c, id);
		break;
	case RS_API_ROUTE_METHOD:
		reply_json(c, 405, NULL);
		break;
	case RS_API_ROUTE_NONE: {
		const char *nf = "404 page not found\n";
		c->out = rs_http_response(404, "text/plain; charset=utf-8", nf, strlen(nf),
					  &c->outlen);
		break;
	}
	}
}

static void conn_close(struct rs_api_srv *s, struct api_conn *c)
{
	for (int i = 0; i < API_CONNS_MAX; i++)
		if (s->conns[i] == c)
			s->conns[i] = NULL;
	rs_portd_epoll_del(&s->d, c->fd);
	close(c->fd);
	c->fd = -1;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	rs_portd_defer_free(&s->d, c);
}

/* Writes what is pending; closes when all of it went. */
static void conn_flush(struct rs_api_srv *s, struct api_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		c->outoff += (size_t)n;
	}
	conn_close(s, c);
}

static void conn_read(struct rs_api_srv *s, struct api_conn *c)
{
	struct rs_http_req q;
	const size_t cap = RS_HTTP_HEAD_MAX + RS_HTTP_BODY_MAX;
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->inlen, cap - c->inlen, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(s, c);
			return;
		}
		c->inlen += (size_t)n;
		long r = rs_http_parse(c->in, c->inlen, &q);
		if (r == 0 && c->inlen < cap)
			continue;
		if (r > 0)
			route(s, c, &q);
		else if (r == -E2BIG)
			reply_error(c, q.head_len ? 413 : 431, "request too large");
		else if (r == -ENOSYS)
			reply_error(c, 501, "Transfer-Encoding is not supported");
		else
			reply_error(c, 400, "malformed HTTP request");
		shutdown(c->fd, SHUT_RD);
		conn_flush(s, c);
		return;
	}
}

static void api_accept(struct rs_api_srv *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int slot = -1;
		for (int i = 0; i < API_CONNS_MAX && slot < 0; i++)
			if (!s->conns[i])
				slot = i;
		if (slot < 0) {
			/* bounded: the oldest connection makes room, so idle clients
			 * cannot lock the others out */
			slot = 0;
			for (int i = 1; i < API_CONNS_MAX; i++)
				if (s->conns[i]->deadline < s->conns[slot]->deadline)
					slot = i;
			conn_close(s, s->conns[slot]);
		}
		struct api_conn *c = rs_xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->in = rs_xmalloc(RS_HTTP_HEAD_MAX + RS_HTTP_BODY_MAX);
		c->deadline = time(NULL) + API_TIMEOUT_SEC;
		c->ev.kind = RS_EV_API_CONN;
		c->ev.obj = c;
		s->conns[slot] = c;
		if (rs_portd_epoll_add(&s->d, fd, EPOLLIN | EPOLLOUT | EPOLLET, &c->ev) < 0)
			conn_close(s, c);
	}
}

static void sweep(struct rs_api_srv *s)
{
	time_t now = time(NULL);
	for (int i = 0; i < API_CONNS_MAX; i++)
		if (s->conns[i] && now > s->conns[i]->deadline)
			conn_close(s, s->conns[i]);
	if (s->d.cfg->port_driver == RS_PORT_BUILTIN) {
		rs_builtin_sweep(&s->d, now);
		rs_portd_bypass_sweep(&s->d, now);
	}
	for (size_t i = 0; i < s->d.ngrave; i++)
		free(s->d.grave[i]);
	s->d.ngrave = 0;
}

/* One batch of events; true when the launch's wake fd is readable. */
static bool serve_batch(struct rs_api_srv *s)
{
	struct epoll_event evs[64];
	bool wake = false;
	int n = epoll_wait(s->d.epfd, evs, 64, 1000);
	pthread_mutex_lock(&s->d.lock);
	for (int i = 0; i < n; i++) {
		struct rs_ev *ev = evs[i].data.ptr;
		struct api_conn *c = ev->obj;
		switch (ev->kind) {
		case RS_EV_SIGNAL:
			/* the rest of the batch is still served: the sockets
			 * are edge-triggered and would not report again */
			wake = true;
			break;
		case RS_EV_API_LISTEN:
			api_accept(s);
			break;
		case RS_EV_API_CONN:
			if (c->fd >= 0 && c->out)
				conn_flush(s, c);
			else if (c->fd >= 0)
				conn_read(s, c);
			break;
		case RS_EV_TCP_LISTEN:
		case RS_EV_TCP_CONN:
		case RS_EV_UDP_LISTEN:
		case RS_EV_UDP_FLOW:
			rs_builtin_event(&s->d, ev, evs[i].events);
			break;
		}
	}
	sweep(s);
	pthread_mutex_unlock(&s->d.lock);
	return wake;
}

void rs_api_serve(struct rs_api_srv *s)
{
	while (!serve_batch(s))
		;
}

static int api_listen(struct rs_api_srv *s, struct rs_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int r = -1;
	strcpy(sa.sun_path, "api.sock");
	/* bound relative to the state dir (no path length limit, no path
	 * walk), then back: the launch's cwd is the user's */
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd >= 0 && fchdir(s->d.cfg->state_dir_fd) == 0) {
		unlinkat(s->d.cfg->state_dir_fd, "api.sock", 0);
		mode_t old = umask(0177);
		s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		r = s->listen_fd < 0 ? -1 : bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
		umask(old);
	}
	int e = errno;
	if (cwd >= 0) {
		if (fchdir(cwd) < 0 && r == 0)
			r = -1, e = errno;
		close(cwd);
	}
	if (r == 0 && listen(s->listen_fd, 16) < 0)
		r = -1, e = errno;
	s->listen_ev.kind = RS_EV_API_LISTEN;
	if (r == 0 && rs_portd_epoll_add(&s->d, s->listen_fd, EPOLLIN, &s->listen_ev) == 0)
		return 0;
	rs_error_set(err, e, "cannot create '%s/api.sock'", s->d.cfg->state_dir);
	return -EIO;
}

static int add_published(struct rs_api_srv *s, struct rs_error **err)
{
	const struct rs_strv *pub = s->d.cfg->publish;
	for (size_t i = 0; pub && i < pub->n; i++) {
		struct rs_portspec sp;
		struct rs_port *p;
		const char *w;
		if (rs_portspec_parse(pub->v[i], &sp, &w) < 0)
			return rs_error_setx(err, EINVAL, "bad -p '%s': %s", pub->v[i], w);
		if (rs_portd_add(&s->d, &sp, &p, err) < 0) {
			rs_error_wrap(err, "-p %s", pub->v[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static void server_limits(struct rs_api_srv *s)
{
	struct rlimit rl;
	/* each TCP connection holds two sockets and two pipes */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	rlim_t nofile = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
	s->d.conns_max = nofile > 64 + 6 * 4096 ? 4096 : (unsigned)((nofile - 64) / 6);
	s->d.pipe_size = 1024 * 1024;
}

int rs_api_start(const struct rs_api_cfg *cfg, struct rs_api_srv **out, struct rs_error **err)
{
	struct rs_api_srv *s = rs_xcalloc(1, sizeof(*s));
	int r;

	s->cfg = *cfg;
	s->child_ip = cfg->child_ip ? rs_xstrdup(cfg->child_ip) : NULL;
	s->dns = cfg->dns ? rs_xstrdup(cfg->dns) : NULL;
	s->cfg.child_ip = s->child_ip;
	s->cfg.dns = s->dns;
	s->d.cfg = &s->cfg;
	pthread_mutex_init(&s->d.lock, NULL);
	s->d.transparent = cfg->source_ip_transparent;
	s->d.helper_fd = -1;
	s->listen_fd = -1;
	server_limits(s);
	s->d.epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wake_ev.kind = RS_EV_SIGNAL;
	if (s->d.epfd < 0 || rs_portd_epoll_add(&s->d, cfg->wake_fd, EPOLLIN, &s->wake_ev) < 0)
		r = rs_error_set(err, errno, "cannot set up the API server");
	else if (cfg->port_driver == RS_PORT_BUILTIN)
		r = rs_builtin_init(&s->d, err);
	else
		r = 0;
	if (r == 0 && (r = api_listen(s, err)) == 0)
		r = add_published(s, err);
	/* the caller's; the helper has joined what they name */
	s->cfg.userns_fd = s->cfg.netns_fd = -1;
	if (r < 0) {
		rs_api_stop(s);
		return r;
	}
	*out = s;
	return 0;
}

void rs_api_reaped(struct rs_api_srv *s, pid_t pid)
{
	if (s && pid > 0 && s->d.helper_pid == pid)
		s->d.helper_pid = 0;
}

void rs_api_stop(struct rs_api_srv *s)
{
	if (!s)
		return;
	for (int i = 0; i < API_CONNS_MAX; i++)
		if (s->conns[i])
			conn_close(s, s->conns[i]);
	if (s->cfg.port_driver == RS_PORT_BUILTIN)
		rs_builtin_stop(&s->d);
	/* slirp4netns' forwards end with slirp4netns, which the launch stops */
	while (s->d.ports) {
		struct rs_port *p = s->d.ports;
		s->d.ports = p->next;
		free(p);
	}
	for (size_t i = 0; i < s->d.ngrave; i++)
		free(s->d.grave[i]);
	free(s->d.grave);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlinkat(s->cfg.state_dir_fd, "api.sock", 0);
	}
	if (s->d.epfd >= 0)
		close(s->d.epfd);
	pthread_mutex_destroy(&s->d.lock);
	free(s->child_ip);
	free(s->dns);
	free(s);
}

int rs_api_bypass_bind(struct rs_api_srv *s, int fd, int type, const struct sockaddr *addr,
		       socklen_t len)
{
	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&s->d.lock);
	int r = rs_portd_bypass_bind(&s->d, fd, type, addr, len);
	pthread_mutex_unlock(&s->d.lock);
	return r;
}
