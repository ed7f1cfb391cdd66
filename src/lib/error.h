/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include "lib/macro.h"

/*
 * Host-facing functions report failures through an error object (see
 * docs/error-handling.md): they take `struct rs_error **err` last, return a
 * negative errno on failure and set *err to one line of context. Callers add
 * context with rs_error_wrap(); only the verb files print it.
 */
struct rs_error {
	int code;   /* positive errno, 0 when none applies */
	char *msg;  /* "cannot open '/etc/subuid': Permission denied" */
	bool input; /* caused by what the caller named (a user, --root, --distro),
		     * not by the host: the verbs exit 2 for it, else 3 */
};

/* Sets *err (when err is non-NULL and empty) and returns -code (or -EIO when
 * code is 0). A strerror text is appended when code is non-zero. */
int rs_error_set(struct rs_error **err, int code, const char *fmt, ...) _printf_(3, 4);
/* Like rs_error_set, without the strerror suffix. */
int rs_error_setx(struct rs_error **err, int code, const char *fmt, ...) _printf_(3, 4);
/* Prepends "context: " to an existing error; returns -code. */
int rs_error_wrap(struct rs_error **err, const char *fmt, ...) _printf_(2, 3);
/* Marks *err (when set) as caused by the caller's input; returns r. */
int rs_error_input(struct rs_error **err, int r);
void rs_error_free(struct rs_error *e);
static inline void rs_error_freep(struct rs_error **e)
{
	rs_error_free(*e);
	*e = NULL;
}
#define _cleanup_error_ _cleanup_(rs_error_freep)
