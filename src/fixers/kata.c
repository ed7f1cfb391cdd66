/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "host/safewrite.h"
#include "lib/xalloc.h"

#define KATA_ETC "etc/kata-containers/configuration.toml"

static const char *const kata_defaults[] = {
	"usr/share/defaults/kata-containers/configuration.toml",
	"opt/kata/share/defaults/kata-containers/configuration.toml",
	NULL,
};

static bool is_section(const char *line, size_t n, const char *name)
{
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	size_t l = strlen(name);
	return n >= l + 2 && line[0] == '[' && strncmp(line + 1, name, l) == 0 && line[l + 1] == ']';
}

/* The file with `disable_vhost_net = true` in [hypervisor.qemu]: the old
 * templates carry it commented out (`#disable_vhost_net = true`), the new
 * ones as `disable_vhost_net = false`; only that line changes, or one line
 * is added under the section header when neither is there. */
static char *with_vhost_disabled(const char *buf, size_t len)
{
	regex_t re;
	char *out = rs_xstrdup("");
	bool in_qemu = false, done = false;

	regcomp(&re, "^[ \t]*#?[ \t]*disable_vhost_net[ \t]*=", REG_EXTENDED | REG_NOSUB);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		_cleanup_free_ char *line = rs_xstrndup(buf + pos, n);
		const char *emit = line;
		bool header = line[strspn(line, " \t")] == '[';
		if (header && in_qemu && !done) {
			/* leaving the section without the key: add it at its end */
			char *o = rs_xasprintf("%sdisable_vhost_net = true\n", out);
			free(out);
			out = o;
			done = true;
		}
		if (header)
			in_qemu = is_section(line, strlen(line), "hypervisor.qemu");
		if (in_qemu && !done && regexec(&re, line, 0, NULL, 0) == 0) {
			emit = "disable_vhost_net = true";
			done = true;
		}
		char *o = rs_xasprintf("%s%s%s", out, emit, nl ? "\n" : "");
		free(out);
		out = o;
		pos += n + 1;
	}
	if (in_qemu && !done) {
		char *o = rs_xasprintf("%s%sdisable_vhost_net = true\n", out,
				       len && buf[len - 1] != '\n' ? "\n" : "");
		free(out);
		out = o;
	}
	regfree(&re);
	return out;
}

static int fix_kata_config(struct rs_fix_ctx *f, const struct rs_result *res)
{
	struct rs_ctx *ctx = f->ctx;
	const char *src = rs_host_exists(ctx->host, KATA_ETC) ? KATA_ETC : NULL;
	_cleanup_free_ char *buf = NULL, *text = NULL;
	struct rs_error *e = NULL;
	size_t len;

	for (const char *const *d = kata_defaults; !src && *d; d++)
		if (rs_host_exists(ctx->host, *d))
			src = *d;
	if (!src) {
		rs_fix_action(f, res->rule->id, "note", NULL, "no Kata configuration to start from: "
			      "install Kata Containers")->failed = true;
		return 0;
	}
	if (rs_safe_read(ctx->host, src, 4u << 20, &buf, &len, &e) < 0 || !buf) {
		rs_fix_action(f, res->rule->id, "note", NULL, "%s", e ? e->msg : "empty")->failed = true;
		rs_error_free(e);
		return 0;
	}
	text = with_vhost_disabled(buf, len);
	/* the packaged defaults stay as they are: the admin's copy in /etc wins */
	rs_fix_write(f, res->rule->id, KATA_ETC, text, 0644,
		     strcmp(src, KATA_ETC) ? "copied from the packaged defaults, "
					     "disable_vhost_net = true" : "disable_vhost_net = true");
	struct stat st;
	if (!f->o->dry_run && rs_host_stat(ctx->host, KATA_ETC, &st, true) == 0 &&
	    (st.st_mode & 0044) != 0044) {
		/* readable by the user: the runtime runs as the user */
		int fd = rs_host_openat(ctx->host, KATA_ETC, O_RDONLY | O_NOFOLLOW, NULL);
		struct rs_action *a = rs_fix_action(f, res->rule->id, "chmod", "/" KATA_ETC, "0644");
		a->changed = true;
		if (fd < 0 || fchmod(fd, 0644) < 0)
			a->failed = true;
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

const struct rs_fixer rs_fixer_kata_config = {"kata.config", fix_kata_config};
