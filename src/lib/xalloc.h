/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdarg.h>
#include "lib/macro.h"

/* Allocation helpers: on failure they print "out of memory" and abort; the
 * only way the core may end the process. */
void *rs_xmalloc(size_t n);
void *rs_xcalloc(size_t n, size_t size);
void *rs_xrealloc(void *p, size_t n);
char *rs_xstrdup(const char *s);
char *rs_xstrndup(const char *s, size_t n);
char *rs_xasprintf(const char *fmt, ...) _printf_(1, 2);
char *rs_xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);
