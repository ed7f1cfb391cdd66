/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "lib/error.h"
#include "lib/macro.h"
#include "lib/strutil.h"

/*
 * Every host read goes through one root-relative handle: "/" in production,
 * `--root DIR` for fixture trees and fleet checks (host / at /host). Paths
 * given to these functions are relative to the root ("etc/subuid"); under
 * --root, absolute symlinks inside the tree resolve inside the tree
 * (openat2 RESOLVE_IN_ROOT, Linux 5.6).
 */
struct rs_host_cache; /* host/cache.c */
struct rs_host {
	int root_fd;
	char *root; /* absolute, no trailing slash; "" for "/" */
	bool live;  /* the running system: uname, libselinux and credentials are real */
	struct rs_host_cache *cache; /* files read once (rs_host_read_cached) */
};

/* Caps for files read whole; /proc and /etc files are far smaller. */
#define RS_HOST_READ_MAX (4u << 20)

int rs_host_open(const char *root, struct rs_host **out, struct rs_error **err);
void rs_host_free(struct rs_host *h);
static inline void rs_host_freep(struct rs_host **h)
{
	rs_host_free(*h);
}
#define _cleanup_host_ _cleanup_(rs_host_freep)

/* Tests only: resolve as on a kernel without openat2 (the in-root walk). */
extern bool rs_host_test_no_openat2;

/* Opens rel below the root; flags as openat(2). Return: fd or -errno. */
int rs_host_openat(const struct rs_host *h, const char *rel, int flags, struct rs_error **err);
/* Reads a regular file whole (NUL-terminated, *len excludes the NUL). A
 * FIFO, socket, device or directory is refused with -EINVAL / -EISDIR and
 * never blocks (O_NONBLOCK). Return: 0, -ENOENT when absent, or -errno. */
int rs_host_read(const struct rs_host *h, const char *rel, size_t max, char **buf, size_t *len,
		 struct rs_error **err);
/*
 * The host's shared files (account, subordinate-id, login.defs, dpkg
 * files), read once per handle: rs_host_read's answer, kept. *buf belongs
 * to the handle and holds until rs_host_forget; never keep it longer than
 * the call that asked. A file too large for max is -EFBIG as rs_host_read
 * says it.
 */
int rs_host_read_cached(const struct rs_host *h, const char *rel, size_t max, const char **buf,
			size_t *len, struct rs_error **err);
/* What a caller built from cached file rel (an index), kept with it under
 * kind and dropped with it; NULL when none. keep() drops obj when rel was
 * never read through the cache. */
void *rs_host_cached_obj(const struct rs_host *h, const char *rel, const char *kind);
void rs_host_cached_keep(const struct rs_host *h, const char *rel, const char *kind, void *obj,
			 void (*drop)(void *));
/* An answer about a host path kept with the handle under key (few: the
 * devices and files every user of a fleet is checked against), dropped
 * with the cache; NULL when none. */
void *rs_host_memo(const struct rs_host *h, const char *key);
void rs_host_memo_keep(const struct rs_host *h, const char *key, void *obj, void (*drop)(void *));
/* The host changed under the handle (safewrite.c wrote through it): every
 * cached file and index is read again when next asked. */
void rs_host_forget(const struct rs_host *h);
void rs_host_cache_free(struct rs_host_cache *k);

/* fstatat below the root; nofollow applies to the last component only. */
int rs_host_stat(const struct rs_host *h, const char *rel, struct stat *st, bool nofollow);
bool rs_host_exists(const struct rs_host *h, const char *rel);
/* The same for a path only root changes (a device, a system directory),
 * asked once per handle: the rules ask for every engine, and a fleet for
 * every user (host/cache.c). */
int rs_host_stat_host(const struct rs_host *h, const char *rel, struct stat *st, bool nofollow);
bool rs_host_exists_host(const struct rs_host *h, const char *rel);
/* Absolute path of rel on this machine (root prefix + "/" + rel); caller frees. */
char *rs_host_path(const struct rs_host *h, const char *rel);
/* The canonical root-relative path of rel ("/home/alice/x"): symlinks of the
 * deepest existing ancestor resolved inside the root, missing components
 * appended. Caller frees. Return: 0 or -errno. */
int rs_host_canonical(const struct rs_host *h, const char *rel, char **out);
/* Names in directory rel, sorted, without "." and "..". */
int rs_host_listdir(const struct rs_host *h, const char *rel, struct rs_strv *out,
		    struct rs_error **err);
/* Strips the leading slashes of an absolute in-host path. */
const char *rs_host_rel(const char *abs);
