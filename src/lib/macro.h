/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define _noreturn_     __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_       __attribute__((unused))
#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_(f)	   __attribute__((cleanup(f)))
#define _cleanup_free_	   _cleanup_(freep)
#define _cleanup_close_	   _cleanup_(closep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
/* jansson's own json_decrefp (jansson.h, 2.9+, GCC and clang): the
 * including file has jansson.h. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Typed cleanups live beside their types: _cleanup_strv_ (lib/strutil.h, a
 * struct rs_strv cleared), _cleanup_host_ (host/host.h, a struct rs_host *
 * freed), _cleanup_child_ (lib/spawn.h, a child killed and reaped).
 * Names say what is done: X_free(p) frees the object p points to, X_clear(p)
 * frees what an object the caller owns (often on the stack) holds and
 * leaves it empty, ready to be used again. */

/* Ownership transfer: returns the value and clears the variable so that its
 * cleanup attribute does nothing. */
#define TAKE_PTR(p)                       \
	({                                \
		__typeof__(p) _tp_ = (p); \
		(p) = NULL;               \
		_tp_;                     \
	})

#define TAKE_FD(fd)              \
	({                       \
		int _tf_ = (fd); \
		(fd) = -1;       \
		_tf_;            \
	})
