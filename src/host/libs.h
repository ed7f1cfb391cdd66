/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* libmount, libblkid, libselinux and libacl are opened on first use
 * (libs.c), and libslirp and libseccomp in the embedded network's helper.
 * When one could not be loaded: "cannot load 'SONAME': why", else NULL. */
const char *rs_libs_error(void);

/* glib's g_log_set_default_handler, from the glib libslirp loaded (its
 * messages would otherwise go to stderr through isatty and the like, which
 * the helper's seccomp filter refuses); nothing when libslirp is not
 * loaded. level is a GLogLevelFlags. */
typedef void (*rs_glib_log_fn)(const char *domain, int level, const char *msg, void *data);
void rs_libs_glib_log_handler(rs_glib_log_fn fn, void *data);
