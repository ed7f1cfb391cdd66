/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <string.h>
#include "lib/error.h"
#include "lib/xalloc.h"

_printf_(4, 0) static int error_vset(struct rs_error **err, int code, bool with_errno,
				     const char *fmt, va_list ap)
{
	int ret = code > 0 ? -code : -EIO;

	if (!err || *err)
		return ret;
	_cleanup_free_ char *m = rs_xvasprintf(fmt, ap);
	struct rs_error *e = rs_xcalloc(1, sizeof(*e));
	e->code = code;
	if (with_errno && code > 0)
		e->msg = rs_xasprintf("%s: %s", m, strerror(code));
	else
		e->msg = TAKE_PTR(m);
	*err = e;
	return ret;
}

int rs_error_set(struct rs_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int rs_error_setx(struct rs_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, code, false, fmt, ap);
	va_end(ap);
	return r;
}

int rs_error_wrap(struct rs_error **err, const char *fmt, ...)
{
	if (!err || !*err)
		return -EIO;
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *ctx = rs_xvasprintf(fmt, ap);
	va_end(ap);
	char *m = rs_xasprintf("%s: %s", ctx, (*err)->msg);
	free((*err)->msg);
	(*err)->msg = m;
	return (*err)->code > 0 ? -(*err)->code : -EIO;
}

int rs_error_input(struct rs_error **err, int r)
{
	if (err && *err)
		(*err)->input = true;
	return r;
}

void rs_error_free(struct rs_error *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}
