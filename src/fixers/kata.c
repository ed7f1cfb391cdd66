/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "fixers/rewrite.h"
#include "host/safewrite.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

#define KATA_ETC "etc/kata-containers/configuration.toml"

static const char *const kata_defaults[] = {
	"usr/share/defaults/kata-containers/configuration.toml",
	"opt/kata/share/defaults/kata-containers/configuration.toml",
	NULL,
};

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static bool is_header(const char *l, const char *end)
{
	const char *p = skip_blank(l, end);
	return p < end && *p == '[';
}

static bool is_section(const char *l, const char *end, const char *name)
{
	const char *p = skip_blank(l, end);
	size_t k = strlen(name);
	return (size_t)(end - p) >= k + 2 && p[0] == '[' && memcmp(p + 1, name, k) == 0 &&
	       p[k + 1] == ']';
}

/* `disable_vhost_net =`, maybe commented out: `#disable_vhost_net = true` */
static bool is_vhost_key(const char *l, const char *end)
{
	static const char key[] = "disable_vhost_net";
	const char *p = skip_blank(l, end);
	if (p < end && *p == '#')
		p = skip_blank(p + 1, end);
	if ((size_t)(end - p) < sizeof(key) - 1 || memcmp(p, key, sizeof(key) - 1))
		return false;
	p = skip_blank(p + sizeof(key) - 1, end);
	return p < end && *p == '=';
}

/* The old templates carry the key commented out (`#disable_vhost_net =
 * true`), the new ones as `disable_vhost_net = false`; only that line
 * changes, or one line is added at the end of the section when neither is
 * there. */
int rs_kata_vhost_disabled(const char *buf, size_t len, struct rs_rewrite *out)
{
	static const char want[] = "disable_vhost_net = true";
	struct rs_sbuf o = {0};
	bool in_qemu = false, done = false;
	size_t pos = 0, no = 0;
	const char *nul = memchr(buf, '\0', len);

	memset(out, 0, sizeof(*out));
	if (nul) {
		snprintf(out->msg, sizeof(out->msg), "byte %zu is a NUL byte", (size_t)(nul - buf));
		return -EINVAL;
	}
	rs_sbuf_add(&o, "", 0);
	while (pos < len) {
		const char *l = buf + pos, *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		const char *end = l + n;
		no++;
		if (n > RS_REWRITE_LINE_MAX) {
			free(o.s);
			snprintf(out->msg, sizeof(out->msg), "line %zu is longer than %u bytes", no,
				 RS_REWRITE_LINE_MAX);
			return -EINVAL;
		}
		if (is_header(l, end)) {
			if (in_qemu && !done) { /* leaving the section without the key */
				rs_sbuf_add(&o, want, sizeof(want) - 1);
				rs_sbuf_add(&o, "\n", 1);
				done = true;
				out->line = no;
			}
			in_qemu = is_section(l, end, "hypervisor.qemu");
		}
		if (in_qemu && !done && is_vhost_key(l, end)) {
			rs_sbuf_add(&o, want, sizeof(want) - 1);
			done = true;
			out->line = no;
		} else {
			rs_sbuf_add(&o, l, n);
		}
		if (nl)
			rs_sbuf_add(&o, "\n", 1);
		pos += n + 1;
	}
	if (in_qemu && !done) {
		if (len && buf[len - 1] != '\n')
			rs_sbuf_add(&o, "\n", 1);
		rs_sbuf_add(&o, want, sizeof(want) - 1);
		rs_sbuf_add(&o, "\n", 1);
		out->line = no + 1;
	}
	out->text = o.s;
	out->len = o.n;
	out->changed = o.n != len || memcmp(o.s, buf, len) != 0;
	return 0;
}

static int fix_kata_config(struct rs_fix_ctx *f, const struct rs_result *res)
{
	struct rs_ctx *ctx = f->ctx;
	const char *src = rs_host_exists(ctx->host, KATA_ETC) ? KATA_ETC : NULL;
	_cleanup_free_ char *buf = NULL;
	struct rs_rewrite rw;
	struct rs_error *e = NULL;
	size_t len;

	for (const char *const *d = kata_defaults; !src && *d; d++)
		if (rs_host_exists(ctx->host, *d))
			src = *d;
	if (!src) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "no Kata configuration to start from: "
			      "install Kata Containers")
			->failed = true;
		return 0;
	}
	if (rs_safe_read(ctx->host, src, 4u << 20, &buf, &len, &e) < 0 || !buf) {
		rs_fix_action(f, res->rule->id, "note", NULL, "%s", e ? e->msg : "empty")->failed =
			true;
		rs_error_free(e);
		return 0;
	}
	if (rs_kata_vhost_disabled(buf, len, &rw) < 0) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "refusing to rewrite '/%s': %s; nothing "
			      "changed",
			      src, rw.msg)
			->failed = true;
		return 0;
	}
	/* the packaged defaults stay as they are: the admin's copy in /etc wins */
	rs_fix_write(f, res->rule->id, KATA_ETC, rw.text, 0644,
		     strcmp(src, KATA_ETC) ? "copied from the packaged defaults, "
					     "disable_vhost_net = true"
					   : "disable_vhost_net = true");
	rs_rewrite_clear(&rw);
	struct stat st;
	if (!f->o->dry_run && rs_host_stat(ctx->host, KATA_ETC, &st, true) == 0 &&
	    (st.st_mode & 0044) != 0044) {
		/* readable by the user: the runtime runs as the user */
		int fd = rs_host_openat(ctx->host, KATA_ETC, O_RDONLY | O_NOFOLLOW, NULL);
		struct rs_action *a = rs_fix_action(f, res->rule->id, "chmod", "/" KATA_ETC,
						    "0644");
		a->changed = true;
		if (fd < 0 || fchmod(fd, 0644) < 0)
			a->failed = true;
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

const struct rs_fixer rs_fixer_kata_config = {.order = 80, .run = fix_kata_config};
